#!/usr/bin/env bash
# A write counts only when the server acknowledged it.  Through a fault
# proxy that cuts connections after a request was sent, and a peer that
# hangs up on every write, mongo-load-bson and mongo-replay either finish
# exactly (nothing lost, nothing doubled) or exit 69 naming the batch, with
# a checkpoint before any unacknowledged work.  One slow batch never stops
# the load's checkpoint.  An ordered bulk stopped by a refused document
# leaves nothing after it unwritten.
. "$(dirname "$0")/lib.sh"


test_expect_success MOCKUPDB 'load into a server that hangs up on every insert: 69, nothing counted' '
	hangup_peer peer &&
	mp-gen 401 >in.bson &&
	test_expect_code 69 mongo-load-bson --uri "$HP_URI" --ns a.b --retries 2 --stats st0 --checkpoint ck \
		<in.bson 2>err &&
	test_grep "batch 0 (records 1-401) not acknowledged after 3 attempts" err &&
	! test_grep " inserted" err &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 0 and .docs == 0" st0 &&
	! test -e ck &&
	test $(grep -c "fault=hangup" peer.log) = 3
'

test_expect_success MOCKUPDB 'a hang-up on the first two inserts only: retried, then all acknowledged' '
	hangup_peer peer2 --times 2 &&
	mp-gen 300 | mongo-load-bson --uri "$HP_URI" --ns a.b --batch-size 100 --stats st2 2>err &&
	test_grep "writing it again" err &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 300 and .retries == 2" st2
'

test_expect_success MOCKUPDB 'replay into a server that hangs up on every write: 69, checkpoint untouched' '
	hangup_peer peer3 --update --delete &&
	mongo-replay --uri "$HP_URI" --retries 1 --checkpoint rck <"$TEST_DATA/events/basic.ndjson" 2>err;
	echo $? >rc && test "$(cat rc)" = 69 &&
	! test -e rck
'

SRC=${MP_SOURCE_URI:-} DST=${MP_TARGET_URI:-}

test_expect_success MOCKUPDB 'a reply larger than the client accepts: 69 with the hint, not 70' '
	hangup_peer big --max-message 500000 --find-docs 1000 &&
	test_expect_code 69 mongo-dump-bson --uri "$HP_URI" --ns a.b --allow-missing -o big.bson 2>err &&
	test_grep "lower --batch-size" err && ! test -e big.bson &&
	test_expect_code 69 mongo-hashdiff --source "$HP_URI" --target "$HP_URI" --ns a.b --allow-missing 2>err &&
	test_grep "source (127.0.0.1:[0-9]*): .*lower --batch-size" err
'

test_expect_success SERVERS 'ordered --reject: the documents after a refused one are written too' '
	printf "{\"_id\":1}\n{\"_id\":1}\n{\"_id\":2}\n{\"_id\":3}\n" >dup.ndjson &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.ord --drop --ordered --reject rej.ndjson --stats st3 <dup.ndjson &&
	test "$(mp-probe count "$DST" $TEST_DB.ord)" = 3 &&
	test $(wc -l <rej.ndjson) = 1 &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 3 and .rejected == 1" st3
'

test_expect_success SERVERS 'ordered --skip-duplicates: the same, counted as duplicates' '
	mongo-load-bson --uri "$DST" --ns $TEST_DB.ord2 --drop --ordered --skip-duplicates --stats st4 <dup.ndjson &&
	test "$(mp-probe count "$DST" $TEST_DB.ord2)" = 3 &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 3 and .duplicates == 1" st4
'

test_expect_success SERVERS 'the insert count comes from the server (unordered, duplicates refused)' '
	printf "{\"_id\":7}\n" | mongo-load-bson --uri "$DST" --ns $TEST_DB.cnt --drop &&
	printf "{\"_id\":7}\n{\"_id\":8}\n{\"_id\":9}\n" |
		mongo-load-bson --uri "$DST" --ns $TEST_DB.cnt --reject rej2.ndjson --stats st5 &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 2 and .rejected == 1" st5
'

