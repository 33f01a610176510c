#!/usr/bin/env bash
# --parallel 4 and --partition K/4 each cover every document exactly once,
# with _ids of mixed types (ObjectId, int, long, double, string, document,
# binary) that a plain $gt range would split wrongly.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

test_expect_success 'seed 7000 documents with seven _id types' '
	mp-gen 7000 --mixed-ids | mongo-load-bson --uri "$SRC" --ns $TEST_DB.c &&
	mp-probe find "$SRC" $TEST_DB.c "{}" "{\"_id\": 1}" >source.json &&
	jq -c ._id source.json | sort >all.ids &&
	test $(wc -l <all.ids) = 7000
'

test_expect_success '--parallel 4 copies every document exactly once' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --parallel 4 --format ndjson >par.ndjson &&
	jq -c ._id par.ndjson | sort >par.ids &&
	test_cmp all.ids par.ids &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.par <par.ndjson &&
	mp-probe find "$DST" $TEST_DB.par "{}" "{\"_id\": 1}" >target.json &&
	test_cmp source.json target.json
'

test_expect_success '--partition K/4 shares are disjoint and cover everything' '
	for k in 1 2 3 4; do
		mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --partition $k/4 --format ndjson >share$k.ndjson || exit 1
		test $(wc -l <share$k.ndjson) -gt 1000 || exit 1
	done &&
	cat share1.ndjson share2.ndjson share3.ndjson share4.ndjson | jq -c ._id | sort >shares.ids &&
	test_cmp all.ids shares.ids
'

test_expect_success '--partition with --parallel inside a share' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --partition 2/4 --format ndjson | jq -c ._id | sort >a &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --partition 2/4 --parallel 3 --format ndjson | jq -c ._id | sort >b &&
	test_cmp a b
'

test_expect_success '--resume-after-id continues across type brackets' '
	sed -n 3500p source.json | jq -c ._id >mid &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --resume-after-id "$(cat mid)" --format ndjson >rest.ndjson &&
	test $(wc -l <rest.ndjson) = 3500 &&
	mp-probe sorted rest.ndjson
'

test_expect_success 'a share of an empty selection is empty, not an error' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --query "{\"i\": -1}" --partition 3/4 >empty &&
	test_must_be_empty empty
'

test_done
