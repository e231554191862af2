#!/usr/bin/env bash
# Fetches KX's Java client (javakdb, from Maven Central, cached in ~/.m2 and
# ~/.cache/qwire) and compiles tools/javakdb/KdbDriver.java against it.
# Usage: tools/javakdb.sh OUT_DIR   -- prints the classpath to use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: tools/javakdb.sh OUT_DIR}"
# Maven Central carries javakdb 2.0 only (2.1 was never published there).
version=2.0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/qwire"
jar="$cache/javakdb-$version.jar"
mkdir -p "$cache" "$out"
out="$(cd "$out" && pwd)"
if [ ! -s "$jar" ]; then
  mvn -q dependency:get -Dartifact="com.kx:javakdb:$version" >&2
  cp "$HOME/.m2/repository/com/kx/javakdb/$version/javakdb-$version.jar" "$jar"
fi
src="$root/tools/javakdb/KdbDriver.java"
if [ ! -f "$out/KdbDriver.class" ] || [ "$src" -nt "$out/KdbDriver.class" ]; then
  javac -d "$out" -cp "$jar" "$src" >&2
fi
echo "$out:$jar"
