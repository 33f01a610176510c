#!/usr/bin/env bash
# mongorestore's restore options in mongo-load-bson (issue 13): a mongodump
# directory or archive restored over a target that already holds some of
# its documents goes past them, counted as mongorestore counts them (and
# run beside mongorestore on the same input to prove the counts agree);
# --stop-on-error and --maintain-insertion-order stop at the first;
# --no-index-restore, --no-options-restore, --bypass-document-validation
# and --preserve-uuid, each shown to reach the server, or to fail as the
# server's refusal, never silently.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI MT=${MP_MONGO_TOOLS_BIN:-}
RENAME=(--ns-from "$TEST_DB.*" --ns-to "$TEST_DB2.*")

# the target holds _id 500..599 of the source's 1000 documents, one of
# them (507) with other content than the source's
prepare_target() {
	mp-probe dropdb "$DST" "$TEST_DB2" >/dev/null &&
	mongo-dump-bson -q --uri "$SRC" --ns $TEST_DB.c --query "{\"_id\": {\"\$gte\": 500, \"\$lt\": 600}}" |
		mongo-load-bson -q --uri "$DST" --ns $TEST_DB2.c &&
	echo '{"_id": {"$numberInt": "507"}, "changed": true}' |
		mongo-load-bson -q --uri "$DST" --ns $TEST_DB2.c --mode upsert
}
summary() { jq -c "select(.type == \"summary\" and .ns == \"$TEST_DB2.c\")" "$1"; }

test_expect_success 'seed: 1000 documents and an index, dumped as a directory and as an archive' '
	mp-gen 1000 | mongo-load-bson -q --uri "$SRC" --ns $TEST_DB.c &&
	mp-probe index "$SRC" $TEST_DB.c "{\"i\": 1}" i_1 >/dev/null &&
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB --out dump &&
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB --archive=dump.archive
'

test_expect_success '--dir over existing documents: 900 inserted, 100 duplicates counted and warned about, exit 0' '
	prepare_target &&
	mongo-load-bson --uri "$DST" --dir dump "${RENAME[@]}" --stats s.ndjson 2>err &&
	summary s.ndjson >sum &&
	jq -e ".inserted == 900 and .duplicates == 100 and .rejected == 0 and .docs == 1000" sum &&
	test_grep "$TEST_DB2.c: 100 document(s) not written: one with the same _id was there already" err &&
	test_grep "mode upsert" err &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 1000 &&
	mp-probe indexes "$DST" $TEST_DB2.c >ix && test_grep "^i_1$" ix
'

test_expect_success 'the document already there kept its content: mongo-hashdiff names it, --mode upsert repairs' '
	mp-probe find "$DST" $TEST_DB2.c "{\"_id\": 507}" >doc && test_grep "\"changed\"" doc &&
	test_expect_code 1 mongo-hashdiff -q --source "$SRC" --target "$DST" --ns $TEST_DB.c \
		--target-ns $TEST_DB2.c >diff &&
	test $(wc -l <diff) = 1 &&
	jq -e ".diff == \"changed\" and ._id == {\"\$numberInt\": \"507\"}" diff &&
	mongo-load-bson -q --uri "$DST" --dir dump "${RENAME[@]}" --mode upsert &&
	mongo-hashdiff -q --source "$SRC" --target "$DST" --ns $TEST_DB.c --target-ns $TEST_DB2.c
'

test_expect_success 'an archive over existing documents: the same counts' '
	prepare_target &&
	mongo-load-bson --uri "$DST" --archive=dump.archive "${RENAME[@]}" --stats a.ndjson 2>err &&
	summary a.ndjson >sum &&
	jq -e ".inserted == 900 and .duplicates == 100 and .rejected == 0" sum &&
	test_grep "100 document(s) not written" err &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 1000
'

# "N document(s) restored successfully. M document(s) failed to restore."
# as mongorestore ends, made of our summary
our_counts() {
	summary "$1" | jq -r "\"\(.inserted) document(s) restored successfully. \(.duplicates) document(s) failed to restore.\""
}
their_counts() { grep -o "[0-9]* document(s) restored successfully. [0-9]* document(s) failed to restore." "$1"; }

test_expect_success MONGO_TOOLS,INDEX_NS 'mongorestore on the same input and target: the same counts, both ways of input' '
	prepare_target &&
	"$MT/mongorestore" --uri "$DST" --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" dump 2>mr.err &&
	their_counts mr.err >theirs &&
	our_counts s.ndjson >ours &&
	test_cmp theirs ours &&
	echo "900 document(s) restored successfully. 100 document(s) failed to restore." >expect &&
	test_cmp expect ours &&
	prepare_target &&
	"$MT/mongorestore" --uri "$DST" --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" --archive=dump.archive 2>mra.err &&
	their_counts mra.err >theirs &&
	our_counts a.ndjson >ours &&
	test_cmp theirs ours
'

