#!/usr/bin/env bash
# examples/update-since.sh: one-off sync of the documents changed since a
# time, for deployments without change streams (a standalone server).  The
# application keeps an updatedAt date in each document.
#
#   SRC=... DST=... NS=shop.orders SINCE=2026-11-01T00:00:00Z examples/update-since.sh
#
# Upserts make it safe to run again; deletions are not seen this way (use
# mongo-hashdiff --emit repair for those).
set -euo pipefail
: "${SRC:?}" "${DST:?}" "${NS:?}" "${SINCE:?set SINCE to an ISO date}"
mongo-dump-bson --uri "$SRC" --ns "$NS" --query "{\"updatedAt\": {\"\$gt\": {\"\$date\": \"$SINCE\"}}}" |
	mongo-load-bson --uri "$DST" --ns "$NS" --mode upsert
