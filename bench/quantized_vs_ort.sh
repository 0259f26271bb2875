#!/usr/bin/env bash
# Quantized inference (issue 17): Vigil against onnxruntime 1.32.0 on the same int8 files, and against
# Vigil's own float run, for zoo CNNs quantized by `vigil quantize` (and onnxruntime's own quantized
# file of one of them), batch 1 and 32, 1 and 2 threads, paired rounds.
#   bench/quantized_vs_ort.sh [ROUNDS] [MODEL ...]      (default 5 rounds; squeezenet1_1 resnet18 mobilenet_v2)
# Needs a Python with Fixtures/quantized/requirements.txt (onnx 1.23.2, onnxruntime 1.32.0): $PYTHON, else
# .venv-q/bin/python (created here). ZOO points at the zoo fixtures (default Fixtures/zoo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-5}"; shift || true
models=("$@"); [[ ${#models[@]} -gt 0 ]] || models=(squeezenet1_1 resnet18 mobilenet_v2)
zoo="${ZOO:-Fixtures/zoo}"
python="${PYTHON:-.venv-q/bin/python}"
if [[ ! -x "$python" ]]; then
  python3 -m venv .venv-q && .venv-q/bin/pip install -q -r Fixtures/quantized/requirements.txt
  python=.venv-q/bin/python
fi
swift build -c release --product vigil >/dev/null
vigil=.build/release/vigil
out=.cache/bench/quantized
mkdir -p "$out"
specs=()
for name in "${models[@]}"; do
  float="$zoo/$name/torchscript/model.onnx"
  if [[ ! -f "$float" ]]; then
    float="$out/$name.onnx"
    [[ -f "$float" ]] || "$python" "$zoo/zoo_weights.py" materialise "$zoo/$name/torchscript/graph.onnx" "$zoo/$name/torchscript/weights.npz" "$float"
  fi
  int8="$out/$name.vigil-int8.onnx"
  if [[ ! -f "$int8" ]]; then
    "$python" -c "import numpy as np; np.save('$out/calibration.npy', np.random.default_rng(1700).standard_normal((32, 3, 224, 224)).astype(np.float32))"
    "$vigil" quantize "$float" --calibration "$out/calibration.npy" -o "$int8" --quiet >/dev/null
  fi
  specs+=("$name=$float:$int8")
done
# onnxruntime's own quantize_static file of the first model, run by both.
first="${models[0]}"; ortq="$out/$first.ort-int8.onnx"
if [[ ! -f "$ortq" ]]; then
  "$python" - "${specs[0]#*=}" "$ortq" <<'PY'
import sys, numpy as np
from onnxruntime.quantization import quantize_static, QuantType, QuantFormat, CalibrationDataReader
source, target = sys.argv[1].split(":")[0], sys.argv[2]
images = np.random.default_rng(1700).standard_normal((32, 3, 224, 224)).astype(np.float32)
class Reader(CalibrationDataReader):
    def __init__(self): self.items = iter([{"input": im[None]} for im in images])
    def get_next(self): return next(self.items, None)
quantize_static(source, target, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
PY
fi
specs+=("$first (onnxruntime's quantize_static)=${specs[0]#*=}")
specs[-1]="${specs[-1]%:*}:$ortq"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" -c "import onnxruntime, sys; print('onnxruntime', onnxruntime.__version__, file=sys.stderr)"
"$python" bench/quantized_bench.py "$vigil" "$rounds" "${specs[@]}"
