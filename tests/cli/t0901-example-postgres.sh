#!/usr/bin/env bash
# examples/mongo-to-postgres.sh against the test bed and a PostgreSQL server
# started here (127.0.0.1 and a socket in the scratch directory): typed
# columns, the whole document as jsonb, a tricky string byte for byte, reruns
# that neither duplicate nor rewrite, and failures that leave the table as it was.
. "$(dirname "$0")/lib.sh"
require_servers
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ] || [ ! -x "$pgbin/pg_ctl" ] || ! command -v psql >/dev/null; then
	skip_all "PostgreSQL is not installed (make deps)"
fi
test_have_prereq DECIMAL128 || skip_all "$(prereq_why DECIMAL128): the example maps decimals, its documents hold them"

# PostgreSQL refuses to run as root: then it runs as the postgres user, on a
# directory of its own that it can reach through the (root-owned) scratch dir
as_pg() { "$@"; }
PGDIR=$SCRATCH/pg
mkdir "$PGDIR"
if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || skip_all "running as root and there is no postgres user"
	as_pg() { runuser -u postgres -- "$@"; }
	chmod 755 "$SCRATCH"
	chown postgres: "$PGDIR"
fi
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pg_stop() {
	[ ! -f "$PGDIR/data/postmaster.pid" ] ||
		as_pg "$pgbin/pg_ctl" -D "$PGDIR/data" -m fast -w -s stop >/dev/null 2>&1
	test_cleanup
}
trap pg_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

unset PGURI PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE \
	PGOPTIONS PGSSLMODE PGCONNECT_TIMEOUT
export PGHOST=$PGDIR PGUSER=postgres PGDATABASE=postgres PGTZ=UTC PGPORT
EX=$TEST_ROOT/examples
export SRC=$MP_SOURCE_URI NS=$TEST_DB.people TABLE=people
export FIELDS='name:text total:numeric price:numeric qty:bigint created:timestamptz old:timestamptz
	far:timestamptz city=address.city:text first_tag=tags.0:text note:text l:bigint amount:numeric'
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
row() { sql "select $2 from people where id = '$1'"; }
oid=65a1b2c3d4e5f60718293a4b oid2=65a1b2c3d4e5f60718293a4c

# the string has both quotes, backslashes (\x01, \N, \. alone on a line: COPY
# escapes), CR LF, a tab, the bytes 01 and 02, and 2-, 3- and 4-byte UTF-8
cat >ada.json <<'EOF'
{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "name": "Ada", "total": {"$numberDecimal": "1234.50"},
 "price": 19.99, "qty": {"$numberLong": "9007199254740993"},
 "created": {"$date": "2024-01-02T03:04:05.678Z"}, "old": {"$date": {"$numberLong": "-315619200000"}},
 "far": {"$date": {"$numberLong": "253402300800000"}},
 "address": {"city": "London", "zip": "N1 9GU", "geo": {"lat": 51.53, "lon": -0.1}},
 "tags": ["math", "engines"],
 "note": "She said \"hi\", 'ok'; back\\slash \\x01 \\N\nline two\r\n\\.\n\ttab \u0001\u0002 caf\u00e9 \u20ac \ud83d\ude00 \u65e5\u672c"}
EOF
cat >bob.json <<'EOF'
{"_id": {"$oid": "65a1b2c3d4e5f60718293a4c"}, "name": "Bob", "address": {"city": "Paris"}, "tags": []}
EOF

test_expect_success 'PostgreSQL runs on 127.0.0.1 and on a socket in the scratch directory' '
	as_pg "$pgbin/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C -N >"$PGDIR/initdb.log" 2>&1 ||
		{ cat "$PGDIR/initdb.log"; exit 1; }
	for try in 1 2 3; do
		PGPORT=$(free_port) &&
		as_pg "$pgbin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -s \
			-o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -k $PGDIR -c fsync=off" start && break
	done
	echo "$PGPORT" >"$PGDIR/port" &&
	test "$(psql -X -At -d "postgresql://postgres@127.0.0.1:$PGPORT/postgres" -c "select 1")" = 1 &&
	test "$(sql "select 2")" = 2 ||
		{ cat "$PGDIR/log"; exit 1; }
