#!/usr/bin/env bash
# Failure paths of the full copy: malformed streams stop the load with exit
# 65 naming the record, after the good records before it are in the target;
# --reject keeps what the server or the reader refused and loads the rest;
# usage, server-down and output errors have their documented statuses.
. "$(dirname "$0")/lib.sh"
require_servers
DST=$MP_TARGET_URI

test_expect_success 'setup: three good BSON documents' '
	mp-gen 3 >good.bson
'

# case name, bytes appended (printf format), text the error must contain
check_bad() {
	name=$1 tail=$2 want=$3
	test_expect_success "malformed stream: $name -> 65, record named, good records kept" '
		cp good.bson in.bson && printf "'"$tail"'" >>in.bson &&
		test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB.'"$name"' <in.bson 2>err &&
		test_grep "record 4 at byte offset" err &&
		test_grep "'"$want"'" err &&
		mp-probe count "$DST" $TEST_DB.'"$name"' >n && echo 3 >expect && test_cmp expect n
	'
}
check_bad truncprefix '\020\000' 'truncated length prefix'
check_bad short '\004\000\000\000' 'invalid document length 4'
check_bad huge '\000\000\000\177\000\000\000\000' 'exceeds the limit'
check_bad noterm '\010\000\000\000\012a\000\001' 'NUL terminator'
check_bad trunclast '\040\000\000\000\020_id\000' 'truncated document'
check_bad mixjson '{"_id": 9}\n' 'NDJSON mixed into a BSON stream'

test_expect_success 'NDJSON: a bad line stops the load at its line (65)' '
	printf "{\"_id\": 1}\n{\"_id\": 2}\n{\"_id\": 3,}\n{\"_id\": 4}\n" >bad.ndjson &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB.badjson <bad.ndjson 2>err &&
	test_grep "record 3 (line 3" err &&
	mp-probe count "$DST" $TEST_DB.badjson >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'NDJSON: with --reject bad lines are set aside and the rest loads' '
	printf "{\"_id\": 1}\n{\"_id\": 2,\n{\"s\": \"\xc3\x28\"}\n{\"_id\": 4}\n" >bad2.ndjson &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.rej --reject rej.ndjson <bad2.ndjson 2>err &&
	mp-probe count "$DST" $TEST_DB.rej >n && echo 2 >expect && test_cmp expect n &&
	test $(wc -l <rej.ndjson) = 2 &&
	jq -r "[.line, .error] | @tsv" rej.ndjson >why &&
	test_grep "^2	.*invalid JSON" why &&
	test_grep "^3	.*invalid UTF-8" why
'

test_expect_success 'server-rejected documents go to --reject and the rest loads' '
	printf "{\"_id\": 1, \"v\": \"a\"}\n{\"_id\": 2}\n" | mongo-load-bson --uri "$DST" --ns $TEST_DB.dup &&
	printf "{\"_id\": 1, \"v\": \"b\"}\n{\"_id\": 3}\n{\"_id\": 2}\n{\"_id\": 4}\n" >more.ndjson &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB.dup <more.ndjson 2>err &&
	test_grep "use --reject FILE" err &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.dup2 --workers 1 <more.ndjson &&
	printf "{\"_id\": 1}\n" | mongo-load-bson --uri "$DST" --ns $TEST_DB.dup3 &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.dup3 --reject srv.ndjson <more.ndjson &&
	mp-probe count "$DST" $TEST_DB.dup3 >n && echo 4 >expect && test_cmp expect n &&
	test $(wc -l <srv.ndjson) = 1 &&
	jq -e ".code == 11000 and .doc.v == \"b\"" srv.ndjson
'

test_expect_success '--skip-duplicates counts duplicates and goes on' '
	mongo-load-bson --uri "$DST" --ns $TEST_DB.dup3 --skip-duplicates --stats s.ndjson <more.ndjson &&
	jq -e "select(.type == \"summary\") | .duplicates == 4" s.ndjson
'

test_expect_success 'usage errors are 64 with nothing on stdout' '
	test_expect_code 64 mongo-dump-bson --bogus >out 2>err && test_must_be_empty out &&
	test_expect_code 64 mongo-load-bson --mode bogus --ns a.b >out 2>err && test_must_be_empty out &&
	test_grep "mode takes insert" err &&
	test_expect_code 64 mongo-dump-bson --ns nodot >out 2>err && test_must_be_empty out &&
	mongo-dump-bson --help >help && test_grep "^usage: mongo-dump-bson" help &&
	mongo-load-bson --version >v && test_grep "^mongo-load-bson " v
'

test_expect_success 'a server that is down is 69, with the password redacted' '
	test_expect_code 69 mongo-dump-bson --uri "mongodb://u:hunter22@127.0.0.1:9/?serverSelectionTimeoutMS=300" --ns a.b >out 2>err &&
	test_must_be_empty out &&
	! grep -q hunter22 err &&
	test_expect_code 69 mongo-load-bson --uri "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300" --ns a.b <good.bson
'

test_expect_success 'no URI at all: the default server is named, never taken in silence' '
	# 69 here; 66 (no a.b) where a server does listen on localhost
	! env -u MONGODB_URI mongo-dump-bson --ns a.b --connect-timeout 1 -o /dev/null 2>err &&
	test_grep "no --uri, --host or MONGODB_URI given: the server is localhost:27017" err
'

test_expect_success 'a full disk is 74' '
	test_expect_code 74 mongo-dump-bson --from good.bson >/dev/full 2>err &&
	test_grep "No space left" err
'

test_expect_success 'a missing input file is 66' '
	test_expect_code 66 mongo-dump-bson --from nothere.bson &&
	test_expect_code 66 mongo-load-bson --uri "$DST" --ns $TEST_DB.x --from nothere.bson
'

test_expect_success '--output never leaves a half-written file' '
	cp good.bson in.bson && printf "\004\000\000\000" >>in.bson &&
	test_expect_code 65 mongo-dump-bson --from in.bson --format ndjson --output out.ndjson 2>err &&
	test $(wc -l <out.ndjson) = 3 &&
	ls >files && ! grep -q "\.tmp\." files
'

test_done
