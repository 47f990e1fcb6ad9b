#!/usr/bin/env bash
# JMH benchmark of what admission spends on a request body before it reserves (not a test): the
# facts (model, ceilings, prompt) and the input estimate of a Chat Completions body with 1, 8 and
# 64 KiB of prompt, read by the incremental scan (as the gateways do) beside the Jackson tree (the
# reference); time per KiB of prompt and bytes allocated per request (JMH's gc profiler), interleaved
# and repeated. Figures: BENCHMARKS.md.
#   bench/request-facts.sh [ROUNDS] [MEASURE_SECONDS]
source "$(dirname "$0")/lib.sh"
bench_build
exec java -cp "$CP" dev.tokenbudget.bench.estimate.RequestFactsBench "${1:-3}" "${2:-3}"
