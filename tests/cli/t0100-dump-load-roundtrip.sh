#!/usr/bin/env bash
# Full copy round trips: server -> stream -> server for every BSON type the
# test server keeps, in both formats, gzip and not, through the pipeline
# exactly as DESIGN.md writes it; contents compared through an independent
# reader (mp-probe, plain mongoc) in _id order.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

test_expect_success 'seed the source with mixed types and mixed _ids' '
	mp-gen 3000 --mixed-ids $(gen_types) >seed.bson &&
	mongo-load-bson --uri "$SRC" --ns $TEST_DB.c --from seed.bson &&
	mp-probe count "$SRC" $TEST_DB.c >n && echo 3000 >expect && test_cmp expect n &&
	mp-probe find "$SRC" $TEST_DB.c "{}" "{\"_id\": 1}" >source.json
'

for fmt in bson ndjson; do
	for gz in "" --gzip; do
		test_expect_success "dump | load round trip, --format $fmt $gz" '
			mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --format '$fmt' '$gz' >stream &&
			mongo-load-bson --uri "$DST" --ns $TEST_DB.rt_'$fmt${gz:+_gz}' --drop <stream &&
			mp-probe find "$DST" $TEST_DB.rt_'$fmt${gz:+_gz}' "{}" "{\"_id\": 1}" >target.json &&
			test_cmp source.json target.json
		'
	done
done

test_expect_success 'the pipeline as DESIGN.md writes it' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c | mongo-load-bson --uri "$DST" --ns $TEST_DB.c &&
	mp-probe find "$DST" $TEST_DB.c "{}" "{\"_id\": 1}" >target.json &&
	test_cmp source.json target.json
'

test_expect_success 'relaxed JSON is readable by jq and loads back' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --format ndjson --json relaxed --limit 5 >relaxed.ndjson &&
	test $(jq -s length relaxed.ndjson) = 5
'

test_expect_success '--from transcodes BSON to NDJSON and back byte for byte' '
	mongo-dump-bson --from seed.bson --format ndjson >seed.ndjson &&
	mongo-dump-bson --from seed.ndjson >back.bson &&
	cmp seed.bson back.bson &&
	mongo-dump-bson --from seed.bson --gzip --output seed.bson.gz &&
	mongo-dump-bson --from seed.bson.gz >back2.bson &&
	cmp seed.bson back2.bson
'

test_expect_success '--query, --projection, --sort and --limit select on the server' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --query "{\"i\": {\"\$lt\": 10}}" \
		--projection "{\"i\": 1}" --sort "{\"i\": -1}" --limit 3 --format ndjson --json relaxed >sel &&
	jq -c .i sel >got && printf "9\n8\n7\n" >expect && test_cmp expect got &&
	test "$(jq -c "keys" sel | sort -u)" = "[\"_id\",\"i\"]"
'

test_expect_success '--ids-from takes values and diff records' '
	printf "{\"\$numberInt\": \"1\"}\n{\"_id\": \"id-00000004\", \"diff\": \"missing\"}\n42\n" >ids &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --ids-from ids --format ndjson --json relaxed >picked &&
	jq -c ._id picked | sort >got &&
	printf "\"id-00000004\"\n1\n" >expect && test_cmp expect got
'

test_expect_success '--pipeline runs an aggregation on the server' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --format ndjson --json relaxed \
		--pipeline "[{\"\$match\": {\"i\": {\"\$lt\": 3}}}, {\"\$project\": {\"_id\": 0, \"twice\": {\"\$sum\": [\"\$i\", \"\$i\"]}}}]" >agg &&
	jq -c .twice agg | sort >got && printf "0\n2\n4\n" >expect && test_cmp expect got
'

test_expect_success '--list prints namespaces; --out DIR writes the mongodump layout' '
	mongo-dump-bson --uri "$SRC" --list --db $TEST_DB >list &&
	echo $TEST_DB.c >expect && test_cmp expect list &&
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --out dump --gzip &&
	test -s dump/$TEST_DB/c.bson.gz && test -s dump/$TEST_DB/c.metadata.json.gz &&
	mongo-load-bson --uri "$DST" --dir dump --db $TEST_DB2 &&
	mp-probe find "$DST" $TEST_DB2.c "{}" "{\"_id\": 1}" >target.json &&
	test_cmp source.json target.json
'

test_expect_success 'upsert and merge are idempotent; delete removes' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --limit 100 >part.bson &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.ups --mode upsert <part.bson &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.ups --mode upsert <part.bson &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.ups --mode merge <part.bson &&
	mp-probe count "$DST" $TEST_DB.ups >n && echo 100 >expect && test_cmp expect n &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.ups --mode delete <part.bson &&
	mp-probe count "$DST" $TEST_DB.ups >n && echo 0 >expect && test_cmp expect n
'

test_expect_success '--id-field moves a key to _id; --dry-run writes nothing' '
	printf "{\"id\": 7, \"name\": \"x\"}\n{\"id\": 8, \"name\": \"y\"}\n" >rows.ndjson &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.rows --id-field id --dry-run <rows.ndjson 2>err &&
	test_grep "dry run: 2 documents would be written" err &&
	mp-probe count "$DST" $TEST_DB.rows >n && echo 0 >expect && test_cmp expect n &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.rows --id-field id <rows.ndjson &&
	mp-probe find "$DST" $TEST_DB.rows "{}" "{\"_id\": 1}" >got &&
	test_grep "\"_id\":{\"\$numberInt\":\"7\"},\"name\":\"x\"}" got &&
	! grep -q "\"id\"" got
'

test_expect_success '--stats writes progress summaries that parse' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --stats st.ndjson >/dev/null &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.st --stats st.ndjson <seed.bson &&
	jq -e "select(.type == \"summary\") | .docs == 3000" st.ndjson >/dev/null &&
	test $(jq -s "map(select(.type == \"summary\")) | length" st.ndjson) = 2
'

test_done
