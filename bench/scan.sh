#!/usr/bin/env bash
# Model-scan benchmark: mlgate scan vs picklescan on the same generated
# checkpoints, in the same run.
#
#   PICKLESCAN_SRC=/path/to/picklescan bash bench/scan.sh
#
# PICKLESCAN_SRC is a checkout of picklescan's source (its code is never
# committed here); without it, only mlgate is measured. Files:
#   many.pt   torch.save-style zip, 100,000 float32 tensors (data.pkl ~12 MB)
#   large.pt  4 tensors of 256 MiB (1 GiB of tensor data, never read by mlgate)
# Reports best-of-3 wall time and peak RSS (GNU time's %M) for each tool.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
go build -o "$out/mlgate" ./cmd/mlgate
[ -f "$out/many.pt" ] || go run ./bench/genckpt -tensors 100000 -elems 4 > "$out/many.pt"
[ -f "$out/large.pt" ] || go run ./bench/genckpt -tensors 4 -elems 67108864 > "$out/large.pt"

usec() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
peak_kb() { # peak RSS of a command, from /proc when GNU time is absent
  if [ -x /usr/bin/time ]; then /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; else echo "?"; fi
}
measure() { # name, command...
  local name=$1; shift
  local best=0
  for _ in 1 2 3; do
    local s; s=$(usec); "$@" >/dev/null 2>&1 || true; local t=$(( $(usec) - s ))
    if [ "$best" = 0 ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  printf '%-28s %10d us %10s KB\n' "$name" "$best" "$(peak_kb "$@")"
  echo "$best"
}

for f in many.pt large.pt; do
  m=$(measure "mlgate $f" "$out/mlgate" scan "$out/$f" --no-config | tee /dev/stderr | tail -1)
  if [ -n "${PICKLESCAN_SRC:-}" ] && [ -d "$PICKLESCAN_SRC/src/picklescan" ]; then
    p=$(measure "picklescan $f" env PYTHONPATH="$PICKLESCAN_SRC/src" python3 -m picklescan --path "$out/$f" | tee /dev/stderr | tail -1)
    echo "  ratio picklescan/mlgate on $f: $(( p * 10 / m / 10 )).$(( p * 10 / m % 10 ))x"
  else
    echo "  (PICKLESCAN_SRC not set: no peer measurement)"
  fi
done 2>&1 | grep -v '^[0-9]*$'
