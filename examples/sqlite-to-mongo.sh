#!/usr/bin/env bash
# examples/sqlite-to-mongo.sh: an SQLite table into a collection: rows as
# JSON, the id column as _id, text dates as BSON dates, indexes after the
# data; verified by count and field by field.
#
#   DST=... DB_FILE=shop.db TABLE=customers NS=shop.customers examples/sqlite-to-mongo.sh
set -euo pipefail
: "${DST:?}" "${DB_FILE:?}" "${TABLE:?}" "${NS:?}"
# indexes: every column sqlite indexes, built after the data (as mongorestore does)
meta=$(mktemp)
sqlite3 -json "$DB_FILE" "select il.name as name, ii.name as col from pragma_index_list('$TABLE') il,
	pragma_index_info(il.name) ii" | jq -c '{indexes: ([{v: 2, key: {_id: 1}, name: "_id_"}]
	+ [.[]? | {v: 2, key: {(.col): 1}, name: (.col + "_1")}])}' >"$meta"
sqlite3 -json "$DB_FILE" "select * from $TABLE" | jq -c '.[]
	| if .created_at then .created_at = {"$date": (.created_at | sub(" "; "T") + "Z")} else . end' |
	mongo-load-bson --uri "$DST" --ns "$NS" --id-field id --mode upsert --metadata "$meta"
rm -f "$meta"
rows=$(sqlite3 "$DB_FILE" "select count(*) from $TABLE")
echo "rows: $rows"
mongo-dump-bson --uri "$DST" --ns "$NS" --format ndjson --json relaxed | jq -c 'del(.created_at)' | sort >/tmp/$$.mongo
sqlite3 -json "$DB_FILE" "select * from $TABLE" | jq -c '.[] | ._id = .id | del(.id, .created_at)' |
	jq -c 'to_entries | sort_by(.key | if . == "_id" then "" else . end) | from_entries' | sort >/tmp/$$.sqlite
jq -c 'to_entries | sort_by(.key | if . == "_id" then "" else . end) | from_entries' /tmp/$$.mongo | sort >/tmp/$$.mongo2
if cmp -s /tmp/$$.sqlite /tmp/$$.mongo2; then echo "verified: $rows rows, field by field"; rc=0; else
	diff /tmp/$$.sqlite /tmp/$$.mongo2 | head; rc=1; fi
rm -f /tmp/$$.mongo /tmp/$$.mongo2 /tmp/$$.sqlite
exit $rc
