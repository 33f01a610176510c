#!/usr/bin/env bash
# The test bed itself: two servers answer; a document written through mongoc
# is read back by find; a change stream yields the insert with a resume
# token, and resuming after that token yields only the later events; the
# server's _id order is the order of our comparator.
. "$(dirname "$0")/lib.sh"
require_servers

test_expect_success 'source and target both answer ping' '
	mp-probe ping "$MP_SOURCE_URI" &&
	mp-probe ping "$MP_TARGET_URI"
'

test_expect_success 'a document written through mongoc is read back by find' '
	mp-probe insert "$MP_SOURCE_URI" $TEST_DB.c "{\"_id\": 1, \"name\": \"ada\", \"n\": {\"\$numberLong\": \"7\"}}" &&
	mp-probe find "$MP_SOURCE_URI" $TEST_DB.c >found &&
	echo "{\"_id\":{\"\$numberInt\":\"1\"},\"name\":\"ada\",\"n\":{\"\$numberLong\":\"7\"}}" >expect &&
	test_cmp expect found
'

test_expect_success 'the target is a separate server' '
	mp-probe count "$MP_TARGET_URI" $TEST_DB.c >n &&
	echo 0 >expect && test_cmp expect n
'

test_expect_success CHANGE_STREAMS 'a change stream yields the insert with a resume token' '
	mp-probe watch "$MP_SOURCE_URI" $TEST_DB.w 1 --then-insert "{\"_id\": 10}" >ev1 &&
	jq -e ".operationType == \"insert\" and .fullDocument._id.\"\$numberInt\" == \"10\"" ev1 &&
	jq -e "._id._data | type == \"string\" and length > 0" ev1 &&
	jq -c "._id" ev1 >token
'

test_expect_success CHANGE_STREAMS 'resuming after that token yields only later events' '
	mp-probe insert "$MP_SOURCE_URI" $TEST_DB.w "{\"_id\": 11}" "{\"_id\": 12}" &&
	mp-probe watch "$MP_SOURCE_URI" $TEST_DB.w 2 --resume-after "$(cat token)" >ev2 &&
	jq -r ".fullDocument._id.\"\$numberInt\"" ev2 >ids &&
	printf "11\n12\n" >expect &&
	test_cmp expect ids &&
	test_expect_code 1 mp-probe watch "$MP_SOURCE_URI" $TEST_DB.w 3 --resume-after "$(cat token)" --timeout 2 >ev3 &&
	test $(wc -l <ev3) = 2
'

# MinKey and MaxKey where the servers keep them
minmax=0
test_have_prereq ALL_TYPES && minmax=2
test_expect_success 'the server sorts mixed-type _ids in our comparator order' '
	mp-probe insert "$MP_SOURCE_URI" $TEST_DB.mixed \
		"{\"_id\": {\"\$oid\": \"5f0000000000000000000001\"}}" \
		"{\"_id\": \"b\"}" "{\"_id\": \"a\"}" \
		"{\"_id\": {\"\$numberLong\": \"3\"}}" "{\"_id\": 2.5}" "{\"_id\": 1}" \
		"{\"_id\": {\"k\": 1}}" "{\"_id\": {\"\$binary\": {\"base64\": \"AQI=\", \"subType\": \"00\"}}}" \
		"{\"_id\": true}" "{\"_id\": {\"\$date\": \"2020-01-01T00:00:00Z\"}}" "{\"_id\": null}" &&
	if test '$minmax' = 2; then
		mp-probe insert "$MP_SOURCE_URI" $TEST_DB.mixed "{\"_id\": {\"\$minKey\": 1}}" "{\"_id\": {\"\$maxKey\": 1}}"
	fi &&
	mp-probe find "$MP_SOURCE_URI" $TEST_DB.mixed "{}" "{\"_id\": 1}" >sorted.ndjson &&
	test $(wc -l <sorted.ndjson) = $((11 + '$minmax')) &&
	mp-probe sorted sorted.ndjson
'

test_done
