#!/usr/bin/env bash
# examples/kafka-sync.sh: keep a target in step with a source through an
# Apache Kafka topic, so that the change log outlives the source's oplog
# window and many replayers share the work.  Two kinds of process, each a
# restartable service (kafka-sync-produce.service, kafka-sync-replay@.service):
#
#   SRC=... NS=shop.orders BROKERS=host:9092 TOPIC=shop.orders STATE=/var/lib/mp \
#     examples/kafka-sync.sh produce
#   DST=... BROKERS=host:9092 TOPIC=shop.orders STATE=/var/lib/mp \
#     examples/kafka-sync.sh replay PARTITION      (one process per partition)
#
# First run: start the producer (it takes the start position, STATE/start.tok,
# before anything else), then copy the collection (mongo-dump-bson |
# mongo-load-bson --mode upsert, or examples/fan-out-copy.sh), then start the
# replayers: every change after the position reaches the target through
# Kafka, and a change the copy already holds is applied again, harmlessly.
#
# produce: mongo-watch --key | kafka-console-producer.sh.  Each event is a
#   message keyed by a hash of its document's _id, so every event of one
#   document lands in one partition, in order (Kafka's producer partitions
#   by murmur2 of the key and, idempotent, keeps each partition's order over
#   retries, so a partition holds a prefix of what was sent to it).  Kafka's
#   own console producer sends each line as it comes; Debian's kcat 1.7
#   holds back the last kilobyte of a pipe until more arrives, which would
#   leave a quiet source's last changes unsent.  KAFKA_BIN names the
#   directory of the Kafka scripts when they are not on PATH.
#   The producer acknowledges nothing to mongo-watch, so a restart does not
#   trust a local position: it asks Kafka for the last event of every
#   partition (kcat) and resumes the change stream after the oldest of them
#   (from the first start's position while a partition is empty).  Events
#   the killed pipeline had read but Kafka had not stored are sent again;
#   some stored ones are sent twice, and replay makes that harmless.
#   The console producer retries a send for ever (delivery.timeout.ms at
#   its maximum) but skips, with a line in its log, a message the broker
#   refuses for good: make the topic's max.message.bytes (and the broker's
#   message.max.bytes) larger than your largest event as canonical Extended
#   JSON, up to about 3x a 16 MB document; this script asks for 64 MiB.
# replay P: `kcat -C -p P | mongo-replay --checkpoint STATE/replay-P.tok` for
#   one partition.  A replayer machine runs one per partition it owns
#   (kafka-sync-replay@P), each with its own checkpoint: a checkpoint orders
#   the events of one partition, and two partitions' events interleave
#   differently on every read, so they never share one.  It reads the
#   partition from the beginning (or OFFSET, a kcat -o value) and passes over
#   what its checkpoint holds.  Its status is mongo-replay's (3 at a control
#   event, which a service manager must not restart), or kcat's if kcat
#   failed.
#
# Delivery: at least once through Kafka, exactly once in effect: every
# replayed write is idempotent and each checkpoint advances only after the
# target acknowledged.  Kill either side with -9 at any moment (the whole
# process group, as a service manager does) and restart it: the target
# converges on the source; prove it with mongo-hashdiff.
#
# Control events (drop, rename, dropDatabase, invalidate) have no document,
# so they carry the key "control" and go to one partition, unordered with
# the others: its replayer stops there (mongo-replay --on-ddl stop, exit 3)
# while the others may already have applied writes made after the event.
# For a drop: stop every replayer, apply the drop on the target, write the
# drop event's _id into every STATE/replay-P.tok that is past it (so that
# what came after the drop is applied again), advance the stopped partition
# past the event (one run of its pipeline with --on-ddl skip), and restart.
# For a rename, copy the renamed collection again.
#
# Create the topic first, with as many partitions as replayer pipelines you
# may want (kafka-topics.sh --create --topic T --partitions N --config
# max.message.bytes=67108864): adding partitions later moves keys to other
# partitions and breaks the order of a document's events.  Give it a
# retention longer than any outage of a replayer: Kafka deletes what is
# older, applied or not.  A partition whose last event is older than the
# source's oplog holds back a restarted producer's resume point (it exits 3):
# take a new start position and copy again.  kcat (Debian's kcat package)
# reads the partitions; Kafka's scripts come with Apache Kafka.
set -euo pipefail
: "${BROKERS:?}" "${TOPIC:?}"
STATE=${STATE:-./kafka-sync-$TOPIC}
mkdir -p "$STATE"
die() { echo "kafka-sync.sh: $2" >&2; exit "$1"; }