test_expect_success SERVERS,PLAIN_TCP 'a connection cut after inserts were sent: exact copy, counts from the server' '
	mp-gen 20000 >c.bson &&
	fault_proxy cut "$DST" cut --cmd insert --after 3 --times 2 &&
	mongo-load-bson --uri "$FP_URI" --ns $TEST_DB.cut --drop --batch-size 1000 --workers 2 --stats st6 <c.bson 2>err &&
	test $(grep -c "fault=cut" cut.log) = 2 &&
	test_grep "writing it again" err &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 20000 and .retries >= 2" st6 &&
	mongo-load-bson --uri "$SRC" --ns $TEST_DB.cut --drop <c.bson &&
	mongo-hashdiff --source "$SRC" --target "$DST" --ns $TEST_DB.cut
'

test_expect_success SERVERS,PLAIN_TCP 'a retried insert meets a document that was there before: refused, never counted' '
	mp-gen 2000 >r.bson &&
	printf "{\"_id\": 5, \"there\": \"before\"}\n" | mongo-load-bson -q --uri "$DST" --ns $TEST_DB.pre --drop &&
	fault_proxy pre "$DST" drop-reply --cmd insert --after 0 --times 1 &&
	mongo-load-bson --uri "$FP_URI" --ns $TEST_DB.pre --batch-size 2000 --reject rej.pre --stats st.pre \
		<r.bson 2>err &&
	test $(grep -c "fault=drop-reply" pre.log) = 1 &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 1999 and .rejected == 1" st.pre &&
	jq -e ".doc._id[\"\$numberInt\"] == \"5\" and .code == 11000" rej.pre &&
	test "$(mp-probe find "$DST" $TEST_DB.pre "{\"_id\": 5}" | jq -r .there)" = before
'

# A server that does not say which key a duplicate broke (FerretDB 1.24:
# no keyPattern, no index in the message): the tools ask the target what
# it holds under the _id, never take the missing key as "not on _id".  The
# peer keeps each document with its _id moved to the front, as MongoDB
# does, and the input has it last: our own document is known all the same.
test_expect_success MOCKUPDB 'a reply lost, no key named in the duplicates: our own earlier insert, counted once' '
	seq 1 10 | sed "s/.*/{\"v\": \"d&\", \"_id\": &}/" >k.ndjson &&
	dupkey_peer dk --lose-replies 1 &&
	mongo-load-bson --uri "$PEER_URI" --ns k.c --batch-size 10 --stats st.dk <k.ndjson 2>err &&
	test_grep "insert ns=k.c n=10 taken=10 refused=0 reply=lost" dk.log &&
	test_grep "insert ns=k.c n=10 taken=0 refused=10 reply=sent" dk.log &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 10 and .duplicates == 0 and .rejected == 0" st.dk
'

test_expect_success MOCKUPDB 'no key named: another document under the _id is refused, never counted' '
	dupkey_peer dk2 --after 1 --lose-replies 1 &&
	echo "{\"_id\": 5, \"there\": \"before\"}" | mongo-load-bson -q --uri "$PEER_URI" --ns k.c &&
	mongo-load-bson --uri "$PEER_URI" --ns k.c --batch-size 10 --maintain-insertion-order --reject rej.dk \
		--stats st.dk2 <k.ndjson 2>err &&
	test_grep "n=10 taken=4 refused=1 reply=lost" dk2.log &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 9 and .rejected == 1 and .duplicates == 0" st.dk2 &&
	jq -e ".doc._id[\"\$numberInt\"] == \"5\" and .code == 11000" rej.dk
'

test_expect_success MOCKUPDB 'no key named, restoring a dump: a duplicate _id is gone past as mongorestore does' '
	mkdir -p kd/k && mongo-dump-bson --from k.ndjson -o kd/k/c.bson &&
	dupkey_peer dk3 &&
	echo "{\"_id\": 5, \"there\": \"before\"}" | mongo-load-bson -q --uri "$PEER_URI" --ns k.c &&
	mongo-load-bson --uri "$PEER_URI" --dir kd --stats st.dk3 2>err &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 9 and .duplicates == 1" st.dk3
'

test_expect_success MOCKUPDB 'no key named, the target not answering what it holds: the round is sent again' '
	dupkey_peer dk4 --lose-replies 1 --fail-finds 1 &&
	mongo-load-bson --uri "$PEER_URI" --ns k.c --batch-size 10 --stats st.dk4 <k.ndjson 2>err &&
	test_grep "asking the target what it holds under the refused _ids.*writing it again" err &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 10 and .duplicates == 0 and .retries == 2" st.dk4
'

