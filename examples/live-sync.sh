#!/usr/bin/env bash
# examples/live-sync.sh: keep a target collection in step with a source, as a
# restartable service (see live-sync.service).  Kill it at any moment: the
# next start goes on from the last change the target acknowledged.
#
#   SRC=... DST=... NS=shop.orders STATE=/var/lib/mongo-pipes examples/live-sync.sh
#
# The first start takes the position and copies; later starts only sync.
#
# A replay that ends 0 proves that the target acknowledged every write, not
# that the target's operators did what MongoDB's do (a server that ignores
# part of an update, $slice in $push say, still acknowledges it).  So a run
# that ends (IDLE_EXIT, or cron) proves the copy with mongo-hashdiff and exits
# with its status: 0 equal, 1 different (the differences on stdout).
set -euo pipefail
: "${SRC:?}" "${DST:?}" "${NS:?}"
STATE=${STATE:-./live-sync-${NS}}
mkdir -p "$STATE"
tok=$STATE/position.tok
if [ ! -s "$tok" ]; then
	mongo-watch --uri "$SRC" --ns "$NS" --start-token >"$tok.new"
	mongo-dump-bson --uri "$SRC" --ns "$NS" | mongo-load-bson --uri "$DST" --ns "$NS" --mode upsert
	mv "$tok.new" "$tok"
fi
# IDLE_EXIT is for tests and cron; a service leaves it empty and runs for good
exec_opts=()
[ -n "${IDLE_EXIT:-}" ] && exec_opts=(--idle-exit "$IDLE_EXIT")
mongo-watch --uri "$SRC" --ns "$NS" --resume-file "$tok" "${exec_opts[@]}" |
	mongo-replay --uri "$DST" --checkpoint "$tok" --stats "$STATE/stats.ndjson"
# the proof; --recheck lets changes still in flight on a live source settle
exec mongo-hashdiff --source "$SRC" --target "$DST" --ns "$NS" --recheck 2 --recheck-delay 2
