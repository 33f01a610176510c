#!/usr/bin/env bash
# Golden change events (tests/cli/data/replay/CASE: seed, events as the
# MongoDB manual documents them, expected result): each applied to a known
# document gives the documented result, applying twice changes nothing, and
# --dry-run prints the writes recorded in CASE/writes.ndjson.
. "$(dirname "$0")/lib.sh"
DATA=$TEST_DATA/replay

# events of CASE aimed at DB.COLL
events_for() { sed "s/\"DB\"/\"$2\"/g; s/\"users\"/\"$3\"/g" "$DATA/$1/events.ndjson"; }

for c in $(cd "$DATA" && ls); do
	test_expect_success "dry run of $c prints the documented writes" '
		events_for '$c' DB '$c' | mongo-replay --dry-run >writes &&
		test_cmp "$DATA/'$c'/writes.ndjson" writes
	'
done

test_expect_success 'the transaction of the transaction case is one group with --txn atomic' '
	events_for transaction DB transaction | mongo-replay --dry-run --txn atomic >writes &&
	jq -r .op writes >ops &&
	printf "%s\n" startTransaction replaceOne replaceOne updateOne commitTransaction replaceOne >expect &&
	test_cmp expect ops
'

test_expect_success 'an update whose field name holds a dot is applied from its fullDocument' '
	printf "%s\n" "{\"_id\":{\"_data\":\"01\"},\"operationType\":\"update\",\"ns\":{\"db\":\"d\",\"coll\":\"c\"},\"documentKey\":{\"_id\":1},\"updateDescription\":{\"updatedFields\":{\"price.eur\":5},\"removedFields\":[],\"disambiguatedPaths\":{\"price.eur\":[\"price.eur\"]}},\"fullDocument\":{\"_id\":1,\"price.eur\":5}}" |
		mongo-replay --dry-run >writes &&
	jq -e "select(.op == \"replaceOne\" and .upsert == true)" writes
'

test_expect_success '... and without a fullDocument it stops with 65, naming the event' '
	printf "%s\n" "{\"_id\":{\"_data\":\"01\"},\"operationType\":\"update\",\"ns\":{\"db\":\"d\",\"coll\":\"c\"},\"documentKey\":{\"_id\":1},\"updateDescription\":{\"updatedFields\":{\"price.eur\":5},\"removedFields\":[],\"disambiguatedPaths\":{\"price.eur\":[\"price.eur\"]}}}" |
		test_expect_code 65 mongo-replay --dry-run 2>err &&
	test_grep "event 1 (line 1)" err && test_grep "updateLookup" err
'

test_expect_success 'a delete whose documentKey has no _id: 65 naming it, or set aside by --reject' '
	printf "%s\n" "{\"_id\":{\"_data\":\"01\"},\"operationType\":\"delete\",\"ns\":{\"db\":\"d\",\"coll\":\"c\"},\"documentKey\":{}}" \
		"{\"_id\":{\"_data\":\"02\"},\"operationType\":\"delete\",\"ns\":{\"db\":\"d\",\"coll\":\"c\"},\"documentKey\":{\"_id\":2}}" >nokey.ndjson &&
	test_expect_code 65 mongo-replay --dry-run <nokey.ndjson >out 2>err &&
	test_grep "event 1 (line 1).*documentKey has no _id" err && test_must_be_empty out &&
	mongo-replay --dry-run --reject rej.nokey <nokey.ndjson >out 2>err &&
	jq -s -e "length == 1 and .[0].op == \"deleteOne\" and .[0].filter._id[\"\$numberInt\"] == \"2\"" out &&
	jq -s -e "length == 1 and .[0].line == 1 and (.[0].error | test(\"documentKey has no _id\"))" rej.nokey
'

