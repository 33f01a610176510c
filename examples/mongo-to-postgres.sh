#!/usr/bin/env bash
# examples/mongo-to-postgres.sh: a collection into a PostgreSQL table, as a
# complete job to rerun at will: each document whole in a jsonb column, its
# _id as the text key (an ObjectId as its hex string), chosen fields in typed
# columns.  One transaction loads a staging table with \copy and merges it
# with INSERT ... ON CONFLICT, so a rerun updates instead of duplicating and
# the table mirrors the collection; then the counts are compared.
#
#   SRC=mongodb://... NS=shop.customers PGURI=postgresql://app@db/shop TABLE=customers \
#   FIELDS='name:text total:numeric qty:bigint created:timestamptz city=address.city:text' \
#   examples/mongo-to-postgres.sh
#
# SRC, NS   the source server and collection
# PGURI     a libpq URI or connection string; unset, the PG* variables apply
#           (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD or ~/.pgpass)
# TABLE     [schema.]name, default the collection's name; created when
#           missing as (id text primary key, doc jsonb)
# FIELDS    typed columns, [column=]field.path:type separated by spaces (not
#           COLUMNS, which shells keep for the terminal width).  The column is
#           named after the path (dots as _) and added when missing.  ObjectIds
#           become hex text, dates timestamptz, $numberDecimal and integers stay
#           exact, doubles take their shortest decimal form, a missing field is
#           NULL; a value that does not cast (3.5 into bigint) stops the load.
#
# Prints "verified: N documents in TABLE".  Exit 0 verified; 1 the counts
# differ; 64 bad parameters; 69 PostgreSQL unreachable or the load failed;
# else the status of a failed mongo-dump-bson.  Whenever it fails, the table is
# as it was: the transaction commits only if the stream ends with the dump's
# own count (written by jq from the dump's stats), so a dump cut short never
# passes for a small collection.  jq never re-prints a document: jq 1.6 rounds
# integers beyond 2^53, while jsonb keeps every digit.
#
# Rows whose _id left the collection are deleted, but an empty collection never
# empties a table (truncate it yourself).  Limits: jsonb cannot hold U+0000 in
# a string; _ids of different types with the same text (1 and "1") share a row.
# A double in doc is written in its shortest exact form (51.53), as the dump
# prints it.
set -euo pipefail
me=${0##*/}
die() { echo "$me: $2" >&2; exit "$1"; }
[ -n "${SRC:-}" ] || die 64 "set SRC to the source URI"
[[ ${NS:-} == ?*.?* ]] || die 64 "set NS to db.collection"
ident='[A-Za-z_][A-Za-z0-9_]*'
TABLE=${TABLE:-$(printf %s "${NS#*.}" | tr -c 'A-Za-z0-9_' _)}
[[ $TABLE =~ ^($ident\.)?$ident$ ]] || die 64 "TABLE must be [schema.]name of letters, digits and _: $TABLE"
table=$(printf %s "${TABLE,,}" | sed 's/[^.]*/"&"/g')

# typed columns: the SQL for ALTER TABLE, the INSERT's columns and values, the upsert
alter= cols= exprs= sets= tcols= xcols=
for f in ${FIELDS:-}; do
	[[ $f =~ ^(($ident)=)?([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*):([A-Za-z][A-Za-z0-9_]*(\([0-9,]+\))?)$ ]] ||
		die 64 "bad FIELDS entry '$f' (want [column=]field.path:type)"
	path=${BASH_REMATCH[3]} type=${BASH_REMATCH[5]} col=${BASH_REMATCH[2]:-${BASH_REMATCH[3]//[.-]/_}}
	col=\"${col,,}\"
	case $col in '"id"' | '"doc"') die 64 "FIELDS: the column $col is the table's own" ;; esac
	v="doc #> '{${path//./,}}'"
	case ${type,,} in
	json | jsonb) e="($v)::$type" ;;
	timestamptz* | timestamp* | date) e="pg_temp.mp_time($v)::$type" ;;
	*) e="pg_temp.mp_text($v)::$type" ;;
	esac
	alter+="${alter:+,} ADD COLUMN IF NOT EXISTS $col $type"
	cols+=", $col" exprs+=", $e" sets+=", $col = EXCLUDED.$col" tcols+=", t.$col" xcols+=", EXCLUDED.$col"
done
[ -z "$alter" ] || alter="ALTER TABLE $table$alter;"

