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
results=$(mktemp)
for _ in $(seq "$rounds"); do
  for threads in 1 2; do
    for batch in 1 64; do
      echo "ort $threads $batch $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/ort_bench.py "$out/vgg.onnx" "$threads" "$batch")" >> "$results"
      runs=$([[ $batch == 1 ]] && echo 30 || echo 10)
      echo "vigil $threads $batch $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$vigil" bench "$out/vgg.onnx" --threads "$threads" --batch "$batch" --runs "$runs" --json | tr -d "\n")" >> "$results"
    done
  done
done
.venv/bin/python bench/paired_rounds.py "$results" ort vigil --rss
rm -f "$results"
