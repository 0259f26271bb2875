#!/usr/bin/env bash
# Accuracy of the direct and Winograd convolution kernels against a double-precision reference on the
# channel counts of the VGG-like net (bench/winograd_accuracy.c). Usage: bench/winograd_accuracy.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .cache/bench
clang -O3 -ISources/CVigilKernels/include bench/winograd_accuracy.c Sources/CVigilKernels/packed_convolution.c \
  -o .cache/bench/winograd_accuracy -lm
for scaled in 1 0; do
  for shape in "4 64 64 16" "2 128 128 16" "2 256 64 8" "1 512 64 8"; do
    .cache/bench/winograd_accuracy $shape $scaled
  done
done
