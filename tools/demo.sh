#!/usr/bin/env bash
# The main demo: installs what is missing, builds, and runs the end-to-end
# demo on its built-in defaults (everything on 127.0.0.1 and Unix sockets):
#  1. the echo demo over TCP, a Unix socket and TLS (latency, throughput);
#  2. a kdb+ tickerplant (examples/kdb_server), one query and one
#     subscription against it;
#  3. QWP: a million quotes into the QWP test server (examples/
#     qwp_test_server) with pipelined deferred frames (rows/s, commit ack
#     latency), then a query back over QWP egress.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup-deps.sh"
"$root/tools/build.sh" "$root/build/demo" -DQWIRE_BUILD_TESTS=OFF -DQWIRE_BUILD_PERF=OFF
bin="$root/build/demo/examples"

"$bin/qwire_echo"

echo
port="${QWIRE_DEMO_KDB_PORT:-5010}"
out="$(mktemp)"
"$bin/kdb_server" --port "$port" >"$out" 2>&1 &
server=$!
qwp_out="$(mktemp)"
trap 'kill $server ${qwp_server:-} 2>/dev/null || true; rm -f "$out" "$qwp_out"' EXIT
for _ in $(seq 100); do grep -q tickerplant "$out" && break; sleep 0.05; done
cat "$out"
echo "q) .u.i   (messages published so far)"
"$bin/kdb_query" "127.0.0.1:$port" '.u.i'
echo "subscribing to \`trade for \`IBM\`MSFT, three updates:"
timeout 20 "$bin/kdb_subscribe" "127.0.0.1:$port" trade IBM MSFT --count 3

echo
qwp_port="${QWIRE_DEMO_QWP_PORT:-9000}"
"$bin/qwp_test_server" --port "$qwp_port" >"$qwp_out" 2>&1 &
qwp_server=$!
for _ in $(seq 100); do grep -q "qwp test server" "$qwp_out" && break; sleep 0.05; done
cat "$qwp_out"
"$bin/qwp_ingest" --conf "ws::addr=127.0.0.1:$qwp_port;" --rows 1000000 --batch 10000
echo "SELECT * FROM quotes LIMIT 3   (over QWP egress)"
"$bin/qwp_query" --conf "ws::addr=127.0.0.1:$qwp_port;" "SELECT * FROM quotes LIMIT 3"
