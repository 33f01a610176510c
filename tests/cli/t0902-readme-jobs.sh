#!/usr/bin/env bash
# The README's "Common jobs" run as written, one after another, against the
# test servers: the database names are the test's own, a sync that would
# run for ever ends when its source has been quiet for 3 s (--idle-exit),
# and the two lines that cannot run alone are left out: the live monitors
# (they draw a screen until stopped) and the "| ..." sketch.  Everything
# else must end 0, with `set -e -o pipefail`.
. "$(dirname "$0")/lib.sh"
require_servers
test_have_prereq MONGO_TOOLS || skip_all "$(prereq_why MONGO_TOOLS): the jobs use mongodump"
test_have_prereq CHANGE_STREAMS || skip_all "$(prereq_why CHANGE_STREAMS): the jobs include mongo-watch"
export SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

# the lines of the block, a command with its continuation lines on one line
readme_jobs() {
	awk '/^## Common jobs/ { on = 1; next } on && /^#/ { exit }
	     on && /^    / { sub(/^    /, ""); print }' "$TEST_ROOT/README.md" |
	awk '{ line = line $0 } /(\||&&|\\)[ \t]*$/ { line = line " "; next } { print line; line = "" }'
}

test_expect_success 'seed the source: shop.orders with customers and totals' '
	for i in $(seq 1 500); do
		printf "{\"_id\": %d, \"customer\": {\"name\": \"c%d\"}, \"total\": %d.5}\n" $i $((i % 37)) $i
	done | mongo-load-bson -q --uri "$SRC" --ns $TEST_DB.orders
'

test_expect_success 'the block has the jobs this test expects' '
	readme_jobs >jobs.sh &&
	test $(grep -c "^mongo-" jobs.sh) -ge 20 &&
	test_grep "mongo-watch.*--start-token" jobs.sh &&
	grep -q -e "--archive" jobs.sh
'

test_expect_success 'every job runs as written and ends 0' '
	{
		echo "set -e -o pipefail"
		# a sync ends when its source is quiet; mongodump is the one built here
		echo "mongo-watch() { command mongo-watch --idle-exit 3 \"\$@\"; }"
		echo "mongodump() { \"$MP_MONGO_TOOLS_BIN/mongodump\" \"\$@\"; }"
		echo "alert() { echo \"alert: the copy is not equal\" >&2; return 1; }"
		grep -v -e "--live" -e "| \.\.\.$" jobs.sh |
			sed -e "s/shop_copy/${TEST_DB2}/g" -e "s/shop_v2/${TEST_DB}_v2/g" \
			    -e "s/staging\.cdc/${TEST_DB}_staging.cdc/g" -e "s/\bshop\b/${TEST_DB}/g"
	} >run.sh &&
	! grep -q "shop" run.sh &&
	bash -x run.sh >out 2>err || { sed -n "/^usage:/q;p" err | tail -n 12; false; }
'

test_expect_success 'and did what they say: copies equal, rejects set aside, CSV and reports written' '
	mongo-hashdiff -q --source "$SRC" --target "$DST" --ns $TEST_DB.orders &&
	mongo-hashdiff -q --source "$SRC" --target "$DST" --ns $TEST_DB.orders --target-ns ${TEST_DB}_v2.orders &&
	test $(wc -l <rejected.ndjson) = 500 &&
	test "$(head -1 orders.csv)" = "_id,customer.name,total" && test $(wc -l <orders.csv) = 501 &&
	test_grep "</html>" report.html
'

test_expect_success 'cleanup: the databases the jobs made besides the test ones' '
	mp-probe dropdb "$DST" ${TEST_DB}_v2 >/dev/null &&
	mp-probe dropdb "$DST" ${TEST_DB}_staging >/dev/null
'

test_done
