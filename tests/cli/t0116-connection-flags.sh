#!/usr/bin/env bash
# mongo-tools' connection flags (--host, --port, -u, -p, --authentication-*,
# --tls*, --read-preference, --config) and the secrets they carry: a flag
# that contradicts the URI is a usage error; a password given with -p is gone
# from /proc/PID/cmdline while the tool runs and from every line and file it
# writes; a --config file others may read is refused; the two-sided tools
# read their URIs from files.  Authentication is tested for real against a
# FerretDB of our own that enforces it (the test servers do not).
. "$(dirname "$0")/lib.sh"

PW='p@ss:w/rd %x-9'  # every character a URI would need escaped
BADPW='wrong-Passw0rd'

# first_line FILE: its first line (a misuse prints the reason, then usage)
first_line() { head -n 1 "$1"; }

test_expect_success 'a flag that contradicts the URI is one usage line, 64, before any work' '
	test_expect_code 64 mongo-dump-bson --uri mongodb://h1:1 --host h2 --ns a.b 2>err &&
	first_line err >line && test_grep "host contradicts the connection string" line &&
	test_expect_code 64 mongo-load-bson --uri mongodb://bob@h1:1 -u alice --ns a.b </dev/null 2>err &&
	first_line err >line && test_grep "username .alice. contradicts .bob." line &&
	test_expect_code 64 mongo-watch --uri "mongodb://bob:other-pw@h1:1" -u bob -p "$PW" --ns a.b 2>err &&
	first_line err >line && test_grep "password contradicts the password of the connection string" line &&
	! grep -F -e "$PW" -e other-pw err &&
	test_expect_code 64 mongo-replay --host h1:1 --port 2 </dev/null 2>err &&
	first_line err >line && test_grep "port 2 contradicts --host h1:1" line &&
	test_expect_code 64 mongo-dump-bson --uri "mongodb://h/?tls=false" --tls --ns a.b 2>err &&
	first_line err >line && test_grep "tls contradicts tls=false" line &&
	test_expect_code 64 mongo-dump-bson --uri "mongodb://h/?readPreference=secondary" --readPreference nearest \
		--ns a.b 2>err &&
	first_line err >line && test_grep "nearest.*contradicts.*secondary" line &&
	test_expect_code 64 mongo-dump-bson --authenticationMechanism MONGODB-CR --ns a.b 2>err &&
	first_line err >line && test_grep "takes SCRAM-SHA-1, SCRAM-SHA-256, MONGODB-X509 or PLAIN" line &&
	test_expect_code 64 mongo-dump-bson --host "h1@evil:1" --ns a.b 2>err &&
	first_line err >line && test_grep "host takes host, host:port, h1:p1,h2:p2 or set/h1,h2, not .h1@evil:1." line &&
	test_expect_code 64 mongo-dump-bson --host "r?s/h1" --ns a.b 2>err &&
	first_line err >line && test_grep "bad replica set name" line &&
	test_expect_code 64 mongo-dump-bson -p "$PW" --ns a.b 2>err &&
	first_line err >line && test_grep "password needs a user name" line && ! grep -F -e "$PW" err
'

test_expect_success 'an empty --password without a terminal is a usage error' '
	test_expect_code 64 setsid mongo-dump-bson -u alice --password= --ns a.b </dev/null 2>err &&
	first_line err >line && test_grep "password is empty and there is no terminal" line &&
	test_expect_code 64 setsid mongo-watch -u alice -p "" --ns a.b </dev/null 2>err &&
	test_grep "no terminal" err
'

test_expect_success '--config: 0644 refused (66, one line), missing 66 naming it, a bad line 65 naming it' '
	printf "password: %s\n" "$PW" >open.yaml && chmod 644 open.yaml &&
	test_expect_code 66 mongo-dump-bson -u alice --config open.yaml --ns a.b 2>err &&
	echo "mongo-dump-bson: permissions 0644 for config file open.yaml are too open (chmod 600 it)" >expect &&
	test_cmp expect err &&
	chmod 640 open.yaml && test_expect_code 66 mongo-dump-bson -u alice --config open.yaml --ns a.b 2>err &&
	test_grep "permissions 0640" err &&
	test_expect_code 66 mongo-load-bson --config nope.yaml --ns a.b </dev/null 2>err &&
	test $(wc -l <err) = 1 && test_grep "cannot read config file nope.yaml: No such file" err &&
	printf "# mine\nuri: mongodb://h\npasword: %s\n" "$PW" >typo.yaml && chmod 600 typo.yaml &&
	test_expect_code 65 mongo-dump-bson --config typo.yaml --ns a.b 2>err &&
	test $(wc -l <err) = 1 && test_grep "typo.yaml line 3: unknown key .pasword." err &&
	! grep -F -e "$PW" err &&
	printf "password: \"%s\n" "$PW" >quote.yaml && chmod 600 quote.yaml &&
	test_expect_code 65 mongo-dump-bson -u a --config quote.yaml --ns a.b 2>err &&
	test_grep "quote.yaml line 1: unclosed quote" err && ! grep -F -e "$PW" err
