#!/usr/bin/env bash
# Benchmark of the Envoy ext_proc adapter: per-stream processing overhead, p50/p99, at concurrency
# 1/8/32/64, against a null processor as the gRPC baseline, interleaved rounds (median printed).
# Each processor runs in a server JVM of its own, started afresh for each run; the JVM this script
# starts is only the load client, and the table gives the server process's CPU time per stream.
# Usage: bench/envoy-extproc.sh [streams [rounds [concurrency,... [handler-threads [redis-uri]]]]]
#        (defaults 20000, 3, 1,8,32,64, ExtProcServer.DEFAULT_HANDLER_THREADS ("-" for it; 0 threads:
#        a cached pool), no Redis; with a Redis URI, tokenbudget on the Redis store is measured too)
#        bench/envoy-extproc.sh in-process [streams [rounds [threads]]]   (the processor alone, no gRPC:
#        bytes allocated and CPU time per stream; with threads, that many at once on one gateway)
# Figures and how to read them: BENCHMARKS.md, section "Envoy ext_proc".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cp_file="$root/adapter-envoy-extproc/target/bench.classpath"
./mvnw -q -B -pl adapter-envoy-extproc -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >&2
cp="$root/adapter-envoy-extproc/target/test-classes:$root/adapter-envoy-extproc/target/classes:$(cat "$cp_file")"
# logs at WARN: the per-stream line would measure the terminal, not the processor (the server JVMs
# are started by the client with the same settings)
main=dev.tokenbudget.envoy.ExtProcBenchmark
if [ "${1:-}" = in-process ]; then
  main=dev.tokenbudget.envoy.ExtProcStreamCost
  shift
fi
exec java -Xms1g -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.tokenbudget.envoy.streams=warn \
  -cp "$cp" "$main" "$@"
