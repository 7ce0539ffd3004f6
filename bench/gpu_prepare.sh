#!/usr/bin/env bash
# Fills .gpu/ (git-ignored through .git/info/exclude) with what bench/gpu_check.sh needs on the
# lent GPU machine, which has CUDA and PyTorch but no Rust: the CUDA build of inkstone, the
# CUDA test binary, PyTorch's reference script and the MNIST files. Run here, from the repo
# root, then on the GPU machine: `bash bench/gpu_check.sh` with `.gpu` carried.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
cargo build --release -p inkstone --features cuda --bin inkstone
test_bin=$(cargo test --release -p inkstone --features cuda --test cuda --no-run \
    --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="cuda" and m.get("executable"): print(m["executable"])')
rm -rf .gpu && mkdir -p .gpu/mnist
# Compressed: the carried tree is limited to 64 MiB.
strip -o .gpu/inkstone target/release/inkstone
strip -o .gpu/cuda-test "$test_bin"
xz -T0 -6 .gpu/inkstone .gpu/cuda-test
cp ../shared/bench/torch_reference.py .gpu/
cp ../shared/data/mnist/*-ubyte.gz .gpu/mnist/
# The test binary runs the inkstone that cargo built, at this absolute path.
echo "$PWD/target/release/inkstone" >.gpu/test-bin-path
du -sh .gpu
