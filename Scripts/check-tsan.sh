#!/usr/bin/env bash
# ThreadSanitizer over the concurrent code: a debug build with -sanitize=thread (its own
# .build-tsan folder), then the tests that run TensorKit's worker pool, scoped kernel
# configurations on several threads at once, the parallel kernels, ResNetAudio's folded
# inference plan, the classifier (one instance on several threads) and the
# server's bounded pool. Any data race TSan reports fails the run, except the third-party ones
# Scripts/tsan-suppressions.txt lists with the reason for each.
# Usage: bash Scripts/check-tsan.sh [extra --filter regex]
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-'ParallelTests|KernelConfigurationTests|GEMMTests|ConvolutionTests|FoldedConv2dTests|BatchNormTests|FoldedInferenceTests|AudioClassificationTests|ConcurrencyTests|InferencePoolCancellationTests|DataParallelTests'}
echo "== ThreadSanitizer build (.build-tsan)"
swift build --sanitize=thread --build-tests --scratch-path .build-tsan
echo "== ThreadSanitizer tests: $filter"
# halt_on_error: the first race ends the run with a non-zero status.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/Scripts/tsan-suppressions.txt" \
  swift test --sanitize=thread --skip-build --scratch-path .build-tsan --disable-swift-testing --filter "$filter"
echo "== ThreadSanitizer: no data races reported"
