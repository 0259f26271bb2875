#!/usr/bin/env bash
# Keras import benchmark: imports a ~100 MB legacy .h5 (7 Dense layers of 2048) and reads the same
# file's bytes, in the same process, release build; prints both times and their ratio (target ≤ 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VIGIL_KERAS_BENCH=1 swift test -c release --filter KerasCraftedFileTests/testBenchmarkImportOf100MBFile 2>&1 \
    | grep -E "keras import benchmark|error|passed|failed"
