#!/usr/bin/env bash
# examples/mongo-to-cassandra.sh against the test bed and a real Apache
# Cassandra 5.0 started here (tests/server/start-cassandra, one node on
# free loopback ports) with PyPI's cassandra-driver in a virtualenv of the
# cache: the keyspace and table made from FIELDS, ObjectIds, dates and
# decimals typed, per-row checksums, reruns that neither duplicate nor
# rewrite, and failures that write nothing or are never reported as done.
. "$(dirname "$0")/lib.sh"
require_servers
test_have_prereq DECIMAL128 || skip_all "$(prereq_why DECIMAL128): the example maps decimals, its documents hold them"
PY=$("$TEST_ROOT/tests/server/cassandra-driver" 2>driver.err) ||
	skip_all "$(tail -n 1 driver.err)"
CASS_NAME=cassandra-t0903-$$
cass_stop() {
	"$TEST_ROOT/tests/server/stop" "$CASS_NAME" >/dev/null 2>&1
	test_cleanup
}
trap cass_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# exit 2: Cassandra cannot run here (skipped); anything else is a failure
CASSANDRA=$("$TEST_ROOT/tests/server/start-cassandra" "$CASS_NAME" 2>cass.err)
case $? in
0) ;;
2) skip_all "$(tail -n 1 cass.err)" ;;
*) CASSANDRA= ;;
esac

EX=$TEST_ROOT/examples
export SRC=$MP_SOURCE_URI NS=$TEST_DB.people KEYSPACE=shop TABLE=people CASSANDRA CASSANDRA_PYTHON=$PY
export FIELDS='name:text total:decimal price:double qty:bigint created:timestamp old:timestamp
	far:timestamp city=address.city:text first_tag=tags.0:text l:bigint amount:decimal owner:text'
# cql QUERY: its rows, columns joined by |, null as empty
cql() {
	"$PY" - "$CASSANDRA" "$1" <<-\EOF
	import sys
	from cassandra.cluster import Cluster
	host, port = sys.argv[1].rsplit(":", 1)
	cluster = Cluster([host], port=int(port), connect_timeout=5)
	for r in cluster.connect().execute(sys.argv[2]):
	    print("|".join("" if v is None else str(v) for v in r))
	cluster.shutdown()
	EOF
}
row() { cql "select $2 from shop.people where id = '$1'"; }
oid=65a1b2c3d4e5f60718293a4b oid2=65a1b2c3d4e5f60718293a4c

cat >ada.json <<'EOF'
{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "name": "Ada", "total": {"$numberDecimal": "1234.50"},
 "price": 19.99, "qty": {"$numberLong": "9007199254740993"},
 "created": {"$date": "2024-01-02T03:04:05.678Z"}, "old": {"$date": {"$numberLong": "-315619200000"}},
 "far": {"$date": {"$numberLong": "253402300800000"}}, "owner": {"$oid": "65a1b2c3d4e5f60718293a4c"},
 "address": {"city": "London", "zip": "N1 9GU"}, "tags": ["math", "engines"],
 "note": "quotes \" ' back\\slash\nline two \u0001 caf\u00e9 \ud83d\ude00"}
EOF
cat >bob.json <<'EOF'
{"_id": {"$oid": "65a1b2c3d4e5f60718293a4c"}, "name": "Bob", "address": {"city": "Paris"}, "tags": []}
EOF

test_expect_success 'mongo-to-cassandra.sh: a collection into a new keyspace and table, verified' '
	test -n "$CASSANDRA" || { cat cass.err; false; } &&
	mp-probe insert "$SRC" $NS "$(cat ada.json)" "$(cat bob.json)" &&
	mp-gen 200 | mongo-load-bson --uri "$SRC" --ns $NS -q &&
	"$EX/mongo-to-cassandra.sh" >out 2>err &&
	echo "verified: 202 documents in shop.people (202 written, 0 deleted)" >expect &&
	test_cmp expect out &&
	test "$(cql "select count(*) from shop.people")" = 202
'

test_expect_success 'the table made from FIELDS: ObjectId key as text, uuid, decimal, timestamp columns' '
	cat >expect <<-\EOF &&
	amount|decimal
	city|text
	created|timestamp
	doc|text
	far|timestamp
	first_tag|text
	id|text
	l|bigint
	name|text
	old|timestamp
	owner|text
	price|double
	qty|bigint
	sum|text
	total|decimal
	uid|uuid
	EOF
	cql "select column_name, type from system_schema.columns
		where keyspace_name = '\''shop'\'' and table_name = '\''people'\''" | sort >got &&
	test_cmp expect got &&
	cql "select column_name, kind from system_schema.columns where keyspace_name = '\''shop'\''
		and table_name = '\''people'\'' and column_name = '\''id'\''" >got &&
	echo "id|partition_key" >expect &&
	test_cmp expect got