'

test_expect_success 'a URI file over 8 KiB, a config file over 64 KiB: 65 naming it, never cut short and used' '
	{ printf "mongodb://h1:1/?appName="; head -c 9000 /dev/zero | tr "\0" a; echo; } >long.uri &&
	test_expect_code 65 mongo-dump-bson --uri-file long.uri --ns a.b 2>err &&
	test $(wc -l <err) = 1 && test_grep "URI file long.uri is longer than 8191 bytes" err &&
	{ echo "uri: mongodb://h1:1"; yes "# a comment line" | head -n 5000; } >big.yaml && chmod 600 big.yaml &&
	test_expect_code 65 mongo-dump-bson --config big.yaml --ns a.b 2>err &&
	test $(wc -l <err) = 1 && test_grep "config file big.yaml is longer than 65536 bytes" err
'

test_expect_success 'two-sided tools: --source-uri-file and --target-uri-file exclude the plain form' '
	echo mongodb://h1:1 >s.uri &&
	test_expect_code 64 mongo-hashdiff --source mongodb://h1:1 --source-uri-file s.uri --target-file /dev/null \
		--ns a.b 2>err &&
	first_line err >line && test_grep "source and --source-uri-file are mutually exclusive" line &&
	test_expect_code 64 mongo-report --target mongodb://h1:1 --target-uri-file s.uri </dev/null 2>err &&
	first_line err >line && test_grep "target and --target-uri-file are mutually exclusive" line &&
	test_expect_code 66 mongo-hashdiff --source-uri-file nope.uri --target-file /dev/null --ns a.b 2>err &&
	test $(wc -l <err) = 1 && test_grep "cannot open URI file nope.uri" err
'

