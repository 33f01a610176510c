#!/usr/bin/env bash
# The test bed's fault injection: tests/helpers/faultproxy.py (a wire-level
# proxy in front of the source server that cuts, drops, stalls, blackholes
# or trickles selected commands) and tests/peers/hangup_peer.py (a scripted
# peer that hangs up on every insert).  Debian's pymongo is the client here,
# so these tools are proven independently of the tools they will test; a
# mongoc pass-through (mongo-load-bson, mongo-dump-bson) shows the framing
# of our own client goes through untouched.  Timing is only ever asserted as
# a lower bound.
. "$(dirname "$0")/lib.sh"

FP=$TEST_ROOT/tests/helpers/faultproxy.py
PEER=$TEST_ROOT/tests/peers/hangup_peer.py
PY=/usr/bin/python3

# every process a test starts is recorded in $SCRATCH/pids and ended by pid
# when the script ends, even if its test failed half way
trap 'for p in $(cat "$SCRATCH/pids" 2>/dev/null); do kill "$p" 2>/dev/null; done; test_cleanup' EXIT

test_expect_success 'usage errors exit 64' '
	test_expect_code 64 $PY "$FP" cut 2>err && test_grep "upstream" err &&
	test_expect_code 64 $PY "$FP" --upstream 127.0.0.1:1 --after 2 cut 2>err && test_grep "before any rule" err &&
	test_expect_code 64 $PY "$FP" --upstream 127.0.0.1:1 stall soon 2>err && test_grep "not a number" err &&
	test_expect_code 64 $PY "$FP" --upstream 127.0.0.1:1 cut --on reply 2>err && test_grep "stall and trickle" err &&
	test_expect_code 64 $PY "$FP" --upstream 127.0.0.1:1 explode 2>err && test_grep "explode" err &&
	$PY "$FP" --help >out && test_grep "drop-request" out
'

# the tests reach a real deployment (MONGO_TEST_URI) through the proxy with
# its credentials and options, and skip where a proxy cannot stand in for it
test_expect_success 'the URI through the proxy keeps credentials, database and options; what a proxy cannot front' '
	test "$(uri_via 127.0.0.1:5 "mongodb://u:p%40w@db1.example:27017/admin?replicaSet=rs0&authSource=admin&appname=x")" = \
		"mongodb://u:p%40w@127.0.0.1:5/admin?authSource=admin&appname=x&directConnection=true" &&
	test "$(uri_via 127.0.0.1:5 "mongodb://h:1/?directConnection=true")" = "mongodb://127.0.0.1:5/?directConnection=true" &&
	test "$(uri_via 127.0.0.1:5 mongodb://h)" = "mongodb://127.0.0.1:5/?directConnection=true" &&
	uri_plain_tcp "mongodb://u:p@h:1/?authSource=admin" && ! uri_bare_host "mongodb://u:p@h:1/" &&
	! uri_bare_host "mongodb://h:1/?authMechanism=MONGODB-X509" && uri_bare_host "mongodb://h:1/?directConnection=true" &&
	! uri_plain_tcp "mongodb://h:1/?TLS=true" && ! uri_plain_tcp "mongodb://h:1/?a=1&ssl=true" &&
	! uri_plain_tcp "mongodb://a:1,b:2/" && ! uri_plain_tcp "mongodb+srv://c.example/" &&
	! uri_plain_tcp "mongodb://h/?loadBalanced=true" && ! uri_plain_tcp "mongodb://h/?loadbalanced=1" &&
	! uri_plain_tcp "mongodb://h/?tls=yes" && uri_plain_tcp "mongodb://h/?tls=false&tlsCAFile=/ca.pem" &&
	! uri_plain_tcp "mongodb://x@h/?authMechanism=MONGODB-X509&tlsCertificateKeyFile=/k.pem" &&
	! uri_plain_tcp "mongodb://u@h/?authMechanism=GSSAPI" && ! uri_plain_tcp "mongodb://%2Ftmp%2Fm.sock" &&
	uri_parts "mongodb://u:p?w@h/db?appname=a@b" && test "$URI_USER$URI_HOSTS|$URI_PATH|$URI_OPTS" = "u:p?w@h|/db|appname=a@b" &&
	uri_parts "mongodb://[::1]/" && test "$URI_HOSTPORT" = "[::1]:27017" &&
	uri_parts "mongodb://h?w=1" && test "$URI_HOSTPORT|$URI_OPTS" = "h:27017|w=1" &&
	test "$(uri_via 127.0.0.1:5 "mongodb://h/?compressors=snappy&socketTimeoutMS=0&w=majority")" = \
		"mongodb://127.0.0.1:5/?w=majority&directConnection=true"
