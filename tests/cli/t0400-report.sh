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

test_expect_success 'mongo-replay stats: each target collection gets what was applied to it' '
	mongo-report --format json "$D/replay-ns.ndjson" >r.json &&
	jq -e ".namespaces[] | select(.ns == \"shop.orders\") | .inserts == 12 and .updates == 28 and .deletes == 9
		and .last_change == \"2026-11-22T11:00:19Z\"" r.json &&
	jq -e ".namespaces[] | select(.ns == \"shop.users\") | .updates == 10 and .deletes == 1" r.json &&
	jq -e ".namespaces[] | select(.ns == \"replay\") | .tools[0].docs == 60" r.json &&
	mongo-report "$D/replay-ns.ndjson" >r.txt &&
	test_grep "^shop.orders  *replay  " r.txt
'

test_expect_success 'a replay record naming many collections at once (rows grow while read)' '
	{
		printf "{\"tool\":\"mongo-replay\",\"type\":\"summary\",\"ns\":\"replay\",\"docs\":40,\"lag_p50_ms\":2,\"lag_p99_ms\":9,\"namespaces\":["
		for i in $(seq 1 40); do
			printf "%s{\"ns\":\"db.c%02d\",\"inserts\":%d,\"updates\":0,\"replaces\":0,\"deletes\":0}" \
				"$([ $i = 1 ] || echo ,)" $i $i
		done
		echo "]}"
	} >many.ndjson &&
	mongo-report --format json many.ndjson >r.json &&
	jq -e "(.namespaces | length) == 41 and ([.namespaces[] | select(.ns | startswith(\"db.c\")) | .inserts] | add) == 820" r.json &&
	jq -e ".namespaces[] | select(.ns == \"db.c40\") | .tools[0].tool == \"mongo-replay\" and .tools[0].lag_p99_ms == 9" r.json
'

test_expect_success 'an unfinished copy has no ETA without the source count, and no source columns' '
	mongo-report --format json "$D/replay-ns.ndjson" |
		jq -e ".namespaces[] | select(.ns == \"shop.users\") | has(\"eta_s\") | not" &&
	mongo-report "$D/replay-ns.ndjson" >r.txt && ! grep -q "source" r.txt
'

test_expect_success '--events takes change events only: anything else is 65, naming record and line' '
	mongo-report --events --format json "$D/events.ndjson" | jq -e ".events == 4" &&
	test_expect_code 65 mongo-report --events "$D/events.ndjson" "$D/stats.ndjson" 2>err &&
	test_grep "stats.ndjson: record 1 (line 1): not a change event" err
'

test_expect_success 'a rejects file among the inputs (mongo-report *.ndjson) is skipped with one warning' '
	printf "%s\n" "{\"error\":\"bad\",\"record\":1,\"raw\":\"x\"}" "{\"error\":\"bad\",\"record\":2,\"raw\":\"y\"}" >rej.ndjson &&
	mongo-report --format json "$D/stats.ndjson" >alone.json &&
	mongo-report --format json "$D/stats.ndjson" rej.ndjson >both.json 2>err &&
	test_cmp alone.json both.json &&
	test $(wc -l <err) = 1 &&
	test_grep "rej.ndjson: record 1 (line 1): neither a stats record.*skipped, and 1 more" err &&
	printf "not json\n" >broken.ndjson &&
	test_expect_code 65 mongo-report "$D/stats.ndjson" broken.ndjson 2>err
'

test_expect_success '-o FILE is replaced whole or not at all' '
	echo old >out.html &&
	printf "not json\n" >notjson.ndjson &&
	test_expect_code 65 mongo-report --format html -o out.html "$D/stats.ndjson" notjson.ndjson 2>err &&
	test "$(cat out.html)" = old &&
	mongo-report --format html -o out.html "$D/stats.ndjson" && test_grep "</html>" out.html &&
	test_expect_code 73 mongo-report -o no/such/dir/r.txt "$D/stats.ndjson" 2>err &&
	! test -e no &&
	test_expect_code 74 mongo-report "$D/stats.ndjson" >/dev/full 2>err && test_grep "stdout" err
'

test_expect_success 'usage: --live with -o, or one of --source/--target, or two event streams, is 64' '
	test_expect_code 64 mongo-report --live --events -o x 2>err && test_grep "snapshot" err &&
	test_expect_code 64 mongo-report --live --events --source mongodb://127.0.0.1:1 2>err &&
	test_expect_code 64 mongo-report --live --events a b 2>err && ! test -e x
'

test_expect_success 'usage: a shared option it does not honour (--stats, --uri, --gzip) is 64' '
	test_expect_code 64 mongo-report --stats s.ndjson "$D/stats.ndjson" >out 2>err &&
	test_must_be_empty out && test_grep "unknown option .--stats." err && ! test -e s.ndjson &&
	test_expect_code 64 mongo-report --uri mongodb://127.0.0.1:1 "$D/stats.ndjson" >out 2>err &&
	test_must_be_empty out && test_grep "unknown option .--uri." err &&
	test_expect_code 64 mongo-report --gzip "$D/stats.ndjson" >out 2>err && test_must_be_empty out
'

test_expect_success 'a server that cannot be reached is 69' '
	test_expect_code 69 mongo-report --source "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300" \
		"$D/stats.ndjson" >out 2>err &&
	test_must_be_empty out && test_grep "127.0.0.1:1" err
'

