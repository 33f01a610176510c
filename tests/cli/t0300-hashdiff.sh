#!/usr/bin/env bash
# mongo-hashdiff: injected differences are found exactly and classified as
# each --compare mode says; mixed-type _ids join; --parallel agrees with a
# single pass; files (unsorted too) agree with servers; the repair pipeline
# converges; differences in flight clear with --recheck; exit statuses.
. "$(dirname "$0")/lib.sh"

test_expect_success 'usage errors exit 64; an unreachable server 69' '
	test_expect_code 64 mongo-hashdiff --source mongodb://x --ns a.b 2>err &&
	test_grep "target" err &&
	test_expect_code 64 mongo-hashdiff --source mongodb://x --target mongodb://y 2>err &&
	test_expect_code 64 mongo-hashdiff --source mongodb://x --target mongodb://y --ns a.b --compare fuzzy 2>err &&
	test_expect_code 64 mongo-hashdiff --source mongodb://x --target mongodb://y --ns a.b --hash crc 2>err &&
	test_expect_code 69 mongo-hashdiff --source "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500" \
		--target "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500" --ns a.b 2>err
'

require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
hd() { mongo-hashdiff --source "$SRC" --target "$DST" "$@"; }
# classes FILE: "id diff" lines, sorted
classes() { jq -r "[(._id | tostring), .diff] | join(\" \")" "$1" | sort; }

test_expect_success 'seed: equal collections with mixed-type _ids are equal (exit 0)' '
	mp-gen 3000 --mixed-ids | mongo-load-bson --uri "$SRC" --ns $TEST_DB.m -q &&
	mp-gen 3000 --mixed-ids | mongo-load-bson --uri "$DST" --ns $TEST_DB.m -q &&
	hd --ns $TEST_DB.m >out 2>err &&
	test_must_be_empty out &&
	test_grep "compared 3000, equal 3000, missing 0, extra 0, changed 0" err
'

test_expect_success 'inject seven differences' '
	for uri in "$SRC" "$DST"; do
		mp-probe insert "$uri" $TEST_DB.d \
			"{\"_id\": 1, \"v\": 1}" "{\"_id\": 2, \"v\": 1}" "{\"_id\": 3, \"n\": {\"a\": 1, \"b\": 2}}" \
			"{\"_id\": 4, \"i\": 5}" "{\"_id\": 5, \"x\": 1.0}" "{\"_id\": 6, \"a\": 1, \"b\": 2}" \
			"{\"_id\": 7, \"arr\": [1, 2, 3]}" "{\"_id\": 8, \"same\": true}" || exit 1
	done &&
	mp-probe delete "$DST" $TEST_DB.d "{\"_id\": 1}" &&
	mp-probe insert "$DST" $TEST_DB.d "{\"_id\": 9, \"new\": 1}" &&
	mp-probe update "$DST" $TEST_DB.d "{\"_id\": 3}" "{\"\$set\": {\"n.b\": 3}}" &&
	mp-probe update "$DST" $TEST_DB.d "{\"_id\": 4}" "{\"i\": {\"\$numberLong\": \"5\"}}" &&
	mp-probe update "$DST" $TEST_DB.d "{\"_id\": 5}" "{\"x\": {\"\$numberInt\": \"1\"}}" &&
	mp-probe update "$DST" $TEST_DB.d "{\"_id\": 6}" "{\"b\": 2, \"a\": 1}" &&
	mp-probe update "$DST" $TEST_DB.d "{\"_id\": 7}" "{\"arr\": [3, 2, 1]}" &&
	mp-probe find "$DST" $TEST_DB.d "{\"_id\": 6}" | grep -q "\"b\":{\"\$numberInt\":\"2\"},\"a\"" ||
		{ echo "# the test server kept the old field order on replace; skipping order check" >&2; touch no_order; }
'

test_expect_success '--compare binary: every one of them, exit 1' '
	test_expect_code 1 hd --ns $TEST_DB.d --json relaxed >out &&
	classes out >actual &&
	if [ -e no_order ]; then
		printf "%s\n" "1 missing" "3 changed" "4 changed" "5 changed" "7 changed" "9 extra" >expect
	else
		printf "%s\n" "1 missing" "3 changed" "4 changed" "5 changed" "6 changed" "7 changed" "9 extra" >expect
	fi &&
	test_cmp expect actual &&
	jq -s -e "map(select(.diff == \"changed\")) | length >= 4 and all((.source_hash | length) == 64 and .source_hash != .target_hash)" out >/dev/null
'

test_expect_success '--compare unordered: field order no longer counts; types and array order do' '
	test_expect_code 1 hd --ns $TEST_DB.d --compare unordered --json relaxed >out &&
	classes out >actual &&
	printf "%s\n" "1 missing" "3 changed" "4 changed" "5 changed" "7 changed" "9 extra" >expect &&
	test_cmp expect actual
