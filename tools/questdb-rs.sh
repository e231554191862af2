#!/usr/bin/env bash
# Builds the questdb-rs peer (tests/peers/questdb-rs: QuestDB's Rust client
# questdb-rs 7.2.1 from crates.io, every crate pinned by its Cargo.lock) once,
# caches the build, and prints the path of the program. Used by the peer
# tests as an independent QWP client. Needs cargo (the machine's rustup).
# Usage: tools/questdb-rs.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=7.2.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/qwire/questdb-rs-$version"
src="$root/tests/peers/questdb-rs"
# One program per version of the peer's sources (checkouts at different
# commits can share the cache); the crates' build is shared.
hash="$(cat "$src/Cargo.toml" "$src/Cargo.lock" "$src/src/main.rs" | sha256sum | cut -c1-16)"
bin="$cache/qwire-questdb-rs-peer-$hash"
if [ ! -x "$bin" ]; then
  if ! command -v cargo >/dev/null; then
    echo "tools/questdb-rs.sh: cargo is needed to build QuestDB's Rust client (install Rust with rustup)" >&2
    exit 1
  fi
  CARGO_TARGET_DIR="$cache" cargo build -q --release --locked --manifest-path "$src/Cargo.toml" >&2
  cp "$cache/release/qwire-questdb-rs-peer" "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
