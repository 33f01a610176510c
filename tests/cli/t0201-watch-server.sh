#!/usr/bin/env bash
# mongo-watch against a server: the events have MongoDB's documented shape
# (golden, volatile fields removed), scopes (collection, database,
# deployment), --pipeline, --full-document updateLookup, --max-events,
# --token-file and a restart after kill -9 without a gap, polling.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI

# shape FILE: events without the fields that change from run to run
shape() { jq -c "del(._id, .clusterTime, .wallTime, .collectionUUID) | if .ns then .ns.db = \"DB\" else . end" "$1"; }

test_expect_success CHANGE_STREAMS 'events have the documented shape (insert, update, replace, delete, drop, invalidate)' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.g --start-token >t0 &&
	mp-probe insert "$SRC" $TEST_DB.g "{\"_id\": 1, \"a\": 1, \"b\": {\"c\": 1}, \"gone\": true}" &&
	mp-probe update "$SRC" $TEST_DB.g "{\"_id\": 1}" "{\"\$set\": {\"a\": 2, \"b.c\": 3}, \"\$unset\": {\"gone\": 1}}" &&
	mp-probe update "$SRC" $TEST_DB.g "{\"_id\": 1}" "{\"x\": \"replaced\"}" &&
	mp-probe delete "$SRC" $TEST_DB.g "{\"_id\": 1}" &&
	mp-probe drop "$SRC" $TEST_DB.g &&
	test_expect_code 3 mongo-watch --uri "$SRC" --ns $TEST_DB.g --resume-file t0 --format ndjson --json relaxed >events 2>err &&
	shape events >actual &&
	test_cmp "$TEST_DATA/events/basic.ndjson" actual
'

test_expect_success CHANGE_STREAMS 'tokens sort in commit order' '
	jq -r "._id._data" events >tokens && sort -c tokens
'

test_expect_success CHANGE_STREAMS '--pipeline filters, --max-events stops, --token-file records the last event' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.p --start-token >t1 &&
	mp-writer "$SRC" $TEST_DB.p 300 --ids 50 &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.p --resume-file t1 --max-events 5 --token-file last.tok \
		--pipeline "[{\"\$match\": {\"operationType\": \"update\"}}]" --format ndjson >out &&
	jq -s -e "length == 5 and all(.operationType == \"update\")" out >/dev/null &&
	test -s last.tok && test "$(tail -1 out | jq -c ._id)" = "$(jq -c . last.tok)"
'

test_expect_success CHANGE_STREAMS '--full-document updateLookup adds the current document to updates' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.p --resume-file t1 --max-events 3 --full-document updateLookup \
		--pipeline "[{\"\$match\": {\"operationType\": \"update\"}}]" --format ndjson >out &&
	jq -e "has(\"fullDocument\")" out >/dev/null
'

test_expect_success CHANGE_STREAMS 'database and deployment scope see several collections' '
	mongo-watch --uri "$SRC" --db $TEST_DB --start-token >tdb &&
	mp-probe insert "$SRC" $TEST_DB.x "{\"_id\": 1}" && mp-probe insert "$SRC" $TEST_DB.y "{\"_id\": 1}" &&
	mongo-watch --uri "$SRC" --db $TEST_DB --resume-file tdb --max-events 2 --format ndjson >db.out &&
	jq -r .ns.coll db.out | tr "\n" " " >colls && test "$(cat colls)" = "x y " &&
	mongo-watch --uri "$SRC" --resume-file tdb --max-events 2 --format ndjson \
		--pipeline "[{\"\$match\": {\"ns.db\": \"$TEST_DB\"}}]" >all.out &&
	jq -r .ns.coll all.out | tr "\n" " " >colls && test "$(cat colls)" = "x y "
'

test_expect_success CHANGE_STREAMS 'kill -9 of a watcher with --token-file, restart from it: no gap' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.kw --start-token >start.tok && cp start.tok kw.tok &&
	{ mp-writer "$SRC" $TEST_DB.kw 1500 --ids 100 --pause-us 500 & writer=$!; } &&
	{ mongo-watch --uri "$SRC" --ns $TEST_DB.kw --resume-file kw.tok --token-file kw.tok --format ndjson >p1 & w=$!; } &&
	for i in $(seq 1 400); do [ -s p1 ] && break; sleep 0.05; done &&
	kill -9 $w && wait $writer;
	test -s p1 &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.kw --resume-file kw.tok --idle-exit 2 --format ndjson >p2 &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.kw --resume-file start.tok --idle-exit 2 --format ndjson >all &&
	jq -r "._id._data" p1 p2 | sort -u >got &&
	jq -r "._id._data" all >want &&
	test_cmp want got &&
	test "$(head -1 p2 | jq -r ._id._data)" \> "$(jq -r ._data kw.tok)"
