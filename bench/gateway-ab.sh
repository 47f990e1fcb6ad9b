#!/usr/bin/env bash
# Before/after for a change to the Spring Cloud Gateway filter path (not a test): (a) no filter and
# (c) TokenBudget in memory built from BASE_REF, beside (c) built from this tree, all three running at
# once behind one fake provider on loopback (the same apps, profiles and wrk load as bench/gateway.sh,
# JSON only). Each round runs wrk on the three in a rotated order; ratios to (a) are taken within the
# round, and medians over rounds are printed. Needs wrk and git; never installs into ~/.m2.
#   bench/gateway-ab.sh BASE_REF [ROUNDS] [SECONDS] [CONNECTIONS] [BASE_PORT]
source "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || { echo "bench/gateway-ab.sh needs wrk: apt-get install -y wrk" >&2; exit 2; }
[ $# -ge 1 ] || { echo "usage: bench/gateway-ab.sh BASE_REF [ROUNDS] [SECONDS] [CONNECTIONS] [BASE_PORT]" >&2; exit 2; }
BASE_REF=$1; ROUNDS=${2:-5}; SECONDS_PER_RUN=${3:-8}; CONNS=${4:-32}; PORT=${5:-18280}
bench_build
NEW_CP=$CP
WORK=$(mktemp -d /tmp/tokenbudget-gateway-ab.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
echo "building $BASE_REF ($(git rev-parse --short "$BASE_REF")) in $WORK..." >&2
git archive "$BASE_REF" | tar -x -C "$WORK"
(cd "$WORK" && source bench/lib.sh && bench_build && echo "$CP" > "$WORK/cp")
BASE_CP=$(cat "$WORK/cp")

UP=$((PORT + 10))
java -cp "$NEW_CP" dev.tokenbudget.bench.gateway.FakeUpstreamMain "$UP" 256 4 0 > "$WORK/upstream.log" 2>&1 &
PIDS+=($!)
NAMES=(a c-base c-new)
declare -A URL
start() { # name classpath profile port
  java -Xms256m -Xmx256m -cp "$2" dev.tokenbudget.bench.gateway.GatewayBenchApp --spring.profiles.active="$3" \
    --server.port="$4" --bench.upstream="http://127.0.0.1:$UP" > "$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  URL[$1]="http://127.0.0.1:$4/v1/chat/completions"
}
start a "$NEW_CP" none "$PORT"
start c-base "$BASE_CP" memory $((PORT + 1))
start c-new "$NEW_CP" memory $((PORT + 2))
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o","max_tokens":32,"messages":[{"role":"user","content":"Say hello to the benchmark."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA
for n in "${NAMES[@]}"; do
  for i in $(seq 1 360); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      -H 'Authorization: Bearer sk-bench' --data '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' \
      "${URL[$n]}" || true)
    [ "$code" = 200 ] && break
    [ "$i" = 360 ] && { echo "$n did not answer 200 (last: $code); log: $WORK/$n.log" >&2; cat "$WORK/$n.log" >&2; exit 1; }
    sleep 0.5
  done
done
run() { # name seconds -> "req/s p50µs"
  local out
  out=$(wrk -t2 -c"$CONNS" -d"$2"s --latency -s "$WORK/post.lua" "${URL[$1]}")
  if grep -qE "Non-2xx|Socket errors: connect [1-9]|read [1-9]|write [1-9]" <<<"$out"; then
    echo "wrk saw errors on $1:" >&2; echo "$out" >&2; exit 1
  fi
  local rps p50
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1e6}}' <<<"$out")
  echo "$rps $p50"
}
echo "gateway A/B: base $BASE_REF vs this tree, $ROUNDS rounds, ${SECONDS_PER_RUN} s per run, $CONNS connections, $(nproc) cores, load $(load_now)"
for n in "${NAMES[@]}"; do run "$n" $((SECONDS_PER_RUN > 5 ? SECONDS_PER_RUN : 5)) > /dev/null; done # JIT warm-up
declare -A RPS P50
for r in $(seq 1 "$ROUNDS"); do
  order=("${NAMES[@]:$(( (r - 1) % 3 ))}" "${NAMES[@]:0:$(( (r - 1) % 3 ))}")
  for n in "${order[@]}"; do
    res=$(run "$n" "$SECONDS_PER_RUN")
    read -r rps p50 <<<"$res"
    RPS[$n,$r]=$rps; P50[$n,$r]=$p50
    printf 'round %d %-7s %9.0f req/s p50 %7.0f µs | load %s\n' "$r" "$n" "$rps" "$p50" "$(load_now)"
  done
  printf 'round %d ratio to (a): c-base %.3f c-new %.3f; c-new / c-base %.3f\n' "$r" \
    "$(bc -l <<<"${RPS[c-base,$r]} / ${RPS[a,$r]}")" "$(bc -l <<<"${RPS[c-new,$r]} / ${RPS[a,$r]}")" \
    "$(bc -l <<<"${RPS[c-new,$r]} / ${RPS[c-base,$r]}")"
done
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
echo
echo "| JSON, $CONNS connections (median of $ROUNDS rounds) | req/s | p50 µs | req/s vs (a), per round |"
echo "|---|---:|---:|---:|"
for n in "${NAMES[@]}"; do
  rps=$(for r in $(seq 1 "$ROUNDS"); do echo "${RPS[$n,$r]}"; done | median)
  p50=$(for r in $(seq 1 "$ROUNDS"); do echo "${P50[$n,$r]}"; done | median)
  ratio=$(for r in $(seq 1 "$ROUNDS"); do bc -l <<<"${RPS[$n,$r]} / ${RPS[a,$r]}"; done | median)
  printf '| %s | %.0f | %.0f | %.3f |\n' "$n" "$rps" "$p50" "$ratio"
done
printf 'c-new / c-base, median of per-round ratios: %.3f\n' \
  "$(for r in $(seq 1 "$ROUNDS"); do bc -l <<<"${RPS[c-new,$r]} / ${RPS[c-base,$r]}"; done | median)"
echo "load $(load_now)"
