#!/usr/bin/env bash
# reliability/soak.sh: a bounded soak run (not part of ./mvnw verify). The quickstart gateway (its
# jar, in a JVM of its own) on Redis, in front of a fake OpenAI/Anthropic provider, driven by
# many client threads with JSON and streamed requests for a fixed time (default 5 minutes). It
# reports requests, outcomes by status, latencies, the sum of settled usage against the sum of
# usage the provider reported (they must be equal: zero lost settlements) and the gateway's heap
# after a full GC every 30 s (jcmd), and exits non-zero when anything was lost or grew.
#
#   reliability/soak.sh [--minutes 5] [--concurrency 64] [--redis redis://127.0.0.1:6379] [--blocks N]
#                       [--redis-timeout 1s] [--sample-seconds 30] [--users 1000]
#                       [--java-opts "-Xmx512m"] [--out reliability/target/soak]
#
# Needs Java 17+ (with jcmd, as in any JDK) and a Redis; its keys go under a fresh prefix
# tb-soak-<id>, deleted at the end when redis-cli is on the PATH. Results: RELIABILITY.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
stamp="$root/reliability/target/soak.classpath"
jar="$root/examples/quickstart/target/tokenbudget-quickstart.jar"
if [ ! -f "$stamp" ] || [ ! -f "$jar" ] || [ -n "$(find budget-engine/src/main fake-provider/src/main \
    adapter-spring-cloud-gateway/src/main budget-console/src/main examples/quickstart/src/main reliability/src/main \
    reliability/pom.xml examples/quickstart/pom.xml pom.xml -newer "$stamp" -print -quit)" ]; then
  echo "soak: building the quickstart jar and the soak driver..." >&2
  ./mvnw -B -q -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl examples/quickstart,reliability -am package dependency:build-classpath \
    -Dmdep.includeScope=runtime -Dmdep.outputFile=target/soak.classpath >&2
  touch "$stamp" # the plugin leaves an unchanged classpath file as it was
fi
cp="$root/reliability/target/classes:$(cat "$stamp")"
set +e
java -cp "$cp" dev.tokenbudget.reliability.soak.SoakMain --jar "$jar" "$@"
rc=$?
set -e
# delete this run's keys (the config it wrote names the prefix)
redis_uri="redis://127.0.0.1:6379"
out="reliability/target/soak"
prev=""
for a in "$@"; do
  case "$prev" in --redis) redis_uri="$a" ;; --out) out="$a" ;; esac
  prev="$a"
done
prefix="$(sed -n 's/.*key_prefix: \(tb-soak-[a-z0-9]*\).*/\1/p' "$out/soak-tokenbudget.yaml" 2>/dev/null || true)"
if [ -n "$prefix" ] && command -v redis-cli >/dev/null 2>&1; then
  redis-cli -u "$redis_uri" --scan --pattern "$prefix*" | xargs -r -n 500 redis-cli -u "$redis_uri" del >/dev/null || true
fi
exit $rc
