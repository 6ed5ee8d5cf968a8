#!/usr/bin/env bash
# Builds target/neo4j-launcher.jar (+ runtime deps in target/lib/) for the embedded
# Neo4j dev server. Idempotent: does nothing when the jar is newer than pom.xml and
# every source file. Needs Java 17+ and Maven 3.6.3+ (downloads from Maven Central
# into ~/.m2 on first run). Set FORCE=1 to rebuild unconditionally.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
jar="target/neo4j-launcher.jar"

die() { echo "neo4j-launcher/build.sh: $*" >&2; exit 1; }

up_to_date() {
  [[ -f "$jar" && -d target/lib ]] || return 1
  [[ -n "$(ls -A target/lib 2>/dev/null)" ]] || return 1
  [[ "$jar" -nt pom.xml ]] || return 1
  # any source file newer than the jar -> stale
  [[ -z "$(find src -type f -newer "$jar" -print -quit)" ]]
}

if [[ "${FORCE:-0}" != 1 ]] && up_to_date; then
  echo "neo4j-launcher: up to date ($jar)"
  exit 0
fi

command -v java >/dev/null 2>&1 || die "java not found on PATH (need Java 17 or 21)"
command -v mvn  >/dev/null 2>&1 || die "mvn not found on PATH (need Maven 3.6.3+; e.g. apt-get install maven)"
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1)"
[[ "${java_major:-0}" =~ ^[0-9]+$ && "$java_major" -ge 17 ]] \
  || die "Java 17+ required, found '${java_major:-unknown}' ($(command -v java))"

echo "neo4j-launcher: building with Maven (first run downloads ~185 MB into ~/.m2)..."
# Remove stale libs so an upgraded dependency does not leave old jars behind.
rm -rf target/lib
# (the sed strips stray ANSI resets that Debian's Maven 3.8 prints even in batch mode;
#  pipefail keeps Maven's exit status)
if ! mvn -q -B -Dstyle.color=never package -DskipTests 2>&1 | sed -u $'s/\x1b\\[0m//g'; then
  die "Maven build failed (see output above). Check network access to Maven Central and ~/.m2 permissions."
fi
[[ -f "$jar" ]] || die "build finished but $jar is missing"
[[ -n "$(ls -A target/lib 2>/dev/null)" ]] || die "build finished but target/lib/ is empty"
touch "$jar"
echo "neo4j-launcher: built $jar"
