#!/usr/bin/env bash
# The main demo: installs what is missing, builds, and runs the end-to-end
# demo on its built-in defaults (everything on 127.0.0.1 and a Unix socket).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup-deps.sh"
"$root/tools/build.sh" "$root/build/demo" -DQWIRE_BUILD_TESTS=OFF -DQWIRE_BUILD_PERF=OFF
"$root/build/demo/examples/qwire_echo"
