#!/usr/bin/python3
"""tests/peers/dupkey_peer.py: a scripted MongoDB wire-protocol peer (Debian's
python3-mockupdb) that keeps the documents inserted into it and refuses a
duplicate _id without saying which key was duplicated: no keyPattern, no
keyValue, no index named in the message ("E11000 duplicate key error
collection: db.coll"), as FerretDB 1.24 answers.  MongoDB names the key;
the tools must not need it.

    dupkey_peer.py [--after A] [--lose-replies K] [--unique FIELD] [--fail-finds F]
                   [--log FILE] [--max-seconds S]

Prints its port on the first line of stdout; clients connect with
mongodb://127.0.0.1:PORT/?directConnection=true.  It answers the handshake
like a standalone server (hello with maxWireVersion 9, buildInfo 4.4.0).

An `insert` takes its documents in order; one whose _id is there already
(or, with --unique FIELD, whose FIELD another document has) is refused with
code 11000, and under ordered execution the ones after it are not
attempted.  A document is kept with its _id moved to the front, as MongoDB
stores it.  The first A inserts are answered; the K after them are
applied and then the connection is closed without an answer (a reply lost
after the write, the case a client's retry must recognise).  `find` with a
filter {_id: X} or {_id: {$in: [X, ...]}} returns the documents kept under
those _ids (compared by type and value), any other find all the
documents of the collection in insertion order; with --fail-finds F the
first F finds by _id are answered with an error (code 1, not one a driver retries).
`count` counts them, `drop` forgets them.  `renameCollection` with
dropTarget: true is refused as not implemented (code 238), as FerretDB 1.24
refuses it; without it the documents move to the new name (code 26 if the
source is not there, 48 if the new name is taken).  --log FILE gets one line per insert, drop and rename:

    insert ns=db.coll n=10 taken=4 refused=1 reply=lost
    drop ns=db.coll
    rename from=db.a to=db.b dropTarget=true refused=238

Every other command gets an empty success.  It runs until SIGTERM or SIGINT
(exit 0), or exits 0 by itself after --max-seconds (default 600).
"""
import argparse
import sys

from peerlib import answer_rest, command, serve


def id_key(v):
    """A dictionary key for an _id value (type and value)."""
    return (type(v).__name__, repr(v))


def main():
    ap = argparse.ArgumentParser(prog="dupkey_peer.py")
    ap.add_argument("--after", type=int, default=0, help="inserts answered before the replies are lost")
    ap.add_argument("--lose-replies", type=int, default=0, help="inserts applied and then hung up on")
    ap.add_argument("--unique", help="a second unique field, its duplicates refused unnamed too")
    ap.add_argument("--fail-finds", type=int, default=0, help="finds answered with an error")
    ap.add_argument("--log", help="one line per insert")
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args()
    log = open(args.log, "a", encoding="utf-8") if args.log else None
    colls = {}
    state = {"inserts": 0, "finds": 0}

    def insert(r, ns):
        docs = r.doc.get("documents", [])
        ordered = r.doc.get("ordered", True)
        kept = colls.setdefault(ns, {})
        errors, taken = [], 0
        for i, d in enumerate(docs):
            k = id_key(d.get("_id"))
            taken_field = args.unique and args.unique in d and any(
                o.get(args.unique) == d[args.unique] for o in kept.values())
            if k in kept or taken_field:
                errors.append({"index": i, "code": 11000,
                               "errmsg": "E11000 duplicate key error collection: %s" % ns})
                if ordered:
                    break
                continue
            kept[k] = dict([("_id", d.get("_id"))] + [(f, v) for f, v in d.items() if f != "_id"])
            taken += 1
        state["inserts"] += 1
        lost = args.after < state["inserts"] <= args.after + args.lose_replies
        if log:
            log.write("insert ns=%s n=%d taken=%d refused=%d reply=%s\n"
                      % (ns, len(docs), taken, len(errors), "lost" if lost else "sent"))
            log.flush()
        if lost:
            return r.hangup()
        reply = {"n": taken}
        if errors:
            reply["writeErrors"] = errors
        return r.reply(reply)

    def find(r, ns):
        kept = colls.get(ns, {})
        flt = r.doc.get("filter") or {}
        if "_id" in flt:
            state["finds"] += 1
            if state["finds"] <= args.fail_finds:
                return r.command_err(1, "internal error (dupkey_peer --fail-finds)")
            want = flt["_id"]
            want = want["$in"] if isinstance(want, dict) and "$in" in want else [want]
            docs = [kept[id_key(v)] for v in want if id_key(v) in kept]
        else:
            docs = list(kept.values())
        return r.reply({"cursor": {"id": 0, "ns": ns, "firstBatch": docs}})

    def rename(r):
        src, dst = r.doc.get("renameCollection"), r.doc.get("to")
        drop_target = bool(r.doc.get("dropTarget", False))
        refused = 238 if drop_target else 26 if src not in colls else 48 if dst in colls else 0
        if log:
            log.write("rename from=%s to=%s dropTarget=%s%s\n" % (
                src, dst, "true" if drop_target else "false", " refused=%d" % refused if refused else ""))
            log.flush()
        if refused == 238:
            return r.command_err(238, 'renameCollection: support for field "dropTarget" with non-default '
                                 'value true is not implemented yet')
        if refused == 26:
            return r.command_err(26, "Source collection %s does not exist" % src)
        if refused:
            return r.command_err(48, "target namespace exists")
        colls[dst] = colls.pop(src, {})
        return r.ok()

    def handle(r):
        cmd = command(r)
        if cmd is None:                       # a legacy opcode: no reply expected
            return True
        lc, db, coll, ns = cmd
        if lc == "insert":
            return insert(r, ns)
        if lc == "find":
            return find(r, ns)
        if lc == "count":
            return r.reply(n=len(colls.get(ns, {})))
        if lc == "drop":
            colls.pop(ns, None)
            if log:
                log.write("drop ns=%s\n" % ns)
                log.flush()
            return r.ok()
        if lc == "renamecollection":
            return rename(r)
        return answer_rest(r, lc, ns)

    serve(handle, args.max_seconds)
    if log:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