SRC=${MP_SOURCE_URI:-} DST=${MP_TARGET_URI:-}
uri_parts "$SRC"
HP=$URI_HOSTPORT HOST=${URI_HOSTPORT%:*} PORT=${URI_HOSTPORT##*:}

test_expect_success SERVERS,BARE_HOST '--host/--port: load and dump reach the test server, as with --uri' '
	mp-gen 200 >seed.bson &&
	mongo-load-bson --host "$HOST" --port $PORT --ns $TEST_DB.hp --drop --from seed.bson -v 2>err &&
	grep -F -x "mongo-load-bson: connecting to $HP" err &&
	mongo-dump-bson --host "$HP" --ns $TEST_DB.hp --sort "{\"_id\":1}" >by-host.bson &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.hp --sort "{\"_id\":1}" >by-uri.bson &&
	test -s by-uri.bson && cmp by-host.bson by-uri.bson &&
	test_expect_code 69 mongo-dump-bson --host "mp-no-such-set/localhost,[::1]:$PORT,127.0.0.1" --port $PORT --ns $TEST_DB.hp \
		-o x.bson --connect-timeout 1 -v 2>err &&
	test_grep "connecting to localhost:$PORT,\[::1\]:$PORT,127.0.0.1:$PORT\$" err
'

test_expect_success SERVERS,BARE_HOST '-u/-p/--authenticationDatabase reach the driver, which authenticates (-v, the error)' '
	test_expect_code 69 mongo-dump-bson --host "$HP" -u "al@ce" -p "$PW" --authenticationDatabase adm \
		--authenticationMechanism SCRAM-SHA-256 --ns $TEST_DB.hp -o out.bson --connect-timeout 3 -v 2>err &&
	grep -F "connecting to $HP as al@ce (authSource adm, SCRAM-SHA-256)" err &&
	test_grep "saslStart\|[Aa]uthentication" err && ! grep -F -e "$PW" err
'

# held_load NAME ARGS...: start mongo-load-bson ARGS --from NAME.fifo in the
# background and return once it has opened the FIFO (so its options are
# parsed), leaving it blocked on the FIFO's first bytes; fd 3 is the FIFO's
# writing end.  LOAD_PID is the tool.  A watchdog opens the FIFO itself
# after 30 s so that a tool that died first cannot hang the test.
held_load() {
	local name=$1 dog
	shift
	mkfifo $name.fifo || return 1
	mongo-load-bson "$@" --from $name.fifo 2>$name.err &
	LOAD_PID=$!
	echo $LOAD_PID >>"$SCRATCH/.pids"
	{ sleep 30; : <$name.fifo; } 2>/dev/null &
	dog=$!
	exec 3>$name.fifo
	kill $dog 2>/dev/null
	kill -0 $LOAD_PID && ls -l /proc/$LOAD_PID/fd | grep -q "$name.fifo"
}

test_expect_success SERVERS,BARE_HOST 'a -p password is not in /proc/PID/cmdline of the running tool, nor on stderr or --stats' '
	held_load ps --host "$HP" -u alice -p "$PW" --ns $TEST_DB.ps --stats ps.stats --connect-timeout 3 &&
	tr "\0" " " </proc/$LOAD_PID/cmdline >cmdline && cat cmdline &&
	! grep -F -e "$PW" cmdline && test_grep " -p xxxxxxxxxxxxxx " cmdline &&
	exec 3>&- && rc=0 && wait $LOAD_PID || rc=$? &&
	test $rc = 69 && test_grep "saslStart\|[Aa]uthentication" ps.err && test_grep "\"status\":69" ps.stats &&
	! grep -F -e "$PW" ps.err ps.stats
'

test_expect_success SERVERS,BARE_HOST 'the same for --password=PW and --tls-certificate-key-file-password=PW' '
	held_load eq --host "$HP" -u alice --password="$PW" --tls-certificate-key-file-password="$BADPW" \
		--ns $TEST_DB.ps --connect-timeout 1 &&
	tr "\0" " " </proc/$LOAD_PID/cmdline >cmdline &&
	! grep -F -e "$PW" -e "$BADPW" cmdline && test_grep "password=xxxxxxxxxxxxxx " cmdline &&
	exec 3>&- && rc=0 && wait $LOAD_PID || rc=$? &&
	test $rc = 69 && ! grep -F -e "$PW" -e "$BADPW" eq.err
'

test_expect_success SERVERS,STUNNEL,BARE_HOST '--tls --tls-ca-file through stunnel; a wrong CA is 69 in one line; --tlsInsecure' '
	tls_proxy tls "$SRC" &&
	mongo-dump-bson --host "$TLS_HOSTPORT" --tls --tls-ca-file "$PWD/tls.ca.pem" --ns $TEST_DB.hp \
		--sort "{\"_id\":1}" -v >tls.bson 2>err &&
	cmp tls.bson by-uri.bson && test_grep "with TLS" err &&
	mongo-load-bson --host "$TLS_HOSTPORT" --tls --tlsCAFile "$PWD/tls.ca.pem" --ns $TEST_DB.tls --drop \
		--from tls.bson &&
	test_expect_code 69 mongo-dump-bson --host "$TLS_HOSTPORT" --tls --tlsCAFile "$PWD/tls.other.pem" \
		--ns $TEST_DB.hp -o x.bson --connect-timeout 3 2>err &&
	cat err && test $(wc -l <err) = 1 && test_grep "certificate verify failed" err &&
	mongo-dump-bson --host "$TLS_HOSTPORT" --tls --tlsCAFile "$PWD/tls.other.pem" --tlsInsecure \
		--ns $TEST_DB.hp >insecure.bson && cmp insecure.bson by-uri.bson &&
	test_expect_code 66 mongo-dump-bson --host "$TLS_HOSTPORT" --tls-ca-file "$PWD/nope.pem" --ns $TEST_DB.hp \
		-o x.bson 2>err &&
	test_grep "tlsCAFile $PWD/nope.pem" err
'

# auth_server: a FerretDB that enforces SCRAM authentication, with user
# alice (password $PW) in admin; sets AUTH_HP.
auth_server() {
	local fdb port i
	fdb=$("$TEST_ROOT/tests/server/ferretdb-build" 2>/dev/null) || return 1
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p auth.state
	"$fdb" --handler=sqlite --sqlite-url="file:$PWD/auth.state/" --state-dir="$PWD/auth.state" \
		--listen-addr="127.0.0.1:$port" --debug-addr=127.0.0.1:0 --telemetry=disable --log-level=error \
		--test-enable-new-auth --setup-database=admin --setup-username=alice --setup-password="$PW" \
		>auth.log 2>&1 </dev/null &
	echo $! >>"$SCRATCH/.pids"
	for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
	AUTH_HP=127.0.0.1:$port
	echo $AUTH_HP >auth.hp
}

test_expect_success FERRETDB 'a server that enforces authentication: none is refused, a wrong password is 69' '
	auth_server &&
	test_expect_code 69 mongo-dump-bson --host "$AUTH_HP" --db admin --list 2>err &&
	test_grep "requires authentication" err &&
	test_expect_code 69 mongo-dump-bson --host "$AUTH_HP" -u alice -p "$BADPW" --db admin --list 2>err &&
	test_grep "Authentication failed" err && ! grep -F -e "$BADPW" err
'
AUTH_HP=$(cat auth.hp 2>/dev/null)

test_expect_success FERRETDB '-u/-p with every special character: load (held on a FIFO), checkpoint, stats, dump' '
	mp-gen 300 --no-decimal >plain.bson &&
	held_load ld --host "${AUTH_HP%:*}" --port "${AUTH_HP#*:}" -u alice -p "$PW" --authenticationDatabase admin \
		--authenticationMechanism SCRAM-SHA-256 --ns $TEST_DB.a --checkpoint ld.ck --stats ld.stats -v &&
	tr "\0" " " </proc/$LOAD_PID/cmdline >cmdline && ! grep -F -e "$PW" cmdline &&
	cat plain.bson >&3 && exec 3>&- && wait $LOAD_PID &&
	test_grep "\"docs\":300" ld.stats && test -s ld.ck &&
	! grep -F -e "$PW" ld.err ld.stats ld.ck &&
	mongo-dump-bson --uri "mongodb://$AUTH_HP/" -u alice -p "$PW" --ns $TEST_DB.a --format ndjson >a.ndjson &&
	test $(wc -l <a.ndjson) = 300
'

test_expect_success FERRETDB '--config 0600: its uri and password (quoted, with a comment) authenticate' '
	{ echo "# mongo-tools style"; echo "uri: mongodb://alice@$AUTH_HP/?authSource=admin";
	  echo "password: '\''$PW'\''   # quoted: it has a space"; } >c.yaml && chmod 600 c.yaml &&
	mongo-dump-bson --config c.yaml --ns $TEST_DB.a --format ndjson --stats c.stats >c.ndjson 2>c.err &&
	test $(wc -l <c.ndjson) = 300 && ! grep -F -e "$PW" c.err c.stats &&
	{ echo "uri: mongodb://$AUTH_HP/"; echo "password: \"$BADPW\""; } >bad.yaml && chmod 600 bad.yaml &&
	test_expect_code 69 mongo-dump-bson --config bad.yaml -u alice --ns $TEST_DB.a -o x.bson 2>err &&
	test_grep "Authentication failed" err && ! grep -F -e "$BADPW" err &&
	test_expect_code 64 mongo-dump-bson --config bad.yaml -u alice -p "$PW" --uri "mongodb://alice:other-pw@h/" \
		--ns $TEST_DB.a 2>err && first_line err >line && test_grep "contradicts the password" line
'

test_expect_success FERRETDB 'mongo-hashdiff --source-uri-file/--target-uri-file: passwords out of ps, equal' '
	echo "mongodb://alice:$(python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=\"\"))" "$PW")@$AUTH_HP/" >auth.uri &&
	chmod 600 auth.uri &&
	mongo-hashdiff --source-uri-file auth.uri --target-uri-file auth.uri --ns $TEST_DB.a 2>err &&
	test_grep "equal 300" err && ! grep -F -e "$PW" err &&
	mongo-report --source-uri-file auth.uri --target-uri-file auth.uri --ns $TEST_DB.a --format json </dev/null >r.json &&
	! grep -F -e "$PW" r.json
