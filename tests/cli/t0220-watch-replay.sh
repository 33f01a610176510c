#!/usr/bin/env bash
# The second half of a migration, end to end: a start token, a full copy
# while an application writes, then `mongo-watch | mongo-replay` from the
# token: the target ends equal to the source.  Then the same pipeline is
# killed (-9) at random moments while the application writes, and restarted:
# nothing lost, nothing doubled.
. "$(dirname "$0")/lib.sh"
require_servers
test_have_prereq CHANGE_STREAMS || skip_all "$(prereq_why CHANGE_STREAMS)"
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

same() {
	mp-probe find "$SRC" $TEST_DB.$1 "{}" "{\"_id\": 1}" >source.json &&
	mp-probe find "$DST" $TEST_DB.$1 "{}" "{\"_id\": 1}" >target.json &&
	test_cmp source.json target.json
}

test_expect_success 'start token, copy under writes, watch | replay from the token: equal' '
	mp-writer "$SRC" $TEST_DB.a 1500 --ids 300 &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.a --start-token >t0.tok &&
	jq -e "._data" t0.tok &&
	{ mp-writer "$SRC" $TEST_DB.a 2000 --ids 300 --seed 2 & writer=$!; } &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.a | mongo-load-bson --uri "$DST" --ns $TEST_DB.a --mode upsert &&
	wait $writer &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.a --resume-file t0.tok --idle-exit 2 |
		mongo-replay --uri "$DST" --checkpoint t0.tok --stats st &&
	jq -e "select(.type == \"summary\") | .updates > 0 and .deletes > 0 and .inserts > 0" st &&
	same a
'

test_expect_success 'the checkpoint moved on; a rerun from it changes nothing' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.a --resume-file t0.tok --idle-exit 2 |
		mongo-replay --uri "$DST" --checkpoint t0.tok --stats st2 &&
	jq -e "select(.type == \"summary\") | .docs == 0" st2 &&
	same a
'

test_expect_success 'a database watch with --workers 3 and a staging collection in between' '
	mongo-watch --uri "$SRC" --db $TEST_DB --start-token >db.tok &&
	mp-writer "$SRC" $TEST_DB.b 800 --ids 100 --seed 3 &&
	mp-writer "$SRC" $TEST_DB.c 800 --ids 100 --seed 4 &&
	mongo-watch --uri "$SRC" --db $TEST_DB --resume-file db.tok --idle-exit 2 |
		mongo-load-bson --uri "$DST" --ns $TEST_DB2.staging --mode insert --skip-duplicates &&
	mongo-replay --uri "$DST" --from-ns $TEST_DB2.staging --workers 3 --checkpoint staged.tok &&
	same b && same c
'

# kill_trials VICTIM N: N times, start the pipeline from the checkpoint, kill
# -9 VICTIM after a random moment; the writer runs meanwhile
kill_trials() {
	victim=$1 n=$2
	for i in $(seq 1 $n); do
		( mongo-watch --uri "$SRC" --ns $TEST_DB.k --resume-file ck & echo $! >watch.pid; wait ) |
			( mongo-replay --uri "$DST" --checkpoint ck & echo $! >replay.pid; wait ) 2>/dev/null &
		pipeline=$!
		sleep 0.$((RANDOM % 9 + 1))
		kill -9 $(cat $victim.pid) 2>/dev/null || true
		sleep 0.2
		kill -9 $(cat watch.pid) $(cat replay.pid) 2>/dev/null || true
		wait $pipeline 2>/dev/null || true
	done
}

test_expect_success 'kill -9 of the watcher and of the replayer while the application writes' '
	mp-writer "$SRC" $TEST_DB.k 500 --ids 200 --seed 5 &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.k --start-token >ck &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.k | mongo-load-bson --uri "$DST" --ns $TEST_DB.k &&
	{ mp-writer "$SRC" $TEST_DB.k 3000 --ids 200 --seed 6 --pause-us 1000 & writer=$!; } &&
	kill_trials watch 3 && kill_trials replay 3 &&
	wait $writer &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.k --resume-file ck --idle-exit 2 |
		mongo-replay --uri "$DST" --checkpoint ck &&
	same k
'

test_done
