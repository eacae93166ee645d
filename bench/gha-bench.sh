#!/usr/bin/env bash
# GitHub Actions speed benchmark: mlgate against actionlint (and poutine or
# octoscan when they are already on PATH) over the real workflows of
# ../shared/corpora/pipelines/gha-realworld, in the same run.
#
#   bash bench/gha-bench.sh            # 3 runs per tool, best wall time kept
#   RUNS=5 bash bench/gha-bench.sh
#
# 1. go test -bench: parse + every rule in process, serial and with one
#    worker per core (files/s is reported by the benchmark).
# 2. End to end, built binaries, output to /dev/null:
#      mlgate pipeline DIR --no-config --format json --output /dev/null
#      actionlint -no-color -format '{{json .}}' FILES...
#    measured with /usr/bin/time: best wall time of RUNS, its CPU time
#    (user+sys) and the peak RSS of that run.
# actionlint is installed to $ACTIONLINT_BIN (default /tmp/bin) with
# `go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7` when it is
# not on PATH. Peers are never built from fetched source in the repository.
# Absolute times depend on the machine and its load; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${GHA_CORPUS:-../shared/corpora/pipelines/gha-realworld}
runs=${RUNS:-3}
if [ ! -d "$corpus" ]; then
  echo "corpus $corpus not found; skipping" >&2
  exit 0
fi
out=bench/out
mkdir -p "$out"
mapfile -t files < <(find "$corpus" -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
n=${#files[@]}
echo "corpus: $corpus ($n files, $(du -sk "$corpus" | cut -f1) KiB); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== go test -bench (pipeline/gha, parse + all rules, in process)"
go test ./pipeline/gha -run '^$' -bench 'BenchmarkCorpus' -benchmem -count 1 | tee "$out/gha-go-bench.txt"

go build -o "$out/mlgate" ./cmd/mlgate
bin=${ACTIONLINT_BIN:-/tmp/bin}
actionlint=$(command -v actionlint || true)
if [ -z "$actionlint" ]; then
  actionlint="$bin/actionlint"
  if [ ! -x "$actionlint" ]; then
    echo "installing actionlint v1.7.7 into $bin" >&2
    GOBIN="$bin" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7 || actionlint=""
  fi
fi

# measure NAME CMD...: best wall time of $runs runs, with its CPU time and
# peak RSS.
measure() {
  local name=$1; shift
  local best="" line
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o "$out/time.txt" "$@" >/dev/null 2>&1 || true
    line=$(tail -1 "$out/time.txt")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
  done
  read -r wall user sys rss <<<"$best"
  awk -v name="$name" -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN{
    cpu=u+s; if (w<=0) w=0.01; if (cpu<=0) cpu=0.01;
    printf "%-12s %8.2f %10.0f %8.2f %12.0f %10.1f\n", name, w, n/w, cpu, n/cpu, r/1024 }' | tee -a "$out/gha-bench.txt"
}

echo "== end to end (best of $runs)"
: > "$out/gha-bench.txt"
printf '%-12s %8s %10s %8s %12s %10s\n' tool wall_s files/s cpu_s files/cpu-s peak_MiB | tee -a "$out/gha-bench.txt"
measure mlgate "$out/mlgate" pipeline "$corpus" --no-config --format json --output /dev/null --fail-on critical
if [ -n "$actionlint" ]; then
  measure actionlint "$actionlint" -no-color -format '{{json .}}' "${files[@]}"
else
  echo "actionlint: not available, skipped"
fi
if command -v poutine >/dev/null; then
  measure poutine poutine analyze_local "$corpus"
else
  echo "poutine: not on PATH, skipped"
fi
if command -v octoscan >/dev/null; then
  measure octoscan octoscan scan "$corpus"
else
  echo "octoscan: not on PATH, skipped"
fi
