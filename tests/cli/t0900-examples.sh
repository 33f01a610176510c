#!/usr/bin/env bash
# Every script in examples/ runs against the test bed and does what it says.
. "$(dirname "$0")/lib.sh"
require_servers
EX=$TEST_ROOT/examples
export SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
same() {
	mp-probe find "$SRC" "$1" "{}" "{\"_id\": 1}" >s.json &&
	mp-probe find "$DST" "${2:-$1}" "{}" "{\"_id\": 1}" >t.json &&
	test_cmp s.json t.json
}

test_expect_success CHANGE_STREAMS 'migrate-collection.sh: copy under writes, CDC through staging, verified' '
	export NS=$TEST_DB.orders STAGING=$TEST_DB.cdc_staging CDC_SECONDS=2 PARALLEL=2 &&
	mp-writer "$SRC" $NS 1500 --ids 300 &&
	{ mp-writer "$SRC" $NS 1000 --ids 300 --seed 7 --pause-us 1000 & w=$!; } &&
	sleep 0.3 &&
	{ "$EX/migrate-collection.sh" work >log 2>&1; rc=$?; } ;
	{ wait $w || { echo "mp-writer failed"; false; }; } &&
	{ [ $rc -le 1 ] || { echo "first run: exit $rc"; cat log; false; }; } &&
	{ "$EX/migrate-collection.sh" work >log2 2>&1 || { echo "second run failed"; cat log2; false; }; } &&
	test_grep "verified: $NS is equal" log2 && test_grep "cutover" log2 &&
	same $NS
'

test_expect_success CHANGE_STREAMS 'live-sync.sh: first start copies, a restart syncs from the position' '
	export NS=$TEST_DB.live STATE=state IDLE_EXIT=2 &&
	mp-writer "$SRC" $NS 500 --ids 100 &&
	"$EX/live-sync.sh" && same $NS &&
	mp-writer "$SRC" $NS 500 --ids 100 --seed 3 &&
	"$EX/live-sync.sh" && same $NS &&
	test -s state/position.tok && test -s state/stats.ndjson
'

test_expect_success CHANGE_STREAMS 'live-sync.sh proves the copy: a target that differs ends 1, naming the document' '
	export NS=$TEST_DB.live STATE=state IDLE_EXIT=1 &&
	"$EX/live-sync.sh" 2>err && test_grep "equal" err &&
	id=$(mp-probe find "$DST" $NS "{}" "{\"_id\": 1}" | head -1 | jq -c ._id) &&
	mp-probe update "$DST" $NS "{\"_id\": $id}" "{\"\$set\": {\"ignored_by_target\": 1}}" &&
	test_expect_code 1 "$EX/live-sync.sh" >diff 2>err &&
	jq -e "select(.diff == \"changed\") | ._id == $id" diff
'

test_expect_success 'the kafka-sync units run the script, stop whole pipelines, stop restarting on exit 3' '
	test_grep "^ExecStart=.*kafka-sync.sh produce$" "$EX/kafka-sync-produce.service" &&
	test_grep "^ExecStart=.*kafka-sync.sh replay %i$" "$EX/kafka-sync-replay@.service" &&
	for u in "$EX"/kafka-sync-*.service; do
		test_grep "^KillMode=control-group" "$u" && test_grep "^RestartPreventExitStatus=3" "$u" || return 1
	done &&
	test_expect_code 64 env DST=x BROKERS=x TOPIC=x STATE=st "$EX/kafka-sync.sh" replay x 2>err &&
	test_grep "not a partition number: .x." err &&
	test_expect_code 64 env DST=x BROKERS=x TOPIC=x STATE=st "$EX/kafka-sync.sh" replay 0 1 2>err &&
	test_grep "one per partition" err &&
	test_expect_code 64 env BROKERS=x TOPIC=x STATE=st "$EX/kafka-sync.sh" nonsense 2>err &&
	test_grep "usage" err
'

test_expect_success 'live-sync.service names the script and stops restarting on exit 3' '
	test_grep "^ExecStart=.*live-sync.sh" "$EX/live-sync.service" &&
	test_grep "^RestartPreventExitStatus=3" "$EX/live-sync.service"
'

test_expect_success 'update-since.sh: only documents changed since the time' '
	export NS=$TEST_DB.upd SINCE=2026-01-01T00:00:00Z &&
	mp-probe insert "$SRC" $NS "{\"_id\": 1, \"updatedAt\": {\"\$date\": \"2025-06-01T00:00:00Z\"}}" \
		"{\"_id\": 2, \"updatedAt\": {\"\$date\": \"2026-06-01T00:00:00Z\"}}" &&
	"$EX/update-since.sh" &&
	test "$(mp-probe find "$DST" $NS | jq -c "._id[\"\$numberInt\"]")" = "\"2\""
'

