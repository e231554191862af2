#!/usr/bin/env bash
# Checks one program's command line: --help exits 0 and prints usage; an
# unknown option, a malformed number and an out-of-range port each exit 2
# with a message that names the option (or positional) at fault.
#
#   check_cli.sh PROGRAM [--number "ARGS" NAME] [--port "ARGS" NAME] [--base "ARGS"]
#
# ARGS are split on spaces (%3B stands for ';', which CMake lists cannot
# carry) and are the whole command line of that case;
# --base is what goes before --no-such-option (the program's required
# arguments, so that parsing reaches it).
set -uo pipefail
prog="$1"
shift
base="" number_args="" number_name="" port_args="" port_name=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="${2//%3B/;}"; shift 2 ;;
    --number) number_args="${2//%3B/;}"; number_name="$3"; shift 3 ;;
    --port) port_args="${2//%3B/;}"; port_name="$3"; shift 3 ;;
    *) echo "check_cli.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
failed=0
# expect RC NAME-IN-OUTPUT ARGS...: runs the program (bounded: nothing here
# may start real work), checks its exit code and that its output names NAME.
expect() {
  local want_rc="$1" want_text="$2" grep_opts="-qF"
  shift 2
  [ "$want_text" = "Usage" ] && grep_opts="-qiF"  # CLI11 says Usage:, qwire-perf usage:
  local out rc
  out="$(timeout 20 "$prog" "$@" 2>&1 </dev/null)"
  rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep $grep_opts -- "$want_text" <<<"$out"; then
    echo "FAIL: $(basename "$prog") $* -> exit $rc (want $want_rc, output naming '$want_text'):"
    sed 's/^/    /' <<<"$out" | head -20
    failed=1
  else
    echo "ok: $(basename "$prog") $* -> exit $rc"
  fi
}
# shellcheck disable=SC2086
expect 0 "Usage" --help
# shellcheck disable=SC2086
expect 2 "--no-such-option" $base --no-such-option
if [ -n "$number_name" ]; then
  # shellcheck disable=SC2086
  expect 2 "$number_name" $number_args
fi
if [ -n "$port_name" ]; then
  # shellcheck disable=SC2086
  expect 2 "$port_name" $port_args
fi
exit $failed
