#!/usr/bin/env bash
# Memory (not a test): heap per budget with N budgets in the in-memory store, and Redis bytes per
# budget (MEMORY USAGE). Figures: BENCHMARKS.md.
#   bench/memory.sh [BUDGETS] [REDIS_URI]
source "$(dirname "$0")/lib.sh"
bench_build
exec java -Xmx1g -cp "$CP" dev.tokenbudget.bench.memory.MemoryBench "${1:-100000}" \
  "${2:-${REDIS_URL:-redis://127.0.0.1:6379}}"
