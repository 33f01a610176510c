#!/usr/bin/env bash
# A stats stream that cannot be written (--stats /dev/full) never stops the
# work, but it is not ignored either: every tool warns once, naming the
# file, and a run that would have ended well ends 74 (cron jobs read the
# summary that was lost).  A run that failed keeps its own status.
. "$(dirname "$0")/lib.sh"

test -w /dev/full || skip_all "no writable /dev/full here"

# lost TOOL-RUN...: exit 74, one warning naming /dev/full, the loss said
lost() {
	test_expect_code 74 "$@" --stats /dev/full 2>err &&
	test $(grep -c "warning: /dev/full: writing stats" err) = 1 &&
	test_grep "stats records\? lost" err
}

test_expect_success 'mongo-load-bson --dry-run: the load is done, the run ends 74' '
	mp-gen 100 >in.ndjson &&
	lost mongo-load-bson --dry-run --ns a.b --from in.ndjson
'

test_expect_success 'mongo-dump-bson --from (transcoding): the output is whole, the run ends 74' '
	mp-gen 100 | mongo-dump-bson --from - --format bson -o in.bson &&
	lost mongo-dump-bson --from in.bson --format ndjson -o out.ndjson &&
	test $(wc -l <out.ndjson) = 100
'

test_expect_success 'mongo-replay --dry-run: 74' '
	printf "%s\n" "{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"insert\", \"ns\": {\"db\": \"a\", \"coll\": \"b\"}, \"documentKey\": {\"_id\": 1}, \"fullDocument\": {\"_id\": 1}}" >ev.ndjson &&
	lost mongo-replay --dry-run --from ev.ndjson >/dev/null
'

test_expect_success 'a run that failed keeps its own status (65), not 74' '
	printf "{bad\n" >bad.ndjson &&
	test_expect_code 65 mongo-load-bson --dry-run --ns a.b --from bad.ndjson --stats /dev/full 2>err
'

test_expect_success SERVERS 'mongo-dump-bson, mongo-hashdiff, mongo-load-bson on a server: 74 each' '
	mp-gen 50 | mongo-load-bson --uri "$MP_SOURCE_URI" --ns $TEST_DB.s -q &&
	lost mongo-dump-bson --uri "$MP_SOURCE_URI" --ns $TEST_DB.s -o d.bson &&
	lost mongo-hashdiff --source "$MP_SOURCE_URI" --target "$MP_SOURCE_URI" --ns $TEST_DB.s &&
	lost mongo-load-bson --uri "$MP_SOURCE_URI" --ns $TEST_DB.t --from d.bson
'

test_expect_success SERVERS,CHANGE_STREAMS 'mongo-watch on a server: 74' '
	lost mongo-watch --uri "$MP_SOURCE_URI" --ns $TEST_DB.s --idle-exit 1 --output w.ndjson
'

test_done
