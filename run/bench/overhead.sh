#!/bin/sh
# Wall-time overhead of `mlgate run --mode audit` (every layer and monitor
# on) against the bare command, interleaved round by round so that machine
# load affects every variant alike. From the repository root:
#   run/bench/overhead.sh [ROUNDS]        (default 5)
# Variants, run in this order in every round:
#   bare      the command itself
#   nowatch   mlgate run --no-default-watch ...
#   default   mlgate run ... (default watches: the runner's site-packages)
# Stages (STAGES= to choose):
#   pyspawn - a Python loop starting SPAWN_N processes: subprocess.run(["true"])
#   shloop  - sh -c 'for i in $(seq SPAWN_N); do /bin/true; done'
#   gobuild - `go build` of GOPKG (default ./run) with a fresh, empty GOCACHE
#             given to the stage with --rw (so the write monitor sees every
#             cache write)
#   pycpu   - a Python loop computing for a few seconds, no processes
#   setup   - /bin/true: the fixed cost of building and tearing down the sandbox
# Prints, per stage and variant, the median and minimum wall time, the
# median overhead against bare, and the load average before and after.
set -eu
ROUNDS=${1:-5}
STAGES=${STAGES:-pyspawn shloop gobuild pycpu setup}
VARIANTS=${VARIANTS:-bare nowatch default}
SPAWN_N=${SPAWN_N:-2000}
GOPKG=${GOPKG:-./run}
PY=${PY:-/usr/bin/python3}
T=$(mktemp -d /var/tmp/mlgate-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
go build -o "$T/mlgate" ./cmd/mlgate
GO=$(command -v go)
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -n | head -1; }

stage_cmd() { # stage -> the command, one argument per line is not needed: eval'd
  case $1 in
  pyspawn) echo "$PY -c 'import subprocess
for _ in range($SPAWN_N): subprocess.run([\"true\"])'" ;;
  shloop) echo "sh -c 'for i in \$(seq $SPAWN_N); do /bin/true; done'" ;;
  gobuild) echo "env GOCACHE=$T/cache GOFLAGS=-buildvcs=false $GO build -o /dev/null $GOPKG" ;;
  pycpu) echo "$PY -c 'print(sum(i * i for i in range(20000000)))'" ;;
  setup) echo "/bin/true" ;;
  esac
}

run_one() { # variant stage
  cmd=$(stage_cmd "$2")
  extra=""
  if [ "$2" = gobuild ]; then
    rm -rf "$T/cache"; mkdir "$T/cache"
    extra="--rw $T/cache --env GOCACHE --env GOFLAGS"
  fi
  case $1 in
  bare) wrap="" ;;
  nowatch) wrap="$T/mlgate run --mode audit --no-default-watch $extra -o /dev/null --" ;;
  default) wrap="$T/mlgate run --mode audit $extra -o /dev/null --" ;;
  esac
  s=$(now)
  eval "GOCACHE=$T/cache GOFLAGS=-buildvcs=false $wrap $cmd" >/dev/null 2>&1 || echo "  warning: $1 $2 failed" >&2
  e=$(now)
  echo "$e - $s" | bc
}

echo "machine: $(nproc) cores, kernel $(uname -r), $(id -un); rounds=$ROUNDS SPAWN_N=$SPAWN_N GOPKG=$GOPKG"
for stage in $STAGES; do
  l0=$(cut -d' ' -f1-3 /proc/loadavg)
  for v in $VARIANTS; do : > "$T/$v.txt"; done
  i=0
  while [ $i -lt "$ROUNDS" ]; do
    i=$((i+1))
    for v in $VARIANTS; do run_one "$v" "$stage" >> "$T/$v.txt"; done
  done
  l1=$(cut -d' ' -f1-3 /proc/loadavg)
  b=$(median < "$T/bare.txt")
  echo "$stage: load before $l0, after $l1"
  for v in $VARIANTS; do
    m=$(median < "$T/$v.txt"); lo=$(minimum < "$T/$v.txt")
    ov=$(echo "scale=1; ($m - $b) * 100 / $b" | bc)
    printf '  %-8s median %8.3fs  min %8.3fs  overhead %6s%%   runs: %s\n' "$v" "$m" "$lo" "$ov" "$(tr '\n' ' ' < "$T/$v.txt")"
  done
done
