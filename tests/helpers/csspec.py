"""csspec.py: MongoDB's change-stream spec tests (the unified-format JSON
files pymongo's source distribution ships under test/change_streams) as
golden fixtures for mongo-watch and mongo-replay.

    csspec.py list SPECDIR            the usable tests, one ID per line
    csspec.py setup URI DB ID         the test's initial data, in DB and DB_b;
                                      prints mongo-watch's scope options, and
                                      on a second line the collections renamed to
    csspec.py run URI DB ID before|after
                                      the test's operations before (or after)
                                      it creates its change stream, through
                                      pymongo; exit 3 if the server refused one
    csspec.py match DB ID EVENTS      the events mongo-watch wrote (canonical
                                      NDJSON) against the test's expected
                                      results, in order, as the unified test
                                      format matches them; exit 1 naming the
                                      first difference

A usable test creates one change stream with an empty pipeline (the events
must be whole to be replayed), on a collection, a database or the
deployment, and runs only writes and DDL the test bed has: insertOne,
updateOne, replaceOne, deleteOne, dropCollection, rename, createIndex,
dropIndex, createCollection.  database0 and database1 are DB and DB_b.

Run with /usr/bin/python3 (Debian's pymongo).
"""
import json
import os
import sys

# the writes run_ops makes, with the arguments it passes on
WRITES = {"insertOne": {"document"}, "updateOne": {"filter", "update"},
          "replaceOne": {"filter", "replacement"}, "deleteOne": {"filter"},
          "dropCollection": {"collection"}, "rename": {"to"}, "createIndex": {"keys", "name"},
          "dropIndex": {"name"}, "createCollection": {"collection"}}


def usable(test):
    streams = [o for o in test["operations"] if o["name"] == "createChangeStream"]
    if len(streams) != 1 or streams[0]["arguments"].get("pipeline") != []:
        return False
    if set(streams[0]["arguments"]) - {"pipeline", "showExpandedEvents"}:
        return False
    names = {o["name"] for o in test["operations"]}
    if any(o["name"] in WRITES and set(o.get("arguments", {})) - WRITES[o["name"]] for o in test["operations"]):
        return False
    return names <= set(WRITES) | {"createChangeStream", "iterateUntilDocumentOrError"} and \
        "iterateUntilDocumentOrError" in names and \
        all("expectResult" in o for o in test["operations"] if o["name"] == "iterateUntilDocumentOrError")


def load(tid):
    path, _, index = tid.rpartition("#")
    spec = json.load(open(path))
    return spec, spec["tests"][int(index)]


def entities(spec, db):
    """entity id -> ("client", None) / ("database", name) / ("collection", (db, coll))"""
    dbname = {"database0": db, "database1": db + "_b"}
    ents, dbs = {}, {}
    for e in spec["createEntities"]:
        kind, body = next(iter(e.items()))
        if kind == "client":
            ents[body["id"]] = ("client", None)
        elif kind == "database":
            dbs[body["id"]] = dbname.get(body["databaseName"], body["databaseName"])
            ents[body["id"]] = ("database", dbs[body["id"]])
        elif kind == "collection":
            ents[body["id"]] = ("collection", (dbs[body["database"]], body["collectionName"]))
    return ents, dbname


def cmd_list(specdir):
    for name in sorted(os.listdir(specdir)):
        if not name.endswith(".json"):
            continue
        spec = json.load(open(os.path.join(specdir, name)))
        for i, test in enumerate(spec["tests"]):
            if usable(test):
                print("%s#%d" % (os.path.join(specdir, name), i))


def cmd_setup(uri, db, tid):
    import pymongo
    spec, test = load(tid)
    ents, dbname = entities(spec, db)
    client = pymongo.MongoClient(uri, directConnection=True)
    for d in dbname.values():
        client.drop_database(d)
    for data in spec.get("initialData", []):
        coll = client[dbname.get(data["databaseName"], data["databaseName"])][data["collectionName"]]
        if data["documents"]:
            coll.insert_many(data["documents"])
        else:
            coll.database.create_collection(data["collectionName"])
    stream = next(o for o in test["operations"] if o["name"] == "createChangeStream")
    kind, what = ents[stream["object"]]
    opts = []
    if kind == "collection":
        opts = ["--ns", "%s.%s" % what]
    elif kind == "database":
        opts = ["--db", what]
    if stream["arguments"].get("showExpandedEvents"):
        opts.append("--show-expanded-events")
    print(" ".join(opts))
    # the collections renamed to, compared too when the stream is a collection's
    print(" ".join("%s.%s" % (ents[o["object"]][1][0], o["arguments"]["to"])
                   for o in test["operations"] if o["name"] == "rename"))


def cmd_run(uri, db, tid, phase):
    """the operations before the change stream is created, or after it;
    exit 3 when the server refuses one (it lacks what the test needs)"""
    import pymongo
    try:
        run_ops(pymongo, uri, db, tid, phase == "before")
    except pymongo.errors.OperationFailure as e:
        print("the server refused it: %s" % e, file=sys.stderr)
        return 3
    return 0


