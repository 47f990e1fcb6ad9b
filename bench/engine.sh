#!/usr/bin/env bash
# JMH benchmark of the engine (not a test): reserve + settle on the in-memory store over a
# three-level path, beside a ConcurrentHashMap<String, LongAdder> increment of three keys, at 1
# and 2 threads, interleaved and repeated; medians and p50/p99. Figures: BENCHMARKS.md.
#   bench/engine.sh [ROUNDS] [MEASURE_SECONDS]
# With "tail": every call of one thread timed (EngineTail), and what happened during the slow ones.
#   bench/engine.sh tail [CALLS] [SLOW_NS]
source "$(dirname "$0")/lib.sh"
bench_build
if [ "${1:-}" = tail ]; then
  exec java -cp "$CP" dev.tokenbudget.bench.engine.EngineTail "${2:-2000000}" "${3:-5000}"
fi
exec java -cp "$CP" dev.tokenbudget.bench.engine.EngineBench "${1:-3}" "${2:-3}"
