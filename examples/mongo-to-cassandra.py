#!/usr/bin/env python3
"""examples/mongo-to-cassandra.py: the loader of examples/mongo-to-cassandra.sh.

Reads mongo-dump-bson's canonical Extended JSON lines on stdin, then the
line ["end of dump", N] that the script appends from the dump's stats, and
mirrors them into a Cassandra table (id text PRIMARY KEY, uid uuid, doc text,
sum text, typed columns).  Every document is read and converted before the
first write, so a stream cut short or a value that does not cast writes
nothing.  A row is written only when its checksum changed, rows whose _id
left the collection are deleted, then every row is read back and its
checksum recomputed from what Cassandra returned.

Usage: mongo-to-cassandra.py HOST:PORT KEYSPACE TABLE [column=]path:type...
Exit 0 verified; 1 the table differs from the collection; 3 the stream
ended before its end marker (nothing written); 64 bad parameters; 65 a value
does not cast (nothing written); 69 Cassandra unreachable or a write failed.
"""
import base64
import binascii
import datetime
import decimal
import hashlib
import json
import math
import re
import struct
import sys
import uuid

ME = "mongo-to-cassandra.sh"
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
TYPES = {"text", "ascii", "varchar", "bigint", "int", "smallint", "tinyint",
         "varint", "decimal", "double", "float", "timestamp", "boolean", "uuid"}
OWN = {"id", "uid", "doc", "sum"}
INT_RANGE = {"bigint": 64, "int": 32, "smallint": 16, "tinyint": 8}


class Refused(Exception):
    """A value that does not cast into its column's type."""


def die(code, msg):
    print(f"{ME}: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_fields(specs):
    fields = []
    pat = re.compile(rf"^(?:({IDENT})=)?([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*):([A-Za-z]+)$")
    for spec in specs:
        m = pat.match(spec)
        if not m:
            die(64, f"bad FIELDS entry '{spec}' (want [column=]field.path:type)")
        col = (m.group(1) or re.sub(r"[.-]", "_", m.group(2))).lower()
        typ = m.group(3).lower()
        if typ not in TYPES:
            die(64, f"FIELDS: type '{typ}' of {col} is not one of {' '.join(sorted(TYPES))}")
        if col in OWN:
            die(64, f"FIELDS: the column {col} is the table's own")
        if not re.fullmatch(IDENT, col):
            die(64, f"FIELDS: bad column name {col}")
        fields.append((col, m.group(2).split("."), typ))
    return fields


def lookup(doc, path):
    v = doc
    for p in path:
        if isinstance(v, dict) and p in v:
            v = v[p]
        elif isinstance(v, list) and p.isdigit() and int(p) < len(v):
            v = v[int(p)]
        else:
            return None
    return v


def number(v):
    """A canonical Extended JSON number as int, Decimal or float; else None."""
    if isinstance(v, bool) or not isinstance(v, dict) or len(v) != 1:
        return None
    (k, s), = v.items()
    if k in ("$numberInt", "$numberLong"):
        return int(s)
    if k == "$numberDecimal":
        return decimal.Decimal(s)
    if k == "$numberDouble":
        return float(s)
    return None


def as_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and "$oid" in v:
        return v["$oid"]
    n = number(v)
    if n is not None:
        return repr(n) if isinstance(n, float) else str(n)
    if isinstance(v, dict) and "$date" in v:
        return iso(date_ms(v))
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def date_ms(v):
    if isinstance(v, dict) and "$date" in v:
        d = v["$date"]
        if isinstance(d, dict) and "$numberLong" in d:
            return int(d["$numberLong"])
        if isinstance(d, str):
            return iso_ms(d)
    if isinstance(v, str):
        return iso_ms(v)
    raise Refused(f"not a date: {json.dumps(v)}")


def iso_ms(s):
    try:
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"not a date: {s!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (t - epoch) // datetime.timedelta(milliseconds=1)


def iso(ms):
    try:
        t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
        return t.isoformat(timespec="milliseconds") + "Z"
    except OverflowError:
        return str(ms)


def convert(v, typ):
    """The value of column type typ for an Extended JSON value (None: null);
    Refused, before anything is written, for a value the column cannot hold."""
    try:
        return convert_value(v, typ)
    except (OverflowError, ValueError, binascii.Error) as e:
        raise Refused(f"{json.dumps(v)} does not fit a {typ} column: {e}") from None


def convert_value(v, typ):
    if v is None or (isinstance(v, dict) and (v.get("$undefined") is True)):
        return None
    if typ in ("text", "ascii", "varchar"):
        t = as_text(v)
        if typ == "ascii" and not t.isascii():
            raise Refused(f"not ASCII: {json.dumps(v)}")
        return t
    if typ == "timestamp":
        return date_ms(v)
    if typ == "boolean":
        if isinstance(v, bool):
            return v
        raise Refused(f"not a boolean: {json.dumps(v)}")
    if typ == "uuid":
        if isinstance(v, dict) and "$binary" in v and v["$binary"].get("subType") in ("04", "03"):
            return uuid.UUID(bytes=base64.b64decode(v["$binary"]["base64"]))
        try:
            return uuid.UUID(as_text(v))
        except ValueError:
            raise Refused(f"not a uuid: {json.dumps(v)}") from None
    n = number(v)
    if n is None and isinstance(v, str):
        try:
            n = decimal.Decimal(v)
        except decimal.InvalidOperation:
            pass
    if n is None:
        raise Refused(f"not a number: {json.dumps(v)}")
    if typ in ("double", "float"):
        f = float(n)
        return struct.unpack("f", struct.pack("f", f))[0] if typ == "float" else f
    if typ == "decimal":
        d = decimal.Decimal(repr(n)) if isinstance(n, float) else decimal.Decimal(n)
        if not d.is_finite():
            raise Refused(f"{d} does not fit a decimal column")
        return d
    # integers: exact only
    if isinstance(n, float) and (not math.isfinite(n) or n != int(n)) or \
            isinstance(n, decimal.Decimal) and (not n.is_finite() or n != n.to_integral_value()):
        raise Refused(f"{as_text(v)} is not an integer")
    i = int(n)
    bits = INT_RANGE.get(typ)
    if bits and not -(1 << (bits - 1)) <= i < (1 << (bits - 1)):
        raise Refused(f"{i} does not fit {typ}")
    return i


def norm(v):
    """A value as the checksum sees it, the same from the source and from Cassandra."""
    if v is None:
        return None
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, datetime.datetime):
        raise AssertionError("timestamps are read as milliseconds")
    return str(v)