'

$PY -c "import pymongo" 2>/dev/null ||
	{ test_skip "fault proxy and hangup peer" "Debian python3-pymongo is not installed (make deps)"; test_done; exit; }

# mpc.py [--socket-timeout S] [--time FILE] URI OP ARGS: a pymongo client.
# Exit 0 done, 3 network error (closed, timed out), 4 no server could be
# selected, 1 anything else; FILE gets the seconds the operation took.
cat >mpc.py <<'EOF'
import sys, threading, time
import pymongo
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

args = sys.argv[1:]
sock_to, time_file = 20.0, None
while args[0].startswith("--"):
    if args[0] == "--socket-timeout":
        sock_to = float(args[1])
    elif args[0] == "--time":
        time_file = args[1]
    args = args[2:]
uri, op, rest = args[0], args[1], args[2:]
client = pymongo.MongoClient(uri, directConnection=True, retryWrites=False, retryReads=False,
                             serverSelectionTimeoutMS=3000, connectTimeoutMS=3000,
                             socketTimeoutMS=int(sock_to * 1000), maxPoolSize=50)
coll = None
if rest and "." in rest[0]:
    db, _, name = rest[0].partition(".")
    coll = client[db][name]
start = time.monotonic()
try:
    if op == "ping":
        client.admin.command("ping")
    elif op == "insert":
        for i in rest[1:]:
            coll.insert_one({"_id": int(i), "v": "x" * 100})
    elif op == "update":
        coll.update_one({"_id": int(rest[1])}, {"$set": {"u": 1}})
    elif op == "delete":
        coll.delete_one({"_id": int(rest[1])})
    elif op == "ids":
        print(" ".join(str(d["_id"]) for d in coll.find(sort=[("_id", 1)])))
    elif op == "bytes":
        print(sum(len(d["v"]) for d in coll.find()))
    elif op == "many":
        threads, per = int(rest[1]), int(rest[2])
        errors = []
        def work(k):
            try:
                for i in range(per):
                    coll.insert_one({"_id": k * per + i})
            except Exception as e:
                errors.append(e)
        ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise errors[0]
        print(coll.count_documents({}))
    else:
        sys.exit("mpc.py: unknown op " + op)
except ServerSelectionTimeoutError as e:
    print("no server: %s" % e, file=sys.stderr)
    sys.exit(4)
