#!/usr/bin/env bash
# mongo-report: text, JSON and markdown of known stats, diff and event
# streams match golden files; the HTML report is one self-contained page
# (rows, verdicts, charts, no external reference); bad input is 65.
. "$(dirname "$0")/lib.sh"
D=$TEST_DATA/report

for f in text json markdown; do
	test_expect_success "--format $f of known inputs matches the golden file" '
		mongo-report --format '$f' "$D/stats.ndjson" "$D/diff.ndjson" "$D/events.ndjson" >actual &&
		test_cmp "$D/expect.'$f'" actual
	'
done

test_expect_success 'JSON output is valid JSON with one entry per namespace' '
	mongo-report --format json "$D/stats.ndjson" "$D/diff.ndjson" "$D/events.ndjson" |
		jq -e ".namespaces | length == 4" >/dev/null
'

test_expect_success 'inputs may come mixed on stdin, BSON or NDJSON' '
	cat "$D/stats.ndjson" "$D/diff.ndjson" "$D/events.ndjson" | mongo-report --format text >actual &&
	test_cmp "$D/expect.text" actual &&
	mongo-dump-bson --from "$D/events.ndjson" | mongo-report --format json | jq -e ".events == 4" >/dev/null
'

test_expect_success 'HTML: one self-contained page with the rows, verdicts and charts' '
	mongo-report --format html -o r.html --title "Migration of shop" "$D/stats.ndjson" "$D/diff.ndjson" "$D/events.ndjson" &&
	test_grep "<title>Migration of shop</title>" r.html &&
	test $(grep -c "<tr class=\"ns\">" r.html) -eq 4 &&
	test_grep "shop.orders: <span class=\"different\">different</span>" r.html &&
	test_grep "shop.users: <span class=\"equal\">equal</span>" r.html &&
	test_grep "<svg" r.html && test_grep "<polyline" r.html &&
	test_grep "x-1" r.html &&
	! grep -Ei "(src|href)=\"?(https?:)?//" r.html &&
	! grep -i "<script" r.html
'

test_expect_success 'a record of no known shape is 65, naming it' '
	printf "%s\n" "{\"hello\": 1}" >bad.ndjson &&
	test_expect_code 65 mongo-report bad.ndjson 2>err &&
	test_grep "record 1" err &&
	test_expect_code 66 mongo-report missing.ndjson 2>err &&
	test_expect_code 64 mongo-report --format pdf 2>err
'

test_done