# The partitions of TOPIC, 0..N-1 (kcat -L: 'topic "T" with N partitions:')
partitions() {
	local n
	n=$(kcat -b "$BROKERS" -L -t "$TOPIC" -q 2>/dev/null | sed -n 's/^ *topic ".*" with \([0-9]*\) partitions:$/\1/p')
	[ -n "$n" ] && [ "$n" -gt 0 ] || die 69 "no topic $TOPIC on $BROKERS"
	seq 0 $((n - 1))
}

# The oldest of the partitions' last events' tokens, or nothing when a
# partition is empty (its events may begin at the first start's position).
resume_token() {
	local parts p last toks=()
	parts=$(partitions) || exit
	for p in $parts; do
		last=$(kcat -C -b "$BROKERS" -t "$TOPIC" -p "$p" -o -1 -c 1 -e -q -f '%s\n') ||
			die 69 "cannot read partition $p of $TOPIC"
		[ -n "$last" ] || return 0
		toks+=("$(jq -ec '._id | objects' <<<"$last")") || die 65 "partition $p ends with a line that is not a change event"
	done
	printf '%s\n' "${toks[@]}" | jq -s -c 'min_by(._data)'
}

produce() {
	: "${SRC:?}" "${NS:?}"
	local start=$STATE/start.tok tok
	# the first start's position: where an empty partition's events begin
	if [ ! -s "$start" ]; then
		mongo-watch --uri "$SRC" --ns "$NS" --start-token >"$start.new"
		mv "$start.new" "$start"
	fi
	tok=$(resume_token) || exit
	local from=(--resume-file "$start")
	[ -z "$tok" ] || from=(--resume-after "$tok")
	mongo-watch --uri "$SRC" --ns "$NS" --format ndjson --key "${from[@]}" |
		"${KAFKA_BIN:+$KAFKA_BIN/}kafka-console-producer.sh" --bootstrap-server "$BROKERS" --topic "$TOPIC" \
			--property parse.key=true --property key.separator=$'\t' \
			--max-block-ms 9223372036854775807 \
			--producer-property enable.idempotence=true --producer-property acks=all \
			--producer-property delivery.timeout.ms=2147483647 \
			--producer-property max.request.size=67108864 --producer-property linger.ms=5
}

replay() {
	: "${DST:?}"
	[ $# -eq 1 ] || die 64 "replay takes one partition: run one per partition (kafka-sync-replay@P)"
	local p=$1 pipe kpid rpid rc krc
	case $p in '' | *[!0-9]*) die 64 "not a partition number: '$p'" ;; esac
	# kcat into a FIFO of its own, so that when mongo-replay ends, kcat is
	# stopped here (on a quiet partition it would wait for ever), and its
	# failure (a bad OFFSET, no such partition) is the status
	pipe=$STATE/.kcat-$p.fifo
	rm -f "$pipe" && mkfifo "$pipe" || die 73 "cannot make $pipe"
	kcat -C -b "$BROKERS" -t "$TOPIC" -p "$p" -o "${OFFSET:-beginning}" -u -q -f '%s\n' >"$pipe" &
	kpid=$!
	mongo-replay --uri "$DST" --format ndjson --checkpoint "$STATE/replay-$p.tok" \
		--stats "$STATE/replay-$p.stats" <"$pipe" &
	rpid=$!
	# stopped (TERM, or Ctrl-C, which a background job does not get): the
	# replay saves its checkpoint and exits
	trap 'kill -TERM "$rpid" "$kpid" 2>/dev/null' TERM INT
	set +e
	wait "$rpid"
	rc=$?
	kill -0 "$rpid" 2>/dev/null && { wait "$rpid"; rc=$?; } # a signal cut the first wait short
	if kill "$kpid" 2>/dev/null; then
		wait "$kpid"
	else
		wait "$kpid"
		krc=$?
		[ "$rc" -ne 0 ] || rc=$krc
	fi
	rm -f "$pipe"
	[ "$rc" -eq 0 ] || echo "kafka-sync.sh: the replay of partition $p ended with status $rc" >&2
	exit "$rc"
}

case ${1:-} in
produce) produce ;;
replay) shift; replay "$@" ;;
*) die 64 "usage: kafka-sync.sh produce | replay PARTITION" ;;
esac
