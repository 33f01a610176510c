#!/usr/bin/python3
"""faultproxy.py: a MongoDB wire-protocol proxy that injects network faults.

    faultproxy.py [--listen HOST:PORT] --upstream HOST:PORT [--port-file F]
                  [--control FILE] [--log FILE] [RULE...]

Sits between one MongoDB client and one server (tests use 127.0.0.1 only),
reads both directions message by message (the 16-byte header: length,
requestID, responseTo, opCode) and forwards every byte as it came, except
for the requests a RULE selects.  The listening port is printed on the
first line of stdout (and written to --port-file) once the proxy accepts
connections; clients connect with mongodb://127.0.0.1:PORT/?directConnection=true.
Connects to no address but --upstream.  SIGTERM or SIGINT: exit 0.

A RULE is an action followed by its options:

    cut                 forward the request, then close both connections
                        before any reply reaches the client (the server may
                        or may not have done the write)
    drop-request        close the client's connection without forwarding
                        (the server never sees the request)
    drop-reply          forward the request, read the server's reply, discard
                        it and close the client's connection (the write was done)
    stall SECONDS       hold the request (default) or its reply (--on reply)
                        for SECONDS, then go on
    blackhole           never forward nor answer, keep the socket open; the
                        connection swallows everything after it (the client
                        must time out)
    trickle BYTES_PER_SEC
                        forward the reply (default) or the request (--on
                        request) a few bytes at a time at that rate

    --cmd NAME          the command it selects (first key of the command
                        document: insert, update, delete, find, getMore,
                        aggregate, ...); repeat or use commas for several;
                        "any" selects every command except the handshake
                        ones (hello, isMaster, buildInfo, ping, endSessions
                        and the authentication commands), which are faulted
                        only when named.  Default: any
    --after N           let the first N selected requests through untouched
    --times K           then apply to K requests (default: all that follow)
    --on request|reply  which side stall/trickle act on

Rules are tried in order; each counts the requests it selects, across all
connections, until one applies; later rules do not see that request.

--control FILE: before each request the proxy reads FILE.  While it exists
its rules (one per line, same syntax, # comments) replace the command-line
rules, with fresh counters each time its text changes; an empty file means
no faults; when it is missing the command-line rules apply.  Rewrite it
atomically (write a temporary file, then mv).

--log FILE: one line per fault applied, appended and flushed at once:

    2024-05-01T12:00:00.123Z conn=3 fault=cut cmd=insert ns=db.coll req=7 rule=1 [cut --cmd insert --times 1]

plus "control" lines when the control file's rules change and "error" lines
(upstream refused, bad control file).  Exit status 64 on a usage error.
"""
import os
import signal
import socket
import struct
import sys
import threading
import time
import zlib

OP_REPLY, OP_UPDATE, OP_INSERT, OP_QUERY = 1, 2001, 2002, 2004
OP_GET_MORE, OP_DELETE, OP_KILL_CURSORS = 2005, 2006, 2007
OP_COMPRESSED, OP_MSG = 2012, 2013
MORE_TO_COME = 1 << 1
MAX_MESSAGE = 64 * 1024 * 1024

HANDSHAKE = {"hello", "ismaster", "buildinfo", "ping", "endsessions",
             "saslstart", "saslcontinue", "authenticate", "getnonce"}
ACTIONS = {"cut": 0, "drop-request": 0, "drop-reply": 0, "stall": 1, "blackhole": 0, "trickle": 1}
DEFAULT_SIDE = {"stall": "request", "trickle": "reply"}

stop = threading.Event()


class UsageError(Exception):
    pass


# ---------------------------------------------------------------- rules

class Rule:
    def __init__(self, action, arg, text):
        self.action = action
        self.arg = arg
        self.cmds = None          # None: any
        self.after = 0
        self.times = None         # None: unlimited
        self.side = DEFAULT_SIDE.get(action)
        self.text = text
        self.seen = 0
        self.applied = 0

    def selects(self, cmd):
        lc = cmd.lower()
        if self.cmds is None:
            return lc not in HANDSHAKE
        return lc in self.cmds


