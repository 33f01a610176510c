# tests/cli/lib.sh: the shell test library, in the style of git's t/.
# Sourced by tests/cli/tNNNN-<tool>-<topic>.sh; prints TAP.
#
#   test_expect_success 'what it shows' '
#       cmd1 &&
#       test_expect_code 65 cmd2 &&
#       test_cmp expect actual
#   '
#   test_done
#
# Each body runs in a subshell with `set -e`, in a scratch directory that is
# removed when the script ends.  Servers come from the runner: MP_SOURCE_URI
# and MP_TARGET_URI (tests/run starts two, or uses MONGO_TEST_URI as the
# source and MONGO_TEST_TARGET_URI, else a test server, as the target).  Every test uses its own databases, TEST_DB and
# TEST_DB2, dropped at the end, so a real deployment is left as it was.
set -u

TEST_NAME=$(basename "$0" .sh)
TEST_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TEST_DATA=$TEST_ROOT/tests/cli/data
MP_BUILD=${MP_BUILD:-$TEST_ROOT/build}
case $MP_BUILD in /*) ;; *) MP_BUILD=$TEST_ROOT/$MP_BUILD ;; esac
PATH=$MP_BUILD/bin:$MP_BUILD/tests/helpers:$PATH
export PATH
TEST_DB=mp_$(echo "$TEST_NAME" | cut -d- -f1)_$$
TEST_DB2=${TEST_DB}_b
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mp-$TEST_NAME.XXXXXX")
test_count=0
test_failed=0
test_dbs_used=

test_cleanup() {
	local uri p
	for p in $(cat "$SCRATCH/.pids" 2>/dev/null); do kill "$p" 2>/dev/null; done
	if [ -n "$test_dbs_used" ]; then
		for uri in "${MP_SOURCE_URI:-}" "${MP_TARGET_URI:-}" "${MP_FERRETDB_URI:-}"; do
			[ -n "$uri" ] || continue
			mp-probe dropdb "$uri" "$TEST_DB" >/dev/null 2>&1 || true
			mp-probe dropdb "$uri" "$TEST_DB2" >/dev/null 2>&1 || true
		done
	fi
	cd / && rm -rf "$SCRATCH"
}
trap test_cleanup EXIT
cd "$SCRATCH" || exit 1

# skip_all REASON: the whole script cannot run here.
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# Prerequisites, as in git's t/: a test names what it needs,
#   test_expect_success SERVERS,MONGO_TOOLS 'what it shows' '...'
# and is reported skipped, with the reason, where that is missing.  Each is
# decided once, when first asked, by the test in prereq_check below.
#   SERVERS      a source and a target server (MP_SOURCE_URI, MP_TARGET_URI)
#   MONGO_TOOLS  mongodump, mongorestore, bsondump, mongoexport, mongoimport built by tests/mongo-tools/build
#   MOCKUPDB     Debian's python3-mockupdb, for scripted peers
#   PYMONGO      Debian's python3-pymongo
#   FERRETDB     a FerretDB server (MP_FERRETDB_URI), started by tests/run
#   STUNNEL      Debian's stunnel4 and openssl, for TLS in front of a server
#   GNU_PARALLEL Debian's parallel (GNU parallel, not moreutils' parallel)
#   PYYAML       Debian's python3-yaml
#   PLAIN_TCP    each server is one host over plain TCP (no TLS, SRV or load
#                balancer), so a proxy of ours can stand in front of it; the
#                fault proxy's URI keeps the credentials and options and
#                connects directly, so that host must be a primary
#   BARE_HOST    PLAIN_TCP without credentials: the test reaches the server
#                by its host and port alone (stunnel, --host/--port)
# and what the servers can do, asked of them (tests/server/capabilities;
# tests/run asks once per pass and exports MP_SERVER_CAPS):
#   CHANGE_STREAMS  the servers open change streams
#   ALL_TYPES    they store MinKey, MaxKey, JavaScript code, regular
#                expressions and timestamps (mp-gen --all-types)
#   DECIMAL128   they store Decimal128
#   PUSH_SLICE   $push with $each and $slice truncates an array (how
#                mongo-replay applies an update's truncatedArrays)
#   EXACT_REPLACE  a replacement equal by value but not by type is written
#   ARRAY_EXPRESSIONS  $split and $arrayElemAt in an aggregation
#   INDEX_OPTIONS  indexes with partialFilterExpression and expireAfterSeconds
#   INDEX_NS     an index spec with the legacy ns field (mongorestore sends it)
#   CREATE_VIEW  a create with viewOn is accepted
#   WRITE_ERROR_INDEX  an update's refused statement is reported at its index
prereq_ok=" " prereq_missing=" "
prereq_check() {
	case $1 in
	SERVERS) [ -n "${MP_SOURCE_URI:-}" ] && [ -n "${MP_TARGET_URI:-}" ] ;;
	MONGO_TOOLS) [ -n "${MP_MONGO_TOOLS_BIN:-}" ] && [ -x "$MP_MONGO_TOOLS_BIN/bsondump" ] && [ -x "$MP_MONGO_TOOLS_BIN/mongoimport" ] ;;
	MOCKUPDB) /usr/bin/python3 -c "import mockupdb" 2>/dev/null ;;
	PYMONGO) /usr/bin/python3 -c "import pymongo" 2>/dev/null ;;
	FERRETDB) [ -n "${MP_FERRETDB_URI:-}" ] ;;
	STUNNEL) command -v stunnel4 >/dev/null && command -v openssl >/dev/null ;;
	GNU_PARALLEL) parallel --version 2>/dev/null | grep -q '^GNU parallel' ;;
	PYYAML) /usr/bin/python3 -c "import yaml" 2>/dev/null ;;
	PLAIN_TCP) test_have_prereq SERVERS && uri_plain_tcp "$MP_SOURCE_URI" && uri_plain_tcp "$MP_TARGET_URI" ;;
	BARE_HOST) test_have_prereq PLAIN_TCP && uri_bare_host "$MP_SOURCE_URI" && uri_bare_host "$MP_TARGET_URI" ;;
	CHANGE_STREAMS|ALL_TYPES|DECIMAL128|PUSH_SLICE|EXACT_REPLACE|ARRAY_EXPRESSIONS|INDEX_OPTIONS|INDEX_NS|CREATE_VIEW|WRITE_ERROR_INDEX) server_can "$1" ;;
	*) echo "lib.sh: unknown prerequisite $1" >&2; return 1 ;;
	esac
}
prereq_why() {
	case $1 in
	SERVERS) echo "${MP_TESTBED_SKIP:-no test servers (run through make check, or set MONGO_TEST_URI)}" ;;
	MONGO_TOOLS) echo "${MP_MONGO_TOOLS_SKIP:-the MongoDB Database Tools are not built (tests/mongo-tools/build)}" ;;
	MOCKUPDB) echo "Debian python3-mockupdb is not installed (make deps)" ;;
	PYMONGO) echo "Debian python3-pymongo is not installed (make deps)" ;;
	FERRETDB) echo "${MP_FERRETDB_SKIP:-no FerretDB (run through make check)}" ;;
	STUNNEL) echo "Debian stunnel4 or openssl is not installed (make deps)" ;;
	GNU_PARALLEL) echo "GNU parallel is not installed (Debian parallel: make deps)" ;;
	PYYAML) echo "Debian python3-yaml is not installed" ;;
	PLAIN_TCP) test_have_prereq SERVERS || { prereq_why SERVERS; return; }
		echo "the servers need TLS, SRV, a load balancer or several hosts: a proxy of the test's own in front of one host cannot stand in for them" ;;
	BARE_HOST) test_have_prereq PLAIN_TCP || { prereq_why PLAIN_TCP; return; }
		echo "the servers need credentials: the test reaches them by host and port alone" ;;
	CHANGE_STREAMS) server_lacks "no change streams (\$changeStream is refused)" ;;
	ALL_TYPES) server_lacks "MinKey, MaxKey, code, regex or timestamp values are not stored" ;;
	DECIMAL128) server_lacks "Decimal128 values are not stored" ;;
	PUSH_SLICE) server_lacks "\$push with \$slice leaves the array whole" ;;
	EXACT_REPLACE) server_lacks "a replacement equal by value but not by type is not written" ;;
	ARRAY_EXPRESSIONS) server_lacks "no \$split or \$arrayElemAt in aggregations" ;;
	INDEX_OPTIONS) server_lacks "no partialFilterExpression or expireAfterSeconds on an index" ;;
	CREATE_VIEW) server_lacks "a create with viewOn is refused" ;;
	WRITE_ERROR_INDEX) server_lacks "a refused update is reported at index 0, whatever its place" ;;
	INDEX_NS) server_lacks "an index spec with ns is refused: mongorestore cannot restore indexes there" ;;
	*) echo "unknown prerequisite $1" ;;
	esac
}

# server_can CAP: the servers have CAP (MP_SERVER_CAPS from tests/run, or
# asked here once when a test runs by itself)
server_can() {
	test_have_prereq SERVERS || return 1
	if [ -z "${MP_SERVER_CAPS+set}" ]; then
		MP_SERVER_CAPS=" $("$TEST_ROOT/tests/server/capabilities" "$MP_SOURCE_URI" "$MP_TARGET_URI" | tr '\n' ' ')"
	fi
	case " $MP_SERVER_CAPS " in *" $1 "*) return 0 ;; esac
	return 1
}
server_lacks() {
	if test_have_prereq SERVERS; then
		echo "${MP_SERVER_NAME:-the test servers}: $1"
	else
		prereq_why SERVERS
	fi
}

# mp-gen writes what the servers keep: "amount" as a string where they store
# no Decimal128 (decided by tests/run's MP_SERVER_CAPS; a test run by itself
# assumes Decimal128), and gen_types prints --all-types where they store
# those types, so a seed of "every type the server keeps" is one
case " ${MP_SERVER_CAPS-DECIMAL128} " in *" DECIMAL128 "*) ;; *) export MP_GEN_NO_DECIMAL=1 ;; esac
gen_types() {
	if test_have_prereq ALL_TYPES; then echo --all-types; fi
}

# scaled N [MIN]: N divided by MP_TEST_SCALE (default 1), at least MIN, for
# document counts, batch sizes and byte counts whose size is arbitrary.
# tests/run's FerretDB pass sets 10: FerretDB 1.24 finds each upsert's _id
# by a scan of the collection (its PostgreSQL backend asks
# `_jsonb->$1 @> $2`, which no index serves), so 40,000 upserts take an hour.
scaled() {
	local n=$(($1 / ${MP_TEST_SCALE:-1}))
	[ "$n" -ge "${2:-1}" ] || n=${2:-1}
	echo "$n"
}

# test_have_prereq P1,P2: all of them are here (server tests also record that
# they use TEST_DB, so that it is dropped at the end).
test_have_prereq() {
	local p
	for p in $(echo "$1" | tr , ' '); do
		case $prereq_ok in *" $p "*) continue ;; esac
		case $prereq_missing in *" $p "*) return 1 ;; esac
		if prereq_check "$p"; then
			prereq_ok="$prereq_ok$p "
			case $p in SERVERS|FERRETDB) test_dbs_used=1 ;; esac
		else
			prereq_missing="$prereq_missing$p "
			return 1
		fi
	done
	return 0
}

# the reason the first missing prerequisite of P1,P2 gives
prereq_reason() {
	local p
	for p in $(echo "$1" | tr , ' '); do
		test_have_prereq "$p" || { prereq_why "$p"; return; }
	done
}

# require_servers: skip the whole file unless the servers are here.
require_servers() {
	test_have_prereq SERVERS || skip_all "$(prereq_why SERVERS)"
}

# uri_parts URI: split a mongodb:// URI as libmongoc does (the hosts end at
# the first "/", the userinfo at the first "@") into URI_USER ("userinfo@" or
# empty), URI_HOSTS, URI_PATH ("/db" or empty) and URI_OPTS (its query,
# without the "?"); URI_HOSTPORT is the first host with its port (27017
# when none is given).
uri_parts() {
	local rest=${1#mongodb://} tail=
	URI_USER= URI_PATH= URI_OPTS=
	case $rest in */*) tail=${rest#*/}; rest=${rest%%/*} ;; *\?*) tail=?${rest#*\?}; rest=${rest%%\?*} ;; esac
	case $rest in *@*) URI_USER=${rest%%@*}@; rest=${rest#*@} ;; esac
	case $tail in *\?*) URI_OPTS=${tail#*\?}; tail=${tail%%\?*} ;; esac
	[ -z "$tail" ] || URI_PATH=/$tail
	URI_HOSTS=$rest
	URI_HOSTPORT=${rest%%,*}
	case $URI_HOSTPORT in \[*\]) URI_HOSTPORT=$URI_HOSTPORT:27017 ;; \[* | *:*) ;; *) URI_HOSTPORT=$URI_HOSTPORT:27017 ;; esac
}

