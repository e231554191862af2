#!/usr/bin/env python3
"""Prints the reactor benchmarks as a table: medians, and each figure
divided by its floor (raw liburing on the same ring setup and placement)."""
import json
import sys

rows = {}
context = None
for path in sys.argv[1:]:
    with open(path) as f:
        data = json.load(f)
    context = context or data["context"]
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b["run_name"].replace("/real_time", "")
        rows[name] = b

def median_ns(name):
    return rows[name]["real_time"] if name in rows else None

placements = {"0": "both ends pinned to CPU 0", "1": "busy-poll, CPU 0 and CPU 1"}
rings = {"0": "SINGLE_ISSUER|DEFER_TASKRUN", "1": "plain ring"}

print(f"host: {context.get('host_name')}  cpus: {context.get('num_cpus')}  mhz: {context.get('mhz_per_cpu')}")
print()
print("64-byte ping-pong over loopback TCP (median round trip; ratio = x / raw liburing, same setup)")
print(f"{'implementation':<22}{'placement':<30}{'ring':<30}{'RTT us':>9}{'ratio':>8}")
for p in ("0", "1"):
    for ring in ("0", "1"):
        floor = median_ns(f"pingpong_raw_uring/{p}/{ring}")
        for impl in ("qwire", "raw_uring"):
            t = median_ns(f"pingpong_{impl}/{p}/{ring}")
            if t is None:
                continue
            print(f"{impl:<22}{placements[p]:<30}{rings[ring]:<30}{t/1000:>9.2f}{t/floor:>8.2f}")
    floor = median_ns(f"pingpong_raw_uring/{p}/0")
    for impl, label in (("asio_epoll", "Asio epoll"), ("asio_uring", "Asio io_uring backend")):
        t = median_ns(f"pingpong_{impl}/{p}")
        if t is not None:
            print(f"{impl:<22}{placements[p]:<30}{label:<30}{t/1000:>9.2f}{t/floor:>8.2f}")
print()
print("one-way bulk, 1 MiB writes, writer CPU 1 -> reader CPU 0 (median; ratio = x / raw liburing)")
floor = rows.get("bulk_raw_uring", {}).get("bytes_per_second")
for impl in ("qwire", "raw_uring", "raw_socket"):
    b = rows.get(f"bulk_{impl}")
    if b:
        bps = b["bytes_per_second"]
        print(f"{impl:<22}{bps/2**30:>8.2f} GiB/s{bps/floor:>8.2f}")
