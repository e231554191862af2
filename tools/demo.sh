#!/usr/bin/env bash
# The main demo: installs what is missing, builds, and runs the end-to-end
# demo on its built-in defaults (everything on 127.0.0.1 and Unix sockets):
#  1. the echo demo over TCP, a Unix socket and TLS (latency, throughput);
#  2. a kdb+ tickerplant (examples/kdb_server), one query and one
#     subscription against it;
#  3. kdb Insights' SM and RT: a stream (a tickerplant with --rt), the
#     Storage Manager emulator (examples/sm_emulator) and an RDB-like Data
#     Access process (examples/rdb); the RDB's counts before and after an
#     end of interval;
#  4. QWP: a million quotes into the QWP test server (examples/
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
rt_out="$(mktemp)" sm_out="$(mktemp)" rdb_out="$(mktemp)" rt_log="$(mktemp -d)"
trap 'kill $server ${qwp_server:-} ${rt_server:-} ${sm_server:-} ${rdb_server:-} 2>/dev/null || true
      rm -rf "$out" "$qwp_out" "$rt_out" "$sm_out" "$rdb_out" "$rt_log"' EXIT
for _ in $(seq 100); do grep -q tickerplant "$out" && break; sleep 0.05; done
cat "$out"
echo "q) .u.i   (messages published so far)"
"$bin/kdb_query" "127.0.0.1:$port" '.u.i'
echo "subscribing to \`trade for \`IBM\`MSFT, three updates:"
timeout 20 "$bin/kdb_subscribe" "127.0.0.1:$port" trade IBM MSFT --count 3

echo
rt_port="${QWIRE_DEMO_RT_PORT:-5012}" sm_port="${QWIRE_DEMO_SM_PORT:-10001}" rdb_port="${QWIRE_DEMO_RDB_PORT:-5011}"
"$bin/kdb_server" --port "$rt_port" --rt --log "$rt_log" >"$rt_out" 2>&1 &
rt_server=$!
for _ in $(seq 100); do grep -q tickerplant "$rt_out" && break; sleep 0.05; done
"$bin/sm_emulator" --port "$sm_port" --tp "127.0.0.1:$rt_port" >"$sm_out" 2>&1 &
sm_server=$!
for _ in $(seq 100); do grep -q "sm emulator" "$sm_out" && break; sleep 0.05; done
cat "$rt_out" "$sm_out"
"$bin/rdb" --tp "127.0.0.1:$rt_port" --sm "127.0.0.1:$sm_port" --port "$rdb_port" >"$rdb_out" 2>&1 &
rdb_server=$!
for _ in $(seq 100); do grep -q "rdb: mount" "$rdb_out" && break; sleep 0.05; done
cat "$rdb_out"
sleep 1  # the feed publishes ten updates meanwhile
echo "q) count trade   (the RDB, before the end of interval)"
"$bin/kdb_query" "127.0.0.1:$rdb_port" 'count trade'
echo "q) .sm.eoi[]   (the SM emulator: _prtnEnd on the stream, reload signals, _reload)"
"$bin/kdb_query" "127.0.0.1:$sm_port" '.sm.eoi[]'
for _ in $(seq 100); do grep -q "reload of rdb" "$rdb_out" && break; sleep 0.05; done
grep -E "_prtnEnd|reload of" "$rdb_out"
echo "q) count trade   (after the reload: what is older than endTS is on disk now)"
"$bin/kdb_query" "127.0.0.1:$rdb_port" 'count trade'

echo
qwp_port="${QWIRE_DEMO_QWP_PORT:-9000}"
"$bin/qwp_test_server" --port "$qwp_port" >"$qwp_out" 2>&1 &
qwp_server=$!
for _ in $(seq 100); do grep -q "qwp test server" "$qwp_out" && break; sleep 0.05; done
cat "$qwp_out"
"$bin/qwp_ingest" --conf "ws::addr=127.0.0.1:$qwp_port;" --rows 1000000 --batch 10000
echo "SELECT * FROM quotes LIMIT 3   (over QWP egress)"
"$bin/qwp_query" --conf "ws::addr=127.0.0.1:$qwp_port;" "SELECT * FROM quotes LIMIT 3"
