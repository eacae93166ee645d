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
#    measured with /usr/bin/time in RUNS interleaved rounds (one run of
#    each tool per round): best wall time, its CPU time (user+sys), the
#    peak RSS of that run, and each tool's wall time over mlgate's.
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

# Tools are run interleaved (one run of each per round, RUNS rounds), so a
# change of machine load hits all of them alike; for each tool the best wall
# time is kept with that run's CPU time and peak RSS.
names=(mlgate)
if [ -n "$actionlint" ]; then names+=(actionlint); else echo "actionlint: not available, skipped"; fi
if command -v poutine >/dev/null; then names+=(poutine); else echo "poutine: not on PATH, skipped"; fi
if command -v octoscan >/dev/null; then names+=(octoscan); else echo "octoscan: not on PATH, skipped"; fi

# timed NAME: one run of that tool over the corpus under GNU time, output
# discarded.
timed() {
  local t=(/usr/bin/time -f '%e %U %S %M' -o "$out/time.txt")
  case $1 in
  mlgate) "${t[@]}" "$out/mlgate" pipeline "$corpus" --no-config --format json --output /dev/null --fail-on critical ;;
  actionlint) "${t[@]}" "$actionlint" -no-color -format '{{json .}}' "${files[@]}" ;;
  poutine) "${t[@]}" poutine analyze_local "$corpus" ;;
  octoscan) "${t[@]}" octoscan scan "$corpus" ;;
  esac
}

declare -A best
for _ in $(seq "$runs"); do
  for i in "${!names[@]}"; do
    timed "${names[$i]}" >/dev/null 2>&1 || true
    line=$(tail -1 "$out/time.txt")
    cur=${best[${names[$i]}]:-}
    if [ -z "$cur" ] || awk -v a="${line%% *}" -v b="${cur%% *}" 'BEGIN{exit !(a<b)}'; then best[${names[$i]}]=$line; fi
  done
done

echo "== end to end (best of $runs interleaved rounds; load now $(cut -d' ' -f1-3 /proc/loadavg))"
: > "$out/gha-bench.txt"
printf '%-12s %8s %10s %8s %12s %10s %18s\n' tool wall_s files/s cpu_s files/cpu-s peak_MiB "mlgate speed-up" | tee -a "$out/gha-bench.txt"
read -r mwall _ <<<"${best[mlgate]}"
for name in "${names[@]}"; do
  read -r wall user sys rss <<<"${best[$name]}"
  awk -v name="$name" -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v mw="$mwall" 'BEGIN{
    cpu=u+s; if (w<=0) w=0.01; if (cpu<=0) cpu=0.01; if (mw<=0) mw=0.01;
    printf "%-12s %8.2f %10.0f %8.2f %12.0f %10.1f %17.2fx\n", name, w, n/w, cpu, n/cpu, r/1024, w/mw }' | tee -a "$out/gha-bench.txt"
done
