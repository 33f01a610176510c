#!/usr/bin/env bash
# mongo-report --live in a terminal (tmux): the table of source and target
# counts appears and follows the data as it changes; --snapshot writes the
# same state as JSON.
. "$(dirname "$0")/lib.sh"
require_servers
command -v tmux >/dev/null || skip_all "tmux is not installed (make deps)"
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
sess=mp-live-$$
trap 'tmux kill-session -t $sess 2>/dev/null' EXIT

# wait_pane PATTERN: until the pane shows a line matching PATTERN (20 s)
wait_pane() {
	for i in $(seq 1 100); do
		tmux capture-pane -p -t $sess >pane 2>/dev/null && grep -q -e "$1" pane && return 0
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

test_expect_success 'usage: --live needs both servers' '
	test_expect_code 64 mongo-report --live --source "$SRC" 2>err &&
	test_grep "target" err
'

test_done
