#!/usr/bin/env bash
# Optimized vs unoptimized VGG-like embedding network in the executor (issue 5), same run, same
# threads: the network as PyTorch's vgg*_bn exports it (Conv → BatchNormalization → Relu) run as
# given (`--no-optimize`), against the file `vigil optimize --keep-fused-ops` writes (BatchNorm
# folded, Conv/Gemm + Relu fused into ai.vigil ops applied in the GEMM epilogue).
# Usage: bench/optimizer_speedup.sh [ROUNDS]
rounds="${1:-1}"
source "$(dirname "${BASH_SOURCE[0]}")/vgg_setup.sh"
[[ -f "$out/vgg_bn.onnx" ]] || .venv/bin/python bench/make_vgg.py "$out/vgg_bn.onnx" --batchnorm
"$vigil" optimize "$out/vgg_bn.onnx" -o "$out/vgg_bn.optimized.onnx" --keep-fused-ops
# Each round runs the two files back to back, so that drift on a shared machine hits both; the table
# gives the median over rounds of each file's median latency and of the per-round speedup
# (unoptimized / optimized, paired within a round), and in how many rounds the optimized file won.
results=$(mktemp)
for _ in $(seq "$rounds"); do
  for threads in 1 2; do
    for batch in 1 64; do
      runs=$([[ $batch == 1 ]] && echo 30 || echo 10)
      for file in vgg_bn vgg_bn.optimized; do
        echo "$file $threads $batch $("$vigil" bench "$out/$file.onnx" --no-optimize --threads "$threads" --batch "$batch" --runs "$runs" --json | tr -d "\n")" >> "$results"
      done
    done
  done
done
.venv/bin/python bench/paired_rounds.py "$results" vgg_bn vgg_bn.optimized
rm -f "$results"
