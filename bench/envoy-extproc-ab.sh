#!/usr/bin/env bash
# A/B of the Envoy ext_proc processor's own work per HTTP stream, in process (no gRPC): this tree's
# adapter against the adapter of BASE (a git ref), both on this tree's engine, run in turns
# (A B B A ...), each JVM warmed up before it measures. Prints per stream the bytes allocated (exact,
# whatever the machine's load) and the thread's CPU time. Not a test. Figures: BENCHMARKS.md,
# section "Envoy ext_proc".
# Usage: bench/envoy-extproc-ab.sh BASE [streams [pairs]]   (defaults 20000, 3)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
base="${1:?usage: bench/envoy-extproc-ab.sh BASE [streams [pairs]]}"
streams="${2:-20000}"
pairs="${3:-3}"
cp_file="$root/adapter-envoy-extproc/target/bench.classpath"
./mvnw -q -B -pl adapter-envoy-extproc -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >&2
deps="$(cat "$cp_file")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# BASE's adapter sources, compiled against this tree's engine and libraries
git archive "$base" adapter-envoy-extproc/src/main | tar -x -C "$tmp"
mkdir -p "$tmp/classes"
javac -nowarn -encoding UTF-8 --release 17 -d "$tmp/classes" -cp "$deps" \
  $(find "$tmp/adapter-envoy-extproc/src/main/java" -name '*.java')
cp -r "$tmp/adapter-envoy-extproc/src/main/resources/." "$tmp/classes/"
tests="$root/adapter-envoy-extproc/target/test-classes"
run() { # label classes
  java -Xms1g -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.tokenbudget.envoy.streams=warn \
    -cp "$tests:$2:$deps" dev.tokenbudget.envoy.ExtProcStreamCost "$streams" 3 | sed "s/^/$1 /"
}
for i in $(seq 1 "$pairs"); do
  if [ $((i % 2)) -eq 1 ]; then
    run "A=$base" "$tmp/classes"; run "B=this-tree" "$root/adapter-envoy-extproc/target/classes"
  else
    run "B=this-tree" "$root/adapter-envoy-extproc/target/classes"; run "A=$base" "$tmp/classes"
  fi
done
