#!/usr/bin/env bash
# Profile of the Redis store's scripts (not a test): Redis-side µs per reserve.lua / settle.lua call
# and the commands each issues (INFO commandstats), and Redis CPU per call (INFO cpu), beside a
# no-op EVALSHA. Resets the server's command statistics: point it at a Redis of your own.
#   bench/redis-profile.sh [REDIS_URI] [CALLS_PER_PHASE] [ROUNDS] [fill|nofill]
source "$(dirname "$0")/lib.sh"
bench_build
exec java -cp "$CP" dev.tokenbudget.bench.redis.RedisScriptProfile "${1:-${REDIS_URL:-redis://127.0.0.1:6379}}" \
  "${2:-3000}" "${3:-5}" "${4:-fill}"
