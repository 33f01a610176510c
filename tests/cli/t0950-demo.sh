#!/usr/bin/env bash
# make demo (build-aux/demo), smaller: seed, start token, copy, watch |
# replay under writes, verify (exit 0), HTML report with the servers'
# counts; the report is rendered by headless Chromium and checked through
# its DOM, with every request the browser makes kept on loopback and none
# made by the page.
. "$(dirname "$0")/lib.sh"
[ -n "${MP_TESTBED_SKIP:-}" ] && skip_all "$MP_TESTBED_SKIP"
[ -n "${MONGO_TEST_URI:-}" ] && skip_all "the demo starts test-bed servers of its own"

test_expect_success 'the demo runs end to end and verifies equal' '
	DEMO_DIR=$PWD/demo DEMO_SCALE=20000 MP_BUILD=$MP_BUILD "$TEST_ROOT/build-aux/demo" >log 2>&1 &&
	test_grep "mongo-hashdiff --source" log &&
	test_grep "The report: " log &&
	test -s demo/report.html &&
	jq -s -e "map(select(.tool == \"mongo-hashdiff\" and .type == \"summary\")) | length == 3 and all(.verdict == \"equal\")" demo/verify.ndjson &&
	cat demo/*.ndjson | jq -s -e "map(select(.type == \"exit\")) | length == 0" &&
	jq -s -e "map(select(.tool == \"mongo-replay\" and .type == \"summary\")) | .[0].docs > 0" demo/replay.ndjson
'

test_expect_success 'the report references nothing outside the page' '
	! grep -Ei "(src|href)=\"?(https?:)?//" demo/report.html &&
	! grep -i "<script" demo/report.html &&
	! grep -Ei "@import|url\\(" demo/report.html
'

if command -v chromium >/dev/null; then
	# Every request Chromium makes goes to a loopback sink posing as its
	# proxy, and its net log tells the page's requests (made for a file://
	# page) from the browser's own.
	/usr/bin/python3 "$TEST_ROOT/tests/helpers/http-sink.py" "$PWD/sink.log" 90 >sink.port &
	sink=$!
	for i in $(seq 1 50); do [ -s sink.port ] && break; sleep 0.1; done
	port=$(head -1 sink.port)
	trap 'kill $sink 2>/dev/null; test_cleanup' EXIT
	# chrome NAME ARGS...: headless Chromium, its net log in NAME.netlog
	chrome() {
		local name=$1
		shift
		timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
			--disable-component-update --disable-sync --no-first-run \
			--user-data-dir="$PWD/chrome-$name" --proxy-server="http://127.0.0.1:$port" \
			--proxy-bypass-list="<-loopback>" --log-net-log="$PWD/$name.netlog" \
			--net-log-capture-mode=Everything "$@" 2>"$name.err"
	}
	# page_requests NAME: the URLs the page itself asked the network for
	page_requests() {
		jq -r ".constants.logEventTypes.URL_REQUEST_START_JOB as \$t | .events[]
			| select(.type == \$t and .params.url != null)
			| select(((.params.network_isolation_key // \"\") | startswith(\"file://\"))
				or .params.initiator == \"null\")
			| .params.url" "$1.netlog"
	}
	test_expect_success 'headless Chromium renders the report: the collection rows, counts and verdicts' '
		chrome report --dump-dom "file://$PWD/demo/report.html" >dom.html &&
		for c in customers orders products; do
			grep -q "<tr class=\"ns\"><td>shop.$c</td>" dom.html &&
			grep -q "shop.$c: <span class=\"equal\">equal</span>" dom.html || exit 1
		done &&
		test_grep "<svg" dom.html &&
		grep "<tr class=\"ns\"><td>shop.orders</td>" dom.html >row &&
		src=$(sed -e "s/.*class=\"num src\">\([0-9]*\)<.*/\1/" row) &&
		dst=$(sed -e "s/.*class=\"num dst\">\([0-9]*\)<.*/\1/" row) &&
		test "$src" -gt 0 && test "$src" = "$dst" && test_grep "100%</td>" row
	'
	test_expect_success 'no request leaves the page (a page that makes two is caught)' '
		printf "%s\n" "<!DOCTYPE html><html><body><img src=\"http://leak.invalid/x.png\">" \
			"<link rel=\"stylesheet\" href=\"https://fonts.invalid/a.css\"></body></html>" >leak.html &&
		chrome leak --dump-dom "file://$PWD/leak.html" >/dev/null &&
		page_requests leak >leak.urls &&
		test_grep "^http://leak.invalid/x.png" leak.urls && test_grep "^https://fonts.invalid/a.css" leak.urls &&
		test_grep "leak.invalid" sink.log &&
		page_requests report >report.urls &&
		test_must_be_empty report.urls
	'
	test_expect_success 'a screenshot of the rendered page' '
		chrome shot --screenshot="$PWD/shot.png" --window-size=1400,900 "file://$PWD/demo/report.html" &&
		test -s shot.png && head -c 8 shot.png | od -An -c | grep -q "P   N   G" &&
		page_requests shot >shot.urls && test_must_be_empty shot.urls
	'
else
	test_skip 'headless Chromium renders the report' "chromium is not installed (make deps)"
fi

test_done
