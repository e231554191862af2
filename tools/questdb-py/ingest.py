"""Drives QuestDB's Python client (Rust core) against a QWP server.

Usage: python ingest.py PORT SCENARIO
  m0      the golden fixtures' ten rows in one frame
  types   every column type the client has, with NULLs, over three flushes
  reject  a LONG column written again as DOUBLE: prints the server's error
  query   'types', then reads the table back through the client's egress
          reader (questdb.connect(...).query) and compares every cell
  query-zstd  the same, the reader asking for compression=zstd (level 3)
  trade   writes nothing; reads table trade through the egress reader and
          prints each row as "sym price size timestamp-ns" (what a bridge wrote)
Prints "done" (or "error: ...") and exits 0 when the client behaved.
"""
import datetime
import decimal
import ipaddress
import sys
import uuid
import warnings

warnings.simplefilter("ignore", DeprecationWarning)

import numpy
from questdb.ingress import (Char, DateMillis, Geohash, Long256, Sender,
                             TimestampMicros, TimestampNanos)

port, scenario = int(sys.argv[1]), sys.argv[2]
conf = f"ws::addr=127.0.0.1:{port};"


def m0(s):
    for i in range(10):
        s.row("trades", symbols={"sym": f"SYM_00{i}"},
              columns={"qty": i, "px": 100.0 + i},
              at=TimestampNanos(1700000000000000000 + i))
    s.flush()


def types_rows():
    for i in range(6):
        null = i % 3 == 1
        cols = {
            "b": i % 2 == 0,
            "l": None if null else i * 1000,
            "d": None if null else i + 0.25,
            "s": None if null else f"v\u00e9{i}",
            "dec": None if null else decimal.Decimal(f"{i}.25"),
            "ts": None if null else TimestampMicros(1700000000000000 + i),
            "u": None if null else uuid.UUID(int=(0x1122334455667788 << 64) | i),
            "ip": None if null else ipaddress.IPv4Address(f"10.0.0.{i + 1}"),
            "bin": None if null else bytes([i, 255, 0]),
            "ch": Char("Z"),
            "dt": None if null else DateMillis(1700000000000 + i),
            "l256": None if null else Long256(i + 1),
            "arr": None if null else numpy.array([[1.0, 2.0], [3.0, float(i)]]),
        }
        yield i, {"sym": None if null else f"k{i % 2}"}, cols


def types(s):
    for i, syms, cols in types_rows():
        s.row("all_types", symbols=syms, columns=cols, at=TimestampNanos(1700000000000000000 + i))
        if i % 2 == 1:
            s.flush()


def query(s, read_conf=conf):
    types(s)
    s.close()
    import questdb
    db = questdb.connect(read_conf)
    try:
        result = db.query("SELECT * FROM all_types")
        names = [n for n, _ in result.columns()]
        got = list(result.iter_rows())
    finally:
        db.close()
    if len(got) != 6:
        raise SystemExit(f"mismatch: {len(got)} rows")
    utc = datetime.timezone.utc
    for (i, syms, cols), row in zip(types_rows(), got):
        cell = dict(zip(names, row))
        want = dict(syms)
        for k, v in cols.items():
            if isinstance(v, TimestampMicros):
                v = datetime.datetime.fromtimestamp(0, utc) + datetime.timedelta(microseconds=v.value)
            elif isinstance(v, DateMillis):
                v = datetime.datetime.fromtimestamp(0, utc) + datetime.timedelta(milliseconds=v.value)
            elif isinstance(v, Char):
                v = v.value if hasattr(v, "value") else str(v)
            elif isinstance(v, Long256):
                v = v.value if hasattr(v, "value") else int(v)
            want[k] = v
        for k, v in want.items():
            g = cell[k]
            same = (g == v).all() if isinstance(v, numpy.ndarray) and g is not None else g == v
            if not same:
                raise SystemExit(f"mismatch: row {i} column {k}: got {g!r}, want {v!r}")


def trade(s):
    import questdb
    db = questdb.connect(conf)
    try:
        result = db.query("SELECT sym, price, size, timestamp FROM trade")
        for sym, price, size, ts in result.iter_rows():
            ns = (ts - datetime.datetime.fromtimestamp(0, datetime.timezone.utc)) // datetime.timedelta(microseconds=1) * 1000
            print(f"{sym} {price!r} {size} {ns}")
    finally:
        db.close()


def reject(s):
    s.row("mixed", columns={"v": 1}, at=TimestampNanos(1))
    # Acknowledged before the second connection starts: the LONG row is
    # the table's first, whatever the load on the machine.
    if not s.await_acked_fsn(s.flush_and_get_fsn()):
        raise SystemExit("the first row was never acknowledged")
    # A second connection: the server, not the client, sees the type change.
    with Sender.from_conf(conf) as s2:
        s2.row("mixed", columns={"v": 1.5}, at=TimestampNanos(2))
        s2.await_acked_fsn(s2.flush_and_get_fsn())  # raises the server's rejection


try:
    with Sender.from_conf(conf) as s:
        {"m0": m0, "types": types, "reject": reject, "query": query, "trade": trade,
         "query-zstd": lambda s: query(s, conf + "compression=zstd;compression_level=3;")}[scenario](s)
    print("done")
except Exception as e:  # the reject scenario ends here
    print("error: " + str(e).replace("\n", " "))
sys.stdout.flush()