def parse_rules(tokens):
    """Turn a token list into rules; raise UsageError."""
    rules = []
    i = 0
    start = 0
    cur = None

    def finish(end):
        if cur is not None:
            cur.text = " ".join(tokens[start:end])
            rules.append(cur)

    while i < len(tokens):
        t = tokens[i]
        if t in ACTIONS:
            finish(i)
            start = i
            arg = None
            if ACTIONS[t]:
                if i + 1 >= len(tokens):
                    raise UsageError("%s needs a number" % t)
                try:
                    arg = float(tokens[i + 1])
                except ValueError:
                    raise UsageError("%s: not a number: %s" % (t, tokens[i + 1]))
                if arg < 0 or (t == "trickle" and arg < 1):
                    raise UsageError("%s: out of range: %s" % (t, tokens[i + 1]))
                i += 1
            cur = Rule(t, arg, "")
            i += 1
            continue
        if t in ("--cmd", "--after", "--times", "--on"):
            if cur is None:
                raise UsageError("%s before any rule (cut, drop-request, drop-reply, stall, blackhole, trickle)" % t)
            if i + 1 >= len(tokens):
                raise UsageError("%s needs a value" % t)
            v = tokens[i + 1]
            if t == "--cmd":
                names = [n.strip().lower() for n in v.split(",") if n.strip()]
                if not names:
                    raise UsageError("--cmd needs a command name")
                if "any" in names:
                    cur.cmds = None
                else:
                    cur.cmds = set(names) | (cur.cmds or set())
            elif t == "--on":
                if v not in ("request", "reply"):
                    raise UsageError("--on request|reply, not %s" % v)
                if cur.action not in ("stall", "trickle"):
                    raise UsageError("--on applies to stall and trickle only")
                cur.side = v
            else:
                try:
                    n = int(v)
                except ValueError:
                    raise UsageError("%s: not an integer: %s" % (t, v))
                if n < 0:
                    raise UsageError("%s: negative: %s" % (t, v))
                if t == "--after":
                    cur.after = n
                else:
                    cur.times = n
            i += 2
            continue
        raise UsageError("unknown word in rules: %s" % t)
    finish(len(tokens))
    return rules


class Rules:
    """The active rule set: the command line's, or the control file's."""

    def __init__(self, cli_rules, control, log):
        self.cli = cli_rules
        self.control = control
        self.log = log
        self.lock = threading.Lock()
        self.file_text = None      # text of the control file last loaded
        self.file_rules = None     # its rules, or None: use the command line's

    def _reload(self):
        if not self.control:
            return
        try:
            with open(self.control, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = None
        except OSError as e:
            self.log.line("error control=%s %s" % (self.control, e))
            return
        if text == self.file_text:
            return
        if text is None:
            self.file_text, self.file_rules = None, None
            self.log.line("control file=%s missing: the command-line rules apply" % self.control)
            return
        tokens = []
        for line in text.splitlines():
            tokens += line.split("#", 1)[0].split()
        try:
            rules = parse_rules(tokens)
        except UsageError as e:
            # keep the rules in force; try again when the text changes
            self.file_text = text
            self.log.line("error control=%s %s (rules unchanged)" % (self.control, e))
            return
        self.file_text, self.file_rules = text, rules
        self.log.line("control file=%s rules=%d%s" % (
            self.control, len(rules), "".join(" [%s]" % r.text for r in rules)))

    def match(self, cmd):
        """Return (index, rule) of the rule that applies to this request, or None."""
        with self.lock:
            self._reload()
            rules = self.file_rules if self.file_rules is not None else self.cli
            for n, r in enumerate(rules, 1):
                if not r.selects(cmd):
                    continue
                r.seen += 1
                if r.seen <= r.after:
                    continue
                if r.times is not None and r.applied >= r.times:
                    continue
                r.applied += 1
                return n, r
        return None


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = None
        if path == "-":
            self.f = sys.stderr
        elif path:
            self.f = open(path, "a", encoding="utf-8")

    def line(self, text):
        if not self.f:
            return
        t = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)
        with self.lock:
            self.f.write("%s %s\n" % (stamp, text))
            self.f.flush()


# ---------------------------------------------------------------- wire protocol

def cstring(buf, off):
    end = buf.index(b"\0", off)
    return buf[off:end].decode("utf-8", "replace"), end + 1


FIXED = {1: 8, 6: 0, 7: 12, 8: 1, 9: 8, 10: 0, 16: 4, 17: 8, 18: 8, 19: 16, 0x7F: 0, 0xFF: 0}


def bson_top(doc, off, want):
    """Return (first key, first value if a string, {key: string value} for
    the keys in want) of the BSON document at doc[off:]."""
    size = struct.unpack_from("<i", doc, off)[0]
    end = off + size - 1
    p = off + 4
    first = None
    first_str = None
    found = {}
    while p < end:
        t = doc[p]
        key, p = cstring(doc, p + 1)
        sval = None
        if t in FIXED:
            p += FIXED[t]
        elif t in (2, 13, 14):
            n = struct.unpack_from("<i", doc, p)[0]
            sval = doc[p + 4:p + 4 + n - 1].decode("utf-8", "replace")
            p += 4 + n
        elif t in (3, 4, 15):
            p += struct.unpack_from("<i", doc, p)[0]
        elif t == 5:
            p += 5 + struct.unpack_from("<i", doc, p)[0]
        elif t == 11:
            p = cstring(doc, cstring(doc, p)[1])[1]
        elif t == 12:
            p += 4 + struct.unpack_from("<i", doc, p)[0] + 12
        else:
            break
        if first is None:
            first, first_str = key, sval
        if key in want and sval is not None:
            found[key] = sval
        if first is not None and len(found) == len(want):
            break
    return first, first_str, found


