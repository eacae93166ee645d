#!/usr/bin/env bash
# Scale benchmark: how `mlgate pipeline` grows with the number of stages.
#
#   bash bench/scale.sh            # 1k, 10k, 100k stages
#
# 1. go test -bench: parse+analyze and rules alone, in-process (ns/op).
# 2. End to end: the built binary on generated files, best of 3 wall-clock
#    runs each, JSON output to /dev/null; prints time per stage and the ratio
#    between consecutive sizes (linear growth = 10x per 10x stages).
# Absolute times depend on the machine; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"

echo "== go test -bench (pipeline)"
go test ./pipeline -run '^$' -bench 'BenchmarkAnalyze|BenchmarkRules' -benchmem -count 1 | tee "$out/go-bench.txt"

echo "== end to end"
go build -o "$out/mlgate" ./cmd/mlgate
usec() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
prev=0
printf '%-8s %-11s %-12s %-10s %s\n' stages bytes best_ms us/stage ratio
for n in 1000 10000 100000; do
  f="$out/p$n.mlgate-pipeline.yaml"
  go run ./bench/genspec -stages "$n" > "$f"
  best=0
  for _ in 1 2 3; do
    start=$(usec)
    "$out/mlgate" pipeline "$f" --no-config --format json --output /dev/null --fail-on critical 2>/dev/null || true
    t=$(( $(usec) - start ))
    if [ "$best" = 0 ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  ratio="-"
  if [ "$prev" != 0 ]; then ratio="$(( best * 10 / prev / 10 )).$(( best * 10 / prev % 10 ))x"; fi
  printf '%-8s %-11s %-12s %-10s %s\n' "$n" "$(stat -c %s "$f")" "$(( best / 1000 ))" "$(( best / n ))" "$ratio"
  prev=$best
done
