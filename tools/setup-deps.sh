#!/usr/bin/env bash
# Installs the Debian packages qwire builds and tests with. Does nothing (and
# asks no package server) when they are all installed already.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config python3 python3-venv openssl
  liburing-dev libboost1.81-dev libwolfssl-dev libsimdjson-dev libbenchmark-dev catch2 libcli11-dev libedit-dev libzstd-dev
  gnuplot-nox iproute2
  default-jdk-headless maven
)

missing=()
# A JDK and Maven may come from elsewhere (the machine image): take any.
command -v javac >/dev/null && command -v mvn >/dev/null && packages=("${packages[@]/default-jdk-headless}") && packages=("${packages[@]/maven}")
for p in "${packages[@]}"; do
  [ -z "$p" ] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