def describe(msg):
    """(command name, namespace, moreToCome) of a client message; '?' when unknown."""
    op = struct.unpack_from("<i", msg, 12)[0]
    try:
        if op == OP_COMPRESSED:
            orig, _size, comp = struct.unpack_from("<iiB", msg, 16)
            body = msg[25:]
            if comp == 2:
                body = zlib.decompress(body)
            elif comp != 0:
                return "?", "", False
            return describe(msg[:12] + struct.pack("<i", orig) + body)
        if op == OP_MSG:
            flags = struct.unpack_from("<I", msg, 16)[0]
            p = 20
            while p < len(msg):
                kind = msg[p]
                if kind == 0:
                    cmd, coll, found = bson_top(msg, p + 1, ("$db",))
                    db = found.get("$db", "")
                    ns = db + ("." + coll if coll else "")
                    return cmd or "?", ns, bool(flags & MORE_TO_COME)
                if kind == 1:
                    p += 1 + struct.unpack_from("<i", msg, p + 1)[0]
                else:
                    break
            return "?", "", bool(flags & MORE_TO_COME)
        if op == OP_QUERY:
            name, p = cstring(msg, 20)
            p += 8
            db, _, coll = name.partition(".")
            if coll != "$cmd":
                return "find", name, False
            cmd, arg, _ = bson_top(msg, p, ())
            if cmd in ("$query", "query"):
                inner = p + 4 + 1 + len(cmd) + 1
                cmd, arg, _ = bson_top(msg, inner, ())
            return cmd or "?", db + ("." + arg if arg else ""), False
        legacy = {OP_INSERT: "insert", OP_UPDATE: "update", OP_DELETE: "delete", OP_GET_MORE: "getMore"}
        if op in legacy:
            # flags or ZERO, then fullCollectionName
            return legacy[op], cstring(msg, 20)[0], op != OP_GET_MORE
        if op == OP_KILL_CURSORS:
            return "killCursors", "", True
    except (IndexError, ValueError, struct.error, zlib.error):
        pass
    return "?", "", False


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_message(sock):
    """One whole message, or None at EOF.  A length that cannot be a
    message returns its raw bytes with framed=False."""
    head = read_exact(sock, 16)
    if head is None:
        return None, True
    length = struct.unpack_from("<i", head, 0)[0]
    if length < 16 or length > MAX_MESSAGE:
        return head, False
    body = read_exact(sock, length - 16)
    if body is None:
        return None, True
    return head + body, True


# ---------------------------------------------------------------- connections

