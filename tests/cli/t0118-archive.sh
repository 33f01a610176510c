#!/usr/bin/env bash
# mongodump's archive format both ways: mongodump --archive into
# mongo-load-bson, mongo-dump-bson --archive into mongorestore, ours into
# ours (plain, gzip, one or four collections at once), each proven with
# mongo-hashdiff and the indexes compared; --ns-from/--ns-to rename on the
# way; a damaged archive (cut short, a wrong CRC, a bad document) is named
# and nothing read before the damage is lost.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI MT=${MP_MONGO_TOOLS_BIN:-}

# same COLL: the collection COLL of TEST_DB on the source and of TEST_DB2 on
# the target hold the same documents, and the same indexes (keys, names,
# options; the metadata as mongodump writes it, without its uuid)
same() {
	mongo-hashdiff -q --source "$SRC" --target "$DST" --ns "$TEST_DB.$1" --target-ns "$TEST_DB2.$1" &&
	mongo-dump-bson --uri "$SRC" --ns "$TEST_DB.$1" --metadata src.meta -o /dev/null &&
	mongo-dump-bson --uri "$DST" --ns "$TEST_DB2.$1" --metadata dst.meta -o /dev/null &&
	jq -S "del(.uuid) | .indexes |= (map(del(.ns)) | sort_by(.name))" src.meta >src.ix &&
	jq -S "del(.uuid) | .indexes |= (map(del(.ns)) | sort_by(.name))" dst.meta >dst.ix &&
	test_cmp src.ix dst.ix
}
all_same() { same a && same b && same empty; }
clean_target() { mp-probe dropdb "$DST" "$TEST_DB2" >/dev/null; }

test_expect_success 'seed: three collections (one empty), an index with options' '
	mp-gen 30000 --mixed-ids $(gen_types) | mongo-load-bson -q --uri "$SRC" --ns $TEST_DB.a &&
	mp-gen 5000 --start 50000 | mongo-load-bson -q --uri "$SRC" --ns $TEST_DB.b &&
	mp-probe create "$SRC" $TEST_DB.empty >/dev/null &&
	mp-probe index "$SRC" $TEST_DB.a "{\"i\": 1, \"name\": -1}" i_name >/dev/null &&
	mp-probe index "$SRC" $TEST_DB.b "{\"i\": 1}" i_unique --unique >/dev/null
'

test_expect_success 'ours into ours through a pipe, four collections at once, renamed' '
	clean_target &&
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB --archive --stats dump.stats |
		mongo-load-bson -q --uri "$DST" --ns-from "$TEST_DB.*" --ns-to "$TEST_DB2.*" --stats load.stats &&
	all_same &&
	jq -e "select(.type == \"summary\" and .ns == \"$TEST_DB2.a\") | .inserted == 30000" load.stats &&
	jq -e -s "[.[] | select(.type == \"summary\")] | length == 3" dump.stats
'

test_expect_success '--db to a stream is an archive: "mongo-dump-bson --db X | mongo-load-bson" copies a database' '
	clean_target &&
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB |
		mongo-load-bson -q --uri "$DST" --ns-from "$TEST_DB.*" --ns-to "$TEST_DB2.*" &&
	all_same &&
	test_expect_code 64 mongo-dump-bson --uri "$SRC" --db $TEST_DB --format ndjson 2>err &&
	test_grep "cannot hold them" err
'

test_expect_success 'the archive is a file too, with --gzip, one collection at a time; --archive=FILE reads it' '
	clean_target &&
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB --archive=ours.archive.gz --gzip --num-parallel-collections 1 &&
	test "$(head -c 2 ours.archive.gz | od -An -tx1 | tr -d " ")" = 1f8b &&
	mongo-load-bson -q --uri "$DST" --archive=ours.archive.gz --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" &&
	all_same
'

test_expect_success 'the archive as a plain file (the tests below read it)' '
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB --archive=ours.archive &&
	test "$(head -c 4 ours.archive | od -An -tx1 | tr -d " ")" = 6de29981
'

test_expect_success MONGO_TOOLS,INDEX_NS 'mongorestore restores our archive (CRCs checked), indexes included' '
	clean_target &&
	"$MT/mongorestore" --quiet --uri "$DST" --archive=ours.archive --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" &&
	all_same