'
PGPORT=$(cat "$PGDIR/port" 2>/dev/null || echo 1)
PGURI=postgresql://postgres@127.0.0.1:$PGPORT/postgres

test_expect_success 'mongo-to-postgres.sh: a collection into a table over TCP, verified by count' '
	mp-probe insert "$SRC" $NS "$(cat ada.json)" "$(cat bob.json)" &&
	mp-gen 200 | mongo-load-bson --uri "$SRC" --ns $NS -q &&
	PGURI=$PGURI "$EX/mongo-to-postgres.sh" >out 2>err &&
	echo "verified: 202 documents in people" >expect &&
	test_cmp expect out &&
	test "$(sql "select count(*) from people")" = 202
'

test_expect_success 'typed columns: the table made from FIELDS' '
	cat >expect <<-\EOF &&
	id|text
	doc|jsonb
	name|text
	total|numeric
	price|numeric
	qty|bigint
	created|timestamp with time zone
	old|timestamp with time zone
	far|timestamp with time zone
	city|text
	first_tag|text
	note|text
	l|bigint
	amount|numeric
	EOF
	sql "select column_name, data_type from information_schema.columns
		where table_name = '\''people'\'' order by ordinal_position" >got &&
	test_cmp expect got
'

test_expect_success 'typed values: ObjectId as hex, decimal and double exact, int64 beyond 2^53, dates before 1970 and after 9999' '
	row $oid "id, name, total, price, qty, created = '\''2024-01-02 03:04:05.678Z'\'',
		old = '\''1960-01-01 00:00:00Z'\'', far = '\''10000-01-01 00:00:00Z'\'', city, first_tag" >got &&
	echo "$oid|Ada|1234.50|19.99|9007199254740993|t|t|t|London|math" >expect &&
	test_cmp expect got &&
	row $oid2 "id, name, city, total is null and created is null and first_tag is null" >got &&
	echo "$oid2|Bob|Paris|t" >expect &&
	test_cmp expect got
'