# uri_plain_tcp URI: one host over plain TCP (see PLAIN_TCP).  As libmongoc
# reads it: tls or ssl decides (true, 1, yes, y or t is on), else any other
# tls* or ssl* option turns TLS on; a unix socket, GSSAPI (whose service
# name comes from the host) and a load balancer cannot be proxied either.
uri_plain_tcp() {
	local o all tls= key val
	case $1 in mongodb://*) ;; *) return 1 ;; esac
	uri_parts "$1"
	case $URI_HOSTS in *,* | "" | *\?* | *%2[fF]* | *.sock) return 1 ;; esac
	IFS='&' read -ra all <<<"$URI_OPTS"
	for o in ${all[@]+"${all[@]}"}; do
		key=${o%%=*} val=${o#*=}
		key=${key,,} val=${val,,}
		case $key in
		tls | ssl) case $val in true | 1 | yes | y | t) tls=on ;; *) tls=off ;; esac ;;
		tls?* | ssl?*) [ -n "$tls" ] || tls=implied ;;
		loadbalanced) case $val in true | 1 | yes | y | t) return 1 ;; esac ;;
		authmechanism) [ "$val" != gssapi ] || return 1 ;;
		esac
	done
	[ -z "$tls" ] || [ "$tls" = off ]
}

# uri_bare_host URI: no credentials either (see BARE_HOST)
uri_bare_host() {
	uri_plain_tcp "$1" && [ -z "$URI_USER" ] &&
	case "&${URI_OPTS,,}" in *"&authmechanism="* | *"&authsource="*) false ;; *) true ;; esac
}

