#!/usr/bin/env bash
# A namespace that does not exist is an error naming it (66), not an empty
# success; an interrupted run is 75 and never leaves a partial output file
# under its final name; an interruption is never reported as bad data.
. "$(dirname "$0")/lib.sh"

# feeder FIFO N: write N documents (more than a pipe holds) into FIFO, touch
# FIFO.fed once they are all written, then hold the FIFO open without
# writing until stop_feeder.  Once FIFO.fed exists the reader is running
# (it took all but a pipe's worth) and is certain to block on its input.
feeder() {
	mkfifo "$1"
	( mp-gen "$2" && touch "$1.fed" && exec sleep 600 ) >"$1" &
	echo $! >feeder.pid
}
wait_fed() {
	for i in $(seq 1 400); do [ -e "$1.fed" ] && return 0; sleep 0.05; done
	echo "the reader of $1 never took its input" >&2
	return 1
}
stop_feeder() {
	pkill -9 -P "$(cat feeder.pid)" 2>/dev/null
	kill -9 "$(cat feeder.pid)" 2>/dev/null
	true
}

test_expect_success 'a signal while reading input is 75, not bad data (load)' '
	feeder in.fifo 5000 &&
	{ mongo-load-bson --dry-run --ns a.b <in.fifo 2>err & pid=$!; } &&
	wait_fed in.fifo &&
	kill -TERM $pid && { wait $pid; echo $? >rc; } && stop_feeder &&
	echo "exit $(cat rc)" && test "$(cat rc)" = 75 &&
	! test_grep "bad\|invalid" err
'

test_expect_success 'a signal while transcoding to --output F: 75 and no F' '
	feeder tr.fifo 5000 &&
	{ mongo-dump-bson --from tr.fifo --format ndjson --output out.ndjson 2>err & pid=$!; } &&
	wait_fed tr.fifo &&
	ls out.ndjson.tmp.* &&
	kill -TERM $pid && { wait $pid; echo $? >rc; } && stop_feeder &&
	echo "exit $(cat rc)" && test "$(cat rc)" = 75 &&
	test_grep "interrupted" err &&
	! test -e out.ndjson &&
	! ls out.ndjson.tmp.* 2>/dev/null
'

test_expect_success 'kill -9 while transcoding to --output F: no F' '
	feeder k.fifo 5000 &&
	{ mongo-dump-bson --from k.fifo --format ndjson --output k.ndjson 2>err & pid=$!; } &&
	wait_fed k.fifo &&
	kill -9 $pid; wait $pid; stop_feeder;
	! test -e k.ndjson
'

test_expect_success '-o onto a FIFO writes into it and leaves it a FIFO' '
	mkfifo o.fifo &&
	{ timeout 20 cat o.fifo >got & } &&
	mp-gen 10 | mongo-dump-bson --from - --format ndjson -o o.fifo &&
	wait &&
	test -p o.fifo &&
	test $(wc -l <got) = 10
'

test_expect_success 'mongo-report -o onto a FIFO writes into it; a report file is 0666 less the umask' '
	printf "{\"tool\":\"mongo-load-bson\",\"type\":\"summary\",\"ns\":\"a.b\",\"docs\":3}\n" >st.ndjson &&
	mkfifo r.fifo &&
	{ timeout 20 cat r.fifo >rgot & } &&
	mongo-report --format json -o r.fifo st.ndjson &&
	wait &&
	test -p r.fifo &&
	jq -e ".namespaces[0].ns == \"a.b\"" rgot &&
	( umask 077 && mongo-report --format html -o r.html st.ndjson ) &&
	test "$(stat -c %a r.html)" = 600
'

test_expect_success '-o onto a directory is refused (73)' '
	mkdir d &&
	mp-gen 1 | test_expect_code 73 mongo-dump-bson --from - -o d 2>err &&
	test_grep "directory" err
'

