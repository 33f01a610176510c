#!/usr/bin/env bash
# examples/transform-in-flight.sh: a schema change during the copy: split
# `name` into `firstName` and `lastName`, once with jq on the stream and once
# with an aggregation pipeline run by the source server.
#
#   SRC=... DST=... NS=crm.people examples/transform-in-flight.sh
set -euo pipefail
: "${SRC:?}" "${DST:?}" "${NS:?}"
db=${NS%%.*} coll=${NS#*.}
# 1. with jq: relaxed JSON for jq, canonical types kept by passing the rest through
mongo-dump-bson --uri "$SRC" --ns "$NS" --format ndjson |
	jq -c 'if .name then (.name | split(" ")) as $p
	       | .firstName = $p[0] | .lastName = ($p[1:] | join(" ")) | del(.name) else . end' |
	mongo-load-bson --uri "$DST" --ns "$db.${coll}_jq" --mode upsert
# 2. on the server
mongo-dump-bson --uri "$SRC" --ns "$NS" --pipeline '[
	{"$addFields": {"firstName": {"$arrayElemAt": [{"$split": ["$name", " "]}, 0]},
	                "lastName": {"$arrayElemAt": [{"$split": ["$name", " "]}, 1]}}},
	{"$project": {"name": 0}}]' |
	mongo-load-bson --uri "$DST" --ns "$db.${coll}_pipeline" --mode upsert
