#!/usr/bin/env bash
# Benchmark of the Redis store (not a test): reserve + settle decisions/s and p50/p99 latency,
# beside a no-op EVALSHA at the same concurrency. Figures and the command that produced them:
# BENCHMARKS.md.
#   bench/redis-store.sh [REDIS_URI] [THREADS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl budget-engine -am compile
./mvnw -B -q -pl budget-engine dependency:build-classpath -Dmdep.includeScope=runtime \
  -Dmdep.outputFile=target/bench.classpath
CP="budget-engine/target/classes:$(cat budget-engine/target/bench.classpath)"
exec java -cp "$CP" bench/RedisStoreBench.java "${1:-${REDIS_URL:-redis://127.0.0.1:6379}}" "${2:-16}" "${3:-10}"