test_expect_success 'files are created 0666 less the umask; checkpoints 0600 whatever the umask' '
	mp-gen 20 >m.bson &&
	( umask 077 && mongo-dump-bson --from m.bson -o m077.bson --stats s077 ) &&
	( umask 022 && mongo-dump-bson --from m.bson -o m022.bson ) &&
	test "$(stat -c %a m077.bson)" = 600 &&
	test "$(stat -c %a s077)" = 600 &&
	test "$(stat -c %a m022.bson)" = 644
'

test_expect_success 'hashdiff of two pipes compares what they hold (it read them twice and said equal)' '
	mp-gen 100 >ha.bson &&
	mp-gen 100 --start 1000 >hb.bson &&
	test_expect_code 1 mongo-hashdiff --source-file <(cat ha.bson) --target-file <(cat hb.bson) >d1 &&
	test $(wc -l <d1) = 200 &&
	mongo-hashdiff --source-file <(cat ha.bson) --target-file <(cat ha.bson)
'

test_expect_success 'load --dir one level too deep: 66 with a hint' '
	mkdir -p dump/shop &&
	mp-gen 3 >dump/shop/orders.bson &&
	test_expect_code 66 mongo-load-bson --uri mongodb://127.0.0.1:1 --dir dump/shop 2>err &&
	test_grep "not a database folder" err &&
	mongo-load-bson --uri mongodb://127.0.0.1:1 --dir dump/shop --allow-missing
'

SRC=${MP_SOURCE_URI:-} DST=${MP_TARGET_URI:-}

test_expect_success SERVERS 'seed one collection, an empty one, and one on the target only' '
	mp-gen 50 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.c &&
	mp-gen 50 | mongo-load-bson --uri "$DST" --ns $TEST_DB.c &&
	mp-probe drop "$SRC" $TEST_DB.empty >/dev/null 2>&1;
	mp-probe create "$SRC" $TEST_DB.empty &&
	mp-probe create "$DST" $TEST_DB.empty &&
	mp-gen 5 | mongo-load-bson --uri "$DST" --ns $TEST_DB.onlytarget
'

test_expect_success SERVERS 'a checkpoint is 0600 under umask 022' '
	mp-gen 20 >ck.bson &&
	( umask 022 && mongo-load-bson --uri "$DST" --ns $TEST_DB.ck --checkpoint ck022 <ck.bson ) &&
	test "$(stat -c %a ck022)" = 600
'

test_expect_success SERVERS 'load --checkpoint refuses input not sorted by _id (a resume would skip records)' '
	printf "{\"_id\":1}\n{\"_id\":9}\n{\"_id\":2}\n" |
		test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB.unsorted --checkpoint uck --batch-size 1 2>err &&
	test_grep "record 3: --checkpoint needs input sorted by _id" err &&
	jq -e "._id.\"\$numberInt\" == \"9\"" uck
'

test_expect_success SERVERS 'dump --ns of a collection that does not exist: 66 naming it' '
	test_expect_code 66 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.typo >out 2>err &&
	test_grep "no such collection: $TEST_DB.typo" err &&
	test_must_be_empty out
'

test_expect_success SERVERS 'dump --allow-missing: an empty success' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.typo --allow-missing >out &&
	test_must_be_empty out
'

test_expect_success SERVERS 'dump of an empty existing collection is a success' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.empty >out &&
	test_must_be_empty out
'

test_expect_success SERVERS 'dump --db of a database that does not exist: 66, nothing written' '
	test_expect_code 66 mongo-dump-bson --uri "$SRC" --db ${TEST_DB}_none --out d1 2>err &&
	test_grep "has no collections" err &&
	! test -e d1/${TEST_DB}_none
'

test_expect_success SERVERS 'hashdiff --ns on neither side: 66, no verdict' '
	test_expect_code 66 mongo-hashdiff --source "$SRC" --target "$DST" --ns $TEST_DB.typo --stats st 2>err &&
	test_grep "no such collection on either side" err &&
	! test_grep "equal" err
'

