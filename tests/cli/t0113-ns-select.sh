#!/usr/bin/env bash
# Namespace selection with mongo-tools' spellings and wildcard rules:
# --ns-include/--nsInclude, --ns-exclude/--nsExclude, --exclude-collection,
# --exclude-collections-with-prefix, on dump (--db, the whole deployment,
# --out), load --dir, hashdiff --db, replay and report.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a pattern must not be empty (64), in every tool that takes them' '
	for t in mongo-dump-bson mongo-load-bson mongo-hashdiff mongo-replay mongo-report; do
		test_expect_code 64 $t --ns-include "" </dev/null 2>err || return 1
		test_grep "cannot be empty" err || return 1
	done &&
	test_expect_code 64 mongo-watch --ns-include "a.*" 2>err
'

require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

test_expect_success 'seed: four collections in two databases' '
	for c in orders users tmp_1; do
		mp-gen 20 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.$c --drop -q || return 1
	done &&
	mp-gen 20 | mongo-load-bson --uri "$SRC" --ns $TEST_DB2.logs --drop -q
'

test_expect_success 'dump --list: excludes by pattern, by name, by prefix; camelCase spellings too' '
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --list --ns-exclude "$TEST_DB.us*" >l1 &&
	printf "%s\n" $TEST_DB.orders $TEST_DB.tmp_1 >expect && test_cmp expect l1 &&
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --list --excludeCollectionsWithPrefix tmp_ \
		--exclude-collection users >l2 &&
	echo $TEST_DB.orders >expect && test_cmp expect l2 &&
	mongo-dump-bson --uri "$SRC" --list --nsInclude "${TEST_DB}*.*" --nsExclude "$TEST_DB.*" >l3 &&
	echo $TEST_DB2.logs >expect && test_cmp expect l3
'

test_expect_success 'dump --out and load --dir take the same selection' '
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --out dump --ns-exclude "$TEST_DB.tmp_*" -q &&
	ls dump/$TEST_DB | sort >files &&
	printf "%s\n" orders.bson orders.metadata.json users.bson users.metadata.json >expect && test_cmp expect files &&
	mongo-load-bson --uri "$DST" --dir dump --ns-include "$TEST_DB.orders" -q &&
	mongo-dump-bson --uri "$DST" --db $TEST_DB --list >l4 &&
	echo $TEST_DB.orders >expect && test_cmp expect l4
'

test_expect_success MONGO_TOOLS 'the same patterns select the same collections as mongorestore --nsInclude/--nsExclude' '
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --out all -q &&
	"$MP_MONGO_TOOLS_BIN/mongorestore" --uri "$DST" --quiet --nsInclude "$TEST_DB.*" --nsExclude "*.tmp_*" \
		--nsFrom "$TEST_DB.*" --nsTo "$TEST_DB2.*" all &&
	mongo-load-bson --uri "$DST" --dir all --db ${TEST_DB2}_ours --nsInclude "$TEST_DB.*" --nsExclude "*.tmp_*" -q &&
	mongo-dump-bson --uri "$DST" --db $TEST_DB2 --list | sed "s/^[^.]*\.//" >theirs &&
	mongo-dump-bson --uri "$DST" --db ${TEST_DB2}_ours --list | sed "s/^[^.]*\.//" >ours &&
	test_cmp theirs ours && printf "orders\nusers\n" >expect && test_cmp expect ours &&
	mp-probe dropdb "$DST" ${TEST_DB2}_ours >/dev/null
'

test_expect_success 'hashdiff --db compares only the selected collections' '
	mongo-hashdiff --source "$SRC" --target "$DST" --db $TEST_DB --ns-include "$TEST_DB.orders" 2>err &&
	test_grep "$TEST_DB.orders: compared 20, equal 20" err && ! test_grep "users" err &&
	{ mongo-hashdiff --source "$SRC" --target "$DST" --db $TEST_DB >out 2>err; test $? = 1; } &&
	test_grep "$TEST_DB.users" err
'

test_expect_success 'replay applies the selected namespaces only, the others counted skipped' '
	{ mp-gen 5 --events $TEST_DB.r1 && mp-gen 7 --start 100 --events $TEST_DB.r2; } >ev.bson &&
	mongo-replay --uri "$DST" --from ev.bson --ns-exclude "$TEST_DB.r2" --stats rs.ndjson &&
	test "$(mp-probe count "$DST" $TEST_DB.r1)" = 5 &&
	test "$(mp-probe count "$DST" $TEST_DB.r2)" = 0 &&
	jq -s -e "map(select(.type == \"summary\"))[0].skipped == 7" rs.ndjson
'

test_expect_success 'report: the rows of the selected namespaces' '
	mongo-dump-bson --uri "$SRC" --db $TEST_DB --out d2 --stats s.ndjson -q &&
	mongo-report --format json --ns-exclude "$TEST_DB.users" s.ndjson >rep.json &&
	jq -e "[.namespaces[].ns] | (index(\"$TEST_DB.users\") == null) and (index(\"$TEST_DB.orders\") != null)" rep.json
'

test_done
