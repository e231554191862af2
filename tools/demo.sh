#!/usr/bin/env bash
# The main demo: installs what is missing, builds, and runs the end-to-end
# demo on its built-in defaults (everything on 127.0.0.1 and Unix sockets):
#  0. kdb+ -> QuestDB: a tickerplant with its feed (examples/kdb_server),
#     qwire-bridge streaming it into the QWP test server, and the q gateway
#     (qwire-qgw) answering SQL from a q client (kdb_query);
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
tools="$root/build/demo/tools"

port="${QWIRE_DEMO_KDB_PORT:-5010}" qwp_port="${QWIRE_DEMO_QWP_PORT:-9000}" gw_port="${QWIRE_DEMO_GATEWAY_PORT:-5050}"
out="$(mktemp)" tp_log="$(mktemp -d)" bridge_out="$(mktemp)" gw_out="$(mktemp)"
qwp_out="$(mktemp)"
rt_out="$(mktemp)" sm_out="$(mktemp)" rdb_out="$(mktemp)" rt_log="$(mktemp -d)"
trap 'kill ${server:-} ${qwp_server:-} ${bridge:-} ${gateway:-} ${rt_server:-} ${sm_server:-} ${rdb_server:-} 2>/dev/null || true
      rm -rf "$out" "$tp_log" "$bridge_out" "$gw_out" "$qwp_out" "$rt_out" "$sm_out" "$rdb_out" "$rt_log"' EXIT

echo "== kdb+ -> QuestDB: tickerplant -> qwire-bridge -> QWP server; qwire-qgw answers q clients in SQL"
"$bin/kdb_server" --port "$port" --log "$tp_log" --feed-interval-ms 10 >"$out" 2>&1 &
server=$!
"$bin/qwp_test_server" --port "$qwp_port" >"$qwp_out" 2>&1 &
qwp_server=$!
for _ in $(seq 100); do grep -q tickerplant "$out" && grep -q "qwp test server" "$qwp_out" && break; sleep 0.05; done
cat "$out" "$qwp_out"
"$tools/qwire-bridge" --tp "127.0.0.1:$port" --conf "ws::addr=127.0.0.1:$qwp_port;" --tables trade --state "$tp_log/bridge.state" \
  --status-ms 500 >"$bridge_out" 2>&1 &
bridge=$!
"$tools/qwire-qgw" --port "$gw_port" --conf "ws::addr=127.0.0.1:$qwp_port;" >"$gw_out" 2>&1 &
gateway=$!
for _ in $(seq 100); do grep -q "q gateway" "$gw_out" && break; sleep 0.05; done
cat "$gw_out"
sleep 2  # the feed publishes meanwhile; the bridge commits every 250 ms
kill "$bridge" && wait "$bridge" 2>/dev/null || true
bridge=
cat "$bridge_out"
echo "q) h:hopen $gw_port; h\"select count(), avg(price) from trade\""
"$bin/kdb_query" "127.0.0.1:$gw_port" "select count(), avg(price) from trade"
echo "q) h\"select * from trade limit 3\""
"$bin/kdb_query" "127.0.0.1:$gw_port" "select * from trade limit 3"

echo
"$bin/qwire_echo"

echo
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
"$bin/qwp_ingest" --conf "ws::addr=127.0.0.1:$qwp_port;" --rows 1000000 --batch 10000
echo "SELECT * FROM quotes LIMIT 3   (over QWP egress)"
"$bin/qwp_query" --conf "ws::addr=127.0.0.1:$qwp_port;" "SELECT * FROM quotes LIMIT 3"