'

test_expect_success CHANGE_STREAMS 'the reader of the output dies while the source is quiet: watch ends at once, 141' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.quiet --start-token >q.tok &&
	mp-probe insert "$SRC" $TEST_DB.quiet "{\"_id\": 1}" &&
	t0=$(date +%s) &&
	{ timeout 60 mongo-watch -v --uri "$SRC" --ns $TEST_DB.quiet --resume-file q.tok --idle-exit 50 \
		--format ndjson 2>err; echo $? >rc; } | head -n 1 >first &&
	secs=$(($(date +%s) - t0)) && echo "rc=$(cat rc) secs=$secs" &&
	test "$(cat rc)" = 141 && test $secs -le 15 &&
	test_grep "reader of the output went away" err &&
	test "$(jq -c .documentKey first)" = "{\"_id\":{\"\$numberInt\":\"1\"}}"
'

# what reached the pipe may be lost with a reader that dies (--token-file is
# for durable sinks), but never what did not: here the reader is gone before
# the first write (a pipe whose reading end is closed), so nothing was ever
# delivered and no position may be saved
test_expect_success CHANGE_STREAMS 'the output fails at its first write: --token-file saves no position past it' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.cut --start-token >cut.tok &&
	mp-gen 200 | mongo-load-bson -q --uri "$SRC" --ns $TEST_DB.cut &&
	/usr/bin/python3 - "$(command -v mongo-watch)" "$SRC" $TEST_DB.cut >rc 2>err <<-\PY &&
	import os, subprocess, sys
	r, w = os.pipe()
	os.close(r)
	p = subprocess.run([sys.argv[1], "--uri", sys.argv[2], "--ns", sys.argv[3], "--resume-file", "cut.tok",
	                    "--token-file", "saved.tok", "--format", "ndjson"], stdout=w, stderr=sys.stderr)
	print(p.returncode)
	PY
	test "$(cat rc)" = 141 && test_must_be_empty err &&
	! test -e saved.tok
'

test_expect_success 'polling a collection without change streams: replace events, resumable' '
	mp-probe insert "$SRC" $TEST_DB.poll "{\"_id\": 1, \"at\": 1}" "{\"_id\": 2, \"at\": 2}" &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.poll --poll-field at --poll-interval 1 --idle-exit 1 \
		--token-file poll.tok --format ndjson --json relaxed >p &&
	jq -r "[.operationType, .documentKey._id] | @tsv" p >ops &&
	printf "replace\t1\nreplace\t2\n" >expect && test_cmp expect ops &&
	jq -e ".poll[\"\$numberInt\"] == \"2\"" poll.tok &&
	mp-probe insert "$SRC" $TEST_DB.poll "{\"_id\": 3, \"at\": 3}" &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.poll --poll-field at --poll-interval 1 --idle-exit 1 \
		--resume-file poll.tok --format ndjson --json relaxed >p2 &&
	test "$(jq -c .documentKey p2)" = "{\"_id\":3}"
'

if [ -z "${MONGO_TEST_URI:-}" ]; then
	test_expect_success 'a resume point that fell off the oplog: exit 3, copy again' '
		small=mp-small-$$ &&
		MP_OPLOG_MAX=50 "$TEST_ROOT/tests/server/start" $small >small.uri &&
		S=$(cat small.uri) &&
		mongo-watch --uri "$S" --ns d.c --start-token >old.tok &&
		mp-writer "$S" d.c 200 --ids 20 &&
		{ test_expect_code 3 mongo-watch --uri "$S" --ns d.c --resume-file old.tok 2>err; rc=$?; } ;
		"$TEST_ROOT/tests/server/stop" $small >/dev/null 2>&1;
		[ "${rc:-1}" = 0 ] && test_grep "286" err && test_grep "start-token" err
	'
else
	test_skip 'a resume point that fell off the oplog' "a real deployment's oplog is not shrunk by tests"
fi

test_done
