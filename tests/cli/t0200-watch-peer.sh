#!/usr/bin/env bash
# mongo-watch against scripted wire-protocol peers (tests/peers/cs_peer.py)
# for what no server here can be made to do: postBatchResumeToken on empty
# batches, history lost (286), NotWritablePrimary and a dropped connection
# in the middle of a stream (resume after the last event written: nothing
# lost, nothing doubled), invalidate.  Plus usage and token-file errors.
. "$(dirname "$0")/lib.sh"

test_expect_success 'usage errors exit 64 with nothing on stdout' '
	test_expect_code 64 mongo-watch --full-document sometimes >out 2>err &&
	test_must_be_empty out && test_grep "full-document" err &&
	test_expect_code 64 mongo-watch --resume-after "{\"_data\":\"01\"}" --start-after "{\"_data\":\"01\"}" 2>err &&
	test_grep "one start point" err &&
	test_expect_code 64 mongo-watch --start-at-operation-time soon 2>err &&
	test_expect_code 64 mongo-watch --poll-field updatedAt 2>err && test_grep "ns" err
'

test_expect_success 'a missing resume file is 66 and says how to make one; a corrupt one is 65' '
	test_expect_code 66 mongo-watch --uri mongodb://127.0.0.1:1 --resume-file none.tok 2>err &&
	test_grep "start-token" err &&
	echo "{not json" >bad.tok &&
	test_expect_code 65 mongo-watch --uri mongodb://127.0.0.1:1 --resume-file bad.tok 2>err &&
	test_grep "bad.tok" err
'

/usr/bin/python3 -c "import mockupdb" 2>/dev/null ||
	{ test_skip "scripted peers" "Debian python3-mockupdb is not installed (make deps)"; test_done; }

# peer SCENARIO: start the scripted peer; sets U to its URI
peer() {
	start_peer peer cs_peer.py "$1" && U=$PEER_URI && peer_pid=$PEER_PID
}
# the peer checked what the client did and exits 0
peer_ok() { wait $peer_pid || { cat peer.err; false; }; }
ids() { jq -r "._id._data" "$1" | tr "\n" " "; }

test_expect_success '--start-token prints the postBatchResumeToken of the empty first batch' '
	peer pbrt &&
	mongo-watch --uri "$U" --ns shop.orders --start-token >tok &&
	echo "{\"_data\":\"820000000000000064\"}" >expect &&
	test_cmp expect tok &&
	peer_ok
'

test_expect_success '--start-token when changes came in the opening batch: the position after the first' '
	peer events-first &&
	mongo-watch --uri "$U" --ns shop.orders --start-token >tok &&
	echo "{\"_data\":\"820000000000000001\"}" >expect &&
	test_cmp expect tok &&
	peer_ok
'

test_expect_success 'empty awaitData batches: nothing written, --idle-exit ends with 0' '
	peer pbrt &&
	mongo-watch --uri "$U" --ns shop.orders --idle-exit 1 --format ndjson >out &&
	test_must_be_empty out &&
	peer_ok
'

test_expect_success 'history lost (286): the events before it are written, exit 3 says copy again' '
	peer history-lost &&
	test_expect_code 3 mongo-watch --uri "$U" --ns shop.orders --format ndjson --token-file t.tok >out 2>err &&
	test "$(ids out)" = "820000000000000001 820000000000000002 " &&
	test_grep "286" err && test_grep "start-token" err &&
	jq -e "._data == \"820000000000000002\"" t.tok &&
	peer_ok
'

for sc in not-primary hangup; do
	test_expect_success "$sc mid-stream: resumed after the last event, nothing lost or doubled" '
		peer '$sc' &&
		mongo-watch --uri "$U" --ns shop.orders --format ndjson --idle-exit 2 >out 2>err &&
		test "$(ids out)" = "820000000000000001 820000000000000002 820000000000000003 " &&
		peer_ok
	'
done

test_expect_success 'invalidate: written, then exit 3 with what to do' '
	peer invalidate &&
	test_expect_code 3 mongo-watch --uri "$U" --ns shop.orders --format ndjson >out 2>err &&
	jq -r .operationType out | tr "\n" " " >ops &&
	test "$(cat ops)" = "insert drop invalidate " &&
	test_grep "invalidated" err && test_grep "start-after" err &&
	peer_ok
'

# The output is a FIFO filled to the brim (its capacity asked of it), so the
# writer (the main thread) blocks on its first event while the reader reads
# on to the invalidate and ends: its thread gone from /proc, leaving the main
# thread and the signal watchdog.  Only then is the FIFO drained: a run that wrote all it was asked
# for ends 0 even though the reader met an invalidate after it.
test_expect_success '--max-events reached before an invalidate the reader already read: exit 0' '
	peer invalidate &&
	mkfifo wout && exec 8<>wout &&
	sz=$(/usr/bin/python3 -c "import fcntl; print(fcntl.fcntl(8, fcntl.F_GETPIPE_SZ))") &&
	head -c $sz /dev/zero >&8 &&
	{ mongo-watch --uri "$U" --ns shop.orders --format ndjson --max-events 2 >wout 2>err8 8>&- & wpid=$!; } &&
	echo $wpid >>"$SCRATCH/.pids" &&
	blocked() { grep -Eq "pipe_(write|wait)" /proc/$wpid/wchan && test "$(ls /proc/$wpid/task | wc -l)" = 2; } &&
	for i in $(seq 1 600); do blocked && break; sleep 0.05; done &&
	blocked &&
	exec 9<wout && { cat <&9 >drained 8>&- 9<&- & cpid=$!; } && exec 8>&- 9<&- &&
	wait $wpid && wait $cpid &&
	tail -c +$((sz + 1)) drained | jq -r .operationType | tr "\n" " " >ops &&
	test "$(cat ops)" = "insert drop " &&
	! test_grep "invalidated" err8
'

test_done
