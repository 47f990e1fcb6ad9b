#!/usr/bin/env bash
# Benchmark of the Redis store (not a test): reserve + settle decisions/s and p50/p99 latency,
# beside a no-op EVALSHA at the same concurrency, interleaved and repeated; medians. Figures and
# the command that produced them: BENCHMARKS.md.
#   bench/redis-store.sh [REDIS_URI] [THREADS] [SECONDS_PER_PHASE] [ROUNDS]
source "$(dirname "$0")/lib.sh"
bench_build
exec java -cp "$CP" dev.tokenbudget.bench.redis.RedisStoreBench "${1:-${REDIS_URL:-redis://127.0.0.1:6379}}" \
  "${2:-16}" "${3:-5}" "${4:-5}"
