#!/usr/bin/python3
"""tests/peers/hangup_peer.py: a scripted MongoDB wire-protocol peer (Debian's
python3-mockupdb) that hangs up on every write, so a client never gets an
acknowledgement.

    hangup_peer.py [--update] [--delete] [--times K] [--log FILE] [--max-seconds S]

Prints its port on the first line of stdout; clients connect with
mongodb://127.0.0.1:PORT/?directConnection=true.  It answers the handshake
like a standalone server (isMaster/hello with maxWireVersion 9, buildInfo
4.4.0, ping) and every other command with an empty success: find, aggregate
and listCollections with an empty cursor, getMore with an empty last batch,
count with 0, the rest with {ok: 1}.  It holds no data.

Whenever it receives an `insert` (and with --update an `update`, with
--delete a `delete`) it closes that connection without answering.  With
--times K it hangs up on the first K such writes only and acknowledges the
later ones ({n: number of documents sent}).  --log FILE gets one line per
hangup, in faultproxy.py's format:

    2024-05-01T12:00:00.123Z conn=PORT fault=hangup cmd=insert ns=db.coll n=1

--max-message BYTES advertises that maxMessageSizeBytes in its hello, and
--find-docs N answers every find with N documents of about 1 KiB in one
batch: a reply larger than the client accepts when N KiB exceed it.

It runs until SIGTERM or SIGINT (exit 0), or exits 0 by itself after
--max-seconds (default 600) so a forgotten peer does not linger.
"""
import argparse
import sys
import time

from peerlib import command, hello, serve



def main():
    ap = argparse.ArgumentParser(prog="hangup_peer.py")
    ap.add_argument("--update", action="store_true", help="hang up on update too")
    ap.add_argument("--delete", action="store_true", help="hang up on delete too")
    ap.add_argument("--times", type=int, default=None, help="hang up on the first K writes only")
    ap.add_argument("--log", help="one line per hangup")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--max-message", type=int, default=48000000, help="maxMessageSizeBytes in hello")
    ap.add_argument("--find-docs", type=int, default=0, help="documents in every find's first batch")
    args = ap.parse_args()

    writes = {"insert"} | ({"update"} if args.update else set()) | ({"delete"} if args.delete else set())
    log = open(args.log, "a", encoding="utf-8") if args.log else None
    state = {"hangups": 0}

    def stamp():
        t = time.time()
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)

    def cursor(r, ns, key="firstBatch"):
        return r.reply({"cursor": {"id": 0, "ns": ns, key: []}})

    def handle(r):
        cmd = command(r)
        if cmd is None:                       # a legacy opcode: no reply expected
            return True
        lc, db, coll, ns = cmd
        if lc in writes:
            key = {"insert": "documents", "update": "updates", "delete": "deletes"}[lc]
            n = len(r.doc.get(key, []))
            if args.times is None or state["hangups"] < args.times:
                state["hangups"] += 1
                if log:
                    log.write("%s conn=%d fault=hangup cmd=%s ns=%s n=%d\n" % (stamp(), r.client_port, r.command_name, ns, n))
                    log.flush()
                return r.hangup()
            if lc == "update":
                return r.reply(n=n, nModified=n)
            return r.reply(n=n)
        if lc in ("ismaster", "hello"):
            return r.reply(hello(args.max_message))
        if lc == "buildinfo":
            return r.reply(version="4.4.0", versionArray=[4, 4, 0, 0])
        if lc == "find" and args.find_docs:
            docs = [{"_id": i, "pad": "x" * 1000} for i in range(args.find_docs)]
            return r.reply({"cursor": {"id": 0, "ns": ns, "firstBatch": docs}})
        if lc in ("find", "aggregate", "listcollections", "listindexes"):
            return cursor(r, ns)
        if lc == "getmore":
            return cursor(r, ns, "nextBatch")
        if lc == "count":
            return r.reply(n=0)
        if lc == "killcursors":
            return r.reply(cursorsKilled=[])
        return r.ok()

    serve(handle, args.max_seconds)
    if log:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
