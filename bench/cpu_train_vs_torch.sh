#!/usr/bin/env bash
# CPU training throughput, inkstone vs PyTorch, same models, same machine, one run.
# Needs: cargo, python3 with torch (`pip install torch`). Prints img/s and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p inkstone
bin=target/release/inkstone
for spec in "lenet5 128 100" "digitcnn 64 10"; do
  set -- $spec
  ours=$($bin bench train --model "$1" --batch "$2" --steps "$3" | sed -E 's/.*: ([0-9.]+) img\/s.*/\1/')
  torch=$(python3 bench/torch_cpu_train.py "$1" "$2" "$3" 2>/dev/null | tail -1)
  python3 -c "print(f'$1 batch $2: inkstone {$ours:.0f} img/s, PyTorch {$torch:.0f} img/s, ratio {$ours/$torch:.2f}x')"
done
