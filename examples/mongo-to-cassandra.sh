#!/usr/bin/env bash
# examples/mongo-to-cassandra.sh: a collection into a Cassandra table, as a
# complete job to rerun at will: the _id as the text primary key (an ObjectId
# as its hex string), a deterministic uuid beside it (uuid5 of that key, for
# tables keyed by uuid), each document whole as canonical Extended JSON in a
# text column, chosen fields in typed columns, and a per-row checksum.  Rows
# are upserts, so a rerun updates instead of duplicating, and writes only the
# rows whose checksum changed; then every row is read back and checked.
#
#   SRC=mongodb://... NS=shop.customers CASSANDRA=10.0.0.5:9042 KEYSPACE=shop \
#   FIELDS='name:text total:decimal qty:bigint created:timestamp city=address.city:text' \
#   examples/mongo-to-cassandra.sh
#
# SRC, NS    the source server and collection
# CASSANDRA  host:port of a node's native transport, default 127.0.0.1:9042
# KEYSPACE   default the database's name; created when missing with
#            SimpleStrategy and REPLICAS copies (default 1)
# TABLE      default the collection's name; created when missing as
#            (id text PRIMARY KEY, uid uuid, doc text, sum text)
# FIELDS     typed columns, [column=]field.path:type separated by spaces;
#            the column is named after the path (dots as _) and added when
#            missing.  Types: text ascii varchar bigint int smallint tinyint
#            varint decimal double float timestamp boolean uuid.  ObjectIds
#            become hex text, dates timestamp (milliseconds, any year),
#            $numberDecimal decimal exactly, integers stay exact, a missing
#            field is null; a value that does not cast (3.5 into bigint)
#            stops the job before anything is written (exit 65).
# CASSANDRA_PYTHON  a python3 with cassandra-driver (pip install
#            cassandra-driver), default python3
#
# Prints "verified: N documents in KEYSPACE.TABLE (W written, D deleted)".
# Exit 0 verified: as many rows as documents and every row's checksum,
# recomputed from what Cassandra returns, equal to its document's (a row
# changed behind the job's back fails it, and is rewritten by the next run);
# 1 they differ; 64 bad parameters; 65 a value does not cast; 69 Cassandra
# unreachable or a write failed; else the status of a failed mongo-dump-bson.
# Cassandra has no transactions: the whole dump is read and converted before
# the first write, so a dump cut short or a bad value writes nothing; a node
# lost while writing leaves some rows written and the job unverified (69),
# and a rerun finishes it.  Rows whose _id left the collection are deleted,
# but an empty collection never empties a table.  The loader holds the
# collection's rows in memory.  _ids of different types with the same text
# (1 and "1") share a row, and the counts then differ (exit 1).
set -euo pipefail
me=${0##*/}
die() { echo "$me: $2" >&2; exit "$1"; }
[ -n "${SRC:-}" ] || die 64 "set SRC to the source URI"
[[ ${NS:-} == ?*.?* ]] || die 64 "set NS to db.collection"
CASSANDRA=${CASSANDRA:-127.0.0.1:9042}
KEYSPACE=${KEYSPACE:-$(printf %s "${NS%%.*}" | tr -c 'A-Za-z0-9_' _)}
TABLE=${TABLE:-$(printf %s "${NS#*.}" | tr -c 'A-Za-z0-9_' _)}
py=${CASSANDRA_PYTHON:-python3}
loader=$(dirname "$0")/mongo-to-cassandra.py
read -rd "" -a fields <<<"${FIELDS:-}" || true # spaces, tabs and newlines between entries
export NS

stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
set +e
{ mongo-dump-bson --uri "$SRC" --ns "$NS" --format ndjson --json canonical --stats "$stats" &&
	jq -c 'select(.type == "summary") | ["end of dump", .docs]' "$stats"; } |
	"$py" "$loader" "$CASSANDRA" "$KEYSPACE" "$TABLE" "${fields[@]}"
st=("${PIPESTATUS[@]}")
set -e
case ${st[1]} in
0 | 1 | 64 | 65) exit "${st[1]}" ;;
3) # the stream ended early: the dump's own status says why
	echo "$me: nothing written, $KEYSPACE.$TABLE is unchanged (mongo-dump-bson/jq exit ${st[0]})" >&2
	case ${st[0]} in 0 | 74 | 141) exit 69 ;; *) exit "${st[0]}" ;; esac ;;
*) exit 69 ;;
esac
