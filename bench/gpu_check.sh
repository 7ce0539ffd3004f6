#!/usr/bin/env bash
# One prepared pass over issue #4's GPU measurements, for a lent GPU machine (no Rust there):
# here `bash bench/gpu_prepare.sh`, then on the machine, from the repo root with `.gpu` carried:
#   bash bench/gpu_check.sh [SECONDS]      (default 480: the whole pass, every step inside it;
#   give the device call a timeout some 60 s longer, for the start and the packing at the end)
# Steps in order of importance; a step that would start past the deadline is skipped, saying
# so. Prints PyTorch's figures and ours from the same machine in one run (ratios are read off
# neighbouring lines), and leaves the log and the CUDA kernel cache in $OUT when it is set.
set -uo pipefail
budget=${1:-480}
out=${OUT:-/tmp/gpu_check}
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1
cd "$(dirname "$0")/.."

for f in inkstone cuda-test; do
    [ -x ".gpu/$f" ] || { xz -dk ".gpu/$f.xz" && chmod +x ".gpu/$f"; }
done
# The test binary runs the binary cargo built, at its path on the build machine.
test_bin_path=$(cat .gpu/test-bin-path)
mkdir -p "$(dirname "$test_bin_path")"
[ -e "$test_bin_path" ] || cp .gpu/inkstone "$test_bin_path"
ink=$PWD/.gpu/inkstone
export INKSTONE_CUDA_CACHE=$out/cuda-cache # our kernel caches, brought back for a look

step() { # step SECONDS NAME COMMAND...: runs COMMAND under a timeout if the budget allows
    local limit=$1 name=$2
    shift 2
    local left=$((budget - SECONDS))
    if ((left < 20)); then
        echo "=== $name: SKIPPED (budget spent)"
        return
    fi
    ((limit > left)) && limit=$left
    echo "=== $name (limit ${limit}s, t=${SECONDS}s)"
    local t0=$SECONDS
    timeout -k 5 "$limit" "$@"
    echo "=== $name: exit $? after $((SECONDS - t0))s"
}

step 10 "device" nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
# Issue #4, item 2: CUDA follows the CPU's loss curve (LeNet-5: autotune and every fixed
# kernel; ResNet-18: fixed kernels).
step 180 "loss curves cpu vs cuda" .gpu/cuda-test --test-threads 1 --nocapture
# The ResNet-18 headline: PyTorch bf16 channels_last, then ours with fixed kernels (cold
# cache: the first-step time is the fresh-machine figure; then warm).
step 60 "torch bf16cl (lenet5 b128, resnet18 64 b128)" python3 .gpu/torch_reference.py 200 64 128 bf16cl
rn=(bench train --model resnet18 --input 64 --classes 3755 --batch 128 --device cuda:0)
step 90 "inkstone resnet18 64 bf16 fixed, cold" $ink --cuda-kernels fixed "${rn[@]}" --steps 30 --precision bf16
step 60 "inkstone resnet18 64 bf16 fixed, warm cache" $ink --cuda-kernels fixed "${rn[@]}" --steps 30 --precision bf16
for k in fixed-mma fixed-async fixed-tma; do # the other fixed kernels, for the default's choice
    step 60 "inkstone resnet18 64 bf16 $k, cold" $ink --cuda-kernels $k "${rn[@]}" --steps 30 --precision bf16
done
# Where the ResNet-18 step goes with fixed kernels: cubecl times every kernel and sums them
# per kernel at each sync (a cubecl.toml in the working folder; the timed run's summary is
# the last block of the log).
prof=$(mktemp -d)
printf '[profiling.logger]\nlevel = "basic"\nappend = false\nfile = "%s"\n' \
    "$out/profile-resnet18-64-bf16-fixed.log" >"$prof/cubecl.toml"
step 90 "profile resnet18 64 bf16 fixed" bash -c "cd $prof && $ink --cuda-kernels fixed ${rn[*]} --steps 3 --warmup 2 --precision bf16"
gzip -f "$out/profile-resnet18-64-bf16-fixed.log" 2>/dev/null
step 60 "torch fp32 (lenet5 b128, resnet18 64 b128)" python3 .gpu/torch_reference.py 200 64 128 fp32
step 60 "inkstone lenet5 b128 fp32 autotune" $ink bench train --model lenet5 --batch 128 --steps 200 --device cuda:0
step 60 "inkstone lenet5 b128 fp32 fixed" $ink --cuda-kernels fixed bench train --model lenet5 --batch 128 --steps 200 --device cuda:0
step 60 "inkstone resnet18 64 fp32 fixed" $ink --cuda-kernels fixed "${rn[@]}" --steps 30
# The MNIST speed run: wall time of the whole command, data loading and test included.
speed=$out/speedrun
step 60 "mnist speedrun, first (kernels compiled)" bash -c "time $ink --cuda-kernels fixed train --config configs/mnist-speedrun.json --data .gpu/mnist --device cuda:0 --out $speed-1"
step 60 "mnist speedrun, again (cache warm)" bash -c "time $ink --cuda-kernels fixed train --config configs/mnist-speedrun.json --data .gpu/mnist --device cuda:0 --out $speed-2"
step 60 "torch bf16cl 112" python3 .gpu/torch_reference.py 50 112 128 bf16cl
step 90 "inkstone resnet18 112 bf16 fixed" $ink --cuda-kernels fixed bench train --model resnet18 --input 112 --classes 3755 --batch 128 --steps 20 --device cuda:0 --precision bf16
# Autotune on the ResNet-18 shapes from a cold cache, at the cheapest level: how long a fresh
# machine tunes (the issue saw > 9 minutes at the default level).
CUBECL_AUTOTUNE_LEVEL=minimal step 150 "inkstone resnet18 64 bf16 autotune minimal, cold" $ink "${rn[@]}" --steps 30 --precision bf16
# One file rather than hundreds for the way back (the autotune results are small; the compiled
# kernels may not be).
tar -C "$out" -cJf "$out/cuda-cache.tar.xz" cuda-cache && rm -rf "$out/cuda-cache"
ls -la "$out"
echo "=== done at t=${SECONDS}s"
