#!/usr/bin/env bash
# Executor vs onnxruntime on the VGG-like network (issue 3), same machine, same run, same threads.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this benchmark only (they halve sgemm speed
# here); the OpenBLAS kernel that ran is printed. Usage: bench/executor_vs_ort.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-1}"
swift build -c release --product vigil >/dev/null
vigil=.build/release/vigil out=.cache/bench
mkdir -p "$out"
scripts/ort-interop.sh "$vigil" --only gemm_mlp >/dev/null   # creates .venv with the pinned onnxruntime
[[ -f "$out/vgg.onnx" ]] || .venv/bin/python bench/make_vgg.py "$out/vgg.onnx"
echo "| threads | batch | onnxruntime median ms | vigil median ms | vigil/ort throughput | ort peak RSS MB | vigil peak RSS MB | OpenBLAS kernel |"
echo "|---:|---:|---:|---:|---:|---:|---:|---|"
for _ in $(seq "$rounds"); do
  for threads in 1 2; do
    for batch in 1 64; do
      ort=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/ort_bench.py "$out/vgg.onnx" "$threads" "$batch")
      runs=$([[ $batch == 1 ]] && echo 30 || echo 10)
      vg=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$vigil" bench "$out/vgg.onnx" --threads "$threads" --batch "$batch" --runs "$runs" --json)
      .venv/bin/python - "$ort" "$vg" "$threads" "$batch" <<'PY'
import json, sys
o, v = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| {sys.argv[3]} | {sys.argv[4]} | {o['median_ms']:.2f} | {v['median_ms']:.2f} | "
      f"{v['throughput_per_s'] / o['throughput_per_s']:.2f}× | {o['peak_rss_bytes'] / 1e6:.0f} | "
      f"{v['peak_rss_bytes'] / 1e6:.0f} | {v['openblas_core']} |")
PY
    done
  done
done