# an update's truncatedArrays is applied as $push with $each: [] and $slice
for c in $(cd "$DATA" && ls); do
	need=SERVERS
	grep -q "\"truncatedArrays\": *\[{" "$DATA/$c/events.ndjson" && need=SERVERS,PUSH_SLICE
	test_expect_success $need "$c: applied to the seed, the target holds the documented result" '
		mongo-load-bson --uri "$MP_TARGET_URI" --ns $TEST_DB.'$c' -q <"$DATA/'$c'/seed.ndjson" &&
		events_for '$c' $TEST_DB '$c' | mongo-replay --uri "$MP_TARGET_URI" &&
		mp-probe find "$MP_TARGET_URI" $TEST_DB.'$c' "{}" "{\"_id\": 1}" >actual &&
		mongo-dump-bson --from "$DATA/'$c'/expect.ndjson" --format ndjson >expect &&
		test_cmp expect actual
	'
	test_expect_success $need "$c: applied a second time, nothing changes" '
		events_for '$c' $TEST_DB '$c' | mongo-replay --uri "$MP_TARGET_URI" &&
		mp-probe find "$MP_TARGET_URI" $TEST_DB.'$c' "{}" "{\"_id\": 1}" >actual &&
		mongo-dump-bson --from "$DATA/'$c'/expect.ndjson" --format ndjson >expect &&
		test_cmp expect actual
	'
done

test_expect_success '--reject keeps a BSON record the reader refuses as its bytes, with its offset' '
	{ ev_ins=$(printf "{\"_id\":{\"_data\":\"8201\"},\"operationType\":\"insert\",\"ns\":{\"db\":\"d\",\"coll\":\"c\"},\"documentKey\":{\"_id\":1},\"fullDocument\":{\"_id\":1}}") &&
	echo "$ev_ins" | mongo-dump-bson --from - --format bson &&
	printf "\032\000\000\000\002operationType\000\002\000\000\000\377\000\000"; } >bad.bson &&
	mongo-replay --dry-run --reject rej.bad <bad.bson >out 2>err &&
	test $(wc -l <out) = 1 &&
	jq -s -e "length == 1 and .[0].record == 2 and .[0].offset == $(($(wc -c <bad.bson) - 26)) and (.[0].event.bytes[\"\$binary\"].base64 | @base64d | length) == 26" rej.bad
'

# A lane groups its batch by collection; a refused event still stops the
# replay after every event before it in the input, in any collection.  The
# first event (c.0) goes alone through a FIFO and the peer holds its write;
# then the rest are written and the peer lets go only once the reader has
# queued them (its main thread waits on the lanes at the end of the
# input), so the lane takes a.1 b.2 a.3 b.4 as one batch: groups a(1, 3)
# and b(2, 4), a.3 refused, b.2 still applied, b.4 not.
grp_event() {
	printf "{\"_id\":{\"_data\":\"82%08d\"},\"operationType\":\"insert\",\"ns\":{\"db\":\"d\",\"coll\":\"%s\"},\"documentKey\":{\"_id\":%s},\"fullDocument\":{\"_id\":%s}}\n" \
		"$2" "$1" "$2" "$2"
}
# waits until process $1's main thread sleeps on a futex twice in a row
main_thread_waits() {
	local i
	for i in $(seq 1 200); do
		grep -q "^futex" "/proc/$1/wchan" 2>/dev/null && sleep 0.1 && grep -q "^futex" "/proc/$1/wchan" && return 0
		sleep 0.05
	done
	return 1
}

test_expect_success MOCKUPDB 'grouped by collection: a refused event stops after every event before it' '
	rm -f grp.fifo op.go op.go.held op.log && mkfifo grp.fifo &&
	start_peer op order_peer.py --log op.log --refuse a:3 --hold op.go &&
	{ (mongo-replay --uri "$PEER_URI" --input-format ndjson --checkpoint grp.ck <grp.fifo 2>grp.err
		echo $? >grp.rc) & } &&
	rp=$! &&
	exec 8>grp.fifo &&
	grp_event c 0 >&8 &&
	for i in $(seq 1 200); do test -e op.go.held && break; sleep 0.05; done &&
	test -e op.go.held &&
	{ grp_event a 1; grp_event b 2; grp_event a 3; grp_event b 4; } >&8 &&
	exec 8>&- &&
	main_thread_waits "$(pgrep -P $rp mongo-replay || pgrep -f "mongo-replay --uri $PEER_URI")" &&
	touch op.go &&
	wait $rp &&
	test "$(cat grp.rc)" = 65 &&
	test_grep "event 4 (token {\"_data\":\"8200000003\"}, insert of d.a)" grp.err &&
	printf "%s\n" "update d.c 0" "update d.a 1" "update d.a 3 refused" "update d.b 2" >op.expect &&
	test_cmp op.expect op.log &&
	jq -e "._data == \"8200000002\"" grp.ck
'

test_done
