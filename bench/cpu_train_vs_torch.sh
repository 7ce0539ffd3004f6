#!/usr/bin/env bash
# CPU speed, inkstone vs PyTorch, same models, same machine, one script: training img/s of the
# four built-ins (Adam, one batch of noise, warm-up excluded) and batch-1 inference latency of
# the network alone. Each pair runs RUNS times in alternation (inkstone, PyTorch, inkstone, …);
# the medians and their ratio are printed. Both sides use 2 threads (the CI machine's cores) for
# training; for inference inkstone uses its default (both cores only for a network large enough
# to gain from them, see Recognizer::threads_worth), PyTorch 2.
# Needs: cargo, python3 with torch (`pip install torch`; PYTHON=… picks the interpreter).
# Usage: bench/cpu_train_vs_torch.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
py=${PYTHON:-python3}
cargo build --release -q -p inkstone
bin=$PWD/target/release/inkstone
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "== training, img/s (higher is faster), medians of $runs alternating runs"
printf "%-34s %12s %12s %8s\n" model inkstone PyTorch ratio
#      name     classes side batch steps warm-up
for spec in "lenet5 10 28 128 60 5" "digitcnn 10 28 64 12 3" "charcnn 3755 32 64 10 3" "resnet18 3755 64 32 4 2"; do
  set -- $spec
  ours=() theirs=()
  for _ in $(seq "$runs"); do
    ours+=("$($bin bench train --model "$1" --classes "$2" --input "$3" --batch "$4" --steps "$5" --warmup "$6" |
      sed -E 's/.*: ([0-9.]+) img\/s.*/\1/')")
    theirs+=("$($py bench/torch_cpu_train.py train "$1" "$2" "$3" "$4" "$5")")
  done
  o=$(echo "${ours[*]}" | median) t=$(echo "${theirs[*]}" | median)
  printf "%-34s %12.1f %12.1f %7.2fx   (inkstone %s; PyTorch %s)\n" "$1 ${3}px $2 cls batch $4" "$o" "$t" \
    "$(echo "$o / $t" | bc -l)" "${ours[*]}" "${theirs[*]}"
done

echo "== batch-1 inference, network alone, us/image (lower is faster), medians of $runs alternating runs"
$py - "$work/seven.png" <<'PY'
import sys
from PIL import Image, ImageDraw
im = Image.new("L", (200, 200), 225); d = ImageDraw.Draw(im)
d.line([(50, 45), (150, 45), (95, 165)], fill=25, width=14); im.save(sys.argv[1])
PY
printf "%-34s %12s %12s %8s\n" model inkstone PyTorch ratio
#      name     classes side iterations
for spec in "lenet5 10 28 2000" "digitcnn 10 28 500" "charcnn 3755 32 300" "resnet18 3755 64 40"; do
  set -- $spec
  $bin model init "$1" --classes "$2" --input "$3" -o "$work/$1.inkstone" >/dev/null
  ours=() theirs=()
  for _ in $(seq "$runs"); do
    ours+=("$($bin bench predict "$work/$1.inkstone" "$work/seven.png" --iters "$4" |
      sed -E 's/.* network ([0-9.]+) .*/\1/')")
    theirs+=("$($py bench/torch_cpu_train.py infer "$1" "$2" "$3" "$4")")
  done
  o=$(echo "${ours[*]}" | median) t=$(echo "${theirs[*]}" | median)
  printf "%-34s %12.1f %12.1f %7.2fx   (inkstone %s; PyTorch %s)\n" "$1 ${3}px $2 cls" "$o" "$t" \
    "$(echo "$o / $t" | bc -l)" "${ours[*]}" "${theirs[*]}"
done
