#!/usr/bin/env bash
# Optimized vs unoptimized VGG-like embedding network in the executor (issue 5), same run, same
# threads: the network as PyTorch's vgg*_bn exports it (Conv → BatchNormalization → Relu) run as
# given (`--no-optimize`), against the file `vigil optimize --keep-fused-ops` writes (BatchNorm
# folded, Conv/Gemm + Relu fused into ai.vigil ops applied in the GEMM epilogue).
# Usage: bench/optimizer_speedup.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-1}"
swift build -c release --product vigil >/dev/null
vigil=.build/release/vigil out=.cache/bench
mkdir -p "$out"
scripts/ort-interop.sh "$vigil" --only gemm_mlp >/dev/null   # creates .venv with the pinned onnx
[[ -f "$out/vgg_bn.onnx" ]] || .venv/bin/python bench/make_vgg.py "$out/vgg_bn.onnx" --batchnorm
"$vigil" optimize "$out/vgg_bn.onnx" -o "$out/vgg_bn.optimized.onnx" --keep-fused-ops
echo "| threads | batch | unoptimized median ms | optimized median ms | speedup |"
echo "|---:|---:|---:|---:|---:|"
for _ in $(seq "$rounds"); do
  for threads in 1 2; do
    for batch in 1 64; do
      runs=$([[ $batch == 1 ]] && echo 30 || echo 10)
      plain=$("$vigil" bench "$out/vgg_bn.onnx" --no-optimize --threads "$threads" --batch "$batch" --runs "$runs" --json)
      fused=$("$vigil" bench "$out/vgg_bn.optimized.onnx" --no-optimize --threads "$threads" --batch "$batch" --runs "$runs" --json)
      .venv/bin/python - "$plain" "$fused" "$threads" "$batch" <<'PY'
import json, sys
p, f = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| {sys.argv[3]} | {sys.argv[4]} | {p['median_ms']:.2f} | {f['median_ms']:.2f} | {p['median_ms'] / f['median_ms']:.2f}× |")
PY
    done
  done
done
