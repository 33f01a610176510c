#!/usr/bin/env bash
# examples/kafka-sync.sh: keep a target in step with a source through an
# Apache Kafka topic, so that the change log outlives the source's oplog
# window and many replayers share the work.  Two kinds of process, each a
# restartable service (kafka-sync-produce.service, kafka-sync-replay@.service):
#
#   SRC=... NS=shop.orders BROKERS=host:9092 TOPIC=shop.orders STATE=/var/lib/mp \
#     examples/kafka-sync.sh produce
#   DST=... BROKERS=host:9092 TOPIC=shop.orders STATE=/var/lib/mp \
#     examples/kafka-sync.sh replay PARTITION...
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
# replay P...: one `kcat -C -p P | mongo-replay --checkpoint STATE/replay-P.tok`
#   per partition, each with its own checkpoint (a checkpoint orders the
#   events of one partition; two partitions' events interleave differently on
#   every read, so they never share one).  A replayer reads its partitions
#   from the beginning (or OFFSET, a kcat -o value) and passes over what its
#   checkpoint holds.  If one pipeline ends, the others are stopped and the
#   status is the first failure's: the service manager restarts the unit.
#
# Delivery: at least once through Kafka, exactly once in effect: every
# replayed write is idempotent and each checkpoint advances only after the
# target acknowledged.  Kill either side with -9 at any moment (the whole
# process group, as a service manager does) and restart it: the target
# converges on the source; prove it with mongo-hashdiff.
#
# Control events (drop, rename, dropDatabase, invalidate) have no document,
# so they carry the key "control" and go to one partition, unordered with
# the others: its replayer stops there (mongo-replay --on-ddl stop, exit 3).
# Stop the producer, let the other replayers drain, apply the change by hand
# or with one `--on-ddl apply` run, then restart everything.
#
# Create the topic first, with as many partitions as replayer pipelines you
# may want (kafka-topics.sh --create --topic T --partitions N), and a
# retention longer than any outage.  kcat (Debian's kcat package) reads the
# partitions; Kafka's scripts come with Apache Kafka.
set -euo pipefail
: "${BROKERS:?}" "${TOPIC:?}"
STATE=${STATE:-./kafka-sync-$TOPIC}
mkdir -p "$STATE"
die() { echo "kafka-sync.sh: $*" >&2; exit 1; }

# The partitions of TOPIC, 0..N-1 (kcat -L: 'topic "T" with N partitions:')
partitions() {
	local n
	n=$(kcat -b "$BROKERS" -L -t "$TOPIC" -q 2>/dev/null | sed -n 's/^ *topic ".*" with \([0-9]*\) partitions:$/\1/p')
	[ -n "$n" ] && [ "$n" -gt 0 ] || die "no topic $TOPIC on $BROKERS"
	seq 0 $((n - 1))
}

# The oldest of the partitions' last events' tokens; nothing if a partition is empty.
resume_token() {
	local p last
	for p in $(partitions); do
		last=$(kcat -C -b "$BROKERS" -t "$TOPIC" -p "$p" -o -1 -c 1 -e -q -f '%s\n') || die "cannot read partition $p"
		[ -n "$last" ] || return 0
		jq -c '._id' <<<"$last" || die "partition $p ends with a line that is not a change event"
	done | jq -s -c 'if length == 0 then empty else min_by(._data) end'
}

produce() {
	: "${SRC:?}" "${NS:?}"
	local start=$STATE/start.tok tok
	# the first start's position: where an empty partition's events begin
	if [ ! -s "$start" ]; then
		mongo-watch --uri "$SRC" --ns "$NS" --start-token >"$start.new"
		mv "$start.new" "$start"
	fi
	tok=$(resume_token)
	local from=(--resume-file "$start")
	[ -z "$tok" ] || from=(--resume-after "$tok")
	mongo-watch --uri "$SRC" --ns "$NS" --format ndjson --key "${from[@]}" |
		"${KAFKA_BIN:+$KAFKA_BIN/}kafka-console-producer.sh" --bootstrap-server "$BROKERS" --topic "$TOPIC" \
			--property parse.key=true --property key.separator=$'\t' \
			--producer-property enable.idempotence=true --producer-property acks=all \
			--producer-property linger.ms=5
}

replay() {
	: "${DST:?}"
	# partitions as arguments, or comma-separated (kafka-sync-replay@0,1)
	set -- ${*//,/ }
	[ $# -gt 0 ] || die "replay takes the partitions to apply"
	local p rc=0
	for p in "$@"; do
		case $p in '' | *[!0-9]*) die "not a partition number: '$p'" ;; esac
	done
	for p in "$@"; do
		kcat -C -b "$BROKERS" -t "$TOPIC" -p "$p" -o "${OFFSET:-beginning}" -u -q -f '%s\n' |
			mongo-replay --uri "$DST" --format ndjson --checkpoint "$STATE/replay-$p.tok" \
				--stats "$STATE/replay-$p.stats" &
	done
	wait -n || rc=$?
	# one pipeline ended: stop the others (each kcat and mongo-replay is a
	# child of this shell); each replay saves its checkpoint as it exits
	echo "kafka-sync.sh: a replay pipeline ended with status $rc: stopping the others" >&2
	pkill -TERM -P $$
	wait
	exit $rc
}
case ${1:-} in
produce) produce ;;
replay) shift; replay "$@" ;;
*) die "usage: kafka-sync.sh produce | replay PARTITION..." ;;
esac