'

test_expect_success '--compare semantic: numbers by value too' '
	test_expect_code 1 hd --ns $TEST_DB.d --compare semantic --json relaxed >out &&
	classes out >actual &&
	printf "%s\n" "1 missing" "3 changed" "7 changed" "9 extra" >expect &&
	test_cmp expect actual
'

test_expect_success '--ignore-fields leaves fields out of the comparison' '
	test_expect_code 1 hd --ns $TEST_DB.d --compare semantic --ignore-fields n.b,arr --json relaxed >out &&
	classes out >actual &&
	printf "%s\n" "1 missing" "9 extra" >expect &&
	test_cmp expect actual
'

test_expect_success '--parallel 4 and --partition K/4 find the same differences as one pass' '
	mp-gen 4000 --mixed-ids | mongo-load-bson --uri "$SRC" --ns $TEST_DB.p -q &&
	mp-gen 4000 --mixed-ids | mongo-load-bson --uri "$DST" --ns $TEST_DB.p -q &&
	mp-probe delete "$DST" $TEST_DB.p "{\"_id\": 1}" &&
	mp-probe update "$DST" $TEST_DB.p "{\"_id\": \"id-9\"}" "{\"\$set\": {\"name\": \"x\"}}" &&
	mp-probe insert "$DST" $TEST_DB.p "{\"_id\": {\"\$oid\": \"000000000000000000000001\"}}" &&
	test_expect_code 1 hd --ns $TEST_DB.p >one &&
	test_expect_code 1 hd --ns $TEST_DB.p --parallel 4 >par &&
	for k in 1 2 3 4; do hd --ns $TEST_DB.p --partition $k/4 >>parts; [ $? -le 1 ] || exit 1; done &&
	test $(wc -l <one) -ge 2 &&
	sort one >a && sort par >b && sort parts >c &&
	test_cmp a b && test_cmp a c
'

test_expect_success 'files, sorted or not, agree with the servers' '
	test_expect_code 1 hd --ns $TEST_DB.d --json relaxed >servers &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.d --sort "{\"v\": -1}" >s.bson &&
	mongo-dump-bson --uri "$DST" --ns $TEST_DB.d --format ndjson | gzip >t.ndjson.gz &&
	test_expect_code 1 mongo-hashdiff --source-file s.bson --target-file t.ndjson.gz --ns $TEST_DB.d --json relaxed >files &&
	test_expect_code 1 mongo-hashdiff --source "$SRC" --target-file t.ndjson.gz --ns $TEST_DB.d --json relaxed >mixed &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.d --sort "{\"_id\": 1}" >s2.bson &&
	mongo-dump-bson --uri "$DST" --ns $TEST_DB.d --sort "{\"_id\": 1}" >t2.bson &&
	test_expect_code 1 mongo-hashdiff --source-file s2.bson --target-file t2.bson --ns $TEST_DB.d --json relaxed >sorted &&
	classes servers >a && classes files >b && classes mixed >c && classes sorted >d &&
	test_cmp a b && test_cmp a c && test_cmp a d
'

test_expect_success '--emit ids feeds mongo-dump-bson --ids-from' '
	test_expect_code 1 hd --ns $TEST_DB.d --emit ids >ids &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.d --ids-from ids --format ndjson --json relaxed >docs &&
	jq -r "._id" docs | sort | tr "\n" " " >got &&
	{ test "$(cat got)" = "1 3 4 5 6 7 " || test "$(cat got)" = "1 3 4 5 7 "; }
'

test_expect_success '--emit repair | mongo-replay repairs the target; a second run exits 0' '
	test_expect_code 1 hd --ns $TEST_DB.p --emit repair >repair &&
	jq -r .operationType repair | sort | uniq -c >ops &&
	test_grep "delete" ops && test_grep "replace" ops &&
	mongo-replay --uri "$DST" <repair &&
	hd --ns $TEST_DB.p
'

# the repair rewrites int64 5 as int32 5 and 1.0 as 1: a server must write
# a replacement that differs by type only
test_expect_success EXACT_REPLACE '--emit repair repairs differences of type, order and content' '
	test_expect_code 1 hd --ns $TEST_DB.d --emit repair | mongo-replay --uri "$DST" &&
	hd --ns $TEST_DB.d
'

test_expect_success '--count-only compares counts' '
	hd --ns $TEST_DB.d --count-only &&
	mp-probe delete "$DST" $TEST_DB.d "{\"_id\": 2}" &&
	test_expect_code 1 hd --ns $TEST_DB.d --count-only 2>err &&
	test_grep "counts differ" err
