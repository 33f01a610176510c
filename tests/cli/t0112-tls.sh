#!/usr/bin/env bash
# TLS through stunnel in front of the test server: a trusted certificate
# works; a certificate the client does not trust is permanent (one line
# naming the TLS failure, 69, within the connect timeout; never retried for
# a minute as if the network were down); a CA file that cannot be read is
# named (66), not "Failed initialize TLS state.".
. "$(dirname "$0")/lib.sh"
require_servers
test_have_prereq STUNNEL || skip_all "$(prereq_why STUNNEL)"
test_have_prereq BARE_HOST || skip_all "$(prereq_why BARE_HOST)"
SRC=$MP_SOURCE_URI

# timed CMD...: run CMD; $rc its status, $secs how long it took
timed() {
	local t0=$(date +%s)
	"$@"; rc=$?
	secs=$(($(date +%s) - t0))
}

test_expect_success 'stunnel in front of the source, with a CA of our own' '
	tls_proxy tls "$SRC" &&
	GOOD="mongodb://$TLS_HOSTPORT/?directConnection=true&tls=true&tlsCAFile=$PWD/tls.ca.pem" &&
	BAD="mongodb://$TLS_HOSTPORT/?directConnection=true&tls=true&tlsCAFile=$PWD/tls.other.pem" &&
	echo "$GOOD" >good.uri && echo "$BAD" >bad.uri && echo "$TLS_HOSTPORT" >hostport
'
GOOD=$(cat good.uri 2>/dev/null) BAD=$(cat bad.uri 2>/dev/null) HOSTPORT=$(cat hostport 2>/dev/null)

test_expect_success 'a trusted certificate: load, dump and hashdiff work over TLS' '
	mp-gen 500 | mongo-load-bson --uri "$GOOD" --ns $TEST_DB.t --drop &&
	mongo-dump-bson --uri "$GOOD" --ns $TEST_DB.t >t.bson &&
	mongo-hashdiff --source "$GOOD" --target "$SRC" --ns $TEST_DB.t 2>err &&
	test_grep "equal 500" err
'

for tool in load replay watch dump hashdiff; do
	test_expect_success "an untrusted certificate: $tool says so once, 69, within the connect timeout" '
		case '$tool' in
		load) timed mongo-load-bson --uri "$BAD" --ns $TEST_DB.u --from t.bson --connect-timeout 3 2>err ;;
		replay) mp-gen 5 --events $TEST_DB.u >ev.bson &&
			timed mongo-replay --uri "$BAD" --from ev.bson --connect-timeout 3 2>err ;;
		watch) timed mongo-watch --uri "$BAD" --ns $TEST_DB.t --idle-exit 2 --connect-timeout 3 2>err ;;
		dump) timed mongo-dump-bson --uri "$BAD" --ns $TEST_DB.t -o d.bson --connect-timeout 3 2>err ;;
		hashdiff) timed mongo-hashdiff --source "$SRC" --target "$BAD" --ns $TEST_DB.t --connect-timeout 3 2>err ;;
		esac;
		echo "rc=$rc secs=$secs" && cat err &&
		test $rc = 69 && test $secs -le 12 &&
		test_grep "certificate verify failed" err &&
		! test_grep "warning" err && ! test_grep "eligible for rescan" err
	'
done

test_expect_success 'a CA file that cannot be read: 66, naming it' '
	test_expect_code 66 mongo-dump-bson --uri "mongodb://$HOSTPORT/?tls=true&tlsCAFile=$PWD/nope.pem" \
		--ns $TEST_DB.t -o d.bson 2>err &&
	test_grep "tlsCAFile $PWD/nope.pem" err && test $(wc -l <err) = 1
'

test_done
