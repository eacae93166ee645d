#!/usr/bin/env bash
# Hashing/signing throughput: mlgate digest and mlgate sign against the
# machine's SHA-256 limit, measured on the same files in the same run.
#
#   bash bench/sign-bench.sh            # 8 x 160 MiB + 200 small files
#   FILES=8 SIZE_MB=160 bash bench/sign-bench.sh
#
# The model is generated under /tmp (random bytes) and deleted at the end.
# Compared, best of 3 each, warm page cache (the model fits in RAM; the
# first pass of each tool is a discarded warm-up):
#   limit-go       bench/sign-sha256: Go SHA-256 of the same files in
#                  parallel (GOMAXPROCS workers, whole files, 1 MiB reads)
#   limit-xargs    xargs -P$(nproc) sha256sum (coreutils, one file per process)
#   sha256sum      coreutils sha256sum, single-threaded
#   mlgate digest  / sign --method files / sign --method shards / sign --reuse
# Peak RSS comes from GNU time (-f %M) when /usr/bin/time exists.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-8}
SIZE_MB=${SIZE_MB:-160}
SMALL=${SMALL:-200}
out=bench/out
mkdir -p "$out"
go build -o "$out/mlgate" ./cmd/mlgate
go build -o "$out/sign-sha256" ./bench/sign-sha256
model=$(mktemp -d /tmp/mlgate-sign-bench.XXXXXX)
trap 'rm -rf "$model"' EXIT
mkdir -p "$model/model" "$model/model/tokenizer"
for i in $(seq 1 "$FILES"); do
  head -c "$((SIZE_MB << 20))" /dev/urandom > "$model/model/model-$(printf %05d "$i")-of-$(printf %05d "$FILES").safetensors"
done
for i in $(seq 1 "$SMALL"); do
  head -c "$(( (i * 5227) % 1048576 + 100 ))" /dev/urandom > "$model/model/tokenizer/part-$i.json"
done
key=sign/testdata/oms/keys/ec-p256-private.pem   # throwaway test key
pub=sign/testdata/oms/keys/ec-p256-public.pem
bytes=$(du -sb "$model/model" | cut -f1)
mapfile -t files < <(find "$model/model" -type f | sort)
echo "model: ${#files[@]} files, $bytes bytes; $(nproc) cores; $(go version | cut -d' ' -f3)"
grep -qw sha_ni /proc/cpuinfo && echo "cpu: SHA-NI present" || echo "cpu: no SHA-NI"

[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)"; exit 2; }

"$out/mlgate" sign "$model/model" --key "$key" --output "$model/reuse.sig" >/dev/null 2>&1
"$out/mlgate" sign "$model/model" --key "$key" --output "$model/files.sig" >/dev/null 2>&1
cat "${files[@]}" > /dev/null # warm the page cache

names=(limit-go limit-xargs sha256sum mlgate-digest mlgate-sign-files mlgate-sign-shards mlgate-sign-reuse mlgate-verify)
cmd() {
  case $1 in
    limit-go) "$out/sign-sha256" "${files[@]}" ;;
    limit-xargs) printf '%s\0' "${files[@]}" | xargs -0 -n1 -P"$(nproc)" sha256sum ;;
    sha256sum) sha256sum "${files[@]}" ;;
    mlgate-digest) "$out/mlgate" digest "$model/model" ;;
    mlgate-sign-files) "$out/mlgate" sign "$model/model" --key "$key" --output "$model/files.sig" ;;
    mlgate-sign-shards) "$out/mlgate" sign "$model/model" --key "$key" --output "$model/shards.sig" --method shards --shard-size 67108864 ;;
    mlgate-sign-reuse) "$out/mlgate" sign "$model/model" --key "$key" --output "$model/reuse.sig" --reuse "$model/reuse.sig" ;;
    mlgate-verify) "$out/mlgate" verify "$model/model" --signature "$model/files.sig" --key "$pub" ;;
  esac
}
# Round-robin, best of ROUNDS: on a shared machine the load changes over
# time, and interleaving keeps it from favouring whichever tool ran first.
# Each run is timed by GNU time: wall (best of), CPU = user+sys (least of,
# which the load of other processes barely affects), peak RSS (largest).
ROUNDS=${ROUNDS:-5}
declare -A best cpu rss
tf=$(mktemp)
for r in $(seq 1 "$ROUNDS"); do
  for n in "${names[@]}"; do
    /usr/bin/time -f '%e %U %S %M' -o "$tf" bash -c "$(declare -f cmd); $(declare -p files out model key pub); cmd $n" >/dev/null 2>&1
    read -r e u sy m < <(tail -1 "$tf")
    t=$(echo "$e * 1000000 / 1" | bc); c=$(echo "($u + $sy) * 1000000 / 1" | bc)
    [ "$t" -gt 0 ] || t=10000
    if [ -z "${best[$n]:-}" ] || [ "$t" -lt "${best[$n]}" ]; then best[$n]=$t; fi
    if [ -z "${cpu[$n]:-}" ] || [ "$c" -lt "${cpu[$n]}" ]; then cpu[$n]=$c; fi
    if [ -z "${rss[$n]:-}" ] || [ "$m" -gt "${rss[$n]}" ]; then rss[$n]=$m; fi
  done
done
rm -f "$tf"
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %9s %9s %9s %12s\n' tool wall-s MB/s cpu-s peak-RSS-KB
for n in "${names[@]}"; do
  printf '%-22s %9.2f %9d %9.2f %12s\n' "$n" "$(echo "${best[$n]} / 1000000" | bc -l)" "$(( bytes / best[$n] ))" "$(echo "${cpu[$n]} / 1000000" | bc -l)" "${rss[$n]}"
done

# speed X Y: how many times faster X ran than Y (time of Y / time of X).
speed() { echo "scale=3; ${best[$2]} / ${best[$1]}" | bc -l; }
# eff X Y: CPU time of Y / CPU time of X (1.0 = X spends no extra CPU).
eff() { echo "scale=3; ${cpu[$2]} / ${cpu[$1]}" | bc -l; }
echo
echo "wall time:"
echo "  mlgate digest / limit-go:        $(speed mlgate-digest limit-go)  (target >= 0.90)"
echo "  mlgate sign files / limit-go:    $(speed mlgate-sign-files limit-go)"
echo "  mlgate sign shards / limit-go:   $(speed mlgate-sign-shards limit-go)"
echo "  mlgate digest / limit-xargs:     $(speed mlgate-digest limit-xargs)"
echo "  mlgate digest vs sha256sum:      $(speed mlgate-digest sha256sum)x  (target 6x)"
echo "  mlgate sign files vs sha256sum:  $(speed mlgate-sign-files sha256sum)x"
echo "  limit-go vs sha256sum:           $(speed limit-go sha256sum)x  (the best any tool can do here)"
echo "CPU time (load-insensitive):"
echo "  mlgate digest / limit-go:        $(eff mlgate-digest limit-go)"
echo "  mlgate sign files / limit-go:    $(eff mlgate-sign-files limit-go)"
echo "  sha256sum / limit-go:            $(eff sha256sum limit-go)  (coreutils' SHA-256 cost relative to Go's)"
