#!/usr/bin/env bash
# mongo-hashdiff: an error that comes from one server names that side and
# its hosts ("source (HOST): ..." or "target (HOST): ..."), never its
# password, whichever way of comparing met it: the existence check, a merge
# join, the counts, a --db listing, the --parallel split, a hash join.
. "$(dirname "$0")/lib.sh"

DOWN="mongodb://u:pw5ecret5@127.0.0.1:1/?serverSelectionTimeoutMS=500"

test_expect_success 'the source down: 69, "source (127.0.0.1:1)", no password' '
	test_expect_code 69 mongo-hashdiff --source "$DOWN" --target "$DOWN" --ns a.b >out 2>err &&
	test_must_be_empty out &&
	test_grep "source (127.0.0.1:1): listing a.b: " err &&
	! test_grep "pw5ecret5" err
'

require_servers
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI

test_expect_success 'seed a collection on the source' '
	mp-gen 100 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.c -q
'

test_expect_success 'the target down, checking that the collection exists: the target is named' '
	test_expect_code 69 mongo-hashdiff --source "$SRC" --target "$DOWN" --ns $TEST_DB.c >out 2>err &&
	test_must_be_empty out &&
	test_grep "target (127.0.0.1:1): listing $TEST_DB.c: " err &&
	! test_grep "source (" err
'

test_expect_success 'the target down in a merge join (--allow-missing skips the check)' '
	test_expect_code 69 mongo-hashdiff --source "$SRC" --target "$DOWN" --ns $TEST_DB.c --allow-missing \
		>out 2>err &&
	test_must_be_empty out &&
	test_grep "target (127.0.0.1:1): " err &&
	! test_grep "pw5ecret5" err
'

test_expect_success 'the source down in a merge join' '
	test_expect_code 69 mongo-hashdiff --source "$DOWN" --target "$DST" --ns $TEST_DB.c --allow-missing \
		>out 2>err &&
	test_must_be_empty out &&
	test_grep "source (127.0.0.1:1): " err
'

test_expect_success 'the target down under --count-only' '
	test_expect_code 69 mongo-hashdiff --source "$SRC" --target "$DOWN" --ns $TEST_DB.c --count-only 2>err &&
	test_grep "target (127.0.0.1:1): " err
'

test_expect_success 'the target down under --db: its listing names it' '
	test_expect_code 69 mongo-hashdiff --source "$SRC" --target "$DOWN" --db $TEST_DB 2>err &&
	test_grep "target (127.0.0.1:1): listing the collections of $TEST_DB: " err
'

test_expect_success 'the source down under --parallel: the split names it' '
	test_expect_code 69 mongo-hashdiff --source "$DOWN" --target "$DST" --ns $TEST_DB.c --allow-missing \
		--parallel 2 2>err &&
	test_grep "source (127.0.0.1:1): " err
'

test_expect_success 'the source down against a file (hash join): the source is named' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c >c.bson &&
	test_expect_code 69 mongo-hashdiff --source "$DOWN" --target-file c.bson --ns $TEST_DB.c --allow-missing \
		2>err &&
	test_grep "source (127.0.0.1:1): " err
'

test_done
