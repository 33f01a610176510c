#!/usr/bin/python3
"""tests/peers/meta_peer.py: a scripted MongoDB wire-protocol peer (Debian's
python3-mockupdb) that serves a catalog and no documents, so metadata a
test server cannot hold (validators, views, time series, the trivia a real
server adds to its indexes) can be put before mongo-hashdiff --metadata.

    meta_peer.py --catalog FILE [--max-seconds S]

FILE is canonical Extended JSON:

    {"collections": [<listCollections entries>], "indexes": {"<coll>": [<specs>]}}

for one database (any name).  listCollections answers the entries its
filter selects (by "name", and "type" with "$in" or a string), listIndexes
the specs of the collection (none when it has none); find, aggregate and
getMore answer empty cursors, count 0; the handshake is a standalone
4.4 server's.  Prints its port on the first line of stdout; clients connect
with mongodb://127.0.0.1:PORT/?directConnection=true.  It runs until
SIGTERM or SIGINT (exit 0), or --max-seconds (default 600).
"""
import argparse

from bson import json_util
from peerlib import command, hello, serve



def selected(entry, flt):
    """Whether a listCollections entry passes the filter's name and type."""
    if "name" in flt and flt["name"] != entry.get("name"):
        return False
    want = flt.get("type")
    if isinstance(want, dict) and "$in" in want:
        return entry.get("type", "collection") in want["$in"]
    if isinstance(want, str):
        return entry.get("type", "collection") == want
    return True


def main():
    ap = argparse.ArgumentParser(prog="meta_peer.py")
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args()
    with open(args.catalog, encoding="utf-8") as f:
        catalog = json_util.loads(f.read())

    def cursor(r, ns, batch, key="firstBatch"):
        return r.reply({"cursor": {"id": 0, "ns": ns, key: batch}})

    def handle(r):
        cmd = command(r)
        if cmd is None:                       # a legacy opcode: no reply expected
            return True
        lc, db, coll, ns = cmd
        if lc in ("ismaster", "hello"):
            return r.reply(hello())
        if lc == "buildinfo":
            return r.reply(version="4.4.0", versionArray=[4, 4, 0, 0])
        if lc == "listcollections":
            flt = r.doc.get("filter") or {}
            return cursor(r, db + ".$cmd.listCollections",
                          [e for e in catalog.get("collections", []) if selected(e, flt)])
        if lc == "listindexes":
            return cursor(r, ns, catalog.get("indexes", {}).get(coll, []))
        if lc in ("find", "aggregate"):
            return cursor(r, ns, [])
        if lc == "getmore":
            return cursor(r, ns, [], "nextBatch")
        if lc == "count":
            return r.reply(n=0)
        if lc == "killcursors":
            return r.reply(cursorsKilled=[])
        return r.ok()

    serve(handle, args.max_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
