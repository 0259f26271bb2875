#!/usr/bin/env bash
# Executor vs onnxruntime on the VGG-like network (issue 3), same machine, same run, same threads.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this benchmark only (they halve sgemm speed
# here); the OpenBLAS kernel that ran is printed. Usage: bench/executor_vs_ort.sh [ROUNDS]
rounds="${1:-1}"
source "$(dirname "${BASH_SOURCE[0]}")/vgg_setup.sh"
[[ -f "$out/vgg.onnx" ]] || .venv/bin/python bench/make_vgg.py "$out/vgg.onnx"
# Each round runs onnxruntime and vigil back to back per configuration, so that drift on a shared
# machine hits both; the table gives medians over rounds, the median of the per-round (paired)
# throughput ratios, and in how many rounds vigil was at least as fast.
# The two alternate in going first, so that neither always runs on caches or clocks the other left.
results=$(mktemp)
ort() {
  echo "ort $1 $2 $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/ort_bench.py "$out/vgg.onnx" "$1" "$2")" >> "$results"
}
vigil() {
  local runs; runs=$([[ $2 == 1 ]] && echo 30 || echo 10)
  echo "vigil $1 $2 $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$vigil" bench "$out/vgg.onnx" --threads "$1" --batch "$2" --runs "$runs" --json | tr -d "\n")" >> "$results"
}
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    for batch in 1 64; do
      if (( round % 2 )); then ort "$threads" "$batch"; vigil "$threads" "$batch"; else vigil "$threads" "$batch"; ort "$threads" "$batch"; fi
    done
  done
done
.venv/bin/python bench/paired_rounds.py "$results" ort vigil --rss
rm -f "$results"
