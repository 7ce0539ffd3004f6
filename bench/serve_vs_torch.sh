#!/usr/bin/env bash
# Service throughput/latency and single-image latency: inkstone vs a PyTorch http.server
# (bench/torch_serve.py), same architectures, same payload, same machine, one run.
# Needs: cargo, wrk, python3 with torch and pillow. Usage: bench/serve_vs_torch.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
cargo build --release -q -p inkstone
bin=$PWD/target/release/inkstone
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Untrained bundles: speed does not depend on the weights (the PyTorch side is untrained too).
$bin model init lenet5 -o "$work/lenet5.inkstone" >/dev/null
$bin model init resnet18 --classes 3755 --input 64 -o "$work/resnet18-64.inkstone" >/dev/null
for m in lenet5 resnet18-64; do
  mkdir -p "$work/models/$m/1" && cp "$work/$m.inkstone" "$work/models/$m/1/model.inkstone"
done
# The payload: a 200×200 photo-like PNG of a dark "7" on light paper.
python3 - "$work/seven.png" <<'PY'
import sys
from PIL import Image, ImageDraw
im = Image.new("L", (200, 200), 225); d = ImageDraw.Draw(im)
d.line([(50, 45), (150, 45), (95, 165)], fill=25, width=14); im.save(sys.argv[1])
PY
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "image/png"
local f = io.open("$work/seven.png", "rb"); wrk.body = f:read("*all"); f:close()
LUA

rss() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
wait_http() { for _ in $(seq 300); do curl -s -o /dev/null --data-binary "@$work/seven.png" "$1" && return; sleep 0.1; done; echo "no server at $1"; exit 1; }
load() { # URL CONNECTIONS -> "req/s p50 p99 non2xx"
  local threads=$(( $2 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$2" -d"${duration}s" --latency -s "$work/post.lua" "$1" | awk '
    /Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$NF}
    $1=="50%" {p50=$2} $1=="99%" {p99=$2}
    END {printf "%s %s %s %s", rps, p50, p99, bad+0}'
}

echo "== single-image latency (decode + preprocess + network + top-5, 1 image at a time)"
for m in lenet5 resnet18-64; do
  iters=$([ $m = lenet5 ] && echo 3000 || echo 100)
  ours=$($bin bench predict "$work/$m.inkstone" "$work/seven.png" --iters $iters)
  ours_us=$(echo "$ours" | sed -E 's/.*: ([0-9.]+) us\/image.*/\1/')
  theirs_us=$(python3 bench/torch_serve.py latency $m "$work/seven.png" $iters)
  echo "$ours"
  python3 -c "print(f'$m: inkstone {$ours_us:.0f} us, PyTorch {$theirs_us:.0f} us, ratio {$ours_us/$theirs_us:.2f}x (lower is faster)')"
done

echo "== HTTP service under wrk (${duration}s per cell, 2 cores shared by server and wrk)"
$bin serve --models "$work/models" --addr 127.0.0.1:18080 2>/dev/null &
ours_pid=$!
wait_http "http://127.0.0.1:18080/v1/predict"
sleep 1
echo "inkstone serve RSS at rest (both models loaded): $(rss $ours_pid) MiB"
printf "%-12s %5s | %10s %9s %9s %5s | %10s %9s %9s %5s | %s\n" model conns "ink req/s" p50 p99 err "torch rq/s" p50 p99 err ratio
for m in lenet5 resnet18-64; do
  python3 bench/torch_serve.py serve $m 18081 2>/dev/null &
  torch_pid=$!
  wait_http "http://127.0.0.1:18081/"
  for c in 1 16 256; do
    read -r o50 o1 o2 oe <<<"$(load "http://127.0.0.1:18080/v1/models/$m:predict" $c)"
    read -r t50 t1 t2 te <<<"$(load "http://127.0.0.1:18081/" $c)"
    printf "%-12s %5s | %10s %9s %9s %5s | %10s %9s %9s %5s | %.2fx\n" $m $c "$o50" "$o1" "$o2" "$oe" "$t50" "$t1" "$t2" "$te" \
      "$(python3 -c "print($o50/$t50)")"
  done
  echo "PyTorch server ($m) peak RSS: $(hwm $torch_pid) MiB"
  kill $torch_pid; wait $torch_pid 2>/dev/null || true
done
echo "inkstone serve peak RSS (both models, all loads): $(hwm $ours_pid) MiB, now $(rss $ours_pid) MiB"