'

test_expect_success 'typed values: ObjectIds as hex, decimal exact, int64 beyond 2^53, dates before 1970 and after 9999' '
	row $oid "id, name, total, price, qty, tounixtimestamp(created), tounixtimestamp(old),
		tounixtimestamp(far), city, first_tag, owner" >got &&
	echo "$oid|Ada|1234.50|19.99|9007199254740993|1704164645678|-315619200000|253402300800000|London|math|$oid2" >expect &&
	test_cmp expect got &&
	row $oid2 "id, name, city, total, created, first_tag" >got &&
	echo "$oid2|Bob|Paris|||" >expect &&
	test_cmp expect got &&
	"$PY" -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_OID, \"$oid\"))" >expect &&
	row $oid uid >got &&
	test_cmp expect got
'

test_expect_success 'typed values of 200 generated documents equal the source field by field' '
	mp-probe find "$SRC" $NS "{}" "{\"_id\": 1}" | jq -r "select(._id | has(\"\$numberInt\"))
		| [._id[\"\$numberInt\"], .name, .l[\"\$numberLong\"], .amount[\"\$numberDecimal\"],
		.created[\"\$date\"][\"\$numberLong\"]] | join(\"|\")" | sort >expect &&
	cql "select id, name, l, amount, tounixtimestamp(created) from shop.people" | grep "^[0-9]*|" | sort >got &&
	test $(wc -l <got) = 200 &&
	test_cmp expect got
'

test_expect_success 'the doc column holds the document as canonical Extended JSON, the tricky string byte for byte' '
	mp-probe find "$SRC" $NS "{\"_id\": {\"\$oid\": \"$oid\"}}" | jq -j .note >expect &&
	row $oid doc >doc.json &&
	jq -j .note doc.json >got &&
	cmp expect got &&
	test "$(jq -c ".total, .qty, .far" doc.json | tr "\n" " ")" = "{\"\$numberDecimal\":\"1234.50\"} {\"\$numberLong\":\"9007199254740993\"} {\"\$date\":{\"\$numberLong\":\"253402300800000\"}} "
'

test_expect_success 'a rerun changes nothing: same count, no row rewritten' '
	cql "select id, writetime(doc) from shop.people" | sort >before &&
	"$EX/mongo-to-cassandra.sh" >out &&
	echo "verified: 202 documents in shop.people (0 written, 0 deleted)" >expect &&
	test_cmp expect out &&
	cql "select id, writetime(doc) from shop.people" | sort >after &&
	test_cmp before after
'

test_expect_success 'a rerun mirrors updates, inserts and deletions, rewriting only those rows' '
	mp-probe update "$SRC" $NS "{\"_id\": 7}" "{\"\$set\": {\"name\": \"renamed\", \"address\": {\"city\": \"Oslo\"}}}" &&
	mp-probe delete "$SRC" $NS "{\"_id\": 8}" &&
	mp-probe insert "$SRC" $NS "{\"_id\": 1000, \"name\": \"new\"}" &&
	"$EX/mongo-to-cassandra.sh" >out &&
	echo "verified: 202 documents in shop.people (2 written, 1 deleted)" >expect &&
	test_cmp expect out &&
	test "$(cql "select count(*) from shop.people")" = 202 &&
	test "$(row 7 "name, city")" = "renamed|Oslo" &&
	test -z "$(row 8 id)" &&
	test "$(row 1000 name)" = new
'

test_expect_success 'rows changed behind its back fail their checksum and are rewritten' '
	cql "update shop.people set doc = '\''{}'\'' where id = '\''9'\''" &&
	cql "update shop.people set amount = 1 where id = '\''10'\''" &&
	"$EX/mongo-to-cassandra.sh" >out &&
	echo "verified: 202 documents in shop.people (2 written, 0 deleted)" >expect &&
	test_cmp expect out &&
	test "$(row 10 amount)" = "$(mp-probe find "$SRC" $NS "{\"_id\": 10}" | jq -r ".amount[\"\$numberDecimal\"]")"
'

test_expect_success 'two _ids with the same text share a row: the counts differ, exit 1' '
	mp-probe insert "$SRC" $NS "{\"_id\": \"1000\", \"name\": \"twin\"}" &&
	test_expect_code 1 "$EX/mongo-to-cassandra.sh" >out 2>err &&
	test_must_be_empty out &&
	test_grep "$NS gave 203 documents but shop.people has 202 rows" err &&
	mp-probe delete "$SRC" $NS "{\"_id\": \"1000\"}"
'

test_expect_success 'a value that does not cast: exit 65, nothing written' '
	cql "select id, writetime(doc) from shop.people" | sort >before &&
	mp-probe update "$SRC" $NS "{\"_id\": 11}" "{\"\$set\": {\"l\": 3.5}}" &&
	mp-probe update "$SRC" $NS "{\"_id\": 12}" "{\"\$set\": {\"name\": \"changed\"}}" &&
	test_expect_code 65 "$EX/mongo-to-cassandra.sh" >out 2>err &&
	test_must_be_empty out &&
	test_grep "_id 11, l bigint: 3.5 is not an integer; nothing written" err &&
	cql "select id, writetime(doc) from shop.people" | sort >after &&
	test_cmp before after &&
	mp-probe update "$SRC" $NS "{\"_id\": 11}" "{\"\$set\": {\"l\": {\"\$numberLong\": \"11\"}}}"
'

test_expect_success 'the dump fails or finds no collection: nothing written, exit the dump status or 69' '
	cql "select id, writetime(doc) from shop.people" | sort >before &&
	test_expect_code 69 env SRC="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1000" \
		"$EX/mongo-to-cassandra.sh" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^mongo-dump-bson: " err &&
	test_grep "nothing written, shop.people is unchanged" err &&
	test_expect_code 66 env NS=$TEST_DB.typo TABLE=people "$EX/mongo-to-cassandra.sh" >out 2>err &&
	test_grep "no such collection: $TEST_DB.typo" err &&
	mp-probe create "$SRC" $TEST_DB.empty &&
	test_expect_code 69 env NS=$TEST_DB.empty TABLE=people "$EX/mongo-to-cassandra.sh" >out 2>err &&
	test_grep "the collection is empty: not emptying shop.people" err &&
	test_must_be_empty out &&
	cql "select id, writetime(doc) from shop.people" | sort >after &&
	test_cmp before after
'

test_expect_success 'a stream without the end marker or short of its count: nothing written' '
	cql "select id, writetime(doc) from shop.people" | sort >before &&
	mongo-dump-bson --uri "$SRC" --ns $NS --format ndjson --json canonical >dump.json &&
	{ head -n 5 dump.json | jq -c ".name = \"cut\""; } >cut.json &&
	test_expect_code 3 "$PY" "$EX/mongo-to-cassandra.py" "$CASSANDRA" shop people name:text <cut.json >out 2>err &&
	test_must_be_empty out &&
	test_grep "the document stream ended before the end marker; nothing written" err &&
	{ cat cut.json; echo "[\"end of dump\", 6]"; } >short.json &&
	test_expect_code 3 "$PY" "$EX/mongo-to-cassandra.py" "$CASSANDRA" shop people name:text <short.json 2>err &&
	test_grep "mongo-dump-bson counted 6 documents, 5 arrived; nothing written" err &&
	cql "select id, writetime(doc) from shop.people" | sort >after &&
	test_cmp before after
'

test_expect_success 'writes that Cassandra refuses (two replicas on one node): exit 69, never reported verified' '
	test_expect_code 69 env KEYSPACE=two REPLICAS=2 "$EX/mongo-to-cassandra.sh" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^mongo-to-cassandra.sh: Cassandra at $CASSANDRA failed after 0 writes: .*; two.people is not verified, rerun$" err
'

test_expect_success 'bad parameters: exit 64 before anything runs' '
	test_expect_code 64 env FIELDS="name" "$EX/mongo-to-cassandra.sh" 2>err &&
	test_grep "bad FIELDS entry" err &&
	test_expect_code 64 env FIELDS="id:text" "$EX/mongo-to-cassandra.sh" 2>err &&
	test_grep "the column id is the table" err &&
	test_expect_code 64 env FIELDS="x:blob" "$EX/mongo-to-cassandra.sh" 2>err &&
	test_expect_code 64 env FIELDS="name:bigint" "$EX/mongo-to-cassandra.sh" 2>err &&
	test_grep "shop.people.name is text, FIELDS says bigint" err &&
	test_expect_code 64 env TABLE="a;drop" "$EX/mongo-to-cassandra.sh" 2>err &&
	test_grep "TABLE must be" err &&
	test_expect_code 64 env -u SRC "$EX/mongo-to-cassandra.sh" 2>err &&
	test_grep "set SRC" err
'

test_expect_success 'Cassandra down: exit 69, one line on stderr, nothing reported done' '
	"$TEST_ROOT/tests/server/stop" "$CASS_NAME" &&
	test_expect_code 69 "$EX/mongo-to-cassandra.sh" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^mongo-to-cassandra.sh: cannot connect to Cassandra at $CASSANDRA: " err &&
	test $(wc -l <err) = 1
'

test_done