except AutoReconnect as e:
    print("network error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(3)
finally:
    if time_file:
        with open(time_file, "w") as f:
            f.write("%.3f\n" % (time.monotonic() - start))
EOF
mpc() { $PY "$SCRATCH/mpc.py" "$@"; }
# at_least FILE SECONDS: the time in FILE is SECONDS or more
at_least() {
	$PY -c "import sys; t = float(open(sys.argv[1]).read()); sys.exit(0 if t >= float(sys.argv[2]) else 'took %s s, want at least %s' % (t, sys.argv[2]))" "$1" "$2"
}
# faults FILE: the number of fault lines in a proxy or peer log
faults() { grep -c " fault=" "$1" || true; }

# hangup_peer first: it needs no server
/usr/bin/python3 -c "import mockupdb" 2>/dev/null && have_mockupdb=1 || have_mockupdb=

# peer [OPTIONS]: start hangup_peer.py with a log in peer.log; sets PU and PEER_PID
peer() {
	rm -f peer.port peer.log
	$PY "$PEER" --log peer.log --max-seconds 120 "$@" >peer.port 2>peer.err &
	PEER_PID=$!
	echo $PEER_PID >>"$SCRATCH/pids"
	for i in $(seq 1 100); do [ -s peer.port ] && break; sleep 0.1; done
	[ -s peer.port ] || { cat peer.err; return 1; }
	PU="mongodb://127.0.0.1:$(head -1 peer.port)/"
}

if [ -n "$have_mockupdb" ]; then
	test_expect_success 'hangup_peer: handshake, ping and reads answered; every insert hangs up' '
		peer &&
		mpc "$PU" ping &&
		test "$(mpc "$PU" ids shop.orders)" = "" &&
		test_expect_code 3 mpc "$PU" insert shop.orders 1 2>err && test_grep "network error" err &&
		test_expect_code 3 mpc "$PU" insert shop.orders 2 &&
		mpc "$PU" update shop.orders 1 && mpc "$PU" delete shop.orders 1 &&
		test "$(faults peer.log)" = 2 &&
		test_grep "conn=[0-9]* fault=hangup cmd=insert ns=shop.orders n=1" peer.log &&
		kill -TERM $PEER_PID && wait $PEER_PID
	'

	test_expect_success 'hangup_peer --update --delete --times 2: those too, then acknowledgements' '
		peer --update --delete --times 2 &&
		test_expect_code 3 mpc "$PU" update shop.orders 1 &&
		test_expect_code 3 mpc "$PU" delete shop.orders 1 &&
		mpc "$PU" insert shop.orders 1 &&
		test "$(faults peer.log)" = 2 &&
		test_grep "fault=hangup cmd=update" peer.log && test_grep "fault=hangup cmd=delete" peer.log &&
		kill -TERM $PEER_PID && wait $PEER_PID
	'
else
	test_skip "hangup_peer" "Debian python3-mockupdb is not installed (make deps)"
fi

require_servers
# the proxy needs one plain host:port to forward to; the URIs below name it alone
if ! test_have_prereq BARE_HOST; then
	test_skip "fault proxy" "$(prereq_why BARE_HOST)"
	test_done
	exit
fi
uri_parts "$MP_SOURCE_URI"
UPSTREAM=$URI_HOSTPORT
SRC=$MP_SOURCE_URI
NS=$TEST_DB.c

# proxy NAME [--control FILE] RULE...: start faultproxy.py in front of the
# source, logging to NAME.log; sets PU (its URI) and PP (its pid)
proxy() {
	local name=$1
	shift
	rm -f "$name.port"
	$PY "$FP" --listen 127.0.0.1:0 --upstream "$UPSTREAM" --port-file "$name.port" --log "$name.log" "$@" \
		>"$name.out" 2>"$name.err" &
	PP=$!
	echo $PP >>"$SCRATCH/pids"
	for i in $(seq 1 100); do [ -s "$name.port" ] && break; sleep 0.1; done
	[ -s "$name.port" ] || { cat "$name.err"; return 1; }
	test "$(head -1 "$name.out")" = "$(cat "$name.port")" || return 1
	PU="mongodb://127.0.0.1:$(cat "$name.port")/"
}
# stop_proxy: SIGTERM, and it exits 0
stop_proxy() { kill -TERM $PP && wait $PP; }
# clean COLL: an empty collection on the source, straight to the server
clean() { mp-probe drop "$SRC" "$TEST_DB.$1" >/dev/null 2>&1 || true; }

test_expect_success 'pass-through: pymongo inserts and finds, nothing is logged as a fault' '
	clean c && proxy pass &&
	mpc "$PU" insert $NS 1 2 3 &&
	test "$(mpc "$PU" ids $NS)" = "1 2 3" &&
	test "$(mpc "$SRC" ids $NS)" = "1 2 3" &&
	test "$(faults pass.log)" = 0 &&
	stop_proxy && test_grep "stopped" pass.log
'

test_expect_success 'pass-through: mongo-load-bson and mongo-dump-bson (libmongoc) through the proxy' '
	proxy mongoc &&
	mp-gen 2000 >docs.bson &&
	mongo-load-bson --uri "$PU?directConnection=true" --ns $TEST_DB.m --batch-size 500 <docs.bson &&
	mongo-dump-bson --uri "$PU?directConnection=true" --ns $TEST_DB.m >back.bson &&
	mongo-hashdiff --source-file docs.bson --target-file back.bson --ns $TEST_DB.m &&
	test "$(mp-probe count "$SRC" $TEST_DB.m)" = 2000 &&
	test "$(faults mongoc.log)" = 0 &&
	stop_proxy
'

test_expect_success 'cut on insert: the client gets a network error, the write may have happened' '
	clean c && proxy cut cut --cmd insert --times 1 &&
	test_expect_code 3 mpc "$PU" insert $NS 1 2>err && test_grep "network error" err &&
	mpc "$PU" insert $NS 2 &&
	ids=$(mpc "$PU" ids $NS) &&
	case $ids in "1 2" | 2) ;; *) echo "unexpected: $ids"; false ;; esac &&
	test "$(faults cut.log)" = 1 &&
	grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z conn=[0-9]+ fault=cut cmd=insert ns=$NS req=-?[0-9]+ rule=1 \[cut --cmd insert --times 1\]$" cut.log &&
	stop_proxy
