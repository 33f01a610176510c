#!/usr/bin/env bash
# examples/kafka-sync.sh against a real Apache Kafka broker (KRaft, started
# here by tests/server/start-kafka): mongo-watch --key into a topic of 4
# partitions, 2 and then 4 replayers, an application writing all along.  The
# producer pipeline is killed (-9) after it read events Kafka never got, a
# replayer is killed (-9) mid-stream; both restart, every event reaches the
# topic, and the target ends equal to the source (mongo-hashdiff exit 0).
. "$(dirname "$0")/lib.sh"
require_servers
test_have_prereq CHANGE_STREAMS || skip_all "$(prereq_why CHANGE_STREAMS)"
command -v kcat >/dev/null || skip_all "kcat is not installed (make deps)"
. "$TEST_ROOT/tests/server/common.sh"
EX=$TEST_ROOT/examples
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

KNAME=mp-kafka-$$
stop_all() {
	local g
	for g in $(cat "$SCRATCH"/*.pgid 2>/dev/null); do kill -KILL -- -"$g" 2>/dev/null; done
	"$TEST_ROOT/tests/server/stop" $KNAME >/dev/null 2>&1
	test_cleanup
}
trap stop_all EXIT
BROKERS=$("$TEST_ROOT/tests/server/start-kafka" $KNAME 2>kafka.err)
case $? in
0) ;;
2) skip_all "Apache Kafka cannot run here: $(tail -n 1 kafka.err)" ;;
*) BROKERS= ;;
esac
# the Kafka scripts on PATH, as an installation puts them (after wrap/ below)
KAFKA_BIN=$MP_SERVER_DIR/$KNAME.bin
export BROKERS PATH=$KAFKA_BIN:$PATH
REAL_PRODUCER=$KAFKA_BIN/kafka-console-producer.sh REAL_KCAT=$(command -v kcat)

test_expect_success 'the broker is up; a topic of 4 partitions' '
	test -n "$BROKERS" || { cat kafka.err; false; } &&
	"$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BROKERS" --create --topic a --partitions 4 \
		--replication-factor 1 --config max.message.bytes=67108864 &&
	"$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BROKERS" --create --topic b --partitions 4 \
		--replication-factor 1 --config max.message.bytes=67108864 &&
	kcat -b "$BROKERS" -L -t a | grep "topic \"a\" with 4 partitions"
'

test_expect_success 'mongo-watch --key: one key per document whatever its number type, "control" without one' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.k --start-token >k.tok &&
	mp-probe insert "$SRC" $TEST_DB.k "{\"_id\": 7}" &&
	mp-probe insert "$SRC" $TEST_DB.k "{\"_id\": \"7\"}" &&
	mp-probe delete "$SRC" $TEST_DB.k "{\"_id\": 7}" &&
	mp-probe insert "$SRC" $TEST_DB.k "{\"_id\": {\"\$numberLong\": \"7\"}}" &&
	mp-probe delete "$SRC" $TEST_DB.k "{\"_id\": 7}" &&
	mp-probe insert "$SRC" $TEST_DB.k "{\"_id\": 7.0}" &&
	mp-probe drop "$SRC" $TEST_DB.k &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.k --resume-file k.tok --format ndjson --key --idle-exit 1 \
		--max-events 7 >k.lines &&
	test $(wc -l <k.lines) = 7 &&
	cut -f1 k.lines >keys &&
	cut -f2- k.lines | jq -r ".operationType" >ops &&
	printf "%s\n" insert insert delete insert delete insert drop >expect && test_cmp expect ops &&
	grep -E "^[0-9a-f]{16}$" keys | sed -n "1p;3p;4p;5p;6p" | sort -u >same && test $(wc -l <same) = 1 &&
	test "$(sed -n 2p keys)" != "$(sed -n 1p keys)" &&
	test "$(sed -n 7p keys)" = control &&
	test_expect_code 64 mongo-watch --uri "$SRC" --ns $TEST_DB.k --key --start-token 2>err &&
	test_grep "needs --format ndjson" err
'

# wrap/kafka-console-producer.sh: while kill-producer exists, hands the
# first 60 lines to Kafka, then reads 20 more that Kafka never gets and kills
# its whole pipeline (mongo-watch with it), once.
# wrap/kcat: while kill-replayer-P exists, the consumer of partition P gives
# 15 messages and then holds the pipe open, idle, once.
mkdir wrap
cat >wrap/kafka-console-producer.sh <<EOF
#!/bin/bash
[ -e "$SCRATCH/kill-producer" ] || exec "$REAL_PRODUCER" "\$@"
rm "$SCRATCH/kill-producer"
# bash reads a pipe a byte at a time: exactly these lines, never one more
lines() { local i l; for ((i = 0; i < \$1; i++)); do IFS= read -r l || exit; printf "%s\\n" "\$l"; done; }
lines 60 >"$SCRATCH/first60"
"$REAL_PRODUCER" "\$@" <"$SCRATCH/first60" || exit
lines 20 >"$SCRATCH/lost20"
touch "$SCRATCH/producer-died"
kill -KILL 0
EOF
cat >wrap/kcat <<EOF
#!/bin/bash
args=" \$* "
for p in 0 1 2 3; do
	case \$args in *" -C "*" -p \$p "*" -u "*) ;; *) continue ;; esac
	[ -e "$SCRATCH/kill-replayer-\$p" ] || break
	rm "$SCRATCH/kill-replayer-\$p"
	"$REAL_KCAT" "\$@" -c 15
	touch "$SCRATCH/replayer-\$p-fed"
	exec sleep 600
done
exec "$REAL_KCAT" "\$@"
EOF
cat >wrap/mongo-watch <<EOF
#!/bin/sh
# while args-only exists, a producer's mongo-watch only says where it starts
case " \$* " in *" --key "*) [ -e "$SCRATCH/args-only" ] && rm "$SCRATCH/args-only" &&
	echo "\$*" >"$SCRATCH/watch.args" && exit 0 ;; esac
exec "$MP_BUILD/bin/mongo-watch" "\$@"
EOF
# wrap/replayer P...: a machine that owns partitions P..., one replay each
cat >wrap/replayer <<EOF
#!/bin/bash
for p; do "$EX/kafka-sync.sh" replay \$p & done
wait
EOF
chmod +x wrap/*
export PATH=$SCRATCH/wrap:$PATH

# start NAME CMD...: CMD in a process group of its own, killed at the end
start() {
	local name=$1
	shift
	setsid "$@" >"$name.out" 2>"$name.err" </dev/null &
	echo $! >"$name.pgid"
}
kill_group() { kill -KILL -- -"$(cat "$1.pgid")" && rm "$1.pgid"; }
# wait_for SECONDS CMD...: poll the state CMD checks, at most SECONDS
wait_for() {
	local n=$(($1 * 4))
	shift
	until "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "wait_for: gave up on: $*" >&2; tail -n 3 ./*.err >&2; return 1; }
		sleep 0.25
	done
}
# the resume tokens of every event in TOPIC, sorted
topic_tokens() {
	local p
	for p in 0 1 2 3; do
		"$REAL_KCAT" -C -b "$BROKERS" -t "$1" -p $p -o beginning -e -q -f "%s\n"
	done | jq -r "._id._data" | sort -u
}
# every event of the change stream (all.tokens) is in TOPIC
topic_complete() { topic_tokens "$1" >in-topic && test -z "$(comm -23 all.tokens in-topic)"; }
# each partition's checkpoint in STATE is its last event
caught_up() {
	local p last
	for p in 0 1 2 3; do
		last=$("$REAL_KCAT" -C -b "$BROKERS" -t "$1" -p $p -o -1 -c 1 -e -q -f "%s\n" | jq -r "._id._data")
		[ -n "$last" ] && [ "$(jq -r ._data "$2/replay-$p.tok" 2>/dev/null)" = "$last" ] || return 1
	done
}
# sync NS TOPIC STATE: wait for the writer, then for the topic and the
# replayers to hold everything; then the proof
converged() {
	wait_for 120 test -e writer.done &&
	mongo-watch --uri "$SRC" --ns $1 --resume-file $3/start.tok --format ndjson --idle-exit 1 |
		jq -r "._id._data" | sort -u >all.tokens &&
	test $(wc -l <all.tokens) -gt 100 &&
	wait_for 120 topic_complete $2 &&
	wait_for 120 caught_up $2 $3 &&
	mongo-hashdiff --source "$SRC" --target "$DST" --ns $1
}

test_expect_success 'topic a, 2 replayers: the producer killed after losing 20 events, a replayer killed mid-stream' '
	export SRC DST NS=$TEST_DB.a TOPIC=a STATE=$SCRATCH/sa &&
	mp-writer "$SRC" $NS 300 --ids 60 &&
	mongo-dump-bson --uri "$SRC" --ns $NS | mongo-load-bson --uri "$DST" --ns $NS -q &&
	mkdir sa && mongo-watch --uri "$SRC" --ns $NS --start-token >sa/start.tok &&
	touch kill-producer kill-replayer-1 &&
	start writer sh -c "mp-writer \"$SRC\" $NS 700 --ids 60 --seed 2 --pause-us 2000 && touch writer.done" &&
	start prod1 "$EX/kafka-sync.sh" produce &&
	start r01 replayer 0 1 &&
	start r23 replayer 2 3 &&
	wait_for 60 test -e producer-died &&
	rm prod1.pgid &&
	test $(wc -l <first60) = 60 && test $(wc -l <lost20) = 20 &&
	start prod2 "$EX/kafka-sync.sh" produce &&
	wait_for 60 test -e replayer-1-fed &&
	kill_group r01 &&
	start r01 replayer 0 1 &&
	converged $NS a sa &&
	for t in $(cut -f2- lost20 | jq -r "._id._data"); do grep -qx "$t" in-topic; done &&
	for p in 0 1 2 3; do jq -e "._data" sa/replay-$p.tok; done
'

test_expect_success 'every event of one document went to one partition' '
	for p in 0 1 2 3; do
		"$REAL_KCAT" -C -b "$BROKERS" -t a -p $p -o beginning -e -q -f "$p %k\n"
	done | sort -u >key-partition &&
	cut -d" " -f2 key-partition | sort | uniq -d >split-keys &&
	test_must_be_empty split-keys &&
	test $(cut -d" " -f1 key-partition | sort -u | wc -l) = 4
'

test_expect_success 'topic b, 4 replayers, one killed mid-stream and restarted' '
	for g in writer prod2 r01 r23; do kill_group $g 2>/dev/null; done; rm -f writer.done &&
	export SRC DST NS=$TEST_DB.b TOPIC=b STATE=$SCRATCH/sb &&
	mkdir sb && mongo-watch --uri "$SRC" --ns $NS --start-token >sb/start.tok &&
	touch kill-replayer-2 &&
	start writer sh -c "mp-writer \"$SRC\" $NS 800 --ids 80 --seed 3 --pause-us 2000 && touch writer.done" &&
	start prod "$EX/kafka-sync.sh" produce &&
	for p in 0 1 2 3; do start r$p "$EX/kafka-sync.sh" replay $p || return 1; done &&
	wait_for 60 test -e replayer-2-fed &&
	kill_group r2 &&
	start r2 "$EX/kafka-sync.sh" replay 2 &&
	converged $NS b sb
'

test_expect_success 'a restarted producer: from the first position while a partition is empty, else after the oldest last event' '
	kafka-topics.sh --bootstrap-server "$BROKERS" --create --topic d --partitions 2 --replication-factor 1 &&
	mkdir sd && echo "{\"_data\":\"00\"}" >sd/start.tok &&
	printf "k\t{\"_id\":{\"_data\":\"82AB\"}}\n" | "$REAL_KCAT" -P -b "$BROKERS" -t d -p 0 -K "\t" &&
	touch args-only &&
	env SRC="$SRC" NS=x.y TOPIC=d STATE="$SCRATCH/sd" "$EX/kafka-sync.sh" produce &&
	test_grep "--resume-file $SCRATCH/sd/start.tok" watch.args &&
	printf "k\t{\"_id\":{\"_data\":\"82AA\"}}\n" | "$REAL_KCAT" -P -b "$BROKERS" -t d -p 1 -K "\t" &&
	touch args-only &&
	env SRC="$SRC" NS=x.y TOPIC=d STATE="$SCRATCH/sd" "$EX/kafka-sync.sh" produce &&
	test_grep "--resume-after {\"_data\":\"82AA\"}" watch.args &&
	test_expect_code 69 env SRC="$SRC" NS=x.y TOPIC=nosuch STATE="$SCRATCH/sd" "$EX/kafka-sync.sh" produce 2>err &&
	test_grep "no topic nosuch" err
'

test_expect_success 'a replayer of one partition stops at a drop: exit 3, kcat stopped, checkpoint before the drop' '
	mongo-watch --uri "$SRC" --ns $TEST_DB.e --start-token >e.tok &&
	mp-probe insert "$SRC" $TEST_DB.e "{\"_id\": 1}" &&
	mp-probe drop "$SRC" $TEST_DB.e &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.e --resume-file e.tok --format ndjson --key --max-events 2 \
		--idle-exit 5 >e.lines &&
	test "$(cut -f2- e.lines | jq -r .operationType | tr "\n" " ")" = "insert drop " &&
	test "$(cut -f1 e.lines | tail -n 1)" = control &&
	kafka-topics.sh --bootstrap-server "$BROKERS" --create --topic e --partitions 1 --replication-factor 1 &&
	"$REAL_KCAT" -P -b "$BROKERS" -t e -p 0 -K "\t" <e.lines &&
	mkdir se &&
	test_expect_code 3 timeout 60 env DST="$DST" TOPIC=e STATE="$SCRATCH/se" "$EX/kafka-sync.sh" replay 0 2>err &&
	test_grep "partition 0 ended with status 3" err &&
	test "$(jq -c . se/replay-0.tok)" = "$(head -n 1 e.lines | cut -f2- | jq -c ._id)" &&
	! pgrep -f "kcat -C -b $BROKERS -t e " >/dev/null
'

test_expect_success 'a caught-up checkpoint passes over its whole partition' '
	kill_group r3 &&
	n=$("$REAL_KCAT" -C -b "$BROKERS" -t b -p 3 -o beginning -e -q -f "%s\n" | wc -l) &&
	"$REAL_KCAT" -C -b "$BROKERS" -t b -p 3 -o beginning -e -q -f "%s\n" |
		mongo-replay --uri "$DST" --format ndjson --checkpoint sb/replay-3.tok --stats st3 &&
	jq -e "select(.type == \"summary\") | .docs == $n and .skipped_by_checkpoint == $n and .inserts + .updates + .replaces + .deletes == 0" st3
'

test_done
