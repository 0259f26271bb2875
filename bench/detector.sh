#!/usr/bin/env bash
# Detector benchmark on the bundled data (release build): wall time of `vigil detect fit` and
# `vigil detect evaluate`, with the images/s and embeddings/s they print.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product vigil >/dev/null
vigil=.build/release/vigil d=Fixtures/detector out=.cache/bench/detector
mkdir -p "$out"
echo "machine: $(nproc) cores"
start=$(date +%s.%N)
"$vigil" detect fit "$d/embedding.onnx" --data "$d/train_images.npy" --labels "$d/train_labels.npy" \
    --val "$d/val_images.npy" --classifier "$d/classifier.onnx" -o "$out/detector.h5" | grep -E "images/s|fitted"
mid=$(date +%s.%N)
"$vigil" detect evaluate "$out/detector.h5" "$d/embedding.onnx" --data "$d/test_images.npy" \
    --novelty "$d/novelty_images.npy" --anomaly "gaussian=$d/gaussian_images.npy" \
    --anomaly "uniform=$d/uniform_images.npy" --anomaly "photos=$d/photos_images.npy" \
    --classifier "$d/classifier.onnx" | grep -E "images/s"
end=$(date +%s.%N)
awk -v a="$start" -v b="$mid" -v c="$end" 'BEGIN { printf "fit: %.2f s wall, evaluate: %.2f s wall\n", b - a, c - b }'