test_expect_success 'typed values of 200 generated documents equal the source field by field' '
	mp-probe find "$SRC" $NS "{}" "{\"_id\": 1}" | jq -r "select(._id | has(\"\$numberInt\"))
		| [._id[\"\$numberInt\"], .name, .l[\"\$numberLong\"], .amount[\"\$numberDecimal\"],
		.created[\"\$date\"][\"\$numberLong\"]] | join(\"|\")" >expect &&
	sql "select id, name, l, amount, (extract(epoch from created) * 1000)::bigint
		from people where id ~ '\''^[0-9]+$'\'' order by id::int" >got &&
	test $(wc -l <got) = 200 &&
	test_cmp expect got
'

test_expect_success 'the jsonb column holds the whole document: nested fields, arrays, Extended JSON' '
	row $oid "doc -> '\''address'\'' ->> '\''city'\'', doc #>> '\''{address,geo,lat}'\'',
		doc -> '\''tags'\'' ->> 1, doc -> '\''_id'\'' ->> '\''\$oid'\'',
		doc -> '\''total'\'' ->> '\''\$numberDecimal'\'', doc ->> '\''qty'\''" >got &&
	echo "London|51.53|engines|$oid|1234.50|9007199254740993" >expect &&
	test_cmp expect got &&
	mp-probe find "$SRC" $NS "{}" "{\"_id\": 1}" | jq -r "select(._id | has(\"\$numberInt\"))
		| [._id[\"\$numberInt\"], .nested.sub.y, .nested.tags[1], (.nested | keys | join(\",\"))] | join(\"|\")" >expect &&
	sql "select id, doc #>> '\''{nested,sub,y}'\'', doc #>> '\''{nested,tags,1}'\'',
		(select string_agg(k, '\'','\'' order by k) from jsonb_object_keys(doc -> '\''nested'\'') k)
		from people where id ~ '\''^[0-9]+$'\'' order by id::int" >got &&
	test_cmp expect got
'

test_expect_success 'the tricky string survived byte for byte, in the jsonb and the text column' '
	{ jq -j .note ada.json; echo; } >expect &&
	mp-probe find "$SRC" $NS "{\"_id\": {\"\$oid\": \"$oid\"}}" | jq -j .note >mongo && echo >>mongo &&
	test_cmp expect mongo &&
	row $oid note >got &&
	cmp expect got &&
	row $oid "doc ->> '\''note'\''" >got &&
	cmp expect got
'

test_expect_success 'a rerun changes nothing: same count, no row rewritten' '
	sql "select id, xmin::text from people order by id" >before &&
	PGURI=$PGURI "$EX/mongo-to-postgres.sh" >out &&
	test_grep "^verified: 202 documents in people$" out &&
	sql "select id, xmin::text from people order by id" >after &&
	test_cmp before after
'

test_expect_success 'a rerun over PG* variables and the socket mirrors updates, inserts and deletions' '
	mp-probe update "$SRC" $NS "{\"_id\": 7}" "{\"\$set\": {\"name\": \"renamed\", \"address\": {\"city\": \"Oslo\"}}}" &&
	mp-probe delete "$SRC" $NS "{\"_id\": 8}" &&
	mp-probe insert "$SRC" $NS "{\"_id\": 1000, \"name\": \"new\"}" &&
	"$EX/mongo-to-postgres.sh" >out &&
	test_grep "^verified: 202 documents in people$" out &&
	test "$(sql "select count(*) from people")" = 202 &&
	test "$(row 7 "name, city")" = "renamed|Oslo" &&
	test -z "$(row 8 id)" &&
	test "$(row 1000 name)" = new
'

test_expect_success 'PostgreSQL unreachable: exit 69, a clear message, nothing on stdout' '
	dead=$(free_port) &&
	test_expect_code 69 env PGURI=postgresql://postgres@127.0.0.1:$dead/postgres "$EX/mongo-to-postgres.sh" >out 2>err &&
	test_must_be_empty out &&
	test_grep "mongo-to-postgres.sh: cannot connect to PostgreSQL: .*127.0.0.1.*$dead.*refused" err
'

test_expect_success 'the dump fails, finds an empty collection or no collection: nothing loaded, the table as it was' '
	sql "select id, xmin::text from people order by id" >before &&
	test_expect_code 69 env SRC="mongodb://127.0.0.1:$(free_port)/?serverSelectionTimeoutMS=1000" \
		"$EX/mongo-to-postgres.sh" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^mongo-dump-bson: " err &&
	test_grep "nothing loaded, people is unchanged" err &&
	mp-probe create "$SRC" $TEST_DB.empty &&
	test_expect_code 69 env NS=$TEST_DB.empty "$EX/mongo-to-postgres.sh" >out 2>err &&
	test_grep "the collection is empty: not emptying" err &&
	test_expect_code 66 env NS=$TEST_DB.typo "$EX/mongo-to-postgres.sh" >out 2>err &&
	test_grep "no such collection: $TEST_DB.typo" err &&
	test_grep "nothing loaded, people is unchanged" err &&
	sql "select id, xmin::text from people order by id" >after &&
	test_cmp before after
'

test_expect_success 'bad parameters: exit 64 before anything runs' '
	test_expect_code 64 env FIELDS="name" "$EX/mongo-to-postgres.sh" 2>err &&
	test_grep "bad FIELDS entry" err &&
	test_expect_code 64 env FIELDS="id:text" "$EX/mongo-to-postgres.sh" 2>err &&
	test_expect_code 64 env TABLE="a;drop" "$EX/mongo-to-postgres.sh" 2>err &&
	test_grep "TABLE must be" err &&
	test_expect_code 64 env -u SRC "$EX/mongo-to-postgres.sh" 2>err &&
	test_grep "set SRC" err
'

test_done
