#!/usr/bin/env bash
# A second, independent implementation: FerretDB (SQLite backend), paired
# with the first (mongo-java-server, or MONGO_TEST_URI's deployment).  Copies
# and proofs in both directions; _id ranges on a server that takes no
# MinKey/MaxKey type codes; a server without change streams said so, with
# the way out (polling), and polled; the ordered-reject case; no driver
# noise.  FerretDB 1.x stores no Decimal128 (it drops the connection), so
# the generated documents carry "amount" as a string here (mp-gen
# --no-decimal).
. "$(dirname "$0")/lib.sh"

test_have_prereq SERVERS || skip_all "$(prereq_why SERVERS)"
test_have_prereq FERRETDB || skip_all "$(prereq_why FERRETDB)"
J=$MP_SOURCE_URI F=$MP_FERRETDB_URI
hd() { mongo-hashdiff --source "$1" --target "$2" --ns "$3" "${@:4}"; }

test_expect_success 'seed both: the same documents, mixed-type _ids, loaded without a warning' '
	mp-gen 3000 --mixed-ids --no-decimal >seed.bson &&
	mongo-load-bson --uri "$J" --ns $TEST_DB.c --from seed.bson --drop -q 2>err && test_must_be_empty err &&
	mongo-load-bson --uri "$F" --ns $TEST_DB.c --from seed.bson --drop 2>err &&
	! test_grep "warning" err
'

test_expect_success 'FerretDB and the first server compare equal: one stream, --parallel, --partition' '
	hd "$J" "$F" $TEST_DB.c >out 2>err && test_must_be_empty out &&
	test_grep "compared 3000, equal 3000" err &&
	hd "$F" "$J" $TEST_DB.c --parallel 3 >out 2>err && test_must_be_empty out &&
	test_grep "compared 3000, equal 3000" err &&
	hd "$J" "$F" $TEST_DB.c --partition 1/2 2>err1 && hd "$J" "$F" $TEST_DB.c --partition 2/2 2>err2 &&
	a=$(sed -n "s/.*compared \([0-9]*\),.*/\1/p" err1) && b=$(sed -n "s/.*compared \([0-9]*\),.*/\1/p" err2) &&
	test $((a + b)) = 3000 && test "$a" -gt 0 && test "$b" -gt 0
'

test_expect_success 'dump from FerretDB: --parallel and --resume-after-id need no MinKey/MaxKey codes' '
	mongo-dump-bson --uri "$F" --ns $TEST_DB.c --format ndjson >one.ndjson &&
	mongo-dump-bson --uri "$F" --ns $TEST_DB.c --parallel 3 --format ndjson >par.ndjson &&
	sort one.ndjson >a && sort par.ndjson >b && test_cmp a b && test $(wc -l <a) = 3000 &&
	mongo-dump-bson --uri "$F" --ns $TEST_DB.c --partition 2/2 --format ndjson >p2.ndjson &&
	test -s p2.ndjson &&
	mongo-dump-bson --uri "$F" --ns $TEST_DB.c --resume-after-id 1000 --format ndjson >after.ndjson &&
	test -s after.ndjson
'

test_expect_success 'dump | load from FerretDB to the first server, and back, proved equal' '
	mongo-dump-bson --uri "$F" --ns $TEST_DB.c | mongo-load-bson --uri "$J" --ns $TEST_DB.back --drop -q &&
	hd "$F" "$J" $TEST_DB.c --parallel 2 2>/dev/null >/dev/null &&
	mongo-hashdiff --source "$F" --target "$J" --ns $TEST_DB.c --target-ns $TEST_DB.back >out 2>err &&
	test_must_be_empty out
'

test_expect_success 'a MinKey _id FerretDB cannot hold: --parallel compares in one stream and finds it missing' '
	printf "{\"_id\": {\"\$minKey\": 1}, \"k\": 1}\n" | mongo-load-bson --uri "$J" --ns $TEST_DB.c -q &&
	{ hd "$J" "$F" $TEST_DB.c --parallel 2 >out 2>err; rc=$?; } ;
	test $rc = 1 &&
	test_grep "one stream, not in ranges" err &&
	jq -e "select(.diff == \"missing\") | ._id[\"\$minKey\"] == 1" out &&
	test $(wc -l <out) = 1 &&
	test_expect_code 69 hd "$J" "$F" $TEST_DB.c --partition 1/2 2>err &&
	test_grep "without --partition" err
'

test_expect_success 'repair into FerretDB converges' '
	mp-gen 3000 --no-decimal >plain.bson &&
	mongo-load-bson --uri "$J" --ns $TEST_DB.r --from plain.bson -q &&
	mongo-load-bson --uri "$F" --ns $TEST_DB.r --from plain.bson -q &&
	mp-probe update "$F" $TEST_DB.r "{\"_id\": 7}" "{\"\$set\": {\"i\": -1}}" &&
	mp-probe delete "$F" $TEST_DB.r "{\"_id\": 14}" &&
	{ hd "$J" "$F" $TEST_DB.r --emit repair 2>/dev/null || test $? = 1; } >repair.ndjson &&
	test $(wc -l <repair.ndjson) = 2 &&
	mongo-replay --uri "$F" <repair.ndjson &&
	hd "$J" "$F" $TEST_DB.r >out 2>err && test_must_be_empty out
'

test_expect_success 'the ordered-reject case on FerretDB: 3 of 3 written, 1 rejected' '
	printf "{\"_id\":1}\n{\"_id\":1}\n{\"_id\":2}\n{\"_id\":3}\n" |
		mongo-load-bson --uri "$F" --ns $TEST_DB.o --drop --ordered --reject rej.ndjson 2>err &&
	test $(wc -l <rej.ndjson) = 1 &&
	test "$(mp-probe count "$F" $TEST_DB.o)" = 3
'

test_expect_success 'mongo-watch on FerretDB: 69 at once, naming the missing change streams and the way out' '
	test_expect_code 69 timeout 60 mongo-watch --uri "$F" --ns $TEST_DB.c --idle-exit 5 >ev 2>err &&
	test_grep "no change streams" err && test_grep "poll-field" err &&
	test $(wc -l <err) = 1 &&
	test_expect_code 69 timeout 60 mongo-watch --uri "$F" --ns $TEST_DB.c --start-token 2>err &&
	test_grep "no change streams" err
'

test_expect_success 'polling FerretDB into the first server (CDC without change streams)' '
	mp-probe insert "$F" $TEST_DB.poll "{\"_id\": 1, \"at\": 1, \"v\": \"a\"}" "{\"_id\": 2, \"at\": 2, \"v\": \"b\"}" &&
	mongo-watch --uri "$F" --ns $TEST_DB.poll --poll-field at --poll-interval 1 --idle-exit 1 \
		--token-file poll.tok | mongo-replay --uri "$J" &&
	mp-probe update "$F" $TEST_DB.poll "{\"_id\": 1}" "{\"\$set\": {\"v\": \"c\", \"at\": 3}}" &&
	mongo-watch --uri "$F" --ns $TEST_DB.poll --poll-field at --poll-interval 1 --idle-exit 1 \
		--resume-file poll.tok | mongo-replay --uri "$J" &&
	hd "$F" "$J" $TEST_DB.poll >out 2>err && test_must_be_empty out &&
	test_grep "compared 2, equal 2" err
'

test_done
