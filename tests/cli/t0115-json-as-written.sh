#!/usr/bin/env bash
# JSON as people write it, into and out of the tools: jq's pretty output
# (objects over several lines), jq -s (one array), several objects on a
# line; mongo-dump-bson --json-array (--jsonArray) for mongoimport, and
# mongoexport --jsonArray read back.  Each copy is compared with the source.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI MT=${MP_MONGO_TOOLS_BIN:-}

test_expect_success 'seed' '
	mp-gen 500 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.c &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --format ndjson >src.ndjson &&
	mp-probe find "$SRC" $TEST_DB.c "{}" "{\"_id\": 1}" >source.json
'

loaded_equal() {
	mp-probe find "$DST" $TEST_DB.$1 "{}" "{\"_id\": 1}" >got.json &&
	test_cmp source.json got.json
}

test_expect_success 'jq pretty output (one object over many lines) loads as the source' '
	jq . src.ndjson >pretty.json &&
	test $(wc -l <pretty.json) -gt 5000 &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.pretty -q <pretty.json &&
	loaded_equal pretty
'

test_expect_success 'jq -s (one array) and jq -s -c (on one line) load as the source' '
	jq -s . src.ndjson >array.json &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.arr -q <array.json &&
	loaded_equal arr &&
	jq -s -c . src.ndjson >array1.json &&
	test $(wc -l <array1.json) = 1 &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.arr1 -q <array1.json &&
	loaded_equal arr1
'

test_expect_success 'several objects on a line, and a bad pretty record set aside by its line' '
	printf "{\"_id\": 1}{\"_id\": 2} {\"_id\": 3}\n{\n  \"_id\": 4,\n  \"x\": tru\n}\n{\"_id\": 5}\n" >mixed.json &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.mixed --reject rej.ndjson -q <mixed.json &&
	test $(mp-probe count "$DST" $TEST_DB.mixed "{}") = 4 &&
	jq -e "select(.record == 4 and .line == 2 and .offset == 32)" rej.ndjson &&
	jq -r .error rej.ndjson | grep -q "invalid JSON: unexpected character .t. (line 4, column 8)" &&
	jq -r .raw rej.ndjson >raw && printf "{\n  \"_id\": 4,\n  \"x\": tru\n}\n" >expect && test_cmp expect raw
'

test_expect_success '--json-array writes one JSON array that jq reads, and our reader reads back' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --json-array >ours.json &&
	head -1 ours.json | grep -qx "\[" && tail -1 ours.json | grep -qx "\]" &&
	test $(jq length ours.json) = 500 &&
	mongo-dump-bson --from ours.json --format ndjson >back.ndjson &&
	test_cmp src.ndjson back.ndjson &&
	mongo-dump-bson --from /dev/null --jsonArray >empty.json &&
	echo "[]" >expect && test_cmp expect empty.json
'

test_expect_success MONGO_TOOLS 'mongoimport --jsonArray reads ours; we read mongoexport --jsonArray' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --json-array >canonical.json &&
	"$MT/mongoimport" --quiet --uri "$DST" --db $TEST_DB --collection imported --jsonArray --file canonical.json &&
	loaded_equal imported &&
	"$MT/mongoexport" --quiet --uri "$SRC" --db $TEST_DB --collection c --jsonArray --jsonFormat canonical --out exported.json &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.fromexport -q <exported.json &&
	loaded_equal fromexport
'

test_expect_success '--json-array with --out is refused' '
	test_expect_code 64 mongo-dump-bson --uri "$SRC" --db $TEST_DB --out d --json-array 2>err &&
	test_grep "not a mongodump directory" err
'

test_done
