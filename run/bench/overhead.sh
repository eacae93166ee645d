#!/bin/sh
# Wall-time overhead of `mlgate run` (audit mode, all layers and monitors on)
# against the bare command, interleaved so that machine load affects both
# alike. Usage: run/bench/overhead.sh [ROUNDS]   (from the repository root)
# Stages:
#   gobuild - `go build` of the finding package with an empty build cache
#             (compiler and linker processes, many file reads, ~1 exec per package)
#   spawn   - a Python loop starting SPAWN_N short-lived processes (exec-heavy worst case)
#   pycpu   - a Python loop computing for a few seconds, no processes started
#             (the shape of a training step: steady-state cost of the sandbox)
#   setup   - `true`: the fixed cost of building and tearing down the sandbox
set -eu
ROUNDS=${1:-5}
STAGES=${STAGES:-gobuild spawn pycpu setup}
SPAWN_N=${SPAWN_N:-300}
MLGATE=$(mktemp -d /var/tmp/mlgate-bench-XXXXXX)
trap 'rm -rf "$MLGATE"' EXIT
go build -o "$MLGATE/mlgate" ./cmd/mlgate
GO=$(command -v go)
PY=/usr/bin/python3
now() { date +%s.%N; }
t() { s=$(now); "$@" >/dev/null 2>&1 || true; e=$(now); echo "$e - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for stage in $STAGES; do
  : > "$MLGATE/bare.txt"; : > "$MLGATE/wrapped.txt"
  i=0
  while [ $i -lt "$ROUNDS" ]; do
    i=$((i+1))
    case $stage in
    gobuild)
      rm -rf "$MLGATE/cache"; mkdir "$MLGATE/cache"
      t env GOCACHE="$MLGATE/cache" GOFLAGS=-buildvcs=false "$GO" build -o /dev/null ./finding >> "$MLGATE/bare.txt"
      rm -rf "$MLGATE/cache"; mkdir "$MLGATE/cache"
      t env GOCACHE="$MLGATE/cache" GOFLAGS=-buildvcs=false "$MLGATE/mlgate" run --no-default-watch --rw "$MLGATE/cache" --env GOCACHE --env GOFLAGS -o /dev/null -- "$GO" build -o /dev/null ./finding >> "$MLGATE/wrapped.txt"
      ;;
    spawn)
      code='import subprocess
for _ in range('"$SPAWN_N"'): subprocess.run(["/bin/true"])'
      t "$PY" -c "$code" >> "$MLGATE/bare.txt"
      t "$MLGATE/mlgate" run --no-default-watch -o /dev/null -- "$PY" -c "$code" >> "$MLGATE/wrapped.txt"
      ;;
    pycpu)
      code='print(sum(i * i for i in range(20000000)))'
      t "$PY" -c "$code" >> "$MLGATE/bare.txt"
      t "$MLGATE/mlgate" run --no-default-watch -o /dev/null -- "$PY" -c "$code" >> "$MLGATE/wrapped.txt"
      ;;
    setup)
      t /bin/true >> "$MLGATE/bare.txt"
      t "$MLGATE/mlgate" run --no-default-watch -o /dev/null -- /bin/true >> "$MLGATE/wrapped.txt"
      ;;
    esac
  done
  b=$(median < "$MLGATE/bare.txt"); w=$(median < "$MLGATE/wrapped.txt")
  echo "$stage: rounds=$ROUNDS bare_median=${b}s wrapped_median=${w}s overhead=$(echo "scale=1; ($w - $b) * 100 / $b" | bc)%"
  echo "  bare:    $(tr '\n' ' ' < "$MLGATE/bare.txt")"
  echo "  wrapped: $(tr '\n' ' ' < "$MLGATE/wrapped.txt")"
done