'

test_expect_success MONGO_TOOLS 'we load what mongodump --archive wrote: plain from stdin, gzip from a file' '
	clean_target &&
	"$MT/mongodump" --quiet --uri "$SRC" --db $TEST_DB --archive |
		mongo-load-bson -q --uri "$DST" --ns-from "$TEST_DB.*" --ns-to "$TEST_DB2.*" &&
	all_same &&
	"$MT/mongodump" --quiet --uri "$SRC" --db $TEST_DB --archive=md.archive.gz --gzip &&
	mongo-load-bson -q --uri "$DST" --drop --archive=md.archive.gz --ns-from "$TEST_DB.*" --ns-to "$TEST_DB2.*" &&
	all_same
'

test_expect_success 'selection: --ns-include takes one collection of the archive' '
	clean_target &&
	mongo-load-bson -q --uri "$DST" --archive=ours.archive --ns-include "$TEST_DB.b" \
		--ns-from "$TEST_DB.*" --ns-to "$TEST_DB2.*" &&
	same b &&
	test "$(mp-probe count "$DST" $TEST_DB2.a)" = 0
'

test_expect_success '$var$ renames, as mongorestore takes them' '
	clean_target &&
	mongo-load-bson -q --uri "$DST" --archive=ours.archive --ns-include "$TEST_DB.b" \
		--ns-from "\$db\$.\$c\$" --ns-to "${TEST_DB2}.\$c\$_from_\$db\$" &&
	test "$(mp-probe count "$DST" $TEST_DB2.b_from_$TEST_DB)" = 5000
'

test_expect_success 'an archive cut short: 65, named, and what came before it loaded' '
	clean_target &&
	size=$(stat -c %s ours.archive) &&
	head -c $((size - 3000)) ours.archive >cut.archive &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --archive=cut.archive --ns-from "$TEST_DB.*" \
		--ns-to "$TEST_DB2.*" 2>err &&
	test_grep "cut.archive" err &&
	test "$(mp-probe count "$DST" $TEST_DB2.a)" -gt 0
'

test_expect_success 'a document changed inside the archive: its CRC says so (65)' '
	clean_target &&
	python3 -c "
