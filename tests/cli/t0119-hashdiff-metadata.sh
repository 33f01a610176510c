#!/usr/bin/env bash
# mongo-hashdiff --metadata: indexes (matched by name, every option),
# collection options and views compared besides the documents; each
# difference a diff record of its kind and exit 1, verdict "different"; on
# by default with --db, off with --no-metadata, a usage error with a file
# side; a metadata read that fails is 69 with no verdict; mongo-report
# counts them.  What the test servers cannot hold (validators, views, capped
# collections on mongo-java-server) is said skipped, with the reason.
. "$(dirname "$0")/lib.sh"

test_expect_success '--metadata with a file side, or with --no-metadata, is a usage error (64)' '
	: >empty.bson &&
	test_expect_code 64 mongo-hashdiff --source-file empty.bson --target-file empty.bson --ns a.b --metadata >out 2>err &&
	test_must_be_empty out && test_grep "a file side has no indexes" err &&
	test_expect_code 64 mongo-hashdiff --source mongodb://x --target-file empty.bson --ns a.b --metadata >out 2>err &&
	test_must_be_empty out &&
	test_expect_code 64 mongo-hashdiff --source mongodb://x --target mongodb://y --ns a.b --metadata --no-metadata \
		>out 2>err &&
	test_must_be_empty out && test_grep "not both" err &&
	mongo-hashdiff --source-file empty.bson --target-file empty.bson --ns a.b >out 2>err &&
	test_must_be_empty out
'

