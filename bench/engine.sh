#!/usr/bin/env bash
# JMH benchmark of the engine (not a test): reserve + settle on the in-memory store over a
# three-level path, beside a ConcurrentHashMap<String, LongAdder> increment of three keys, at 1
# and 2 threads, interleaved and repeated; medians and p50/p99. Figures: BENCHMARKS.md.
#   bench/engine.sh [ROUNDS] [MEASURE_SECONDS]
source "$(dirname "$0")/lib.sh"
bench_build
exec java -cp "$CP" dev.tokenbudget.bench.engine.EngineBench "${1:-3}" "${2:-3}"
