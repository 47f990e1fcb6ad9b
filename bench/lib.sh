# Sourced by the bench scripts: builds the bench module (and what it needs) once per source
# change and sets CP to its runtime classpath. Never installs anything into ~/.m2.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bench_build() {
  local stamp="$ROOT/bench/target/bench.classpath"
  if [ ! -f "$stamp" ] || [ -n "$(find "$ROOT"/budget-engine/src/main "$ROOT"/bench/src "$ROOT"/bench/pom.xml \
      "$ROOT"/adapter-spring-cloud-gateway/src/main "$ROOT"/fake-provider/src/main "$ROOT"/pom.xml \
      -newer "$stamp" -print -quit)" ]; then
    echo "bench: building (budget-engine, adapters, bench module)..." >&2
    ./mvnw -B -q -Pbench -pl bench -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true \
      dependency:build-classpath \
      -Dmdep.includeScope=runtime -Dmdep.outputFile=target/bench.classpath >&2
  fi
  CP="$ROOT/bench/target/classes:$(cat "$stamp")"
  export CP
}
# one line describing the machine's load right now, for every figure
load_now() { cut -d' ' -f1-3 /proc/loadavg; }