import sys
b = bytearray(open(\"ours.archive\", \"rb\").read())
i = b.index(b\"\\x02name\\x00\", len(b) // 2)  # a string field of a document
b[i + 10] ^= 0x01                                # its first letter, another letter
open(\"flip.archive\", \"wb\").write(b)
" &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --archive=flip.archive --ns-from "$TEST_DB.*" \
		--ns-to "$TEST_DB2.*" 2>err &&
	test_grep "CRC" err
'

test_expect_success 'a bad document with --reject: set aside with its record and offset, the rest loaded' '
	clean_target &&
	python3 -c "
b = bytearray(open(\"ours.archive\", \"rb\").read())
i = b.index(b\"\\x02name\\x00\", len(b) // 2)    # a string field of a document
b[i + 10] = 0xff                                 # its first byte: not UTF-8
open(\"bad.archive\", \"wb\").write(b)
" &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --archive=bad.archive --ns-from "$TEST_DB.*" \
		--ns-to "$TEST_DB2.*" --reject rej.ndjson 2>err &&
	test $(wc -l <rej.ndjson) = 1 &&
	jq -e ".record > 0 and .offset > 0 and (.error | test(\"UTF-8\"))" rej.ndjson &&
	test "$(( $(mp-probe count "$DST" $TEST_DB2.a) + $(mp-probe count "$DST" $TEST_DB2.b) ))" = 34999 &&
	test_grep "CRC" err
'

test_expect_success 'misuse: --archive on a stream that is not one, an archive given to a one-stream tool' '
	mongo-dump-bson -q --uri "$SRC" --ns $TEST_DB.b >b.bson &&
	test_expect_code 65 mongo-load-bson --uri "$DST" --archive=b.bson 2>err &&
	test_grep "not a mongodump archive" err &&
	test_expect_code 64 mongo-load-bson --uri "$DST" --ns $TEST_DB2.x --archive=ours.archive 2>err &&
	test_expect_code 64 mongo-load-bson --uri "$DST" --ns $TEST_DB2.x <ours.archive 2>err &&
	test_grep "is a mongodump archive" err &&
	test_expect_code 65 mongo-hashdiff --source-file ours.archive --target-file b.bson 2>err &&
	test_grep "is a mongodump archive" err &&
	test_expect_code 64 mongo-dump-bson --uri "$SRC" --db $TEST_DB --archive --out d 2>err &&
	test_expect_code 64 mongo-load-bson --ns-from "a.*" 2>err &&
	test_grep "pairs" err
'

# a view: the test servers turn one into a plain collection, so its
# definition comes from a scripted catalog
cat >views.json <<'JSON'
{"collections": [
 {"name": "base", "type": "collection", "options": {}, "info": {"readOnly": false}},
 {"name": "recent", "type": "view", "options": {"viewOn": "base", "pipeline": [{"$match": {"a": {"$gt": 1}}}]},
  "info": {"readOnly": true}}],
 "indexes": {"base": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}]}}
JSON

test_expect_success MOCKUPDB 'views travel as views: their definition in --out and in the archive' '
	meta_peer views views.json &&
	mongo-dump-bson -q --uri "$PEER_URI" --db shop --out vout &&
	! test -e vout/shop/recent.bson &&
	jq -e ".type == \"view\" and .options.viewOn == \"base\" and (.indexes | length) == 0" \
		vout/shop/recent.metadata.json &&
	mongo-dump-bson -q --uri "$PEER_URI" --db shop --archive=v.archive &&
	/usr/bin/python3 -c "
import bson, json, struct, sys
b = open(\"v.archive\", \"rb\").read()
i, items = 4, []
while i < len(b):
    if b[i:i + 4] == b\"\\xff\\xff\\xff\\xff\":
        items.append(\"-1\"); i += 4; continue
    n = struct.unpack(\"<i\", b[i:i + 4])[0]; items.append(bson.decode(b[i:i + n])); i += n
view = [x for x in items if isinstance(x, dict) and x.get(\"collection\") == \"recent\"]
assert view[0][\"type\"] == \"view\" and json.loads(view[0][\"metadata\"])[\"options\"][\"viewOn\"] == \"base\", view
assert view[1] == {\"db\": \"shop\", \"collection\": \"recent\", \"EOF\": True, \"CRC\": 0}, view
"
'

test_expect_success MOCKUPDB,CREATE_VIEW '... and created on load, from --out and from the archive' '
	clean_target &&
	mongo-load-bson -v --uri "$DST" --dir vout --db $TEST_DB2 2>err &&
	test_grep "$TEST_DB2.recent: view created" err &&
	mongo-load-bson -v --uri "$DST" --archive=v.archive --ns-from "shop.*" --ns-to "$TEST_DB2.*" --drop 2>err &&
	test_grep "$TEST_DB2.recent: view created" err
'

if test_have_prereq MOCKUPDB && ! test_have_prereq CREATE_VIEW; then
	test_expect_success 'a target that refuses views: 69, naming the view and the refusal' '
		clean_target &&
		test_expect_code 69 mongo-load-bson --uri "$DST" --dir vout --db $TEST_DB2 2>err &&
		test_grep "creating view $TEST_DB2.recent: .*viewOn" err &&
		test_expect_code 69 mongo-load-bson --uri "$DST" --archive=v.archive --ns-from "shop.*" --ns-to "$TEST_DB2.*" 2>err &&
		test_grep "creating view $TEST_DB2.recent: " err
	'
else
	test_skip 'a target that refuses views: 69, naming the view and the refusal' \
		"$(test_have_prereq MOCKUPDB && echo "the servers accept views" || prereq_why MOCKUPDB)"
fi

test_expect_success '--num-parallel-collections for --out: every collection written' '
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB --out par --numParallelCollections 3 &&
	mongo-dump-bson -q --uri "$SRC" --db $TEST_DB --out seq --num-parallel-collections 1 &&
	for c in a b empty; do cmp par/$TEST_DB/$c.bson seq/$TEST_DB/$c.bson || return 1; done
'

test_done
