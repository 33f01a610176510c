#!/usr/bin/env bash
# MongoDB's change-stream spec tests (unified format, from pymongo's source
# distribution: tests/corpus/setup) as golden fixtures.  For each test that
# opens one whole-event stream and only writes: its initial data on both
# servers, a start token, its operations through pymongo, then mongo-watch
# from the token; the events must match the spec's expected results (as the
# unified format matches them), and mongo-replay of them must make the
# target equal the source (mongo-hashdiff, documents and indexes).
. "$(dirname "$0")/lib.sh"
require_servers
test_have_prereq PYMONGO || skip_all "$(prereq_why PYMONGO)"
SPEC=$("$TEST_ROOT/tests/corpus/setup" change-streams 2>"$SCRATCH/setup.err") ||
	skip_all "the change-stream spec tests cannot be fetched: $(tail -1 "$SCRATCH/setup.err")"
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
cs() { /usr/bin/python3 "$TEST_ROOT/tests/helpers/csspec.py" "$@"; }
IDS=$(cs list "$SPEC")

# proved SCOPE [RENAMED...]: what the stream saw is equal on both servers
# (documents and indexes): its collection and those it was renamed to, its
# database, or both databases of the test
proved() {
	local dbs="$TEST_DB $TEST_DB2" ns
	case ${1:-} in
	--ns)
		shift
		[ "${2:-}" != --show-expanded-events ] || set -- "$1" "${@:3}"
		for ns in "$@"; do
			mongo-hashdiff --source "$SRC" --target "$DST" --ns "$ns" --allow-missing >diff &&
				test_must_be_empty diff || return 1
		done
		return ;;
	--db) dbs=$2 ;;
	esac
	for db in $dbs; do
		mongo-hashdiff --source "$SRC" --target "$DST" --db "$db" --allow-missing >diff && test_must_be_empty diff ||
			return 1
	done
}

# (7 of them ask for expanded events, which need libmongoc 1.24)
test_expect_success 'the spec files give at least 15 usable tests' '
	test $(echo "$IDS" | wc -l) -ge 15
'

n=0
for id in $IDS; do
	n=$((n + 1))
	desc=$(jq -r ".tests[${id##*#}].description" "${id%#*}")
	title="$(basename "${id%#*}" .json) #${id##*#}: $desc"
	if ! test_have_prereq CHANGE_STREAMS; then
		test_skip "$title" "$(prereq_why CHANGE_STREAMS)"
		continue
	fi
	# the operations run here, before the test, so that a server that
	# refuses one (it lacks what the spec test needs) is said skipped
	d=$SCRATCH/$n && mkdir "$d"
	rc=0 watch=0
	{
		cs setup "$SRC" "$TEST_DB" "$id" >"$d/setup" && cs setup "$DST" "$TEST_DB" "$id" >/dev/null &&
			head -1 "$d/setup" >"$d/scope" && sed -n 2p "$d/setup" >"$d/renamed" &&
			cs run "$SRC" "$TEST_DB" "$id" before && cs run "$DST" "$TEST_DB" "$id" before &&
			{ mongo-watch --uri "$SRC" $(cat "$d/scope") --start-token >"$d/token" || { watch=$?; false; }; } &&
			cs run "$SRC" "$TEST_DB" "$id" after
	} 2>"$d/run.err" || rc=$?
	# a server that refuses one of the spec's operations lacks what it needs
	if [ $rc = 3 ] && [ $watch = 0 ]; then
		test_skip "$title" "$(tail -1 "$d/run.err" | cut -c1-160)"
		continue
	fi
	# mongo-watch built on libmongoc 1.23 refuses --show-expanded-events (64)
	if [ $watch = 64 ] && grep -q -- --show-expanded-events "$d/scope"; then
		test_skip "$title" "$(sed -n 's/^mongo-watch: //p' "$d/run.err" | head -1)"
		continue
	fi
	test_expect_success "$title" '
		cd "'"$d"'" && cat run.err && test '$rc' = 0 &&
		{ mongo-watch --uri "$SRC" $(cat scope) --resume-after "$(cat token)" --idle-exit 1 \
			--format ndjson >events.ndjson 2>watch.err || { test $? = 3 && test_grep invalidated watch.err; }; } &&
		cs match "$TEST_DB" "'"$id"'" events.ndjson &&
		{ mongo-replay --uri "$DST" --on-ddl apply <events.ndjson || test $? = 3; } &&
		proved $(cat scope) $(cat renamed)
	'
done

test_done
