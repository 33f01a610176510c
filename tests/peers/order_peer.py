#!/usr/bin/python3
"""tests/peers/order_peer.py: a scripted MongoDB wire-protocol peer (Debian's
python3-mockupdb) that logs every write statement in the order it applies
them, refuses the ones named by --refuse, and can hold its first write
until the test lets it go.

    order_peer.py --log FILE [--refuse COLL:ID ...] [--hold FILE] [--max-seconds S]

Prints its port on the first line of stdout; clients connect with
mongodb://127.0.0.1:PORT/?directConnection=true.  insert, update and
delete statements are taken in order; each one whose collection and
integer _id (of the document, or of the filter) is named by --refuse is
refused with a write error (code 121, document validation failure, one a
driver never retries), and under ordered execution the ones after it in
the command are not attempted.  With --hold FILE, the first write command
creates FILE.held as it arrives and waits until FILE exists before it is
applied and answered, so that a client's next writes queue up behind it.  --log FILE gets one line per statement:

    insert db.coll 3
    update db.coll 4 refused

Every other command gets an empty success.  It runs until SIGTERM or SIGINT
(exit 0), or exits 0 by itself after --max-seconds (default 600).
"""
import argparse
import os
import threading
import time

from peerlib import answer_rest, command, serve

KEYS = {"insert": "documents", "update": "updates", "delete": "deletes"}


def main():
    ap = argparse.ArgumentParser(prog="order_peer.py")
    ap.add_argument("--log", required=True)
    ap.add_argument("--refuse", action="append", default=[], help="COLL:ID")
    ap.add_argument("--hold", help="the first write waits for this file")
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args()
    log = open(args.log, "a", encoding="utf-8")
    refuse = set(args.refuse)
    lock = threading.Lock()
    state = {"writes": 0}

    def write(r, lc, coll, ns):
        with lock:
            first = state["writes"] == 0
            state["writes"] += 1
        if first and args.hold:
            open(args.hold + ".held", "w").close()
            while not os.path.exists(args.hold):
                time.sleep(0.02)
        ordered = r.doc.get("ordered", True)
        n, errors = 0, []
        for i, op in enumerate(r.doc.get(KEYS[lc], [])):
            _id = (op if lc == "insert" else op.get("q", {})).get("_id")
            refused = "%s:%s" % (coll, _id) in refuse
            with lock:
                log.write("%s %s %s%s\n" % (lc, ns, _id, " refused" if refused else ""))
                log.flush()
            if refused:
                errors.append({"index": i, "code": 121, "errmsg": "Document failed validation"})
                if ordered:
                    break
            else:
                n += 1
        reply = {"n": n}
        if lc == "update":
            reply.update(nModified=0, upserted=[])
        if errors:
            reply["writeErrors"] = errors
        return r.reply(reply)

    def handle(r):
        cmd = command(r)
        if cmd is None:
            return True
        lc, _db, coll, ns = cmd
        if lc in KEYS:
            return write(r, lc, coll, ns)
        return answer_rest(r, lc, ns)

    serve(handle, args.max_seconds)


if __name__ == "__main__":
    main()