def checksum(row):
    return hashlib.sha256(json.dumps([norm(x) for x in row], ensure_ascii=False).encode()).hexdigest()


def read_stream(fields):
    """The documents of stdin as {id: row}, and the dump's own count."""
    rows, docs, dumped = {}, 0, None
    for n, line in enumerate(sys.stdin.buffer, 1):
        text = line.decode("utf-8").rstrip("\n")
        v = json.loads(text)
        if isinstance(v, list):
            dumped = int(v[1])
            continue
        docs += 1
        rid = as_text(v.get("_id"))
        row = [rid, uuid.uuid5(uuid.NAMESPACE_OID, rid), text]
        for col, path, typ in fields:
            try:
                row.append(convert(lookup(v, path), typ))
            except Refused as e:
                die(65, f"_id {rid}, {col} {typ}: {e}; nothing written")
        rows[rid] = row + [checksum(row)]
    return rows, docs, dumped


def main():
    if len(sys.argv) < 4:
        die(64, "usage: mongo-to-cassandra.py HOST:PORT KEYSPACE TABLE [column=]path:type...")
    addr, ks, table = sys.argv[1:4]
    fields = parse_fields(sys.argv[4:])
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit():
        die(64, f"CASSANDRA must be host:port: {addr}")
    for what, name in (("KEYSPACE", ks), ("TABLE", table)):
        if not re.fullmatch(IDENT, name):
            die(64, f"{what} must be letters, digits and _: {name}")
    ks, table = ks.lower(), table.lower()
    try:
        from cassandra import ConsistencyLevel
        from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
        from cassandra.concurrent import execute_concurrent_with_args
        from cassandra.policies import RoundRobinPolicy
    except ImportError as e:
        die(69, f"the Python driver is missing ({e}): pip install cassandra-driver, or set CASSANDRA_PYTHON")

    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(),
                               consistency_level=ConsistencyLevel.QUORUM, request_timeout=30)
    cluster = Cluster([host], port=int(port), connect_timeout=5, control_connection_timeout=5,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    try:
        session = cluster.connect()
    except Exception as e:
        die(69, f"cannot connect to Cassandra at {addr}: {e}")

    written = 0
    try:
        have = {r.column_name: r.type for r in session.execute(
            "SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = %s AND table_name = %s",
            (ks, table))}
        for col, _, typ in fields:
            if col in have and have[col] != ("text" if typ == "varchar" else typ):
                die(64, f"{ks}.{table}.{col} is {have[col]}, FIELDS says {typ}")
        rows, docs, dumped = read_stream(fields)
        if dumped is None:
            print(f"{ME}: the document stream ended before the end marker; nothing written", file=sys.stderr)
            return 3
        if dumped != docs:
            print(f"{ME}: mongo-dump-bson counted {dumped} documents, {docs} arrived; nothing written",
                  file=sys.stderr)
            return 3
        session.execute(f"CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = "
                        f"{{'class': 'SimpleStrategy', 'replication_factor': {int(REPLICAS)}}}")
        session.execute(f"CREATE TABLE IF NOT EXISTS {ks}.{table} "
                        "(id text PRIMARY KEY, uid uuid, doc text, sum text)")
        for col, _, typ in fields:
            if col not in have:
                session.execute(f"ALTER TABLE {ks}.{table} ADD {col} {typ}")
        cols = ["id", "uid", "doc"] + [c for c, _, _ in fields] + ["sum"]
        # every row as Cassandra returns it; timestamps as milliseconds, any year
        sel = ", ".join(f"tounixtimestamp({c})" if t == "timestamp" else c for c, _, t in fields)
        scan = f"SELECT id, uid, doc{', ' + sel if sel else ''}, sum FROM {ks}.{table}"

        def sums():
            """{id: its checksum recomputed, or None when the stored one differs}"""
            return {r[0]: (checksum(list(r[:-1])) if checksum(list(r[:-1])) == r[-1] else None)
                    for r in session.execute(scan)}

        old = sums()
        if not rows and old:
            die(69, f"the collection is empty: not emptying {ks}.{table} (truncate it yourself)")
        todo = [r for rid, r in rows.items() if old.get(rid) != r[-1]]
        gone = [(rid,) for rid in old if rid not in rows]
        insert = session.prepare(f"INSERT INTO {ks}.{table} ({', '.join(cols)}) "
                                 f"VALUES ({', '.join('?' * len(cols))})")
        delete = session.prepare(f"DELETE FROM {ks}.{table} WHERE id = ?")
        for stmt, args in ((insert, todo), (delete, gone)):
            for ok, res in execute_concurrent_with_args(session, stmt, args, concurrency=32,
                                                        raise_on_first_error=False):
                if not ok:
                    raise res
                written += 1

        got = sums()
        bad = [rid for rid, r in rows.items() if got.get(rid, r[-1]) != r[-1]]
        bad += [rid for rid in got if rid not in rows]
        got = len(got)
    except SystemExit:
        raise
    except Exception as e:
        print(f"{ME}: Cassandra at {addr} failed after {written} writes: {e}; "
              f"{ks}.{table} is not verified, rerun", file=sys.stderr)
        return 69
    finally:
        cluster.shutdown()
    if bad:
        print(f"{ME}: {len(bad)} rows of {ks}.{table} differ from {NS_NAME}, the first: id {bad[0]}",
              file=sys.stderr)
        return 1
    if got != docs:
        print(f"{ME}: {NS_NAME} gave {docs} documents but {ks}.{table} has {got} rows", file=sys.stderr)
        return 1
    print(f"verified: {got} documents in {ks}.{table} ({len(todo)} written, {len(gone)} deleted)")
    return 0


if __name__ == "__main__":
    import os
    REPLICAS = os.environ.get("REPLICAS", "1")
    NS_NAME = os.environ.get("NS", "the collection")
    if not REPLICAS.isdigit() or int(REPLICAS) < 1:
        die(64, f"REPLICAS must be a positive number: {REPLICAS}")
    sys.exit(main())
