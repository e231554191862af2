#!/usr/bin/env bash
# Runs the reactor benchmarks (qwire, raw liburing, raw sockets, Asio with
# epoll and with io_uring) and prints each result next to its floor.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup-deps.sh"
"$root/tools/build.sh" "$root/build/bench" -DQWIRE_BUILD_TESTS=OFF -DQWIRE_BUILD_EXAMPLES=OFF
out="$(mktemp -d)"
args=(--benchmark_repetitions="${REPETITIONS:-5}" --benchmark_report_aggregates_only=true
      --benchmark_min_time="${MIN_TIME:-0.5}")
"$root/build/bench/perf/qwire_bench_reactor" "${args[@]}" --benchmark_out="$out/reactor.json" --benchmark_out_format=json >/dev/null
"$root/build/bench/perf/qwire_bench_asio_uring" "${args[@]}" --benchmark_out="$out/asio_uring.json" --benchmark_out_format=json >/dev/null
python3 "$root/tools/bench_report.py" "$out/reactor.json" "$out/asio_uring.json"
echo
echo "kdb+ (medians; compare encode/decode with memcpy_trade_bytes, kdb_query_rtt with raw_pingpong_same_bytes):"
"$root/build/bench/perf/qwire_bench_kdb" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null | grep -E "median"
