#!/usr/bin/env bash
# Instructions Redis executes per decision (not a test; independent of the machine's load): starts
# a private redis-server under callgrind, drives it with RedisDecisionCost (THREADS threads of
# reserve + settle on BenchPath through one store, group-committed, and the no-op EVALSHA, each
# DECISIONS times), and prints instructions per no-op call and per decision, script calls per
# decision, and the inclusive cost of the functions that matter. Stops the server at the end.
#   bench/redis-callgrind.sh [PORT] [THREADS] [DECISIONS] [OUT_DIR] [WAVE]
# WAVE k (optional): decisions in fixed waves instead of THREADS threads (RedisDecisionCost).
# REDIS_SERVER picks the binary (default redis-server); a build with symbols (make in a Redis
# source tree keeps them) names Lua's own functions, which a stripped package binary does not.
# CP_FIRST goes in front of the classpath: e.g. an earlier commit's scripts, for a before/after:
#   git archive BASE budget-engine/src/main/resources | tar -x -C /tmp/base
#   CP_FIRST=/tmp/base/budget-engine/src/main/resources bench/redis-callgrind.sh
source "$(dirname "$0")/lib.sh"
PORT="${1:-6391}"; THREADS="${2:-16}"; DECISIONS="${3:-1000}"
OUT="${4:-$ROOT/bench/target/callgrind}"
bench_build
CP="${CP_FIRST:+$CP_FIRST:}$CP"
mkdir -p "$OUT"; rm -f "$OUT"/callgrind.out.*
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out.%p" \
  "${REDIS_SERVER:-redis-server}" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
  >"$OUT/valgrind.log" 2>&1 &
VG=$!
trap 'kill "$VG" 2>/dev/null; wait "$VG" 2>/dev/null' EXIT
for _ in $(seq 1 120); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.5
done
java -cp "$CP" dev.tokenbudget.bench.redis.RedisDecisionCost "redis://127.0.0.1:$PORT" "$VG" "$THREADS" \
  "$DECISIONS" ${5:-} | tee "$OUT/phases.txt"
for phase in noop decision; do
  file=$(grep -l "^desc: Trigger: dump $phase\$" "$OUT"/callgrind.out.* | head -1)
  ir=$(grep '^totals:' "$file" | awk '{print $2}')
  calls=$(awk -v p="$phase" '$1=="PHASE" && $2==p {sub("script_calls=","",$4); print $4}' "$OUT/phases.txt")
  printf 'FIGURE callgrind.%s %s instructions in %s ops = %.0f per op (%s script calls; %s threads; %s)\n' \
    "$phase" "$ir" "$DECISIONS" "$(echo "$ir / $DECISIONS" | bc -l)" "$calls" "$THREADS" "$file"
done
echo "inclusive costs of the decision phase: callgrind_annotate --inclusive=yes $file"
