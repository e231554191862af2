#!/usr/bin/env bash
# Installs what is missing, builds qwire-perf (optimised, in build/perf) and
# runs it with the arguments given:  tools/perf.sh qwp-ingest --window 1,8,32,128
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup-deps.sh" >&2
"$root/tools/build.sh" "$root/build/perf" -DCMAKE_BUILD_TYPE=Release -DQWIRE_BUILD_TESTS=OFF -DQWIRE_BUILD_EXAMPLES=OFF \
  >/dev/null
exec "$root/build/perf/perf/qwire-perf" "$@"
