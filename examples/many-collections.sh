#!/usr/bin/env bash
# examples/many-collections.sh: every collection of a database, copied in
# parallel (one pipeline per collection, JOBS at a time), then verified.
#
#   SRC=... DST=... DB=shop JOBS=4 examples/many-collections.sh
set -euo pipefail
: "${SRC:?}" "${DST:?}" "${DB:?}"
JOBS=${JOBS:-4}
export SRC DST
mongo-dump-bson --uri "$SRC" --db "$DB" --list |
	xargs -P "$JOBS" -I{} sh -c 'mongo-dump-bson --uri "$SRC" --ns "$1" -q | mongo-load-bson --uri "$DST" --ns "$1" --mode upsert -q' sh {}
# --db compares indexes, collection options and views too (--metadata):
# this copy creates none, so build them on the target first (or copy with
# mongo-dump-bson --out and mongo-load-bson --dir, which do)
mongo-hashdiff --source "$SRC" --target "$DST" --db "$DB"
