# Shared set-up of the VGG benchmarks (sourced): release build of vigil, the pinned virtualenv, and
# the output folder .cache/bench. Sets `vigil` and `out`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product vigil >/dev/null
vigil=.build/release/vigil out=.cache/bench
mkdir -p "$out"
scripts/ort-interop.sh "$vigil" --only gemm_mlp >/dev/null   # creates .venv with the pinned onnx and onnxruntime