test_expect_success '--stop-on-error (--stopOnError): the first duplicate stops the load, 65, named' '
	prepare_target &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --dir dump "${RENAME[@]}" --stop-on-error 2>err &&
	test_grep "$TEST_DB2.c: the server rejected document .* E11000 duplicate key" err &&
	prepare_target &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --archive=dump.archive "${RENAME[@]}" --stopOnError 2>err &&
	test_grep "E11000 duplicate key" err
'

test_expect_success MONGO_TOOLS 'mongorestore --stopOnError fails on the same input too' '
	prepare_target &&
	test_expect_code 1 "$MT/mongorestore" --uri "$DST" --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" \
		--stopOnError dump 2>mr.err &&
	test_grep "E11000 duplicate key" mr.err
'

test_expect_success '--maintain-insertion-order: in order, and stops at the first duplicate (500 written before it)' '
	prepare_target &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --dir dump "${RENAME[@]}" --maintain-insertion-order \
		--batch-size 50 --stats o.ndjson 2>err &&
	test_grep "rejected document {\"_id\":{\"\$numberInt\":\"500\"}}" err &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 600 &&
	summary o.ndjson | jq -e ".inserted == 500"
'

test_expect_success MONGO_TOOLS,INDEX_NS 'mongorestore --maintainInsertionOrder writes the same 500 and stops' '
	prepare_target &&
	test_expect_code 1 "$MT/mongorestore" --uri "$DST" --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" \
		--maintainInsertionOrder dump 2>mr.err &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 600
'

# (a server's natural order need not be the order of insertion: FerretDB on
# PostgreSQL puts rows where there is room; the peer keeps the order)
test_expect_success MOCKUPDB '--maintainInsertionOrder keeps the order of the input (written one by one, in that order)' '
	mongo-dump-bson -q --uri "$SRC" --ns $TEST_DB.c --sort "{\"i\": -1}" >desc.bson &&
	mongo-dump-bson -q --from desc.bson --format ndjson | jq -c "._id" >input.ids &&
	dupkey_peer ord &&
	mongo-load-bson -q --uri "$PEER_URI" --ns $TEST_DB2.ord --maintainInsertionOrder --batch-size 7 <desc.bson &&
	mp-probe find "$PEER_URI" $TEST_DB2.ord | jq -c "._id" >stored.ids &&
	test $(grep -c "^insert ns=$TEST_DB2.ord n=7 taken=7 refused=0" ord.log) = 142 &&
	test $(wc -l <input.ids) = 1000 &&
	test_cmp input.ids stored.ids
'

test_expect_success 'a stream (--ns) still refuses a duplicate: 65' '
	prepare_target &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB2.c <dump/$TEST_DB/c.bson 2>err &&
	test_grep "E11000" err
'

test_expect_success 'a duplicate on another unique index is a document not there: refused, 65, never gone past' '
	prepare_target &&
	mp-probe index "$DST" $TEST_DB2.c "{\"i\": 1}" i_unique --unique >/dev/null &&
	echo "{\"_id\": {\"\$numberInt\": \"5000\"}, \"i\": {\"\$numberInt\": \"3\"}}" |
		mongo-load-bson -q --uri "$DST" --ns $TEST_DB2.c &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --dir dump "${RENAME[@]}" 2>err &&
	test_grep "rejected document {\"_id\":{\"\$numberInt\":\"3\"}}.*E11000" err
'

test_expect_success '--no-index-restore (--noIndexRestore): only _id_' '
	mp-probe dropdb "$DST" "$TEST_DB2" >/dev/null &&
	mongo-load-bson -q --uri "$DST" --dir dump "${RENAME[@]}" --noIndexRestore &&
	mp-probe indexes "$DST" $TEST_DB2.c >ix &&
	echo _id_ >expect && test_cmp expect ix &&
	mongo-load-bson -q --uri "$DST" --archive=dump.archive "${RENAME[@]}" --drop --no-index-restore &&
	mp-probe indexes "$DST" $TEST_DB2.c >ix && test_cmp expect ix &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 1000
'

# The test server refuses to create a capped collection: the options of
# the metadata reach it without --no-options-restore, and not with it.
# capped: restored as capped where the server has capped collections, 69
# naming the refusal where it has not (mongo-java-server)
capped() { mp-probe command "$DST" $TEST_DB2 "{\"listCollections\": 1, \"filter\": {\"name\": \"c\"}}" |
	jq -e ".cursor.firstBatch[0].options.capped == true" >/dev/null; }
test_expect_success '--no-options-restore (--noOptionsRestore): the collection is created without them' '
	mp-probe dropdb "$DST" "$TEST_DB2" >/dev/null &&
	cp -r dump capped &&
	jq -c ".options = {\"capped\": true, \"size\": 1048576}" dump/$TEST_DB/c.metadata.json \
		>capped/$TEST_DB/c.metadata.json &&
	if mp-probe command "$DST" $TEST_DB2 "{\"create\": \"probe\", \"capped\": true, \"size\": 4096}" >/dev/null 2>&1
	then
		mongo-load-bson -q --uri "$DST" --dir capped "${RENAME[@]}" && capped &&
		mongo-load-bson -q --uri "$DST" --dir capped "${RENAME[@]}" --no-options-restore --drop && ! capped
	else
		test_expect_code 69 mongo-load-bson --uri "$DST" --dir capped "${RENAME[@]}" 2>err &&
		test_grep "creating $TEST_DB2.c: .*capped" err &&
		mongo-load-bson -q --uri "$DST" --dir capped "${RENAME[@]}" --no-options-restore
	fi &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 1000 &&
	mongo-load-bson -q --uri "$DST" --dir capped "${RENAME[@]}" --noOptionsRestore --drop && ! capped
