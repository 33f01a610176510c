#!/usr/bin/env bash
# Kill -9 of the dump or of the load mid-stream, then the same command
# again: the target equals the source, nothing lost, nothing doubled.
#   mongo-dump-bson --resume-after-id @CK | mongo-load-bson --mode upsert --checkpoint CK
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
N=$(scaled 40000)

test_expect_success 'seed' '
	mp-gen $N | mongo-load-bson --uri "$SRC" --ns $TEST_DB.c &&
	mp-probe find "$SRC" $TEST_DB.c "{}" "{\"_id\": 1}" >source.json
'

# relay: pass 1.5 MB of the dump (about a seventh of it; sizes scaled as N),
# pause so that the load's checkpoint is saved, pass 1.5 MB more, then hold the pipe open
# without reading: the dump is then blocked mid-stream for certain, and the
# load waits for input, until the test kills one of them.
relay() {
	echo $BASHPID >relay.pid
	head -c $(scaled 1500000) && sleep 1.2 && head -c $(scaled 1500000) && exec sleep 600
}

# resume_trial NAME VICTIM: start the pipeline, kill -9 VICTIM (dump|load)
# once the checkpoint exists and the dump is blocked mid-stream, then run
# the pipeline to the end.
resume_trial() {
	name=$1 victim=$2
	test_expect_success "kill -9 of the $victim mid-stream, rerun: target equals source ($name)" '
		rm -f ck.'$name' relay.pid &&
		( mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --resume-after-id @ck.'$name' --batch-size $(scaled 1000) &
		  echo $! >dump.pid; wait ) | relay |
		( mongo-load-bson --uri "$DST" --ns $TEST_DB.'$name' --mode upsert --checkpoint ck.'$name' --batch-size $(scaled 500) &
		  echo $! >load.pid; wait ) 2>/dev/null &
		pipeline=$!
		for i in $(seq 1 400); do [ -s ck.'$name' ] && break; sleep 0.05; done &&
		test -s ck.'$name' &&
		kill -9 $(cat '$victim'.pid) &&
		{ pkill -9 -P $(cat relay.pid); kill -9 $(cat relay.pid) $(cat dump.pid) $(cat load.pid); } 2>/dev/null;
		wait $pipeline;
		mp-probe count "$DST" $TEST_DB.'$name' >partial &&
		echo "partial: $(cat partial) of $N; checkpoint $(cat ck.'$name')" &&
		test $(cat partial) -lt $N &&
		mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --resume-after-id @ck.'$name' |
			mongo-load-bson --uri "$DST" --ns $TEST_DB.'$name' --mode upsert --checkpoint ck.'$name' &&
		mp-probe find "$DST" $TEST_DB.'$name' "{}" "{\"_id\": 1}" >target.json &&
		test_cmp source.json target.json
	'
}
resume_trial load1 load
resume_trial dump1 dump
resume_trial load2 load

test_expect_success 'a file load resumes from its checkpoint, skipping what is in' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" >all.bson &&
	head -c 100000 all.bson >first.bson &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB.file --checkpoint ck.file <first.bson 2>err &&
	test_grep "truncated document" err &&
	test -s ck.file &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.file --checkpoint ck.file --stats st <all.bson &&
	jq -e "select(.type == \"summary\") | .skipped_by_checkpoint > 0" st &&
	mp-probe find "$DST" $TEST_DB.file "{}" "{\"_id\": 1}" >target.json &&
	test_cmp source.json target.json
'

test_done