def run_ops(pymongo, uri, db, tid, before):
    spec, test = load(tid)
    ents, _ = entities(spec, db)
    client = pymongo.MongoClient(uri, directConnection=True)
    ops = [o["name"] for o in test["operations"]]
    at = ops.index("createChangeStream")
    for op in test["operations"][:at] if before else test["operations"][at:]:
        name, args = op["name"], op.get("arguments", {})
        if name not in WRITES:
            continue
        kind, what = ents[op["object"]]
        if kind == "database":
            d = client[what]
            if name == "dropCollection":
                d.drop_collection(args["collection"])
            elif name == "createCollection":
                d.create_collection(args["collection"])
            continue
        c = client[what[0]][what[1]]
        if name == "insertOne":
            c.insert_one(args["document"])
        elif name == "updateOne":
            c.update_one(args["filter"], args["update"])
        elif name == "replaceOne":
            c.replace_one(args["filter"], args["replacement"])
        elif name == "deleteOne":
            c.delete_one(args["filter"])
        elif name == "rename":
            c.rename(args["to"])
        elif name == "createIndex":
            c.create_index(list(args["keys"].items()), name=args.get("name"))
        elif name == "dropIndex":
            c.drop_index(args["name"])


def rename_dbs(value, dbname):
    """the expected result with database0/database1 named as in this run"""
    if isinstance(value, dict):
        return {k: (dbname.get(v, v) if k == "db" and isinstance(v, str) else rename_dbs(v, dbname))
                for k, v in value.items()}
    if isinstance(value, list):
        return [rename_dbs(v, dbname) for v in value]
    return value


def bson_type(value):
    """the unified format's $$type name of a value read by bson.json_util"""
    import datetime
    import bson
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, bson.int64.Int64):
        return "long"
    for cls, name in ((int, "int"), (float, "double"), (str, "string"), (dict, "object"), (list, "array"),
                      (datetime.datetime, "date"), (bson.objectid.ObjectId, "objectId"),
                      (bson.timestamp.Timestamp, "timestamp"), (bytes, "binData"), (bson.binary.Binary, "binData"),
                      (bson.decimal128.Decimal128, "decimal"), (type(None), "null")):
        if isinstance(value, cls):
            return name
    return "unknown"


def match(expected, actual, path, root):
    """None when actual matches expected, else what differs at path"""
    if isinstance(expected, dict) and len(expected) == 1 and next(iter(expected)).startswith("$$"):
        op, arg = next(iter(expected.items()))
        if op == "$$exists":
            return None if (actual is not MISSING) == arg else "%s: $$exists %s" % (path, arg)
        if op == "$$unsetOrMatches":
            return None if actual is MISSING else match(arg, actual, path, False)
        if op == "$$type":
            if actual is MISSING:
                return "%s: missing" % path
            names = arg if isinstance(arg, list) else [arg]
            got = bson_type(actual)
            if got in names or (got in ("int", "long", "double", "decimal") and "number" in names):
                return None
            return "%s: a %s, not of type %s" % (path, got, arg)
        return "%s: the matcher %s is not known here" % (path, op)
    if actual is MISSING:
        return "%s: missing" % path
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return "%s: %r is not a document" % (path, actual)
        for k, v in expected.items():
            why = match(v, actual.get(k, MISSING), path + "." + k, False)
            if why:
                return why
        if not root:
            extra = [k for k in actual if k not in expected]
            if extra:
                return "%s: unexpected fields %s" % (path, extra)
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return "%s: %r is not %r" % (path, actual, expected)
        for i, (e, a) in enumerate(zip(expected, actual)):
            why = match(e, a, "%s[%d]" % (path, i), False)
            if why:
                return why
        return None
    if isinstance(expected, bool) or isinstance(actual, bool):
        same = type(expected) is type(actual) and expected == actual
    else:
        same = expected == actual
    return None if same else "%s: %r, expected %r" % (path, actual, expected)


MISSING = object()


def cmd_match(db, tid, events_path):
    from bson import json_util
    spec, test = load(tid)
    _, dbname = entities(spec, db)
    events = [json_util.loads(line) for line in open(events_path) if line.strip()]
    expects = [rename_dbs(o["expectResult"], dbname) for o in test["operations"]
               if o["name"] == "iterateUntilDocumentOrError"]
    if len(events) < len(expects):
        print("%d events, the spec expects %d" % (len(events), len(expects)))
        return 1
    for n, (want, got) in enumerate(zip(expects, events), 1):
        why = match(want, got, "event %d" % n, True)
        if why:
            print("%s\n  got  %s\n  want %s" % (why, json_util.dumps(got), json.dumps(want)))
            return 1
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "list":
        return cmd_list(argv[2]) or 0
    if len(argv) == 5 and argv[1] == "setup":
        return cmd_setup(*argv[2:]) or 0
    if len(argv) == 6 and argv[1] == "run" and argv[5] in ("before", "after"):
        return cmd_run(*argv[2:])
    if len(argv) == 5 and argv[1] == "match":
        return cmd_match(*argv[2:])
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
