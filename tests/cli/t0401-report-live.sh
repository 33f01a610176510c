#!/usr/bin/env bash
# mongo-report --live in a terminal (tmux): the table of source and target
# counts appears and follows the data as it changes; --snapshot writes the
# same state as JSON.  --live --events follows a change-event stream as it
# flows, and in `mongo-watch | tee >(mongo-report --events --live) |
# mongo-replay` draws on stderr, leaving the pipe into replay alone; its
# rows keep to --ns-include/--ns-exclude.
. "$(dirname "$0")/lib.sh"
require_servers
command -v tmux >/dev/null || skip_all "tmux is not installed (make deps)"
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
sess=mp-live-$$
trap 'tmux kill-session -t $sess 2>/dev/null; tmux kill-session -t ${sess}e 2>/dev/null; test_cleanup' EXIT

# wait_pane PATTERN [SESSION]: until the pane shows a line matching PATTERN (20 s)
wait_pane() {
	for i in $(seq 1 100); do
		tmux capture-pane -p -t ${2:-$sess} >pane 2>/dev/null && grep -q -e "$1" pane && return 0
		sleep 0.2
	done
	cat pane
	return 1
}

test_expect_success 'the monitor shows source and target counts per collection' '
	mp-gen 1000 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.live -q &&
	mp-gen 10 | mongo-load-bson --uri "$DST" --ns $TEST_DB.live -q &&
	tmux new-session -d -s $sess -x 150 -y 30 \
		"$MP_BUILD/bin/mongo-report --live --source $SRC --target $DST --db $TEST_DB --refresh 1 --snapshot $PWD/snap.json" &&
	wait_pane "namespace .* source .* target .* done" &&
	wait_pane "$TEST_DB.live  *1000  *10  *1.0%"
'

test_expect_success 'it follows the target as the copy goes on, and the snapshot with it' '
	mp-gen 1000 | mongo-load-bson --uri "$DST" --ns $TEST_DB.live --mode upsert -q &&
	wait_pane "$TEST_DB.live  *1000  *1000  *100.0%" &&
	for i in $(seq 1 50); do
		jq -e ".namespaces[] | select(.ns == \"$TEST_DB.live\") | .target[\"\$numberLong\"] == \"1000\"" snap.json >/dev/null 2>&1 && break
		sleep 0.2
	done &&
	jq -e ".namespaces[] | select(.ns == \"$TEST_DB.live\") | .percent" snap.json >/dev/null
'

# the monitor of the first two tests has done its job: it would go on
# rewriting snap.json every second
tmux kill-session -t $sess 2>/dev/null

test_expect_success '--live --events follows a change-event stream as it flows, to its end' '
	mkfifo ev &&
	tmux new-session -d -s ${sess}e -x 150 -y 30 \
		"$MP_BUILD/bin/mongo-report --live --events --refresh 1 <$PWD/ev; echo exited \$?; sleep 60" &&
	exec 3>ev &&
	head -2 "$TEST_DATA/report/events.ndjson" >&3 &&
	wait_pane "namespace  *events  *inserts  *updates  *deletes  *events/s  *lag  *last" ${sess}e &&
	wait_pane "^shop.carts  *2  *1  *1  *0 " ${sess}e &&
	tail -2 "$TEST_DATA/report/events.ndjson" >&3 &&
	wait_pane "^shop.carts  *4  *1  *1  *1 " ${sess}e &&
	exec 3>&- &&
	wait_pane "the stream has ended" ${sess}e &&
	wait_pane "^exited 0" ${sess}e
'

test_expect_success CHANGE_STREAMS 'watch | tee >(report --events --live) | replay: the screen is on stderr, replay untouched' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.cdc --start-token >tok &&
	mp-writer "$SRC" $TEST_DB.cdc 300 --ids 60 &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.cdc --resume-file tok --idle-exit 2 | tee events.bson |
		tee -p >(mongo-report --live --events --refresh 1 --snapshot "$PWD/snap-events.json" 2>screen) |
		mongo-replay --uri "$DST" -q &&
	n=$(mongo-report --format json events.bson | jq .events) && test "$n" -gt 0 &&
	for i in $(seq 1 100); do jq -e ".ended" snap-events.json >/dev/null 2>&1 && break; sleep 0.2; done &&
	jq -e ".ended and .namespaces[0].ns == \"$TEST_DB.cdc\" and .namespaces[0].events[\"\$numberLong\"] == \"$n\"" snap-events.json &&
	test_grep "namespace  *events  *inserts" screen && test_grep "^$TEST_DB.cdc  *$n " screen &&
	mp-probe find "$SRC" $TEST_DB.cdc "{}" "{\"_id\": 1}" >s.json &&
	mp-probe find "$DST" $TEST_DB.cdc "{}" "{\"_id\": 1}" >t.json && test_cmp s.json t.json
'

test_expect_success '--live --events keeps to --ns-include/--ns-exclude, as the other formats do' '
	mongo-report --live --events --refresh 1 --snapshot "$PWD/snap-ex.json" --ns-exclude "shop.*" \
		<"$TEST_DATA/report/events.ndjson" 2>screen-ex &&
	jq -e ".ended and (.namespaces | length) == 0" snap-ex.json &&
	mongo-report --live --events --refresh 1 --snapshot "$PWD/snap-in.json" --ns-include "shop.carts" \
		<"$TEST_DATA/report/events.ndjson" 2>screen-in &&
	jq -e ".ended and (.namespaces | length) == 1 and .namespaces[0].ns == \"shop.carts\"" snap-in.json
'

test_expect_success 'usage: --live needs both servers' '
	test_expect_code 64 mongo-report --live --source "$SRC" 2>err &&
	test_grep "target" err &&
	test_expect_code 64 mongo-report --live 2>err && test_grep "events" err
'

test_done