# uri_via HOSTPORT URI: URI with its one host replaced by HOSTPORT, keeping
# its credentials, database and options, directly connected; without
# replicaSet, compressors (the fault proxy reads zlib only) and the
# timeouts, which the tests set themselves
uri_via() {
	local o o_key opts= all
	uri_parts "$2"
	IFS='&' read -ra all <<<"$URI_OPTS"
	for o in ${all[@]+"${all[@]}"}; do
		o_key=${o%%=*}
		case ${o_key,,} in
		replicaset | directconnection | compressors | *timeoutms | "") ;;
		*) opts=$opts$o\& ;;
		esac
	done
	echo "mongodb://$URI_USER$1${URI_PATH:-/}?${opts}directConnection=true"
}

# fault_proxy NAME URI RULE...: start tests/helpers/faultproxy.py in front of
# the server at URI with the given fault rules (see tests/server/README.md),
# logging to NAME.log; sets FP_URI (a URI through it, with URI's
# credentials and options) and FP_PID.  Needs PLAIN_TCP.  Ended by the
# test's cleanup if still running.
fault_proxy() {
	local name=$1 uri=$2 i
	shift 2
	uri_parts "$uri"
	rm -f "$name.port"
	/usr/bin/python3 "$TEST_ROOT/tests/helpers/faultproxy.py" --listen 127.0.0.1:0 --upstream "$URI_HOSTPORT" \
		--port-file "$name.port" --log "$name.log" "$@" >"$name.out" 2>"$name.err" &
	FP_PID=$!
	echo $FP_PID >>"$SCRATCH/.pids"
	for i in $(seq 1 100); do [ -s "$name.port" ] && break; sleep 0.1; done
	[ -s "$name.port" ] || { cat "$name.err" >&2; return 1; }
	FP_URI=$(uri_via "127.0.0.1:$(cat "$name.port")" "$uri")
}

