#!/usr/bin/env bash
# make demo (build-aux/demo), smaller: seed, start token, copy, watch |
# replay under writes, verify (exit 0), HTML report; the report is rendered
# by headless Chromium and checked through its DOM.
. "$(dirname "$0")/lib.sh"
[ -n "${MP_TESTBED_SKIP:-}" ] && skip_all "$MP_TESTBED_SKIP"
[ -n "${MONGO_TEST_URI:-}" ] && skip_all "the demo starts test-bed servers of its own"

test_expect_success 'the demo runs end to end and verifies equal' '
	DEMO_DIR=$PWD/demo DEMO_SCALE=20000 MP_BUILD=$MP_BUILD "$TEST_ROOT/build-aux/demo" >log 2>&1 &&
	test_grep "mongo-hashdiff --source" log &&
	test_grep "The report: " log &&
	test -s demo/report.html &&
	jq -s -e "map(select(.tool == \"mongo-hashdiff\")) | length == 3 and all(.verdict == \"equal\")" demo/verify.ndjson &&
	jq -s -e "map(select(.tool == \"mongo-replay\" and .type == \"summary\")) | .[0].docs > 0" demo/replay.ndjson
'

test_expect_success 'the report references nothing outside the page' '
	! grep -Ei "(src|href)=\"?(https?:)?//" demo/report.html &&
	! grep -i "<script" demo/report.html &&
	! grep -Ei "@import|url\\(" demo/report.html
'

if command -v chromium >/dev/null; then
	chrome() {
		timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
			--no-first-run --user-data-dir="$PWD/chrome-profile" "$@" 2>chrome.err
	}
	test_expect_success 'headless Chromium renders the report: the collection rows and the verdicts' '
		chrome --dump-dom "file://$PWD/demo/report.html" >dom.html &&
		for c in customers orders products; do
			grep -q "<tr class=\"ns\"><td>shop.$c</td>" dom.html &&
			grep -q "shop.$c: <span class=\"equal\">equal</span>" dom.html || exit 1
		done &&
		test_grep "<svg" dom.html
	'
	test_expect_success 'a screenshot of the rendered page' '
		chrome --screenshot="$PWD/shot.png" --window-size=1200,900 "file://$PWD/demo/report.html" &&
		test -s shot.png && head -c 8 shot.png | od -An -c | grep -q "P   N   G"
	'
else
	test_skip 'headless Chromium renders the report' "chromium is not installed (make deps)"
fi

test_done