test_expect_success 'nightly-verify.sh: finds the difference, repairs, ends equal' '
	export NS=$TEST_DB.nightly LOG=logs &&
	mp-gen 500 | mongo-load-bson --uri "$SRC" --ns $NS -q &&
	mp-gen 500 | mongo-load-bson --uri "$DST" --ns $NS -q &&
	mp-probe delete "$DST" $NS "{\"_id\": 7}" &&
	"$EX/nightly-verify.sh" >report &&
	test_grep "repaired: equal" report &&
	"$EX/nightly-verify.sh" >report2 && test_grep "^equal" report2
'

test_expect_success ARRAY_EXPRESSIONS 'transform-in-flight.sh: name split into firstName/lastName, by jq and on the server' '
	export NS=$TEST_DB.people &&
	mp-probe insert "$SRC" $NS "{\"_id\": 1, \"name\": \"Ada Lovelace\"}" "{\"_id\": 2, \"name\": \"Alan Turing\"}" &&
	"$EX/transform-in-flight.sh" &&
	for c in people_jq people_pipeline; do
		mp-probe find "$DST" $TEST_DB.$c "{}" "{\"_id\": 1}" | jq -c "[.firstName, .lastName, .name]" >got &&
		printf "%s\n" "[\"Ada\",\"Lovelace\",null]" "[\"Alan\",\"Turing\",null]" >expect &&
		test_cmp expect got || exit 1
	done
'

test_expect_success 'many-collections.sh: every collection of a database in parallel, verified' '
	export DB=$TEST_DB2 JOBS=3 &&
	for c in a b c d; do mp-gen 300 | mongo-load-bson --uri "$SRC" --ns $DB.$c -q || exit 1; done &&
	"$EX/many-collections.sh" 2>err &&
	for c in a b c d; do same $DB.$c || exit 1; done
'

