#!/usr/bin/env bash
# Compatibility both ways with the MongoDB Database Tools (100.11.0, built by
# tests/mongo-tools/build): bsondump reads our BSON, mongorestore restores
# our --out directory, we load what mongodump wrote, and our metadata.json
# and .bson files are byte-identical to mongodump's for the same collection.
. "$(dirname "$0")/lib.sh"
require_servers
require_mongo_tools
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI MT=$MP_MONGO_TOOLS_BIN

test_expect_success 'seed' '
	mp-gen 2000 --mixed-ids $(gen_types) | mongo-load-bson --uri "$SRC" --ns $TEST_DB.c &&
	mp-probe find "$SRC" $TEST_DB.c "{}" "{\"_id\": 1}" >source.json
'

test_expect_success 'bsondump reads our BSON, and we read its JSON back to the same bytes' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c >ours.bson &&
	"$MT/bsondump" --quiet ours.bson >bd.ndjson &&
	test $(wc -l <bd.ndjson) = 2000 &&
	mongo-dump-bson --from bd.ndjson >back.bson &&
	cmp ours.bson back.bson
'

test_expect_success 'our .bson and metadata.json are byte-identical to mongodump output' '
	"$MT/mongodump" --quiet --uri "$SRC" --db $TEST_DB --out md &&
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --out ours &&
	cmp md/$TEST_DB/c.bson ours/$TEST_DB/c.bson &&
	test_cmp md/$TEST_DB/c.metadata.json ours/$TEST_DB/c.metadata.json
'

test_expect_success 'mongorestore restores our --out directory' '
	"$MT/mongorestore" --quiet --uri "$DST" --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" ours &&
	mp-probe find "$DST" $TEST_DB2.c "{}" "{\"_id\": 1}" >restored.json &&
	test_cmp source.json restored.json
'

test_expect_success 'mongorestore restores our gzip directory' '
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --out oursgz --gzip &&
	"$MT/mongorestore" --quiet --gzip --drop --uri "$DST" --nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" oursgz &&
	mp-probe find "$DST" $TEST_DB2.c "{}" "{\"_id\": 1}" >restored.json &&
	test_cmp source.json restored.json
'

test_expect_success 'we load what mongodump wrote (plain and gzip), indexes included' '
	mp-probe index "$SRC" $TEST_DB.c "{\"i\": 1, \"name\": -1}" i_name &&
	"$MT/mongodump" --quiet --gzip --uri "$SRC" --db $TEST_DB --out mdgz &&
	mongo-load-bson --uri "$DST" --dir mdgz --db $TEST_DB --drop &&
	mp-probe find "$DST" $TEST_DB.c "{}" "{\"_id\": 1}" >loaded.json &&
	test_cmp source.json loaded.json &&
	mp-probe indexes "$DST" $TEST_DB.c >ix && test_grep "i_name" ix
'

test_expect_success 'mongoexport spellings: --queryFile, --sort, --skip, --limit, --jsonFormat select what mongoexport does' '
	echo "{\"i\": {\"\$gte\": 10}}" >q.json &&
	"$MT/mongoexport" --quiet --uri "$SRC" --db $TEST_DB --collection c --queryFile q.json \
		--sort "{\"_id\": 1}" --skip 5 --limit 20 --jsonFormat canonical >me.ndjson &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --queryFile q.json --sort "{\"_id\": 1}" --skip 5 --limit 20 \
		--format ndjson --jsonFormat canonical >ours.ndjson &&
	test $(wc -l <ours.ndjson) = 20 &&
	jq -cS . me.ndjson >me.sorted && jq -cS . ours.ndjson >ours.sorted &&
	test_cmp me.sorted ours.sorted &&
	test_expect_code 64 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --skip 1 --parallel 2 2>err &&
	test_expect_code 64 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --query "{}" --queryFile q.json 2>err
'

test_done