'

if command -v script >/dev/null; then
	test_expect_success FERRETDB 'an empty -p asks on the terminal (script(1) gives one), and authenticates' '
		printf "%s\n" "$PW" | script -qec "mongo-dump-bson --host $AUTH_HP -u alice -p \"\" --ns $TEST_DB.a \
			--format ndjson -o tty.ndjson" tty.log >/dev/null &&
		test_grep "mongo-dump-bson: password:" tty.log &&
		test $(wc -l <tty.ndjson) = 300
	'
else
	test_skip 'an empty -p asks on the terminal' "script(1) (util-linux) is not installed"
fi

# the tool on a pseudo-terminal: the prompt is awaited (read until it is
# there), then Ctrl-C; the echo must be back once the tool has ended
test_expect_success 'Ctrl-C at the password prompt ends the tool with the echo put back' '
	/usr/bin/python3 - "$(command -v mongo-load-bson)" >pty.out <<-\PY
	import os, pty, sys, termios
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(sys.argv[1], [sys.argv[1], "--uri", "mongodb://127.0.0.1:1/", "-u", "bob", "-p", "",
	                           "--ns", "a.b", "--from", "/dev/null"])
	seen = b""
	while b"password: " not in seen:
	    seen += os.read(fd, 100)
	print("echo while asking:", bool(termios.tcgetattr(fd)[3] & termios.ECHO))
	os.write(fd, b"\x03")
	_, status = os.waitpid(pid, 0)
	print("ended by signal:", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
	print("echo after:", bool(termios.tcgetattr(fd)[3] & termios.ECHO))
	PY
	printf "%s\n" "echo while asking: False" "ended by signal: 2" "echo after: True" >expect &&
	test_cmp expect pty.out
'

test_done
