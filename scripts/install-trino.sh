#!/usr/bin/env bash
# Installs the pinned Trino server the engine tests start (test/support/trino-server.ts): the core
# server tarball and the Hive connector plugin, both from Maven Central through Maven, unpacked into
# a cache outside the repository so every worktree and every CI rerun on the machine share it.
# A second call finds the server there and returns at once.
#   usage: bash scripts/install-trino.sh        (prints the server's folder last)
#   env:   TRINO_HOME  install here instead of ${XDG_CACHE_HOME:-$HOME/.cache}/clv-job/trino-<version>
#          JAVA_HOME   a JDK >= 24 for the server (default: the Temurin 25 JDK, when present)
set -euo pipefail

# 476 is the newest release Maven Central serves here as trino-server-core (releases >= 472 ship
# without plugins; each plugin is its own ZIP). Change it together with TRINO_VERSION in
# test/support/services.ts.
version=476
home=${TRINO_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/clv-job/trino-$version}

if [ -x "$home/bin/launcher" ] && [ -d "$home/plugin/hive" ]; then
  echo "$home"
  exit 0
fi

command -v mvn >/dev/null || { echo "install-trino: Maven (mvn) is needed to fetch Trino from Maven Central (apt-get install maven)" >&2; exit 1; }

fetch() { # group:artifact:version:packaging -> path of the artifact in the local Maven repository
  mvn -q -B dependency:get -Dtransitive=false -Dartifact="$1" >&2
  local group artifact ver packaging
  IFS=: read -r group artifact ver packaging <<<"$1"
  echo "${MAVEN_REPOSITORY:-$HOME/.m2/repository}/${group//.//}/$artifact/$ver/$artifact-$ver.$packaging"
}

echo "installing Trino $version (Maven Central: io.trino:trino-server-core, io.trino:trino-hive) into $home" >&2
core=$(fetch "io.trino:trino-server-core:$version:tar.gz")
hive=$(fetch "io.trino:trino-hive:$version:zip")

# unpack beside the target and move it in at the end, so an interrupted install leaves nothing half-made
staging=$(mktemp -d "$(dirname "$home")/.trino-install.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$home")" && mktemp -d "$(dirname "$home")/.trino-install.XXXXXX"; })
trap 'rm -rf "$staging"' EXIT
tar -xzf "$core" -C "$staging"
server="$staging/trino-server-core-$version"
unzip -q "$hive" -d "$staging/hive"
mv "$staging/hive/trino-hive-$version" "$server/plugin/hive"
rm -rf "$home"
mv "$server" "$home"
echo "$home"
