#!/usr/bin/env bash
# Installs what is missing, builds qwire-perf (optimised, in build/perf) and
# runs it with the arguments given:  tools/perf.sh qwp-ingest --window 1,8,32,128
# With --peer javakdb it also fetches KX's Java client and compiles the driver
# (tools/javakdb.sh), and hands qwire-perf its classpath.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup-deps.sh" >&2
"$root/tools/build.sh" "$root/build/perf" -DCMAKE_BUILD_TYPE=Release -DQWIRE_BUILD_TESTS=OFF -DQWIRE_BUILD_EXAMPLES=OFF \
  >/dev/null
for a in "$@"; do
  if [ "$a" = "--peer" ]; then
    QWIRE_JAVAKDB_CLASSPATH="$("$root/tools/javakdb.sh" "$root/build/javakdb")"
    export QWIRE_JAVAKDB_CLASSPATH
    break
  fi
done
exec "$root/build/perf/perf/qwire-perf" "$@"