# mp_text: a relaxed Extended JSON value as text ({"$oid": h} is h, a double its
# shortest form); mp_time: a date ({"$date": ...}) or a timestamp string
setup=$(cat <<'SQL'
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 1;
CREATE FUNCTION pg_temp.mp_text(v jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v #>> '{}' ~ '[.eE]' THEN (v #>> '{}')::float8::text
	ELSE coalesce(v ->> '$oid', v ->> '$numberDecimal', v ->> '$numberDouble', v ->> '$numberLong',
		v #>> '{$date,$numberLong}', v ->> '$date', v #>> '{}') END
$$;
CREATE FUNCTION pg_temp.mp_time(v jsonb) RETURNS timestamptz LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN v #> '{$date,$numberLong}' IS NOT NULL
	THEN to_timestamp((v #>> '{$date,$numberLong}')::numeric / 1000)
	ELSE pg_temp.mp_text(v)::timestamptz END
$$;
CREATE TABLE IF NOT EXISTS @TABLE@ (id text PRIMARY KEY, doc jsonb NOT NULL);
@ALTER@
CREATE TEMP TABLE mp_stage (n bigint GENERATED ALWAYS AS IDENTITY, doc jsonb NOT NULL) ON COMMIT DROP;
SQL
)
# CSV with quote and delimiter bytes that JSON always escapes: each line verbatim
copy="\\copy mp_stage (doc) FROM pstdin WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
merge=$(cat <<'SQL'
DO $$
DECLARE dumped bigint; staged bigint;
BEGIN
	SELECT (doc ->> 1)::bigint INTO dumped FROM mp_stage WHERE jsonb_typeof(doc) = 'array';
	IF dumped IS NULL THEN
		RAISE EXCEPTION 'the document stream ended before the end marker';
	END IF;
	SELECT count(*) INTO staged FROM mp_stage WHERE jsonb_typeof(doc) = 'object';
	IF staged <> dumped THEN
		RAISE EXCEPTION 'mongo-dump-bson counted % documents, % arrived', dumped, staged;
	END IF;
	IF dumped = 0 AND EXISTS (SELECT FROM @TABLE@) THEN
		RAISE EXCEPTION 'the collection is empty: not emptying @TABLE@ (truncate it yourself)';
	END IF;
END $$;
CREATE TEMP TABLE mp_rows ON COMMIT DROP AS
	SELECT DISTINCT ON (id) id, doc FROM (SELECT pg_temp.mp_text(doc -> '_id') AS id, doc, n
		FROM mp_stage WHERE jsonb_typeof(doc) = 'object') s ORDER BY id, n DESC;
DELETE FROM @TABLE@ t WHERE NOT EXISTS (SELECT FROM mp_rows r WHERE r.id = t.id);
INSERT INTO @TABLE@ AS t (id, doc@COLS@) SELECT id, doc@EXPRS@ FROM mp_rows
	ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc@SETS@
	WHERE (t.doc@TCOLS@) IS DISTINCT FROM (EXCLUDED.doc@XCOLS@);
SQL
)
setup=${setup//@TABLE@/$table} setup=${setup//@ALTER@/$alter}
merge=${merge//@TABLE@/$table} merge=${merge//@COLS@/$cols} merge=${merge//@EXPRS@/$exprs}
merge=${merge//@SETS@/$sets} merge=${merge//@TCOLS@/$tcols} merge=${merge//@XCOLS@/$xcols}

export PGCLIENTENCODING=UTF8
pg=(psql -X -q -v ON_ERROR_STOP=1)
[ -z "${PGURI:-}" ] || pg+=(-d "$PGURI")
err=$("${pg[@]}" -c 'SELECT 1' 2>&1 >/dev/null) || die 69 "cannot connect to PostgreSQL: ${err#psql: error: }"

stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
{ mongo-dump-bson --uri "$SRC" --ns "$NS" --format ndjson --json relaxed --stats "$stats" &&
	jq -c 'select(.type == "summary") | ["end of dump", .docs]' "$stats"; } |
	"${pg[@]}" -1 -c "$setup" -c "$copy" -c "$merge" || {
	st=("${PIPESTATUS[@]}")
	echo "$me: nothing loaded, $TABLE is unchanged (mongo-dump-bson/jq exit ${st[0]}, psql exit ${st[1]})" >&2
	case ${st[0]} in 0 | 74 | 141) exit 69 ;; *) exit "${st[0]}" ;; esac
}

dumped=$(jq -r 'select(.type == "summary") | .docs' "$stats")
rows=$("${pg[@]}" -At -c "SELECT count(*) FROM $table")
if [ "$rows" != "$dumped" ]; then
	echo "$me: $NS gave $dumped documents but $TABLE has $rows rows" >&2
	exit 1
fi
echo "verified: $rows documents in $TABLE"
