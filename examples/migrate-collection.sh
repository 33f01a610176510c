#!/usr/bin/env bash
# examples/migrate-collection.sh: the production runbook for moving one
# collection to another deployment while the application keeps writing.
#
#   SRC=mongodb://old DST=mongodb://new NS=shop.orders examples/migrate-collection.sh [WORKDIR]
#
# 1. take the start position (nothing is written to the source)
# 2. full copy with --parallel
# 3. change capture into a staging collection on the target
#    (mongo-watch | mongo-load-bson --skip-duplicates: the event's _id is its
#    resume token, so a restart duplicates nothing)
# 4. replay the staging collection into the collection, checkpointed
# 5. verify with --recheck (differences still in flight clear)
# 6. print the cutover steps
# Every step can be rerun after a crash: positions live in WORKDIR.
set -euo pipefail
: "${SRC:?set SRC to the source URI}" "${DST:?set DST to the target URI}" "${NS:?set NS to db.coll}"
WORK=${1:-./migrate-${NS}}
PARALLEL=${PARALLEL:-4}
CDC_SECONDS=${CDC_SECONDS:-5}      # how long this run captures changes (a service runs for good)
STAGING=${STAGING:-staging.cdc_${NS//./_}}
mkdir -p "$WORK"

echo "== 1. start position"
[ -s "$WORK/start.tok" ] || mongo-watch --uri "$SRC" --ns "$NS" --start-token >"$WORK/start.tok"
[ -s "$WORK/cdc.tok" ] || cp "$WORK/start.tok" "$WORK/cdc.tok"

echo "== 2. full copy"
if [ ! -e "$WORK/copied" ]; then
	# options and indexes first (the loader creates the collection with them
	# and builds the indexes after the data), then the documents
	mongo-dump-bson --uri "$SRC" --ns "$NS" --limit 1 --metadata "$WORK/metadata.json" >/dev/null
	mongo-dump-bson --uri "$SRC" --ns "$NS" --parallel "$PARALLEL" |
		mongo-load-bson --uri "$DST" --ns "$NS" --mode upsert --workers "$PARALLEL" --metadata "$WORK/metadata.json"
	touch "$WORK/copied"
fi

echo "== 3. change capture into $STAGING for ${CDC_SECONDS}s"
mongo-watch --uri "$SRC" --ns "$NS" --resume-file "$WORK/cdc.tok" --token-file "$WORK/cdc.tok" \
	--idle-exit "$CDC_SECONDS" |
	mongo-load-bson --uri "$DST" --ns "$STAGING" --mode insert --skip-duplicates -q

echo "== 4. replay the staging collection"
mongo-replay --uri "$DST" --from-ns "$STAGING" --checkpoint "$WORK/replay.tok" --workers 2

echo "== 5. verify"
if mongo-hashdiff --source "$SRC" --target "$DST" --ns "$NS" --recheck 2 --recheck-delay 2 >"$WORK/diff.ndjson"; then
	echo "verified: $NS is equal on both sides"
else
	rc=$?
	[ $rc = 1 ] || exit $rc
	echo "$(wc -l <"$WORK/diff.ndjson") differences remain (see $WORK/diff.ndjson); run steps 3-5 again"
	exit 1
fi

cat <<STEPS
== 6. cutover
  a. stop the application's writes to $NS on the source
  b. drain: SRC=... DST=... NS=$NS CDC_SECONDS=5 $0 $WORK   (steps 3-5 again, until verified)
  c. final verify: mongo-hashdiff --source "\$SRC" --target "\$DST" --ns $NS
  d. point the application at the target
STEPS