if command -v sqlite3 >/dev/null; then
	test_expect_success 'sqlite-to-mongo.sh: a table into a collection, dates, indexes, verified' '
		sqlite3 shop.db "create table customers (id integer primary key, email text, name text, created_at text);
			create index customers_email on customers(email);
			insert into customers values (1, \"a@x.org\", \"Ann\", \"2024-01-02 03:04:05\"),
			(2, \"b@x.org\", \"Bob\", \"2024-02-03 04:05:06\");" &&
		DB_FILE=shop.db TABLE=customers NS=$TEST_DB.customers "$EX/sqlite-to-mongo.sh" >out &&
		test_grep "verified: 2 rows" out &&
		mp-probe find "$DST" $TEST_DB.customers "{\"_id\": 1}" | jq -e ".created_at[\"\$date\"][\"\$numberLong\"] == \"1704164645000\"" &&
		mp-probe indexes "$DST" $TEST_DB.customers >idx && test_grep email_1 idx
	'
else
	test_skip 'sqlite-to-mongo.sh' "sqlite3 is not installed (make deps)"
fi

# rollback.sh works on a whole database: TEST_DB is the one migrated and
# TEST_DB2 holds the backup's proof (CHECK_DB); both are emptied first of
# what the tests above left, on both servers.
fresh_dbs() {
	for u in "$SRC" "$DST"; do
		mp-probe dropdb "$u" $TEST_DB >/dev/null && mp-probe dropdb "$u" $TEST_DB2 >/dev/null || return 1
	done
}
# snapshot URI DB: the collections (name, type, options), and of each its
# indexes (whole specs) and its documents, read with mp-probe, not the tools
snapshot() {
	local c
	mp-probe command "$1" "$2" "{\"listCollections\": 1}" |
		jq -c ".cursor.firstBatch | map({name, type, options}) | sort_by(.name) | .[]" >colls &&
	cat colls &&
	for c in $(jq -r .name colls); do
		echo "== $c" &&
		mp-probe command "$1" "$2" "{\"listIndexes\": \"$c\"}" | jq -c ".cursor.firstBatch | sort_by(.name) | .[]" &&
		mp-probe find "$1" "$2.$c" "{}" "{\"_id\": 1}" || return 1
	done
}
# the source: orders (300 documents, an index on i) and fresh, which the
# target lacks; the target: orders in an older state (200 of them, one
# changed since) with the same index, and the document that VALIDATE checks
rollback_bed() {
	fresh_dbs &&
	mp-gen 300 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.orders -q &&
	mp-probe index "$SRC" $TEST_DB.orders "{\"i\": 1}" i_1 --unique &&
	mp-gen 20 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.fresh -q &&
	mp-gen 200 | mongo-load-bson --uri "$DST" --ns $TEST_DB.orders -q &&
	mp-probe index "$DST" $TEST_DB.orders "{\"i\": 1}" i_1 --unique &&
	mp-probe update "$DST" $TEST_DB.orders "{\"_id\": 7}" "{\"\$set\": {\"name\": \"before\"}}"
}

test_expect_success 'rollback.sh: a migration that validates stays, the target equals the source' '
	rollback_bed &&
	export DB=$TEST_DB CHECK_DB=$TEST_DB2 VALIDATE="test \$(mp-probe count \"\$DST\" \$DB.orders) = 300" &&
	"$EX/rollback.sh" rb-ok >out 2>err &&
	test_grep "migrated and validated" out &&
	! grep -qi "rolled back" out &&
	test -s rb-ok/backup.archive && test -e rb-ok/done &&
	snapshot "$SRC" $TEST_DB >src.snap && snapshot "$DST" $TEST_DB >dst.snap &&
	test_cmp src.snap dst.snap &&
	test_grep "\"fresh\"" dst.snap &&
	mp-probe command "$DST" $TEST_DB2 "{\"listCollections\": 1}" | jq -e ".cursor.firstBatch == []" &&
	"$EX/rollback.sh" rb-ok >out2 && test_grep "migrated earlier" out2
'

test_expect_success 'rollback.sh: VALIDATE fails: rolled back to exactly the state before, exit 1' '
	rollback_bed &&
	snapshot "$DST" $TEST_DB >before.snap &&
	test_grep "\"name\":\"before\"" before.snap &&
	export DB=$TEST_DB CHECK_DB=$TEST_DB2 VALIDATE=false &&
	test_expect_code 1 "$EX/rollback.sh" rb-validate >out 2>err &&
	test_grep "VALIDATE failed" err &&
	test_grep "ROLLED BACK: $TEST_DB on the target equals its state before" out &&
	snapshot "$DST" $TEST_DB >after.snap &&
	test_cmp before.snap after.snap &&
	! grep -q "\"fresh\"" after.snap &&
	mp-probe command "$DST" $TEST_DB2 "{\"listCollections\": 1}" | jq -e ".cursor.firstBatch == []" &&
	test_expect_code 1 "$EX/rollback.sh" rb-validate >out2 && test_grep "ROLLED BACK earlier" out2 &&
	snapshot "$DST" $TEST_DB >again.snap && test_cmp before.snap again.snap
'

test_expect_success 'rollback.sh: a target the source does not explain fails mongo-hashdiff: rolled back, exit 1' '
	rollback_bed &&
	mp-probe insert "$DST" $TEST_DB.orders "{\"_id\": \"only-on-the-target\"}" &&
	mp-probe index "$DST" $TEST_DB.orders "{\"name\": 1}" name_1 &&
	snapshot "$DST" $TEST_DB >before.snap &&
	export DB=$TEST_DB CHECK_DB=$TEST_DB2 && unset VALIDATE &&
	test_expect_code 1 "$EX/rollback.sh" rb-hashdiff >out 2>err &&
	test_grep "mongo-hashdiff: the target differs from the source" err &&
	jq -se "any(._id == \"only-on-the-target\" and .diff == \"extra\")" rb-hashdiff/diff.ndjson &&
	jq -se "map(select(.diff == \"index\") | .name) == [\"name_1\"]" rb-hashdiff/diff.ndjson &&
	test_grep "ROLLED BACK" out &&
	snapshot "$DST" $TEST_DB >after.snap &&
	test_cmp before.snap after.snap
'

test_expect_success 'rollback.sh: a backup that cannot be written stops before any write' '
	rollback_bed &&
	snapshot "$DST" $TEST_DB >before.snap &&
	mkdir -p rb-nobackup/backup.archive &&
	export DB=$TEST_DB CHECK_DB=$TEST_DB2 && unset VALIDATE &&
	test_expect_code 73 "$EX/rollback.sh" rb-nobackup >out 2>err &&
	test_grep "backup failed (exit 73): nothing was written" err &&
	! grep -q "migration" out &&
	test ! -e rb-nobackup/migrating &&
	snapshot "$DST" $TEST_DB >after.snap &&
	test_cmp before.snap after.snap &&
	mp-probe command "$DST" $TEST_DB2 "{\"listCollections\": 1}" | jq -e ".cursor.firstBatch == []"
'

test_expect_success 'rollback.sh: killed after the migration wrote, a rerun keeps the first backup and rolls back to it' '
	rollback_bed &&
	snapshot "$DST" $TEST_DB >before.snap &&
	export DB=$TEST_DB CHECK_DB=$TEST_DB2 VALIDATE="kill -9 \$PPID" &&
	test_expect_code 137 "$EX/rollback.sh" rb-crash >out 2>err &&
	test_grep "4. validation" out && test -e rb-crash/migrating &&
	snapshot "$DST" $TEST_DB >migrated.snap && ! cmp -s before.snap migrated.snap &&
	export VALIDATE=false &&
	test_expect_code 1 "$EX/rollback.sh" rb-crash >out2 2>err2 &&
	test_grep "backup taken before the migration began" out2 &&
	test_grep "ROLLED BACK" out2 &&
	snapshot "$DST" $TEST_DB >after.snap &&
	test_cmp before.snap after.snap
'

test_done
