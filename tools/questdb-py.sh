#!/usr/bin/env bash
# Installs QuestDB's Python client (questdb 6.0.0 from PyPI; a Rust core that
# speaks QWP over WebSocket) into a cached virtual environment and prints the
# path of its python. Used by the peer tests as an independent QWP client;
# PyArrow (pinned) beside it reads what qwire's reader exports to Arrow.
# Usage: tools/questdb-py.sh
set -euo pipefail
version=6.0.0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/qwire"
venv="$cache/questdb-py-$version"
pyarrow=26.0.1
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import questdb, numpy" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "questdb==$version" numpy >&2
fi
if ! "$venv/bin/python" -c "import pyarrow" 2>/dev/null; then
  "$venv/bin/pip" install -q "pyarrow==$pyarrow" >&2
fi
echo "$venv/bin/python"