'

test_expect_success 'differences in flight clear with --recheck' '
	mp-probe insert "$SRC" $TEST_DB.r "{\"_id\": 1, \"v\": 1}" "{\"_id\": 2, \"v\": 1}" &&
	mp-probe insert "$DST" $TEST_DB.r "{\"_id\": 1, \"v\": 0}" &&
	{ hd --ns $TEST_DB.r --recheck 1 --recheck-delay 10 -v >out 2>err & pid=$!; } &&
	for i in $(seq 1 600); do grep -q "2 differences held" err && break; sleep 0.1; done &&
	test_grep "2 differences held" err &&
	mp-probe update "$DST" $TEST_DB.r "{\"_id\": 1}" "{\"\$set\": {\"v\": 1}}" &&
	mp-probe insert "$DST" $TEST_DB.r "{\"_id\": 2, \"v\": 1}" &&
	wait $pid &&
	test_must_be_empty out &&
	test_grep "2 differences cleared on recheck" err
'

test_expect_success '... and what stays different is still reported' '
	mp-probe update "$DST" $TEST_DB.r "{\"_id\": 1}" "{\"\$set\": {\"v\": 7}}" &&
	test_expect_code 1 hd --ns $TEST_DB.r --recheck 2 --recheck-delay 0 --json relaxed >out &&
	classes out >actual && echo "1 changed" >expect && test_cmp expect actual
'

test_expect_success '--db compares every collection of a database' '
	test_expect_code 1 hd --db $TEST_DB --json relaxed --stats st >out &&
	jq -r .ns out | sort -u >nss &&
	test_grep "$TEST_DB.r" nss &&
	jq -s -e "map(select(.type == \"summary\" and .ns == \"$TEST_DB.p\")) | .[0].verdict == \"equal\"" st
'

test_expect_success PLAIN_TCP '--checkpoint and --resume finish a comparison that was stopped' '
	mp-gen 20000 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.big -q &&
	mp-gen 20000 | mongo-load-bson --uri "$DST" --ns $TEST_DB.big -q &&
	mp-probe delete "$DST" $TEST_DB.big "{\"_id\": 19999}" &&
	# the target never answers its 4th getMore (batches of 500): the stop
	# comes while the run waits for it, then the connection is cut, so the
	# run ends stopped with 2,000 compared whatever the speed of the machine
	fault_proxy fpck "$DST" blackhole --cmd getMore --after 3 &&
	{ MP_STOP_GRACE=120 mongo-hashdiff --source "$SRC" --target "$FP_URI" --ns $TEST_DB.big \
		--checkpoint ck --batch-size 500 >/dev/null 2>err.ck & pid=$!; } &&
	for i in $(seq 1 600); do grep -q fault=blackhole fpck.log && break; sleep 0.1; done &&
	grep -q fault=blackhole fpck.log &&
	kill -INT $pid && kill $FP_PID && test_expect_code 75 wait $pid &&
	test_grep "interrupted after 2000 compared" err.ck &&
	jq -e ".compared.\"\$numberLong\" == \"2000\" and .missing.\"\$numberLong\" == \"0\"" ck &&
	test_expect_code 1 hd --ns $TEST_DB.big --checkpoint ck --resume --stats st >out &&
	jq -e "select(.type == \"summary\") | .compared == 20000 and .missing == 1 and .equal == 19999" st &&
	test ! -e ck
'

test_expect_success PLAIN_TCP '--checkpoint with --recheck: never past a difference held for its recheck' '
	mp-probe delete "$DST" $TEST_DB.big "{\"_id\": 5}" &&
	fault_proxy fpck2 "$DST" blackhole --cmd getMore --after 3 &&
	{ MP_STOP_GRACE=120 mongo-hashdiff --source "$SRC" --target "$FP_URI" --ns $TEST_DB.big \
		--checkpoint ck2 --recheck 1 --recheck-delay 0 --batch-size 500 >/dev/null 2>err.ck2 & pid=$!; } &&
	for i in $(seq 1 600); do grep -q fault=blackhole fpck2.log && break; sleep 0.1; done &&
	grep -q fault=blackhole fpck2.log &&
	kill -INT $pid && kill $FP_PID && test_expect_code 75 wait $pid &&
	jq -e "(._id.\"\$numberInt\" | tonumber) < 5" ck2 &&
	test_expect_code 1 hd --ns $TEST_DB.big --checkpoint ck2 --resume --recheck 1 --recheck-delay 0 \
		--json relaxed --stats st2 >out2 &&
	jq -e "select(.type == \"summary\") | .missing == 2" st2 &&
	jq -s -e "map(._id) | sort == [5, 19999]" out2
'

test_done
