#!/usr/bin/env bash
# libFuzzer runs of the suite's parsers of untrusted bytes.
#
#   Scripts/fuzz.sh [TARGET|all] [SECONDS]     fuzz each target for SECONDS (default 60)
#   Scripts/fuzz.sh replay                      run every target once over the committed
#                                               regression inputs (Tests/Fixtures/*/fuzz-regressions)
#
# Targets (harnesses in Fuzz/<TARGET>/):
#   AudioDecoder    AudioDSP: AudioFile(data:limits:), libsndfile over virtual I/O
#   PredictRequest  InferenceServer: the body of POST / (JSON, base64, then the decoder)
#   SafeTensors     TensorKit: SafeTensorsFile(bytes:) and every accessor
#   Checkpoint      ResNetAudio: Checkpoint.load(from:)
#   ESC50Metadata   ESC50: meta/esc50.csv parsing and validation
#
# Builds with `swift build --sanitize fuzzer` into .build-fuzz (AUDIOCNN_FUZZ=1 adds the
# harness targets to Package.swift; the normal build never sees them). Seeds come from
# Scripts/fixtures/make_fuzz_seeds.py; the growing corpus stays in .build-fuzz/corpus/<TARGET>;
# crashes, timeouts and out-of-memory inputs land in .build-fuzz/artifacts/<TARGET>/. Each run
# ends with one summary line: target, seconds, executions, exec/s, corpus size, outcome.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(AudioDecoder PredictRequest SafeTensors Checkpoint ESC50Metadata)
what=${1:-all}
seconds=${2:-60}
scratch=.build-fuzz

case "$what" in
    all|replay) targets=("${ALL[@]}") ;;
    *) [[ " ${ALL[*]} " == *" $what "* ]] || { echo "unknown target '$what'; expected one of: all replay ${ALL[*]}" >&2; exit 2; }
       targets=("$what") ;;
esac

# Reuse the main build's dependency checkouts rather than fetching them again.
if [[ ! -d $scratch/checkouts && -d .build/checkouts ]]; then
    mkdir -p "$scratch"
    cp -r .build/checkouts .build/repositories "$scratch"/
    cp .build/workspace-state.json "$scratch"/ 2>/dev/null || true
fi

build() {
    AUDIOCNN_FUZZ=1 swift build -c release --sanitize fuzzer --scratch-path "$scratch" \
        -Xswiftc -enable-testing --product "fuzz-$1" 2>&1 | grep -E "error|warning: unre|Compiling fuzz|Build complete" || true
    [[ -x $scratch/release/fuzz-$1 ]] || { echo "build of fuzz-$1 failed" >&2; exit 1; }
}

# Swift's own backtracer would print a second, slower report after libFuzzer's.
export SWIFT_BACKTRACE=enable=no

if [[ $what == replay ]]; then
    declare -A module=([AudioDecoder]=AudioDSP [PredictRequest]=InferenceServer [SafeTensors]=TensorKit
                       [Checkpoint]=ResNetAudio [ESC50Metadata]=ESC50)
    mkdir -p "$scratch"
    for t in "${targets[@]}"; do
        dir=Tests/Fixtures/${module[$t]}/fuzz-regressions
        [[ -d $dir ]] || continue
        build "$t"
        # libFuzzer runs each file once and exits non-zero on the first crash.
        if "$scratch/release/fuzz-$t" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 "$dir"/* >"$scratch/replay-$t.log" 2>&1; then
            echo "replay $t: $(ls "$dir" | wc -l) regression inputs, no crash"
        else
            echo "replay $t: FAILED, see $scratch/replay-$t.log"; exit 1
        fi
    done
    exit 0
fi

python3 Scripts/fixtures/make_fuzz_seeds.py "$scratch/seeds"
mkdir -p "$scratch/logs"
for t in "${targets[@]}"; do
    build "$t"
    mkdir -p "$scratch/corpus/$t" "$scratch/artifacts/$t"
    log=$scratch/logs/$t.log
    set +e
    "$scratch/release/fuzz-$t" "$scratch/corpus/$t" "$scratch/seeds/$t" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len=16384 \
        -artifact_prefix="$scratch/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
    status=$?
    set -e
    # Final stats when the run ends normally; else the last status line before the crash.
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' ||
           grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' ||
           grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
    corpus=$(ls "$scratch/corpus/$t" | wc -l)
    if [[ $status -eq 0 ]]; then
        outcome="no crash"
    else
        outcome="FAILED ($(grep -m1 -oE 'ERROR: libFuzzer: [a-z-]+|Fatal error|out-of-memory|timeout' "$log" || echo "exit $status")); see $log and $scratch/artifacts/$t/"
    fi
    echo "fuzz $t: ${seconds}s, $runs executions, $rate exec/s, corpus $corpus, $outcome"
done
