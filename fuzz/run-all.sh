#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each, starting from fuzz/seeds/<target>/ and growing
# fuzz/corpus/<target>/ (git-ignored), then prints per target the executions and what it found.
#
#   fuzz/run-all.sh SECONDS [TARGET...]
#
# Every fuzzer runs under `nice -n 19` as one process (no -jobs/-workers). FUZZ_PARALLEL=2 runs
# two targets at once (default 1). Each run: -rss_limit_mb=2048 -timeout=10. Crash, timeout and
# OOM inputs land in fuzz/artifacts/<target>/ (git-ignored); logs in fuzz/logs/<target>.log.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Exit status: 0 when no target found anything, 1 otherwise.
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 2
fi
seconds=$1
shift
cd "$(dirname "$0")/.."

# Every target, from fuzz/fuzz_targets/*.rs (tests/replay.rs checks those against TARGETS).
mapfile -t all_targets < <(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//')
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=("${all_targets[@]}")
fi
parallel=${FUZZ_PARALLEL:-1}
# Same flags for build and run, so that `run` reuses the build.
build_flags=(--codegen-units 16)

mkdir -p fuzz/logs
echo "building ${#targets[@]} fuzz targets..."
nice -n 19 cargo +nightly fuzz build "${build_flags[@]}" >fuzz/logs/build.log 2>&1 || {
    tail -30 fuzz/logs/build.log >&2
    exit 1
}

run_one() {
    local target=$1
    local seeds=fuzz/seeds/$target corpus=fuzz/corpus/$target
    mkdir -p "$corpus" "fuzz/artifacts/$target"
    if [[ -z $(ls -A "$seeds" 2>/dev/null) ]]; then
        echo "$target: no seeds in $seeds" >"fuzz/logs/$target.log"
        return
    fi
    # The first corpus folder receives new inputs; the seeds are only read.
    nice -n 19 cargo +nightly fuzz run "${build_flags[@]}" "$target" "$corpus" "$seeds" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"fuzz/logs/$target.log" 2>&1 || true
}

start=$(date +%s)
for target in "${targets[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge $parallel ]]; do
        wait -n || true
    done
    echo "fuzzing $target for ${seconds}s"
    run_one "$target" &
done
wait

found=0
printf '\n%-16s %8s %12s %9s  %s\n' target seconds execs execs/s result
for target in "${targets[@]}"; do
    log=fuzz/logs/$target.log
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | awk '{print $5}' || true)
    rate=-
    if [[ -n $execs && -n $secs && $secs -gt 0 ]]; then
        rate=$((execs / secs))
    fi
    # Artifacts written by this run (older ones from earlier runs are not counted).
    new=$(find "fuzz/artifacts/$target" -type f -newermt "@$start" 2>/dev/null | sort)
    if [[ -n $new ]]; then
        result="FOUND $(echo "$new" | wc -l): $(echo "$new" | tr '\n' ' ')"
        found=1
    elif grep -q 'ERROR: libFuzzer\|==ERROR\|panicked at' "$log"; then
        result="FAILED (see $log)"
        found=1
    elif [[ -z $execs ]]; then
        result="DID NOT RUN (see $log)"
        found=1
    else
        result=ok
    fi
    printf '%-16s %8s %12s %9s  %s\n' "$target" "${secs:--}" "${execs:--}" "$rate" "$result"
done
exit $found