test_expect_success MOCKUPDB 'no key named, restoring a dump: a duplicate on another unique field is refused' '
	mkdir -p ud/k && printf "{\"_id\": %d, \"email\": \"a%d\"}\n" 1 1 2 2 3 3 |
		mongo-dump-bson --from - -o ud/k/c.bson &&
	dupkey_peer dk5 --unique email &&
	echo "{\"_id\": 100, \"email\": \"a2\"}" | mongo-load-bson -q --uri "$PEER_URI" --ns k.c &&
	test_expect_code 65 mongo-load-bson --uri "$PEER_URI" --dir ud 2>err &&
	test_grep "rejected document {\"_id\":{\"\$numberInt\":\"2\"}" err &&
	dupkey_peer dk6 --unique email &&
	echo "{\"_id\": 100, \"email\": \"a2\"}" | mongo-load-bson -q --uri "$PEER_URI" --ns k.c &&
	mongo-load-bson --uri "$PEER_URI" --dir ud --reject rej.u --stats st.dk6 2>err &&
	jq -s -e "map(select(.type == \"summary\"))[0] | .inserted == 2 and .rejected == 1 and .duplicates == 0" st.dk6
'

test_expect_success SERVERS,PLAIN_TCP 'upserts cut mid-flight, and a reply dropped: exact copy' '
	fault_proxy cut2 "$DST" cut --cmd update --after 2 --times 1 drop-reply --cmd update --after 4 --times 1 &&
	mongo-load-bson --uri "$FP_URI" --ns $TEST_DB.cut2 --drop --mode upsert --batch-size 1000 <c.bson 2>err &&
	test $(grep -c " fault=" cut2.log) = 2 &&
	mongo-hashdiff --source "$SRC" --target "$DST" --ns $TEST_DB.cut --target-ns $TEST_DB.cut2
'

test_expect_success SERVERS,PLAIN_TCP 'one batch stalled 3 s behind the others: the checkpoint reaches the end' '
	mp-gen 40000 >s.bson &&
	fault_proxy stall "$DST" stall 3 --cmd insert --after 2 --times 1 &&
	mongo-load-bson --uri "$FP_URI" --ns $TEST_DB.stall --drop --batch-size 500 --workers 2 --checkpoint sck \
		--stats st8 <s.bson &&
	test $(grep -c "fault=stall" stall.log) = 1 &&
	jq -e "._id.\"\$numberInt\" == \"39999\"" sck &&
	test "$(mp-probe count "$DST" $TEST_DB.stall)" = 40000
'

test_expect_success SERVERS,PLAIN_TCP 'replay through cut connections: the same target as a replay without faults' '
	ev=$TEST_DATA/replay/sequence/events.ndjson &&
	fault_proxy rcut "$DST" cut --cmd update,delete --after 1 --times 2 &&
	mongo-replay --uri "$FP_URI" --ns-map "DB.users=$TEST_DB.replayed" --checkpoint rck2 <$ev 2>err &&
	test $(grep -c "fault=cut" rcut.log) = 2 &&
	test_grep "retrying" err &&
	mongo-replay --uri "$DST" --ns-map "DB.users=$TEST_DB.direct" <$ev &&
	mongo-hashdiff --source "$DST" --target "$DST" --ns $TEST_DB.direct --target-ns $TEST_DB.replayed &&
	test_grep "8265B8C000000014000000012B022C0100296E5A10040020" rck2
'

# a run of insert events goes as inserts: a lost reply means a retry whose
# inserts meet the documents the first try wrote (duplicate keys), and the
# replay goes on with upserts
test_expect_success SERVERS,PLAIN_TCP 'replay of inserts whose replies are lost: every document as the events hold it' '
	mp-gen 3000 --events $TEST_DB.rins >rins.bson &&
	mp-gen 3000 | mongo-load-bson --uri "$DST" --ns $TEST_DB.rins_direct -q --drop &&
	fault_proxy irep "$DST" drop-reply --cmd insert --after 1 --times 2 &&
	mongo-replay --uri "$FP_URI" --batch-size 500 --checkpoint ick --stats ist <rins.bson 2>err &&
	test $(grep -c "fault=drop-reply" irep.log) = 2 &&
	test_grep "retrying" err &&
	jq -e "select(.type == \"summary\") | .inserted > 0 and .matched > 0 and .inserted + .upserted + .matched == 3000" ist &&
	mongo-hashdiff --source "$DST" --target "$DST" --ns $TEST_DB.rins_direct --target-ns $TEST_DB.rins &&
	test "$(mp-probe count "$DST" $TEST_DB.rins)" = 3000
