#!/usr/bin/env bash
# mongo-report --source/--target: each collection's count on both servers
# beside the streams' figures, progress and ETA; --db adds the collections
# no stream mentions.  Without servers, mongo-dump-bson's expected total
# gives the progress and ETA of a copy still running.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

# stats NS DOCS RATE [TOTAL]: a mongo-load-bson progress record (and a
# mongo-dump-bson one expecting TOTAL), as a copy in flight writes them
stats() {
	printf '{"tool":"mongo-load-bson","type":"progress","time":"2026-11-23T10:00:00Z","ns":"%s","docs":%s,"bytes":1,"errors":0,"elapsed_s":4.0,"rate_docs_s":%s}\n' "$1" "$2" "$3"
	[ -z "${4:-}" ] || printf '{"tool":"mongo-dump-bson","type":"progress","time":"2026-11-23T10:00:00Z","ns":"%s","docs":%s,"bytes":1,"errors":0,"elapsed_s":4.0,"rate_docs_s":%s,"total":%s}\n' "$1" "$2" "$3" "$4"
}

test_expect_success 'setup: 1000 documents on the source, 400 copied so far' '
	mp-gen 1000 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.a -q &&
	mp-gen 300 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.b -q &&
	mp-gen 400 | mongo-load-bson --uri "$DST" --ns $TEST_DB.a -q
'

test_expect_success 'the table shows source, target, progress and the ETA from the copy rate' '
	stats $TEST_DB.a 400 100 >s.ndjson &&
	mongo-report --source "$SRC" --target "$DST" s.ndjson >out &&
	test_grep "^namespace  *tools  *documents  *source  *target  *done  *docs/s .* ETA " out &&
	test_grep "^$TEST_DB.a  *load-bson  *400  *1000  *400  *40.0%  *100 .* 6s " out
'

test_expect_success 'JSON carries the counts, the percentage and the ETA in seconds' '
	stats $TEST_DB.a 400 100 | mongo-report --source "$SRC" --target "$DST" --format json >r.json &&
	jq -e ".namespaces[0] | .source_count == 1000 and .target_count == 400 and .percent == 40 and .eta_s == 6" r.json
'

test_expect_success '--db adds every collection of the database, with or without a stream' '
	stats $TEST_DB.a 400 100 | mongo-report --source "$SRC" --target "$DST" --db $TEST_DB --format json >r.json &&
	jq -e "[.namespaces[].ns] == [\"$TEST_DB.a\", \"$TEST_DB.b\"]" r.json &&
	jq -e ".namespaces[1] | .source_count == 300 and .target_count == 0 and .percent == 0" r.json
'

test_expect_success 'HTML: the counts in their cells, the bar at the percentage' '
	stats $TEST_DB.a 400 100 | mongo-report --source "$SRC" --target "$DST" --format html -o r.html &&
	grep "<tr class=\"ns\"><td>$TEST_DB.a</td>" r.html >row &&
	test_grep "class=\"num src\">1000<" row && test_grep "class=\"num dst\">400<" row &&
	test_grep "width:40%" row && test_grep "class=\"eta\">6s<" row
'

test_expect_success 'without servers, the dump'"'"'s expected total gives progress and ETA' '
	stats $TEST_DB.a 250 50 1000 | mongo-report --format json >r.json &&
	jq -e ".namespaces[0] | .percent == 25 and .eta_s == 15 and (has(\"source_count\") | not)" r.json
'

test_expect_success 'mongo-dump-bson writes periodic stats with the total it expects' '
	MP_STATS_INTERVAL=0.001 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.a --stats d.ndjson >/dev/null &&
	jq -s -e "map(select(.type == \"progress\")) | length >= 1 and all(.total == 1000 and .docs <= 1000)" d.ndjson &&
	jq -s -e "map(select(.type == \"summary\")) | length == 1 and .[0].docs == 1000 and .[0].total == 1000" d.ndjson
'

test_expect_success 'a --partition share expects its own count, not the collection'"'"'s' '
	MP_STATS_INTERVAL=0.001 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.a --partition 2/4 --stats p.ndjson >p.bson &&
	n=$(mongo-report --format json p.ndjson | jq ".namespaces[0].tools[0].docs") &&
	test "$n" -gt 0 && test "$n" -lt 1000 &&
	jq -s -e "map(select(.type == \"summary\")) | .[0].total == $n" p.ndjson
'

test_expect_success 'the target down is 69, with nothing written' '
	test_expect_code 69 mongo-report --source "$SRC" --target "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300" \
		-o r2.html --format html s.ndjson 2>err &&
	! test -e r2.html && test_grep "^mongo-report: target (127.0.0.1:1): " err
'

test_expect_success 'the source down is named as the source, without its password' '
	test_expect_code 69 mongo-report --source "mongodb://u:pw9secret@127.0.0.1:1/?serverSelectionTimeoutMS=300" \
		--target "$DST" s.ndjson 2>err &&
	test_grep "^mongo-report: source (127.0.0.1:1): " err &&
	! test_grep "pw9secret" err
'

test_done