'

test_expect_success 'misuse: --stop-on-error with --reject or --skip-duplicates; --preserve-uuid without --drop' '
	test_expect_code 64 mongo-load-bson --uri "$DST" --dir dump --stop-on-error --reject r.ndjson 2>err &&
	test_grep "stop-on-error" err &&
	test_expect_code 64 mongo-load-bson --uri "$DST" --dir dump --stopOnError --skip-duplicates 2>err &&
	test_expect_code 64 mongo-load-bson --uri "$DST" --dir dump --preserveUUID 2>err &&
	test_grep "needs --drop" err
'

# mongo-java-server accepts a validator and forgets it, and has no
# applyOps: tests/peers/validator_peer.py enforces one as MongoDB does
# (code 121 unless bypassDocumentValidation) and takes applyOps.
peer() {
	start_peer peer validator_peer.py --require name --log peer.log --max-seconds 120 && PEER=$PEER_URI
}

test_expect_success MOCKUPDB '--bypass-document-validation (--bypassDocumentValidation) reaches the server' '
	peer &&
	{ mp-gen 5; echo "{\"_id\": 100}" | mongo-dump-bson --from -; } >v.bson &&
	test_expect_code 65 mongo-load-bson --uri "$PEER" --ns v.c <v.bson 2>err &&
	test_grep "Document failed validation (code 121).*--bypass-document-validation" err &&
	mongo-load-bson --uri "$PEER" --ns v.c --bypass-document-validation --stats b.ndjson <v.bson &&
	jq -e "select(.type == \"summary\") | .inserted == 6" b.ndjson &&
	test_grep "insert ns=v.c n=6 bypass=false refused=1" peer.log &&
	test_grep "insert ns=v.c n=6 bypass=true refused=0" peer.log &&
	mongo-load-bson -q --uri "$PEER" --dir dump --bypassDocumentValidation &&
	test_grep "insert ns=$TEST_DB.c n=1000 bypass=true refused=0" peer.log
'

test_expect_success 'a server without validators takes --bypass-document-validation as a no-op' '
	mongo-load-bson -q --uri "$DST" --dir dump "${RENAME[@]}" --drop --bypass-document-validation &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 1000
'

test_expect_success MOCKUPDB '--preserve-uuid (--preserveUUID): applyOps creates the collection with the uuid' '
	peer &&
	cp -r dump withuuid &&
	jq -c ".uuid = \"0123456789abcdef0123456789abcdef\"" dump/$TEST_DB/c.metadata.json \
		>withuuid/$TEST_DB/c.metadata.json &&
	mongo-load-bson -q --uri "$PEER" --dir withuuid --drop --preserve-uuid &&
	test_grep "applyOps op=c ns=$TEST_DB.\$cmd create=c ui=0123456789abcdef0123456789abcdef" peer.log &&
	test_grep "insert ns=$TEST_DB.c n=1000" peer.log
'

test_expect_success 'the test server has no applyOps: --preserve-uuid is 69 naming the refusal' '
	test_expect_code 69 mongo-load-bson --uri "$DST" --dir withuuid "${RENAME[@]}" --drop --preserveUUID 2>err &&
	test_grep "creating $TEST_DB2.c: the server refused applyOps (code 59), the one way to keep the uuid" err &&
	test_grep "applyOps" err
'

test_expect_success MONGO_TOOLS 'mongorestore --preserveUUID is refused by the test server the same way' '
	test_expect_code 1 "$MT/mongorestore" --uri "$DST" --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" --drop \
		--preserveUUID withuuid 2>mr.err &&
	test_grep "no such command: .applyOps." mr.err
'

test_expect_success '--preserve-uuid: a bad uuid is 65 before the drop; none is a warning' '
	prepare_target &&
	cp -r dump baduuid &&
	jq -c ".uuid = \"not-a-uuid\"" dump/$TEST_DB/c.metadata.json >baduuid/$TEST_DB/c.metadata.json &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --dir baduuid "${RENAME[@]}" --drop --preserve-uuid 2>err &&
	test_grep "$TEST_DB2.c: the uuid of its metadata, .not-a-uuid., is not 32 hex digits" err &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 100 &&
	cp -r dump nouuid &&
	jq -c "del(.uuid)" dump/$TEST_DB/c.metadata.json >nouuid/$TEST_DB/c.metadata.json &&
	mongo-load-bson --uri "$DST" --dir nouuid "${RENAME[@]}" --drop --preserve-uuid 2>err &&
	test_grep "its metadata has no uuid: --preserve-uuid has no uuid to keep" err &&
	test "$(mp-probe count "$DST" $TEST_DB2.c)" = 1000
'

test_done
