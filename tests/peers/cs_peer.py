#!/usr/bin/python3
"""tests/peers/cs_peer.py SCENARIO: a scripted MongoDB wire-protocol peer for
the change-stream cases no server here can produce (Debian's python3-mockupdb).

Prints its port on the first line of stdout, then plays SCENARIO with one
client and exits 0 when the client did what MongoDB's protocol expects
(for example: resumed after the last event it had), 1 otherwise, with the
reason on stderr.  Scenarios:

  pbrt           empty batches carrying postBatchResumeToken
  events-first   the opening batch already holds two events (changes made
                 while the stream opened): --start-token must still print a
                 position
  history-lost   two events, then getMore fails with ChangeStreamHistoryLost (286)
  not-primary    two events, getMore fails NotWritablePrimary (10107), then the
                 resumed aggregate must carry resumeAfter = the second token
  hangup         two events, the connection drops on getMore, same check
  invalidate     an event, then invalidate
"""
import sys
import threading

from bson import Timestamp
from bson.son import SON
from mockupdb import MockupDB, OpMsg

NS_DB, NS_COLL = "shop", "orders"
TIMEOUT = 20


def tok(n):
    return {"_data": "82%016X" % n}


def event(n, op="insert"):
    ev = SON([("_id", tok(n)), ("operationType", op),
              ("clusterTime", Timestamp(1700000000 + n, 1))])
    if op == "invalidate":
        return ev
    ev["fullDocument"] = {"_id": n, "v": n}
    ev["ns"] = {"db": NS_DB, "coll": NS_COLL}
    ev["documentKey"] = {"_id": n}
    return ev


def fail(msg):
    print("cs_peer: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    scenario = sys.argv[1]
    server = MockupDB(auto_ismaster={"ismaster": True, "maxWireVersion": 9, "minWireVersion": 0,
                                     "logicalSessionTimeoutMinutes": 30})
    server.autoresponds("ping")
    server.autoresponds("buildInfo", version="4.4.0")
    server.autoresponds("endSessions")
    server.autoresponds("killCursors", cursorsKilled=[])
    server.run()
    print(server.port, flush=True)
    cursor_id = 4242

    def receive(name):
        while True:
            r = server.receives(timeout=TIMEOUT)
            if r.command_name.lower() == name.lower():
                return r
            if r.command_name.lower() in ("killcursors", "endsessions"):
                r.ok()
                continue
            fail("expected %s, got %s" % (name, r.command_name))

    def first_batch(r, events, pbrt):
        r.reply({"cursor": {"id": cursor_id, "ns": "%s.%s" % (NS_DB, NS_COLL),
                            "firstBatch": events, "postBatchResumeToken": pbrt}})

    def next_batch(r, events, pbrt, cid=None):
        r.reply({"cursor": {"id": cursor_id if cid is None else cid, "ns": "%s.%s" % (NS_DB, NS_COLL),
                            "nextBatch": events, "postBatchResumeToken": pbrt}})

    def serve_rest(pbrt):
        """Answer whatever the client still asks (empty batches) until it
        has been quiet for 3 seconds."""
        while True:
            try:
                r = server.receives(timeout=3)
            except Exception:
                return
            if r.command_name.lower() == "getmore":
                next_batch(r, [], pbrt)
            elif r.command_name.lower() == "aggregate":
                fail("unexpected second aggregate: %r" % (r.doc,))
            else:
                r.ok()

    agg = receive("aggregate")
    if "$changeStream" not in agg.doc["pipeline"][0]:
        fail("the aggregate is not a change stream")

    if scenario == "pbrt":
        first_batch(agg, [], tok(100))
        serve_rest(tok(100))
        return 0

    if scenario == "events-first":
        first_batch(agg, [event(1), event(2)], tok(2))
        serve_rest(tok(2))
        return 0

    if scenario == "history-lost":
        first_batch(agg, [event(1), event(2)], tok(2))
        receive("getMore").reply({"ok": 0, "code": 286, "codeName": "ChangeStreamHistoryLost",
                                  "errmsg": "Resume of change stream was not possible, as the resume "
                                            "point may no longer be in the oplog."})
        serve_rest(tok(2))
        return 0

    if scenario in ("not-primary", "hangup"):
        first_batch(agg, [event(1), event(2)], tok(2))
        gm = receive("getMore")
        if scenario == "hangup":
            gm.hangup()
        else:
            gm.reply({"ok": 0, "errmsg": "not primary", "code": 10107, "codeName": "NotWritablePrimary",
                      "errorLabels": ["ResumableChangeStreamError"]})
        again = receive("aggregate")
        opts = again.doc["pipeline"][0]["$changeStream"]
        if opts.get("resumeAfter") != tok(2) and opts.get("startAfter") != tok(2):
            fail("resumed with %r, not resumeAfter the last event %r" % (dict(opts), tok(2)))
        first_batch(again, [event(3)], tok(3))
        serve_rest(tok(3))
        return 0

    if scenario == "invalidate":
        first_batch(agg, [event(1)], tok(1))
        next_batch(receive("getMore"), [event(2, "drop"), event(3, "invalidate")], tok(3), cid=0)
        serve_rest(tok(3))
        return 0

    fail("unknown scenario " + scenario)


if __name__ == "__main__":
    sys.exit(main())