# tls_ca NAME CN: a self-signed CA, NAME.pem with its key NAME.key.
tls_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" 2>/dev/null
}

# tls_cert CA NAME CN EXT [START END]: a key NAME.key and a certificate
# NAME.pem for /CN=CN with the extension EXT (a config line such as
# "subjectAltName=IP:127.0.0.1"), signed by the CA CA.pem (key CA.key),
# valid for two days from now, or from START to END (YYYYMMDDHHMMSSZ, in the
# past for an expired one: `openssl x509 -req` of OpenSSL 3.0 sets no dates,
# `openssl ca` does, with a database of its own in NAME.db/).
tls_cert() {
	local ca=$1 name=$2 cn=$3 ext=$4 start=${5:-} end=${6:-}
	openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null || return 1
	if [ -z "$start" ]; then
		printf "%s\n" "$ext" >"$name.ext" &&
		openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
			-out "$name.pem" -days 2 -extfile "$name.ext" 2>/dev/null
		return
	fi
	mkdir -p "$name.db" && : >"$name.db/index" && echo 01 >"$name.db/serial" &&
	printf "[ca]\ndefault_ca = d\n[d]\ndatabase = %s\nserial = %s\nnew_certs_dir = %s\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n[x]\n%s\n" \
		"$PWD/$name.db/index" "$PWD/$name.db/serial" "$PWD/$name.db" "$ext" >"$name.db/conf" &&
	openssl ca -batch -notext -config "$name.db/conf" -cert "$ca.pem" -keyfile "$ca.key" \
		-in "$name.csr" -out "$name.pem" -startdate "$start" -enddate "$end" -extensions x >"$name.db/log" 2>&1 ||
		{ cat "$name.db/log" >&2; return 1; }
}