'

test_expect_success 'drop-request: a network error and the document is not there' '
	clean c && proxy dreq drop-request --cmd insert --times 1 &&
	test_expect_code 3 mpc "$PU" insert $NS 1 &&
	mpc "$PU" insert $NS 2 &&
	test "$(mpc "$SRC" ids $NS)" = 2 &&
	test "$(faults dreq.log)" = 1 && test_grep "fault=drop-request cmd=insert ns=$NS" dreq.log &&
	stop_proxy
'

test_expect_success 'drop-reply: a network error and the document is there' '
	clean c && proxy drep drop-reply --cmd insert --times 1 &&
	test_expect_code 3 mpc "$PU" insert $NS 1 &&
	test "$(mpc "$SRC" ids $NS)" = 1 &&
	test "$(faults drep.log)" = 1 && test_grep "fault=drop-reply cmd=insert" drep.log &&
	stop_proxy
'

test_expect_success '--after 2 --times 1 and several --cmd: the third selected write only' '
	clean c && proxy after drop-request --cmd update --cmd insert --after 2 --times 1 &&
	mpc "$PU" insert $NS 1 2 &&
	test_expect_code 3 mpc "$PU" insert $NS 3 &&
	mpc "$PU" insert $NS 4 &&
	test "$(mpc "$SRC" ids $NS)" = "1 2 4" &&
	test "$(faults after.log)" = 1 &&
	stop_proxy
'

test_expect_success 'any spares the handshake and ping; a handshake command named explicitly is faulted' '
	clean c && proxy any drop-request --cmd any &&
	mpc "$PU" ping &&
	test_expect_code 3 mpc "$PU" ids $NS &&
	test_grep "fault=drop-request cmd=find" any.log &&
	! grep -i "cmd=ismaster\|cmd=hello\|cmd=ping" any.log &&
	stop_proxy &&
	proxy hs drop-request --cmd isMaster,hello &&
	test_expect_code 4 mpc "$PU" ping &&
	grep -i "fault=drop-request cmd=\(ismaster\|hello\)" hs.log &&
	stop_proxy
'

test_expect_success 'stall holds the request, or with --on reply the reply, at least that long' '
	clean c && proxy stall stall 1.5 --cmd insert --times 1 stall 1.5 --on reply --cmd find --times 1 &&
	mpc --time t1 "$PU" insert $NS 1 && at_least t1 1.5 &&
	mpc --time t2 "$PU" ids $NS >ids && at_least t2 1.5 &&
	test "$(cat ids)" = 1 &&
	test "$(faults stall.log)" = 2 &&
	test_grep "fault=stall cmd=insert .* on=request 1.5" stall.log &&
	test_grep "fault=stall cmd=find .* on=reply 1.5" stall.log &&
	stop_proxy