test_expect_success 'a tool that fails ends its stats with an exit record; the report lists it' '
	test_expect_code 69 mongo-dump-bson --uri "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300" --ns shop.orders \
		--stats s.ndjson >/dev/null 2>err &&
	jq -s -e "length == 1 and .[0].type == \"exit\" and .[0].status == 69 and (.[0].error | test(\"127.0.0.1:1\"))" s.ndjson &&
	cat "$D/stats.ndjson" s.ndjson >all.ndjson &&
	mongo-report all.ndjson >r.txt &&
	sed -e "/^\$/,\$d" r.txt >table && mongo-report "$D/stats.ndjson" >expect && test_cmp expect table &&
	test_grep "^failed: mongo-dump-bson shop.orders exited 69: server unavailable" r.txt &&
	mongo-report --format json all.ndjson | jq -e ".failures == [{tool: \"mongo-dump-bson\", ns: \"shop.orders\",
		status: 69, error: .failures[0].error}] and (.failures[0].error | test(\"unavailable\"))" &&
	mongo-report --format html -o r.html all.ndjson &&
	test_grep "<strong>1 run failed</strong>" r.html && test_grep "<li class=\"failure\">mongo-dump-bson" r.html
'

test_expect_success 'a run that went well ends with its summary; exit records add no row; status 1 is no failure' '
	printf "%s\n" "{\"hello\": 1" | test_expect_code 65 mongo-load-bson --uri mongodb://127.0.0.1:1 --ns a.b \
		--dry-run --stats bad.ndjson 2>/dev/null &&
	jq -s -e "map(select(.type == \"exit\")) | length == 1 and .[0].status == 65 and (.[0].error | test(\"line 1\"))" bad.ndjson &&
	printf "%s\n" "{\"hello\": 1}" | mongo-load-bson --uri mongodb://127.0.0.1:1 --ns a.b --dry-run --stats ok.ndjson 2>/dev/null &&
	jq -s -e ".[-1].type == \"summary\" and (map(select(.type == \"exit\")) | length == 0)" ok.ndjson &&
	mongo-report --format json ok.ndjson | jq -e "(.namespaces | length) == 1 and (has(\"failures\") | not)" &&
	printf "%s\n" "{\"tool\":\"mongo-hashdiff\",\"type\":\"exit\",\"ns\":\"x.y\",\"status\":1}" \
		"{\"tool\":\"mongo-load-bson\",\"type\":\"exit\",\"ns\":\"x.z\",\"status\":0}" >exits.ndjson &&
	mongo-report --format json exits.ndjson | jq -e "(.namespaces | length) == 0 and (has(\"failures\") | not)"
'

test_expect_success 'a record of no known shape is skipped, named in a warning; a file that is not JSON is 65' '
	printf "%s\n" "{\"hello\": 1}" >odd.ndjson &&
	mongo-report odd.ndjson 2>err &&
	test_grep "odd.ndjson: record 1 (line 1).*skipped" err &&
	printf "%s\n" "{\"hello\": 1" >bad.ndjson &&
	test_expect_code 65 mongo-report bad.ndjson 2>err &&
	test_grep "bad.ndjson: record 1 (line 1" err &&
	test_expect_code 66 mongo-report missing.ndjson 2>err &&
	test_expect_code 64 mongo-report --format pdf 2>err
'

# feed FIFO FILE: write FILE (more than a pipe holds) into FIFO, touch
# FIFO.fed once the reader took all but a pipe's worth, then hold the FIFO
# open without writing; the reader is then certain to be blocked on it
feed() {
	mkfifo "$1"
	( cat "$2" && touch "$1.fed" && exec sleep 600 ) >"$1" &
	echo $! >"$1.pid"
}
fed() {
	for i in $(seq 1 400); do [ -e "$1.fed" ] && return 0; sleep 0.05; done
	return 1
}
unfeed() { pkill -9 -P "$(cat "$1.pid")" 2>/dev/null; kill -9 "$(cat "$1.pid")" 2>/dev/null; true; }

test_expect_success 'a signal while a report reads its input: 75, and no -o file' '
	for i in $(seq 3000); do
		echo "{\"tool\":\"mongo-load-bson\",\"type\":\"progress\",\"ns\":\"a.b\",\"docs\":$i,\"bytes\":1,\"errors\":0,\"elapsed_s\":1,\"rate_docs_s\":1}"
	done >many.ndjson &&
	feed r1.fifo many.ndjson &&
	{ mongo-report -o rep.txt r1.fifo 2>err & pid=$!; } && fed r1.fifo &&
	kill -TERM $pid && { wait $pid; echo $? >rc; } ; unfeed r1.fifo;
	test "$(cat rc)" = 75 && ! test -e rep.txt && test_grep "signal" err
'

test_expect_success 'SIGINT or SIGTERM ends the live monitor normally: 0' '
	mp-gen 2000 --events a.b | mongo-dump-bson --from - --format ndjson >ev.ndjson &&
	feed r2.fifo ev.ndjson &&
	{ mongo-report --live --events --refresh 1 r2.fifo >screen 2>err & pid=$!; } && fed r2.fifo &&
	kill -INT $pid && { wait $pid; echo $? >rc; } ; unfeed r2.fifo;
	test "$(cat rc)" = 0 &&
	feed r3.fifo ev.ndjson &&
	{ mongo-report --live --events --refresh 1 r3.fifo >screen 2>err & pid=$!; } && fed r3.fifo &&
	kill -TERM $pid && { wait $pid; echo $? >rc; } ; unfeed r3.fifo;
	test "$(cat rc)" = 0
'

test_done