test_expect_success SERVERS 'hashdiff interrupted while reading a side: 75, verdict incomplete, not equal' '
	mp-gen 5000 | mongo-load-bson --uri "$DST" --ns $TEST_DB.h &&
	feeder h.fifo 5000 &&
	{ mongo-hashdiff --source-file h.fifo --target "$DST" --ns $TEST_DB.h --stats st 2>err & pid=$!; } &&
	wait_fed h.fifo &&
	kill -TERM $pid && { wait $pid; echo $? >rc; } && stop_feeder &&
	echo "exit $(cat rc)" && test "$(cat rc)" = 75 &&
	jq -s -e "map(select(.type == \"summary\"))[0].verdict == \"incomplete\"" st &&
	test_grep "no verdict" err
'

test_expect_success SERVERS 'mongo-report shows that comparison as incomplete, never equal' '
	mongo-report st >rep.txt &&
	test_grep "incomplete" rep.txt &&
	! test_grep "equal" rep.txt &&
	mongo-report --format html -o rep.html st &&
	test_grep "class=\"incomplete\">incomplete" rep.html
'

test_expect_success SERVERS 'hashdiff --count-only of a namespace on neither side: 66 too' '
	test_expect_code 66 mongo-hashdiff --source "$SRC" --target "$DST" --ns $TEST_DB.typo --count-only 2>err &&
	test_grep "no such collection on either side" err
'

test_expect_success SERVERS 'dump --gzip --checkpoint ends well, with its checkpoint (it was 70)' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --gzip --checkpoint gck >c.bson.gz &&
	jq -e "._id" gck &&
	test $(mongo-dump-bson --from c.bson.gz --format ndjson | wc -l) = 50
'

test_expect_success SERVERS 'hashdiff --allow-missing: equal' '
	mongo-hashdiff --source "$SRC" --target "$DST" --ns $TEST_DB.typo --allow-missing
'

test_expect_success SERVERS 'hashdiff: a collection on one side only is a real difference (1)' '
	test_expect_code 1 mongo-hashdiff --source "$SRC" --target "$DST" --ns $TEST_DB.onlytarget >diff &&
	test $(grep -c "\"extra\"" diff) = 5
'

test_expect_success SERVERS 'hashdiff --db of a database on neither side: 66' '
	test_expect_code 66 mongo-hashdiff --source "$SRC" --target "$DST" --db ${TEST_DB}_none 2>err &&
	test_grep "no collections in database" err
'

test_expect_success 'a checkpoint that cannot be written is 73 before any work, in every tool' '
	U="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300" && CK=/nonexistent-dir/ck &&
	mp-gen 10 >in.bson &&
	test_expect_code 73 mongo-load-bson --uri "$U" --ns a.b --from in.bson --checkpoint $CK 2>err &&
	test_grep "cannot write checkpoint $CK" err &&
	test_expect_code 73 mongo-dump-bson --uri "$U" --ns a.b --checkpoint $CK 2>err &&
	test_expect_code 73 mongo-replay --uri "$U" --from in.bson --checkpoint $CK 2>err &&
	test_expect_code 73 mongo-hashdiff --source "$U" --target "$U" --ns a.b --checkpoint $CK 2>err &&
	test_expect_code 73 mongo-watch --uri "$U" --ns a.b --token-file $CK 2>err &&
	test_grep "cannot write checkpoint $CK" err &&
	mkdir ckdir && test_expect_code 73 mongo-load-bson --uri "$U" --ns a.b --checkpoint ckdir 2>err </dev/null &&
	test_grep "is a directory" err && ! ls ckdir.probe.* 2>/dev/null
'

# /sys (sysfs) takes no new directory, even from root: the read-only place here
if test -d /sys/kernel; then
	test_expect_success SERVERS '--out where a directory cannot be made names the cause, not ENOENT below it' '
		mp-gen 3 | mongo-load-bson --uri "$MP_SOURCE_URI" --ns $TEST_DB.outfail --drop -q &&
		test_expect_code 73 mongo-dump-bson --uri "$MP_SOURCE_URI" --db $TEST_DB --out /sys/mp-test/out 2>err &&
		test_grep "cannot create directory /sys/mp-test: " err && ! test_grep "No such file" err
	'
else
	test_skip "--out where a directory cannot be made names the cause" "no /sys here to stand for a read-only place"
fi

test_done