class Conn:
    ids = 0
    ids_lock = threading.Lock()
    live = set()

    def __init__(self, client, upstream_addr, rules, log):
        with Conn.ids_lock:
            Conn.ids += 1
            self.id = Conn.ids
            Conn.live.add(self)
        self.client = client
        self.upstream_addr = upstream_addr
        self.upstream = None
        self.rules = rules
        self.log = log
        self.lock = threading.Lock()
        self.pending = {}          # requestID -> (rule index, rule, cmd, ns)
        self.block_replies = False
        self.closed = False

    def close(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
            self.block_replies = True
        for s in (self.client, self.upstream):
            if s is None:
                continue
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        with Conn.ids_lock:
            Conn.live.discard(self)

    def fault(self, n, rule, cmd, ns, req, extra=""):
        self.log.line("conn=%d fault=%s cmd=%s ns=%s req=%d rule=%d%s [%s]" % (
            self.id, rule.action, cmd, ns or "-", req, n, extra, rule.text))

    def send_slowly(self, sock, data, rate):
        chunk = max(1, min(4096, int(rate) // 20))
        for i in range(0, len(data), chunk):
            if stop.is_set() or self.closed:
                return
            sock.sendall(data[i:i + chunk])
            stop.wait(len(data[i:i + chunk]) / rate)

    def run(self):
        try:
            try:
                self.upstream = socket.create_connection(self.upstream_addr, timeout=10)
                self.upstream.settimeout(None)
                self.upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as e:
                self.log.line("error conn=%d upstream %s:%d: %s" % ((self.id,) + self.upstream_addr + (e,)))
                return
            t = threading.Thread(target=self.replies, daemon=True)
            t.start()
            self.requests()
        finally:
            self.close()

    def raw_pump(self, src, dst, first):
        dst.sendall(first)
        while True:
            data = src.recv(65536)
            if not data:
                return
            dst.sendall(data)

    def requests(self):
        blackholed = False
        try:
            while not stop.is_set():
                msg, framed = read_message(self.client)
                if msg is None:
                    return
                if blackholed:
                    continue
                if not framed:
                    self.raw_pump(self.client, self.upstream, msg)
                    return
                req = struct.unpack_from("<i", msg, 4)[0]
                cmd, ns, no_reply = describe(msg)
                hit = self.rules.match(cmd)
                if hit is None:
                    self.upstream.sendall(msg)
                    continue
                n, rule = hit
                a = rule.action
                if a == "cut":
                    self.fault(n, rule, cmd, ns, req)
                    with self.lock:
                        self.block_replies = True
                    self.upstream.sendall(msg)
                    return
                if a == "drop-request":
                    self.fault(n, rule, cmd, ns, req)
                    return
                if a == "blackhole":
                    self.fault(n, rule, cmd, ns, req)
                    blackholed = True
                    continue
                if a in ("stall", "trickle") and rule.side == "request":
                    self.fault(n, rule, cmd, ns, req, " on=request %g" % rule.arg)
                    if a == "stall":
                        if stop.wait(rule.arg):
                            return
                        self.upstream.sendall(msg)
                    else:
                        self.send_slowly(self.upstream, msg, rule.arg)
                    continue
                # drop-reply, stall/trickle of the reply
                extra = " on=reply %g" % rule.arg if a in ("stall", "trickle") else ""
                if no_reply:
                    extra += " (no reply expected)"
                self.fault(n, rule, cmd, ns, req, extra)
                with self.lock:
                    self.pending[req] = (n, rule, cmd, ns)
                self.upstream.sendall(msg)
        except OSError:
            return

    def replies(self):
        try:
            while not stop.is_set():
                msg, framed = read_message(self.upstream)
                if msg is None:
                    return
                with self.lock:
                    if self.block_replies:
                        return
                if not framed:
                    self.raw_pump(self.upstream, self.client, msg)
                    return
                to = struct.unpack_from("<i", msg, 8)[0]
                with self.lock:
                    hit = self.pending.pop(to, None)
                if hit is None:
                    self.client.sendall(msg)
                    continue
                _n, rule, _cmd, _ns = hit
                if rule.action == "drop-reply":
                    return
                if rule.action == "stall":
                    if stop.wait(rule.arg):
                        return
                    with self.lock:
                        if self.block_replies:
                            return
                    self.client.sendall(msg)
                else:
                    self.send_slowly(self.client, msg, rule.arg)
        except OSError:
            return
        finally:
            self.close()


# ---------------------------------------------------------------- main

def hostport(s, what):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError("%s: HOST:PORT, not %s" % (what, s))
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def parse_args(argv):
    opts = {"listen": ("127.0.0.1", 0), "upstream": None, "port-file": None, "control": None, "log": None}
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__.strip())
            sys.exit(0)
        key, eq, val = a[2:].partition("=") if a.startswith("--") else ("", "", "")
        if key in opts:
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError("--%s needs a value" % key)
                val = argv[i + 1]
                i += 1
            if key in ("listen", "upstream"):
                val = hostport(val, "--" + key)
            opts[key] = val
        else:
            rest.append(a)
        i += 1
    if opts["upstream"] is None:
        raise UsageError("--upstream HOST:PORT is required")
    return opts, parse_rules(rest)


def main(argv):
    try:
        opts, rules = parse_args(argv)
    except UsageError as e:
        print("faultproxy: %s (see --help)" % e, file=sys.stderr)
        return 64
    log = Log(opts["log"])
    active = Rules(rules, opts["control"], log)

    host, port = opts["listen"]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        lsock.bind((host, port))
    except OSError as e:
        print("faultproxy: cannot listen on %s:%d: %s" % (host, port, e), file=sys.stderr)
        return 69
    lsock.listen(128)
    lsock.settimeout(0.2)
    port = lsock.getsockname()[1]

    def on_signal(_sig, _frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if opts["port-file"]:
        tmp = opts["port-file"] + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, opts["port-file"])
    print(port, flush=True)
    log.line("listening port=%d upstream=%s:%d rules=%d%s" % (
        (port,) + opts["upstream"] + (len(rules),) + ("".join(" [%s]" % r.text for r in rules),)))

    while not stop.is_set():
        try:
            client, _addr = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            if stop.is_set():
                break
            time.sleep(0.05)
            continue
        client.settimeout(None)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(client, opts["upstream"], active, log)
        threading.Thread(target=conn.run, daemon=True).start()

    lsock.close()
    with Conn.ids_lock:
        conns = list(Conn.live)
    for c in conns:
        c.close()
    log.line("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
