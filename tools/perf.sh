#!/usr/bin/env bash
# Installs what is missing, builds qwire-perf (optimised, in build/perf) and
# runs it with the arguments given:  tools/perf.sh qwp-ingest --window 1,8,32,128
# With --peer javakdb it also fetches KX's Java client and compiles the driver
# (tools/javakdb.sh), and hands qwire-perf its classpath.
#
# tools/perf.sh --report DIR runs the set of scenarios the README's
# performance section quotes, one after the other (about 15 minutes on two
# cores), keeps each report as DIR/NAME.json (its table as NAME.txt), draws
# DIR/qwp-latency.png (p99 latency against the batch time bound, a line per
# arrival rate) and the in-flight window sweeps across 1 ms and 10 ms round
# trips, and writes DIR/report.md: every figure with its ceiling and ratio.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup-deps.sh" >&2
"$root/tools/build.sh" "$root/build/perf" -DCMAKE_BUILD_TYPE=Release -DQWIRE_BUILD_TESTS=OFF -DQWIRE_BUILD_EXAMPLES=OFF \
  >/dev/null
perf="$root/build/perf/perf/qwire-perf"
javakdb() {
  QWIRE_JAVAKDB_CLASSPATH="$("$root/tools/javakdb.sh" "$root/build/javakdb")"
  export QWIRE_JAVAKDB_CLASSPATH
}

if [ "${1:-}" = "--report" ]; then
  out="${2:?usage: tools/perf.sh --report DIR}"
  mkdir -p "$out"
  javakdb
  # name, then the scenario and its knobs: the README's rows, in its order.
  runs=(
    "reactor|reactor --size 17,64 --reps 5"
    "kdb-codec|kdb-codec --rows 1m --data random,repetitive --reps 5 --peer javakdb"
    "kdb-codec-types|kdb-codec --rows 1m --types pjf,spjf --reps 5"
    "kdb-query|kdb-query --outstanding 1,64 --spin-us 0,200 --threads 1,2 --reps 5"
    "kdb-query-javakdb|kdb-query --outstanding 1 --reps 5 --peer javakdb"
    "kdb-tick|kdb-tick --rows 100 --rate 0,100,1000,10000,20000 --updates 1000 --spin-us 0,1000 --reps 3"
    "qwp-encode|qwp-encode --rows 20k,1m --reps 5"
    "qwp-ingest|qwp-ingest --window 8,128 --threads 1,2 --rows 2000000 --reps 5"
    "qwp-ingest-tls|qwp-ingest --window 128 --tls on --rows 500000 --reps 3"
    "qwp-ingest-rows|qwp-ingest --window 128 --rows 1000000,8000000 --reps 3"
    "qwp-latency|qwp-latency --batch-us 100,1000,10000 --rate 100000,1000000,4000000,16000000 --duration-ms 500 --reps 3"
    "window-1ms|qwp-ingest --window 1,8,32,128 --frame-bytes 64k,256k --rows 500k --reps 3 --netem delay_1ms"
    "window-10ms|qwp-ingest --window 1,8,32,128 --frame-bytes 64k,256k --rows 500k --reps 3 --netem delay_10ms"
    "bridge|bridge --rows 100,1000 --reps 3"
    "bridge-paced|bridge --rows 100 --rate 2000 --updates 4000 --reps 3"
  )
  reports=()
  for r in "${runs[@]}"; do
    name="${r%%|*}"
    read -r -a args <<<"${r#*|}"
    args=("${args[@]//_/ }")  # "delay_1ms" is one argument: "delay 1ms"
    echo "== $name: qwire-perf ${args[*]}" >&2
    plot=()
    case "$name" in
      qwp-latency) plot=(--plot "$out/qwp-latency.png" --plot-metric "latency us p99") ;;
      window-*) plot=(--plot "$out/$name.png") ;;
    esac
    "$perf" "${args[@]}" --quiet --json "$out/$name.json" "${plot[@]}" >"$out/$name.txt"
    reports+=("$out/$name.json")
  done
  python3 "$root/tools/perf_report.py" "${reports[@]}" >"$out/report.md"
  echo "wrote $out/report.md" >&2
  exit 0
fi

for a in "$@"; do
  if [ "$a" = "--peer" ]; then
    javakdb
    break
  fi
done
exec "$perf" "$@"
