#!/usr/bin/env bash
# Two vigil binaries on one model, in paired rounds (each round runs both back to back, taking turns
# to go first), 1 and 2 threads, batch 1 and 64: the median of the per-round throughput ratios tells
# whether a change made the executor slower. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset, as in the
# benchmarks against onnxruntime.
# Usage: bench/vigil_ab.sh BASELINE_VIGIL CANDIDATE_VIGIL MODEL.onnx [ROUNDS]
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 BASELINE_VIGIL CANDIDATE_VIGIL MODEL.onnx [ROUNDS]" >&2; exit 2; }
base="$1" candidate="$2" model="$3" rounds="${4:-5}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
results=$(mktemp)
trap 'rm -f "$results"' EXIT
run() {  # NAME BINARY THREADS BATCH
  local runs; runs=$([[ $4 == 1 ]] && echo 30 || echo 8)
  echo "$1 $3 $4 $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$2" bench "$model" --threads "$3" --batch "$4" --runs "$runs" --json 2>/dev/null | tr -d "\n")" >> "$results"
}
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    for batch in 1 64; do
      if (( round % 2 )); then run baseline "$base" "$threads" "$batch"; run candidate "$candidate" "$threads" "$batch"
      else run candidate "$candidate" "$threads" "$batch"; run baseline "$base" "$threads" "$batch"; fi
    done
  done
done
.venv/bin/python bench/paired_rounds.py "$results" baseline candidate --rss