# What neither test server holds, from scripted catalogs: validators, views,
# time series, the trivia real servers add to an index (v, ns), and an
# index one server lists with unique: false and the other without unique.
cat >src.json <<'JSON'
{"collections": [
 {"name": "v", "type": "collection", "options": {"validator": {"a": {"$exists": true}}, "validationLevel": "strict"},
  "info": {"readOnly": false, "uuid": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAQ==", "subType": "04"}}}},
 {"name": "same", "type": "collection", "options": {"collation": {"locale": "fr", "strength": 2}},
  "info": {"uuid": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAg==", "subType": "04"}}}},
 {"name": "vw", "type": "view", "options": {"viewOn": "v", "pipeline": [{"$sort": {"a": 1, "b": 1}}]}},
 {"name": "vsame", "type": "view", "options": {"viewOn": "v", "pipeline": [{"$match": {"a": 1}}]}},
 {"name": "vcoll", "type": "view", "options": {"viewOn": "v", "pipeline": [{"$sort": {"a": 1}}],
  "collation": {"locale": "fr", "strength": 1}}},
 {"name": "only", "type": "view", "options": {"viewOn": "v", "pipeline": []}},
 {"name": "ts", "type": "timeseries", "options": {"timeseries": {"timeField": "t", "granularity": "seconds"}}}
],
 "indexes": {
  "v": [{"v": 2, "key": {"_id": 1}, "name": "_id_", "ns": "shop.v"},
        {"v": 2, "key": {"a": 1}, "name": "a_1", "collation": {"locale": "fr", "strength": 2}, "ns": "shop.v"}],
  "same": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}, {"v": 2, "key": {"y": 1}, "name": "y_1", "unique": false}]}}
JSON
cat >dst.json <<'JSON'
{"collections": [
 {"name": "v", "type": "collection", "options": {"validator": {"a": {"$exists": false}}, "validationLevel": "strict"},
  "info": {"readOnly": false, "uuid": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAw==", "subType": "04"}}}},
 {"name": "same", "type": "collection", "options": {"collation": {"strength": {"$numberLong": "2"}, "locale": "fr"}},
  "info": {"uuid": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAABA==", "subType": "04"}}}},
 {"name": "vw", "type": "view", "options": {"viewOn": "v", "pipeline": [{"$sort": {"b": 1, "a": 1}}]}},
 {"name": "vsame", "type": "view", "options": {"viewOn": "v", "pipeline": [{"$match": {"a": 1}}]}},
 {"name": "vcoll", "type": "view", "options": {"viewOn": "v", "pipeline": [{"$sort": {"a": 1}}],
  "collation": {"locale": "fr", "strength": 3}}},
 {"name": "ts", "type": "timeseries", "options": {"timeseries": {"timeField": "t", "granularity": "minutes"}}}
],
 "indexes": {
  "v": [{"v": 1, "key": {"_id": 1}, "name": "_id_", "unique": true},
        {"v": 1, "key": {"a": 1.0}, "name": "a_1", "collation": {"strength": 2, "locale": "fr"}}],
  "same": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}, {"v": 2, "key": {"y": 1}, "name": "y_1"}]}}
JSON

test_expect_success MOCKUPDB 'scripted peers: validator, views, time series, collation order, index trivia' '
	meta_peer src src.json && PS=$PEER_URI && meta_peer dst dst.json && PD=$PEER_URI &&
	test_expect_code 1 mongo-hashdiff --source "$PS" --target "$PD" --db shop --json relaxed --stats st >out 2>err &&
	jq -r "[.ns, .diff, ((.fields // []) | join(\",\"))] | join(\" \")" out | sort >actual &&
	printf "%s\n" "shop.only view " "shop.ts options timeseries" "shop.v options validator" "shop.vcoll view collation" \
		"shop.vw view pipeline" >expect &&
	test_cmp expect actual &&
	jq -s -e "map(select(.ns == \"shop.only\")) | length == 1 and .[0].target == null and .[0].source.viewOn == \"v\"" out &&
	jq -s -e "map(select(.type == \"summary\")) | map({(.ns): .verdict}) | add |
		.[\"shop.same\"] == \"equal\" and .[\"shop.vsame\"] == \"equal\" and .[\"shop.v\"] == \"different\"
		and .[\"shop.vw\"] == \"different\"" st &&
	test_grep "shop.only: a view on the source only" err &&
	mongo-hashdiff --source "$PS" --target "$PD" --ns shop.same --metadata >out &&
	test_must_be_empty out &&
	mongo-hashdiff --source "$PS" --target "$PD" --db shop --no-metadata >out &&
	test_must_be_empty out
'

require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
hd() { mongo-hashdiff --source "$SRC" --target "$DST" --json relaxed "$@"; }
# both URI NS DOC: the same document on both sides
both() { mp-probe insert "$SRC" "$1" "$2" && mp-probe insert "$DST" "$1" "$2"; }
# index URI COLL SPEC: createIndexes with one index spec (any option)
index() { mp-probe command "$1" $TEST_DB "{\"createIndexes\": \"$2\", \"indexes\": [$3]}" >/dev/null; }
# rec FILE SELECT COND: exactly one record of FILE is selected, and COND holds of it
rec() { jq -s -e "map(select($2)) | length == 1 and (.[0] | $3)" "$1"; }
# listed URI COLL: its listCollections entry
listed() { mp-probe command "$1" $TEST_DB "{\"listCollections\": 1, \"filter\": {\"name\": \"$2\"}}"; }

test_expect_success INDEX_OPTIONS 'equal metadata: exit 0, no records, "metadata equal"' '
	both $TEST_DB.c "{\"_id\": 1, \"x\": 1}" &&
	for uri in "$SRC" "$DST"; do
		mp-probe index "$uri" $TEST_DB.c "{\"x\": 1}" x_1 --unique &&
		index "$uri" c "{\"key\": {\"p\": 1}, \"name\": \"p_1\", \"partialFilterExpression\": {\"p\": {\"\$gt\": 1}}}" &&
		index "$uri" c "{\"key\": {\"t\": 1}, \"name\": \"t_1\", \"expireAfterSeconds\": 60}" &&
		index "$uri" c "{\"key\": {\"a\": 1, \"b\": -1}, \"name\": \"ab\", \"sparse\": true}" || exit 1
	done &&
	hd --ns $TEST_DB.c --metadata >out 2>err &&
	test_must_be_empty out &&
	test_grep "$TEST_DB.c: metadata equal" err &&
	mp-probe indexes "$DST" $TEST_DB.c | sort >names && printf "%s\n" _id_ ab p_1 t_1 x_1 >expect && test_cmp expect names
'

# (also in the scripted catalogs above, for servers that drop unique: false)
test_expect_success 'unique: false is the same as no unique (servers differ in spelling it out)' '
	both $TEST_DB.f "{\"_id\": 1}" &&
	index "$SRC" f "{\"key\": {\"y\": 1}, \"name\": \"y_1\", \"unique\": false}" &&
	index "$DST" f "{\"key\": {\"y\": 1}, \"name\": \"y_1\"}" &&
	hd --ns $TEST_DB.f --metadata >out &&
	test_must_be_empty out
'

test_expect_success 'an index missing on the target: exit 1, an "index" record with target null' '
	both $TEST_DB.m "{\"_id\": 1}" &&
	mp-probe index "$SRC" $TEST_DB.m "{\"y\": 1}" y_1 &&
	test_expect_code 1 hd --ns $TEST_DB.m --metadata >out 2>err &&
	test $(wc -l <out) = 1 &&
	rec out ".ns == \"$TEST_DB.m\" and .diff == \"index\" and .name == \"y_1\"" \
		".target == null and .source.key == {\"y\": 1}" &&
	test_grep "index y_1 missing on the target" err &&
	test_grep "compared 1, equal 1, missing 0, extra 0, changed 0" err
'

test_expect_success '... and one on the target only: source null' '
	mp-probe index "$DST" $TEST_DB.m "{\"z\": 1}" z_1 &&
	test_expect_code 1 hd --ns $TEST_DB.m --metadata >out 2>err &&
	rec out ".name == \"z_1\"" ".source == null and .target.key == {\"z\": 1}" &&
	test_grep "index z_1 only on the target" err
'

test_expect_success 'unique on one side only: the record names the field' '
	both $TEST_DB.u "{\"_id\": 1}" &&
	mp-probe index "$SRC" $TEST_DB.u "{\"e\": 1}" e_1 --unique &&
	mp-probe index "$DST" $TEST_DB.u "{\"e\": 1}" e_1 &&
	test_expect_code 1 hd --ns $TEST_DB.u --metadata >out &&
	rec out ".diff == \"index\" and .name == \"e_1\"" \
		".fields == [\"unique\"] and .source.unique == true and .target.unique != true" &&
	test $(wc -l <out) = 1
'

test_expect_success INDEX_OPTIONS 'a different partialFilterExpression, expireAfterSeconds, sparse, key order' '
	both $TEST_DB.o "{\"_id\": 1}" &&
	index "$SRC" o "{\"key\": {\"p\": 1}, \"name\": \"p_1\", \"partialFilterExpression\": {\"p\": {\"\$gt\": 1}}}" &&
	index "$DST" o "{\"key\": {\"p\": 1}, \"name\": \"p_1\", \"partialFilterExpression\": {\"p\": {\"\$gt\": 2}}}" &&
	index "$SRC" o "{\"key\": {\"t\": 1}, \"name\": \"t_1\", \"expireAfterSeconds\": 60}" &&
	index "$DST" o "{\"key\": {\"t\": 1}, \"name\": \"t_1\", \"expireAfterSeconds\": 3600}" &&
	index "$SRC" o "{\"key\": {\"s\": 1}, \"name\": \"s_1\", \"sparse\": true}" &&
	index "$DST" o "{\"key\": {\"s\": 1}, \"name\": \"s_1\"}" &&
	index "$SRC" o "{\"key\": {\"a\": 1, \"b\": 1}, \"name\": \"k\"}" &&
	index "$DST" o "{\"key\": {\"b\": 1, \"a\": 1}, \"name\": \"k\"}" &&
	test_expect_code 1 hd --ns $TEST_DB.o --metadata >out &&
	jq -r "[.name, (.fields | join(\",\"))] | join(\" \")" out | sort >actual &&
	printf "%s\n" "k key" "p_1 partialFilterExpression" "s_1 sparse" "t_1 expireAfterSeconds" >expect &&
	test_cmp expect actual &&
	rec out ".name == \"t_1\"" ".source.expireAfterSeconds == 60 and .target.expireAfterSeconds == 3600"
'

test_expect_success INDEX_OPTIONS 'the same index with numbers of other types in its key and options is equal' '
	both $TEST_DB.n "{\"_id\": 1}" &&
	index "$SRC" n "{\"key\": {\"q\": 1}, \"name\": \"q_1\", \"expireAfterSeconds\": 60}" &&
	index "$DST" n "{\"key\": {\"q\": {\"\$numberLong\": \"1\"}}, \"name\": \"q_1\", \"expireAfterSeconds\": 60.0}" &&
	mp-probe command "$DST" $TEST_DB "{\"listIndexes\": \"n\"}" >spec &&
	grep -q "numberLong" spec &&
	hd --ns $TEST_DB.n --metadata >out &&
	test_must_be_empty out
'

test_expect_success '--no-metadata, and --ns without --metadata, compare the documents only' '
	hd --ns $TEST_DB.u --no-metadata >out 2>err &&
	test_must_be_empty out &&
	! grep -q metadata err &&
	hd --ns $TEST_DB.u >out &&
	test_must_be_empty out &&
	hd --db $TEST_DB --no-metadata >out &&
	test_must_be_empty out
'

test_expect_success INDEX_OPTIONS '--db compares metadata by default; --stats: verdict "different", the count' '
	test_expect_code 1 hd --db $TEST_DB --stats dbst >out &&
	jq -r "select(.diff == \"index\") | .ns" out | sort -u >nss &&
	printf "%s\n" $TEST_DB.m $TEST_DB.o $TEST_DB.u >expect && test_cmp expect nss &&
	jq -s -e "map(select(.type == \"summary\")) | map({(.ns): [.verdict, .metadata]}) | add |
		.[\"$TEST_DB.o\"] == [\"different\", 4] and .[\"$TEST_DB.c\"] == [\"equal\", 0]
		and .[\"$TEST_DB.u\"] == [\"different\", 1]" dbst
'

test_expect_success INDEX_OPTIONS 'mongo-report counts the metadata differences and shows them' '
	test_expect_code 1 hd --ns $TEST_DB.o --metadata --stats ost >diff &&
	mongo-report --format json diff ost >rep.json &&
	jq -e ".namespaces[] | select(.ns == \"$TEST_DB.o\") | .verdict == \"different\" and .metadata == 4
		and (.differences | map(.name) | sort) == [\"k\", \"p_1\", \"s_1\", \"t_1\"]" rep.json &&
	mongo-report diff >rep.txt &&
	test_grep "metadata" rep.txt && test_grep "different" rep.txt
'

test_expect_success '--emit repair and --emit ids write nothing for a metadata difference; exit 1' '
	test_expect_code 1 hd --ns $TEST_DB.u --metadata --emit repair >out 2>err &&
	test_must_be_empty out &&
	test_grep "index e_1 differs: unique" err &&
	test_expect_code 1 hd --ns $TEST_DB.u --metadata --emit ids >out &&
	test_must_be_empty out
'

test_expect_success '--partition: share 1 alone reports the metadata' '
	test_expect_code 1 hd --ns $TEST_DB.u --metadata --partition 1/2 >one &&
	hd --ns $TEST_DB.u --metadata --partition 2/2 >two &&
	test $(wc -l <one) = 1 && test_must_be_empty two
'

test_expect_success PLAIN_TCP 'a metadata read that fails: 69, verdict "error", never equal' '
	fault_proxy fp "$DST" drop-request --cmd listIndexes &&
	test_expect_code 69 mongo-hashdiff --source "$SRC" --target "$FP_URI" --ns $TEST_DB.u --metadata \
		--stats st2 >out 2>err &&
	test_must_be_empty out &&
	test_grep "target (.*): reading the metadata of $TEST_DB.u" err &&
	rec st2 ".type == \"summary\"" ".verdict == \"error\"" &&
	test_grep "fault=drop-request cmd=listIndexes" fp.log &&
	mongo-hashdiff --source "$SRC" --target "$FP_URI" --ns $TEST_DB.u >out &&
	test_must_be_empty out
'

# Collection options: a validator, then capped.  mongo-java-server accepts a
# validator and drops it (listCollections shows empty options) and refuses
# capped collections; FerretDB refuses validators and keeps capped ones, so
# capped is tested on FerretDB, its two sides two collections of one server.
mp-probe command "$SRC" $TEST_DB '{"create": "v", "validator": {"a": {"$exists": true}}}' >/dev/null 2>&1
if listed "$SRC" v 2>/dev/null | grep -q '"validator"'; then
	test_expect_success 'a validator on the source only: an "options" record naming it' '
		mp-probe create "$DST" $TEST_DB.v &&
		test_expect_code 1 hd --ns $TEST_DB.v --metadata >out &&
		rec out ".diff == \"options\"" ".fields == [\"validator\"] and .source.validator != null"
	'
else
	test_skip 'a validator on the source only: an "options" record naming it' \
		"the test server keeps no validator (listCollections shows none)"
fi

capped_test() {
	local uri=$1
	mp-probe command "$uri" $TEST_DB '{"create": "cap", "capped": true, "size": 4096}' >/dev/null &&
	mp-probe command "$uri" $TEST_DB '{"create": "cap2", "capped": true, "size": 8192}' >/dev/null &&
	mp-probe create "$uri" $TEST_DB.plain &&
	test_expect_code 1 mongo-hashdiff --source "$uri" --target "$uri" --ns $TEST_DB.cap --target-ns $TEST_DB.plain \
		--metadata --json relaxed --stats capst >out &&
	rec out ".diff == \"options\"" ".fields == [\"capped\", \"size\"] and .source.capped == true and .target == {}" &&
	rec capst ".type == \"summary\"" ".verdict == \"different\" and .metadata == 1" &&
	test_expect_code 1 mongo-hashdiff --source "$uri" --target "$uri" --ns $TEST_DB.cap --target-ns $TEST_DB.cap2 \
		--metadata --json relaxed >out &&
	rec out ".diff == \"options\"" ".fields == [\"size\"]" &&
	mongo-hashdiff --source "$uri" --target "$uri" --ns $TEST_DB.cap --target-ns $TEST_DB.cap2 --no-metadata >out &&
	test_must_be_empty out
}
if mp-probe command "$SRC" $TEST_DB '{"create": "captry", "capped": true, "size": 4096}' >/dev/null 2>&1; then
	test_expect_success 'capped against not capped, and another size: "options" records' 'capped_test "$SRC"'
else
	test_expect_success FERRETDB 'capped against not capped, and another size (FerretDB): "options" records' \
		'capped_test "$MP_FERRETDB_URI"'
fi

# Views: neither test server has them (mongo-java-server makes an ordinary
# collection of a create with viewOn, FerretDB refuses it).
mp-probe command "$SRC" $TEST_DB "{\"create\": \"vw\", \"viewOn\": \"c\", \"pipeline\": [{\"\$match\": {\"x\": 1}}]}" \
	>/dev/null 2>&1
if listed "$SRC" vw 2>/dev/null | grep -q '"type":"view"'; then
	test_expect_success 'a view on one side only, and one with another pipeline: "view" records' '
		test_expect_code 1 hd --db $TEST_DB >out &&
		rec out ".diff == \"view\" and .ns == \"$TEST_DB.vw\"" ".target == null and .source.viewOn == \"c\"" &&
		mp-probe command "$DST" $TEST_DB "{\"create\": \"vw\", \"viewOn\": \"c\", \"pipeline\": [{\"\$match\": {\"x\": 2}}]}" &&
		test_expect_code 1 hd --db $TEST_DB >out &&
		rec out ".diff == \"view\" and .ns == \"$TEST_DB.vw\"" ".fields == [\"pipeline\"]"
	'
else
	test_skip 'a view on one side only, and one with another pipeline: "view" records' \
		"the test server has no views (a create with viewOn is not listed as a view)"
fi

# Time series: --db compares them by their metadata alone (the document
# listing leaves them out).  Neither test server has them (mongo-java-server
# makes an ordinary collection, FerretDB refuses the option).
mp-probe command "$SRC" $TEST_DB '{"create": "ts", "timeseries": {"timeField": "t"}}' >/dev/null 2>&1
if listed "$SRC" ts 2>/dev/null | grep -q '"type":"timeseries"'; then
	test_expect_success 'a time series on the source only: its options reported by --db' '
		test_expect_code 1 hd --db $TEST_DB >out &&
		rec out ".diff == \"options\" and .ns == \"$TEST_DB.ts\"" ".target == null and (.fields | index(\"timeseries\")) != null"
	'
else
	test_skip 'a time series on the source only: its options reported by --db' \
		"the test server has no time series (a create with timeseries is not listed as one)"
fi

test_done