'

test_expect_success SERVERS,PLAIN_TCP 'hashdiff with its source cut mid-scan: 69, and no difference invented' '
	mp-gen 30000 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.hd --drop &&
	mp-gen 30000 | mongo-load-bson --uri "$DST" --ns $TEST_DB.hd --drop &&
	fault_proxy hcut "$SRC" cut --cmd getMore --after 1 &&
	mongo-hashdiff --source "$FP_URI" --target "$DST" --ns $TEST_DB.hd --batch-size 1000 >diff 2>err;
	echo $? >rc && echo "exit $(cat rc)" &&
	test "$(cat rc)" = 69 &&
	test_must_be_empty diff
'

test_expect_success SERVERS,PLAIN_TCP 'dump --checkpoint whose source is cut mid-scan: reads on after the last _id, exact' '
	fault_proxy dcut "$SRC" cut --cmd getMore --after 2 --times 1 &&
	mongo-dump-bson --uri "$FP_URI" --ns $TEST_DB.hd --batch-size 1000 --checkpoint dck >all.bson 2>err &&
	test $(grep -c "fault=cut" dcut.log) = 1 &&
	test_grep "reading on after the last _id" err &&
	mongo-hashdiff --source "$SRC" --target-file all.bson --ns $TEST_DB.hd
'

# (libmongoc retries a failed read once by itself: two cuts reach the tool)
test_expect_success SERVERS,PLAIN_TCP 'dump --resume-after-id cut before its first document: goes on from there, not from the start' '
	fault_proxy dcut4 "$SRC" cut --cmd find --times 2 &&
	mongo-dump-bson --uri "$FP_URI" --ns $TEST_DB.hd --resume-after-id 20000 --checkpoint dck4 --format ndjson \
		>after.ndjson 2>err &&
	test $(grep -c "fault=cut" dcut4.log) = 2 && test_grep "reading on" err &&
	test $(wc -l <after.ndjson) = 9999 &&
	test "$(head -1 after.ndjson | jq -r "._id[\"\$numberInt\"]")" = 20001
'

test_expect_success SERVERS,PLAIN_TCP 'dump in natural order cut mid-scan: 69, saying how to make it resumable' '
	fault_proxy dcut2 "$SRC" cut --cmd getMore --after 2 --times 1 &&
	test_expect_code 69 mongo-dump-bson --uri "$FP_URI" --ns $TEST_DB.hd --batch-size 1000 -o nat.bson 2>err &&
	test_grep "with --checkpoint FILE" err && ! test -e nat.bson
'

test_expect_success SERVERS,PLAIN_TCP 'dump --checkpoint against a source that keeps cutting: 69 after --retries' '
	fault_proxy dcut3 "$SRC" cut --cmd getMore --after 1 &&
	test_expect_code 69 mongo-dump-bson --uri "$FP_URI" --ns $TEST_DB.hd --batch-size 1000 --checkpoint dck3 \
		--retries 2 >part3.bson 2>err &&
	test $(grep -c "reading on after" err) = 2 &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.hd --resume-after-id @dck3 >rest3.bson &&
	cat part3.bson rest3.bson >all3.bson &&
	mongo-hashdiff --source "$SRC" --target-file all3.bson --ns $TEST_DB.hd
'

test_expect_success SERVERS,CHANGE_STREAMS,PLAIN_TCP 'watch whose change stream is cut: reopens after the last event, none lost or doubled' '
	mp-probe create "$SRC" $TEST_DB.w &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.w --start-token >w.tok &&
	mp-writer "$SRC" $TEST_DB.w 300 --ids 20 --seed 7 &&
	fault_proxy wcut "$SRC" cut --cmd getMore --after 2 --times 1 &&
	mongo-watch --uri "$FP_URI" --ns $TEST_DB.w --resume-file w.tok --batch-size 20 --idle-exit 2 \
		--format ndjson >ev.ndjson 2>err &&
	test $(grep -c "fault=cut" wcut.log) = 1 &&
	mongo-watch --uri "$SRC" --ns $TEST_DB.w --resume-file w.tok --idle-exit 2 --format ndjson >direct.ndjson &&
	echo "$(wc -l <ev.ndjson) events" &&
	test $(wc -l <ev.ndjson) -gt 100 &&
	test_cmp direct.ndjson ev.ndjson
'

test_done
