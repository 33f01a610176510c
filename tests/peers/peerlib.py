"""tests/peers/peerlib.py: what the scripted wire-protocol peers share (Debian's
python3-mockupdb): the handshake of a standalone 4.4 server, the names of a
command, and the life of the server (its port printed on the first line of
stdout, until SIGTERM, SIGINT or max_seconds)."""
import signal
import threading

from mockupdb import MockupDB


def hello(max_message=48000000):
    """The hello/isMaster reply of a standalone 4.4 server."""
    return {"ismaster": True, "isWritablePrimary": True, "helloOk": True,
            "maxWireVersion": 9, "minWireVersion": 0,
            "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": max_message,
            "maxWriteBatchSize": 100000, "logicalSessionTimeoutMinutes": 30}


def answer_rest(r, lc, ns):
    """What every peer answers alike: the handshake of a standalone 4.4
    server, buildInfo, an empty cursor for the commands that read, and an
    empty success for the rest."""
    if lc in ("ismaster", "hello"):
        return r.reply(hello())
    if lc == "buildinfo":
        return r.reply(version="4.4.0", versionArray=[4, 4, 0, 0])
    if lc in ("find", "aggregate", "listcollections", "listindexes"):
        return r.reply({"cursor": {"id": 0, "ns": ns, "firstBatch": []}})
    return r.ok()


def command(r):
    """(lower-case name, db, collection or None, namespace) of a command,
    or None for a legacy opcode (OP_INSERT & co: no reply expected)."""
    name = r.command_name
    if name is None:
        return None
    coll = r.doc.get(name)
    db = r.namespace or "admin"
    ns = "%s.%s" % (db, coll) if isinstance(coll, str) else db
    return name.lower(), db, coll if isinstance(coll, str) else None, ns


def serve(handle, max_seconds):
    """Answer every request with handle(r) until a signal or max_seconds."""
    stop = threading.Event()
    server = MockupDB()
    server.autoresponds(handle)
    server.run()

    def on_signal(_sig, _frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    print(server.port, flush=True)
    stop.wait(max_seconds)
    server.stop()