'

test_expect_success 'blackhole: a client with a 2 s socket timeout fails; other connections go on' '
	clean c && proxy bh blackhole --cmd insert --times 1 &&
	test_expect_code 3 mpc --socket-timeout 2 --time t "$PU" insert $NS 1 2>err &&
	test_grep "timed out" err && at_least t 2 &&
	mpc "$PU" insert $NS 2 &&
	test "$(mpc "$SRC" ids $NS)" = 2 &&
	test "$(faults bh.log)" = 1 && test_grep "fault=blackhole cmd=insert" bh.log &&
	stop_proxy
'

test_expect_success 'SIGTERM with a blackholed client: exit 0, the client sees the connection close' '
	proxy bh2 blackhole --cmd find
	{ mpc --socket-timeout 60 "$PU" ids $NS 2>client.err; echo $? >client.rc; } &
	client=$!
	for i in $(seq 1 100); do grep -q "fault=blackhole" bh2.log && break; sleep 0.1; done &&
	test_grep "fault=blackhole cmd=find" bh2.log &&
	stop_proxy &&
	wait $client &&
	test "$(cat client.rc)" = 3 && test_grep "network error" client.err
'

test_expect_success 'trickle: the reply comes whole, no faster than the rate' '
	clean c && mpc "$SRC" insert $NS $(seq 1 30) &&
	proxy tr trickle 2000 --cmd find &&
	mpc --time t "$PU" bytes $NS >bytes &&
	test "$(cat bytes)" = 3000 &&
	at_least t 1.4 &&
	test_grep "fault=trickle cmd=find .* on=reply 2000" tr.log &&
	stop_proxy
'

test_expect_success 'the control file changes the rules between phases' '
	clean c && rm -f ctl && proxy ctl --control ctl &&
	mpc "$PU" insert $NS 1 &&
	echo "drop-request --cmd insert   # phase 2" >ctl.new && mv ctl.new ctl &&
	test_expect_code 3 mpc "$PU" insert $NS 2 &&
	test_expect_code 3 mpc "$PU" insert $NS 3 &&
	: >ctl.new && mv ctl.new ctl &&
	mpc "$PU" insert $NS 4 &&
	printf "drop-reply --cmd insert --times 1\n" >ctl.new && mv ctl.new ctl &&
	test_expect_code 3 mpc "$PU" insert $NS 5 &&
	mpc "$PU" insert $NS 6 &&
	test "$(mpc "$SRC" ids $NS)" = "1 4 5 6" &&
	test "$(faults ctl.log)" = 3 &&
	test "$(grep -c "fault=drop-request" ctl.log)" = 2 &&
	test_grep "control file=ctl rules=1 \[drop-request --cmd insert\]" ctl.log &&
	test_grep "control file=ctl rules=0" ctl.log &&
	stop_proxy
'

test_expect_success 'a bad control file keeps the rules in force and says why' '
	clean c && printf "drop-request --cmd insert\n" >ctl && proxy bad --control ctl &&
	test_expect_code 3 mpc "$PU" insert $NS 1 &&
	echo "explode --cmd insert" >ctl.new && mv ctl.new ctl &&
	test_expect_code 3 mpc "$PU" insert $NS 2 &&
	test "$(mpc "$SRC" ids $NS)" = "" &&
	test_grep "error control=ctl unknown word in rules: explode" bad.log &&
	stop_proxy
'

test_expect_success '40 concurrent connections through the proxy' '
	clean c && proxy many &&
	test "$(mpc "$PU" many $NS 40 25)" = 1000 &&
	test "$(mp-probe count "$SRC" $NS)" = 1000 &&
	stop_proxy
'

test_done
