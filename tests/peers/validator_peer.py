#!/usr/bin/python3
"""tests/peers/validator_peer.py: a scripted MongoDB wire-protocol peer (Debian's
python3-mockupdb) that enforces a collection validator as MongoDB does and
takes applyOps: what mongo-java-server, the test server, does not do
(it accepts and forgets a validator, and has no applyOps).

    validator_peer.py --require FIELD [--log FILE] [--max-seconds S]

Prints its port on the first line of stdout; clients connect with
mongodb://127.0.0.1:PORT/?directConnection=true.  It answers the handshake
like a standalone server (hello with maxWireVersion 9, buildInfo 4.4.0)
and holds no data.

An `insert` is checked as a validator {FIELD: {$exists: true}} would check
it: a document without FIELD is refused with MongoDB's write error (code
121, DocumentValidationFailure), unless the command carries
`bypassDocumentValidation: true`; under ordered execution the documents
after a refused one are not attempted.  The reply counts what was taken.
`applyOps` is acknowledged ({applied: N, results: [true...]}).  --log FILE
gets one line per insert and per operation of an applyOps:

    insert ns=db.coll n=10 bypass=false refused=3
    applyOps op=c ns=db.$cmd create=coll ui=0123456789abcdef0123456789abcdef

Every other command gets an empty success.  It runs until SIGTERM or SIGINT
(exit 0), or exits 0 by itself after --max-seconds (default 600).
"""
import argparse
import sys
import uuid

from peerlib import answer_rest, command, serve



def main():
    ap = argparse.ArgumentParser(prog="validator_peer.py")
    ap.add_argument("--require", required=True, help="the field every document must have")
    ap.add_argument("--log", help="one line per insert and applyOps operation")
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args()
    log = open(args.log, "a", encoding="utf-8") if args.log else None

    def note(line):
        if log:
            log.write(line + "\n")
            log.flush()

    def insert(r, ns):
        docs = r.doc.get("documents", [])
        bypass = r.doc.get("bypassDocumentValidation") is True
        ordered = r.doc.get("ordered", True)
        errors = []
        for i, d in enumerate(docs):
            if bypass or args.require in d:
                continue
            errors.append({"index": i, "code": 121, "errmsg": "Document failed validation"})
            if ordered:
                break
        taken = (errors[0]["index"] if ordered and errors else len(docs) - len(errors))
        note("insert ns=%s n=%d bypass=%s refused=%d" % (ns, len(docs), str(bypass).lower(), len(errors)))
        reply = {"n": taken}
        if errors:
            reply["writeErrors"] = errors
        return r.reply(reply)

    def apply_ops(r):
        ops = r.doc.get("applyOps", [])
        for op in ops:
            ui = op.get("ui")
            note("applyOps op=%s ns=%s create=%s ui=%s" % (op.get("op"), op.get("ns"),
                 op.get("o", {}).get("create"), ui.hex if isinstance(ui, uuid.UUID) else ui.hex() if isinstance(ui, bytes) else ui))
        return r.reply(applied=len(ops), results=[True] * len(ops))

    def handle(r):
        cmd = command(r)
        if cmd is None:                       # a legacy opcode: no reply expected
            return True
        lc, db, coll, ns = cmd
        if lc == "insert":
            return insert(r, ns)
        if lc == "applyops":
            return apply_ops(r)
        return answer_rest(r, lc, ns)

    serve(handle, args.max_seconds)
    if log:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
