#!/usr/bin/env bash
# A server that stops answering (a blackholed connection) never holds a
# tool for the driver's five minutes: --socket-timeout bounds each wait (a
# write of unknown outcome is retried, then 69), and SIGTERM ends a blocked
# tool within MP_STOP_GRACE seconds with 75 (and its --stats exit record),
# its checkpoint consistent and no output file left half-written.
. "$(dirname "$0")/lib.sh"
require_servers
SRC=$MP_SOURCE_URI

# elapsed CMD...: run CMD, put its exit status in $rc and seconds in $secs
elapsed() {
	local t0=$(date +%s)
	"$@"; rc=$?
	secs=$(($(date +%s) - t0))
}

# sigterm_when FILE PID: send SIGTERM to PID once FILE (the proxy's log)
# records a fault, that is once the tool is certainly blocked
sigterm_when() {
	for i in $(seq 1 400); do grep -q " fault=" "$1" 2>/dev/null && break; sleep 0.05; done
	grep -q " fault=" "$1" && kill -TERM "$2"
}

test_expect_success 'seed' '
	mp-gen 5000 | mongo-load-bson --uri "$SRC" --ns $TEST_DB.s --drop -q
'

# The timeout is 3 s, not 1: it bounds the handshake through the proxy too,
# and on a loaded 2-core machine that once took over a second (CI of 6a7a1df).
test_expect_success PLAIN_TCP 'load into a blackholed server: --socket-timeout 3, retried, then 69 within seconds' '
	fault_proxy bh1 "$SRC" blackhole --cmd insert &&
	mp-gen 100 >in.bson &&
	elapsed mongo-load-bson --uri "$FP_URI" --ns $TEST_DB.t --from in.bson --socket-timeout 3 \
		--retries 1 --checkpoint ck1 2>err &&
	echo "rc=$rc secs=$secs" && test $rc = 69 && test $secs -le 30 &&
	test_grep "not acknowledged" err && ! test -e ck1
'

test_expect_success PLAIN_TCP 'SIGTERM while load waits on a blackholed server: 75 within the grace, checkpoint consistent' '
	fault_proxy bh2 "$SRC" blackhole --cmd insert --after 3 &&
	mp-gen 20000 >in2.bson &&
	{ MP_STOP_GRACE=2 mongo-load-bson --uri "$FP_URI" --ns $TEST_DB.u --from in2.bson --batch-size 1000 \
		--workers 1 --checkpoint ck2 --stats st2.ndjson 2>err & pid=$!; } &&
	sigterm_when bh2.log $pid &&
	elapsed wait $pid &&
	echo "rc=$rc secs=$secs" && test $rc = 75 && test $secs -le 10 &&
	test_grep "not done after 2 s" err &&
	tail -1 st2.ndjson >last && cat last &&
	test "$(jq -r ".type + \" \" + (.status | tostring)" last)" = "exit 75" &&
	jq -r .error last | grep -q "not done after 2 s" &&
	n=$(mp-probe count "$SRC" $TEST_DB.u) && id=$(jq -r "._id[\"\$numberInt\"] // ._id" ck2) &&
	echo "count $n checkpoint $id" && test "$id" -ge 2999 && test "$id" -lt "$n" &&
	mongo-load-bson --uri "$SRC" --ns $TEST_DB.u --from in2.bson --checkpoint ck2 -q &&
	test "$(mp-probe count "$SRC" $TEST_DB.u)" = 20000
'

test_expect_success PLAIN_TCP 'SIGTERM while dump -o waits on a blackholed server: 75, no output file' '
	fault_proxy bh3 "$SRC" blackhole --cmd getMore &&
	{ MP_STOP_GRACE=2 mongo-dump-bson --uri "$FP_URI" --ns $TEST_DB.s --batch-size 100 -o out.bson 2>err &
		pid=$!; } &&
	sigterm_when bh3.log $pid &&
	elapsed wait $pid &&
	echo "rc=$rc secs=$secs" && test $rc = 75 && test $secs -le 10 &&
	! test -e out.bson && ! ls out.bson.tmp.* 2>/dev/null
'

test_expect_success PLAIN_TCP 'SIGTERM while hashdiff waits on a blackholed target: 75, no verdict' '
	fault_proxy bh4 "$SRC" blackhole --cmd getMore &&
	{ MP_STOP_GRACE=2 mongo-hashdiff --source "$SRC" --target "$FP_URI" --ns $TEST_DB.s --batch-size 100 \
		>diff 2>err & pid=$!; } &&
	sigterm_when bh4.log $pid &&
	elapsed wait $pid &&
	echo "rc=$rc secs=$secs" && test $rc = 75 && test $secs -le 10 &&
	! test_grep "equal" diff
'

test_expect_success 'bad timeouts are usage errors' '
	test_expect_code 64 mongo-load-bson --dry-run --ns a.b --socket-timeout -1 </dev/null 2>err &&
	test_grep "socket-timeout" err &&
	test_expect_code 64 mongo-load-bson --dry-run --ns a.b --connect-timeout 0 </dev/null 2>err
'

test_expect_success PLAIN_TCP 'a URI value wins over the default: socketTimeoutMS in the URI is kept' '
	fault_proxy bh5 "$SRC" blackhole --cmd insert &&
	elapsed mongo-load-bson --uri "${FP_URI}&socketTimeoutMS=1000" --ns $TEST_DB.v --from in.bson \
		--retries 0 2>err &&
	echo "rc=$rc secs=$secs" && test $rc = 69 && test $secs -le 15
'

test_done