# tls_stunnel NAME URI CERT [CLIENT_CA]: stunnel4 accepting TLS on a free
# port in front of the server at URI, presenting CERT.pem (key CERT.key);
# with CLIENT_CA, it also demands a client certificate that CLIENT_CA.pem
# signed (verify = 2).  Config NAME.conf, log NAME.log; sets TLS_HOSTPORT
# and TLS_PID.  Ended by the test's cleanup.
tls_stunnel() {
	local name=$1 up cert=$3 client_ca=${4:-} port i
	uri_parts "$2"
	up=${URI_HOSTPORT//[][]/} # stunnel takes [::1]:27017 as ::1:27017
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf "foreground = yes\npid =\n[mongo]\naccept = 127.0.0.1:%s\nconnect = %s\ncert = %s\nkey = %s\n" \
		"$port" "$up" "$PWD/$cert.pem" "$PWD/$cert.key" >"$name.conf"
	[ -z "$client_ca" ] || printf "verify = 2\nCAfile = %s\n" "$PWD/$client_ca.pem" >>"$name.conf"
	stunnel4 "$name.conf" >"$name.log" 2>&1 &
	TLS_PID=$!
	echo $TLS_PID >>"$SCRATCH/.pids"
	for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { cat "$name.log" >&2; return 1; }
	TLS_HOSTPORT=127.0.0.1:$port
}

# tls_proxy NAME URI: a CA (NAME.ca.pem), a server certificate it signed
# for 127.0.0.1, a second CA that signed nothing (NAME.other.pem), and
# stunnel4 accepting TLS on a free port in front of the server at URI; sets
# TLS_HOSTPORT and TLS_PID.  Ended by the test's cleanup.
tls_proxy() {
	tls_ca "$1.ca" "mongo-pipes test CA" &&
	tls_cert "$1.ca" "$1" 127.0.0.1 "subjectAltName=IP:127.0.0.1,DNS:localhost" &&
	tls_ca "$1.other" "another CA" &&
	tls_stunnel "$1" "$2" "$1"
}

# start_peer NAME SCRIPT [ARGS]: start tests/peers/SCRIPT (a scripted
# wire-protocol peer printing its port), logging to NAME.log where it takes
# --log; sets PEER_URI and PEER_PID.  Ended by the test's cleanup.
start_peer() {
	local name=$1 script=$2 i
	shift 2
	rm -f "$name.port"
	/usr/bin/python3 "$TEST_ROOT/tests/peers/$script" "$@" >"$name.port" 2>"$name.err" &
	PEER_PID=$!
	echo $PEER_PID >>"$SCRATCH/.pids"
	for i in $(seq 1 100); do [ -s "$name.port" ] && break; sleep 0.1; done
	[ -s "$name.port" ] || { cat "$name.err" >&2; return 1; }
	PEER_URI="mongodb://127.0.0.1:$(head -1 "$name.port")/?directConnection=true"
}

# hangup_peer NAME [ARGS]: start tests/peers/hangup_peer.py (a server that
# closes the connection on every write); sets HP_URI and HP_PID.
hangup_peer() {
	start_peer "$1" hangup_peer.py --log "$1.log" "${@:2}" && HP_URI=$PEER_URI && HP_PID=$PEER_PID
}

# meta_peer NAME CATALOG: start tests/peers/meta_peer.py serving CATALOG;
# sets PEER_URI.
meta_peer() {
	start_peer "$1" meta_peer.py --catalog "$2"
}

# dupkey_peer NAME [ARGS]: start tests/peers/dupkey_peer.py (a server that
# keeps documents and never names the key of a duplicate); sets PEER_URI.
dupkey_peer() {
	start_peer "$1" dupkey_peer.py --log "$1.log" "${@:2}"
}

# require_mongo_tools: skip unless mongodump/mongorestore/bsondump were built.
require_mongo_tools() {
	test_have_prereq MONGO_TOOLS || skip_all "$(prereq_why MONGO_TOOLS)"
}

# jq 1.6 -e exits 0 when its input is empty, so `jq -e COND FILE` would pass
# on an empty FILE: a check of nothing.  Here -e also fails (4) when jq
# printed nothing, as jq 1.7 does.
jq() {
	local a e=false out rc
	for a in "$@"; do
		case $a in --exit-status) e=true ;; --*) ;; -*e*) e=true ;; esac
	done
	$e || { command jq "$@"; return; }
	out=$(command jq "$@")
	rc=$?
	[ -z "$out" ] || printf '%s\n' "$out"
	[ $rc -eq 0 ] || return $rc
	[ -n "$out" ] || return 4
}

