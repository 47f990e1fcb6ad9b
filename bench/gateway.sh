#!/usr/bin/env bash
# Gateway overhead (not a test): the quickstart's route through Spring Cloud Gateway (a) with no
# filter, (b) with RequestRateLimiter on RedisRateLimiter, (c) with TokenBudget in memory, (d) with
# TokenBudget on Redis, (e) with TokenBudget on Redis in token blocks (store.redis.blocks, max_requests
# 64, its own key prefix); JSON through wrk and streamed through a Java client; all on loopback,
# interleaved and repeated; medians and ratios to (a), and the gateway's CPU per request beside them.
# Then an open loop at fixed rates (OpenLoad: latency from each request's due time) for the latency
# each variant adds over (a). Needs wrk for the JSON part (apt-get install -y wrk).
#   bench/gateway.sh [REDIS_URI] [ROUNDS] [SECONDS] [CONNECTIONS] [BASE_PORT] [PARTS] [RATES] [OPEN_SECONDS] [WARMUP]
#   PARTS: json,stream,open (default all); RATES: open-loop requests/s (default 200,1000);
#   OPEN_SECONDS: seconds per open-loop run (default SECONDS); WARMUP: seconds of JSON load per
#   variant before round 1 (default 20: on two cores less leaves round 1 warming up), then a round 0
#   of the JSON and streamed parts, run as a round is and not recorded
source "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || { echo "bench/gateway.sh needs wrk: apt-get install -y wrk" >&2; exit 2; }
bench_build
exec java -cp "$CP" dev.tokenbudget.bench.gateway.GatewayBench "${1:-${REDIS_URL:-redis://127.0.0.1:6379}}" \
  "${2:-3}" "${3:-8}" "${4:-32}" "${5:-18180}" "${6:-json,stream,open}" "${7:-200,1000}" "${8:-${3:-8}}" "${9:-20}"
