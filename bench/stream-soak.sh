#!/usr/bin/env bash
# A soak for streams that never finish (not a test): streamed chat completions through one gateway
# variant (default memory: TokenBudget in memory) from CONCURRENCY clients for SECONDS, every
# CANCEL_EVERY-th stream closed by its client part-way (0: none), the fake provider in the client's
# JVM, all on loopback. A stream silent for SILENCE_SECONDS is reported with what the client got,
# what the upstream sent for it, ss and the gateway's threads (OUT_DIR/stall-ID.txt); exit 1 if any.
# BURST_SECONDS > 0: load in bursts that long, IDLE_SECONDS apart, each on new connections (as the
# gateway bench's runs come). GATEWAY_JAVA_OPTS: extra options for the gateway's JVM, e.g.
# -Dio.netty.leakDetection.level=paranoid to have Netty log every leaked buffer (LEAK in gateway.log).
#   bench/stream-soak.sh [SECONDS] [CONCURRENCY] [CANCEL_EVERY] [PORT] [VARIANT] [OUT_DIR] [SILENCE_SECONDS]
#                        [BURST_SECONDS] [IDLE_SECONDS]
source "$(dirname "$0")/lib.sh"
bench_build
exec java -cp "$CP" dev.tokenbudget.bench.gateway.StreamSoak "${1:-600}" "${2:-8}" "${3:-0}" "${4:-18280}" \
  "${5:-memory}" "${6:-$ROOT/bench/target/stream-soak}" "${7:-10}" \
  "${8:-0}" "${9:-0}"