# test_expect_success [PREREQS] DESC BODY
test_expect_success() {
	local desc body out
	if [ $# -eq 3 ]; then
		if ! test_have_prereq "$1"; then
			test_skip "$2" "$(prereq_reason "$1")"
			return 0
		fi
		shift
	fi
	desc=$1 body=$2
	test_count=$((test_count + 1))
	out=$SCRATCH/.test-output
	if (set -e; eval "$body") >"$out" 2>&1; then
		echo "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc"
		sed -e 's/^/#   /' "$out" | tail -n 40
	fi
}

# test_skip DESC REASON: a test that cannot run here.
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# test_expect_code N CMD...: CMD must exit with status N.
test_expect_code() {
	local want=$1 got=0
	shift
	"$@" || got=$?
	if [ "$got" != "$want" ]; then
		echo "test_expect_code: '$*' exited $got, want $want" >&2
		return 1
	fi
}

# test_cmp EXPECTED ACTUAL: the files are equal (shows a diff if not).
test_cmp() {
	diff -u "$1" "$2"
}

# test_grep PATTERN FILE: FILE has a line matching PATTERN (shows FILE if not).
test_grep() {
	if ! grep -q -e "$1" "$2"; then
		echo "test_grep: no line matches '$1' in $2:" >&2
		sed -e 's/^/| /' "$2" >&2
		return 1
	fi
}

# test_must_be_empty FILE
test_must_be_empty() {
	if [ -s "$1" ]; then
		echo "test_must_be_empty: $1 has:" >&2
		sed -e 's/^/| /' "$1" >&2
		return 1
	fi
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
}
