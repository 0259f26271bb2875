#!/usr/bin/env bash
# Vigil against onnxruntime on every torchvision zoo model (Fixtures/zoo, both exporters' files), at
# batch 1 and 32, on 1 and 2 threads, in paired rounds: each round runs both runtimes back to back on
# each configuration, the two taking turns to go first, so that drift on a shared machine hits both.
# Prints a Markdown table: median latencies, the median of the per-round throughput ratios (vigil /
# onnxruntime), in how many rounds vigil was at least as fast, the median CPU-time ratio, and the peak
# RSS of each process. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for both runtimes.
#
# Usage: bench/zoo_vs_ort.sh [ROUNDS]   (default 7)
# Environment:
#   VIGIL         the vigil binary (default .build/release/vigil, built if missing)
#   ZOO           the zoo folder with <model>/<exporter>/graph.onnx + weights.npz (default Fixtures/zoo)
#   ZOO_CACHE     where the materialised models go (default .cache/zoo, as scripts/zoo-interop.sh)
#   ORT_PYTHON    a Python with numpy, onnx and onnxruntime 1.32 (default .venv-zoo/bin/python)
#   MODELS        model names to run (default: every model of the zoo); EXPORTERS (default "dynamo torchscript")
#   BATCHES       (default "1 32"); THREADS (default "1 2")
#   RESULTS       keep the raw results here (one line per run: NAME MODEL THREADS BATCH JSON)
#   VIGIL_FLAGS   extra `vigil bench` flags (e.g. "--batch-chunk whole" to time the batch run whole)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-7}"
vigil="${VIGIL:-.build/release/vigil}"
zoo="${ZOO:-Fixtures/zoo}"
cache="${ZOO_CACHE:-.cache/zoo}"
python="${ORT_PYTHON:-.venv-zoo/bin/python}"
exporters="${EXPORTERS:-dynamo torchscript}"
batches="${BATCHES:-1 32}"
threads_list="${THREADS:-1 2}"
[[ -x "$python" ]] || { echo "zoo_vs_ort: no Python at $python (set ORT_PYTHON; scripts/zoo-interop.sh creates .venv-zoo)" >&2; exit 2; }
[[ -d "$zoo" ]] || { echo "zoo_vs_ort: no zoo at $zoo (set ZOO)" >&2; exit 2; }
[[ -x "$vigil" ]] || swift build -c release --product vigil >&2
models="${MODELS:-$(cd "$zoo" && ls -d */ | tr -d / | while read -r m; do [[ -f "$m/dynamo/graph.onnx" || -f "$m/torchscript/graph.onnx" ]] && echo "$m"; done)}"

# Materialise every model once (numpy only; the same bytes as the interop step's).
files=()
for model in $models; do
  for exporter in $exporters; do
    source_dir="$zoo/$model/$exporter"
    [[ -f "$source_dir/graph.onnx" ]] || continue
    target="$cache/$model/$exporter/model.onnx"
    if [[ ! -f "$target" ]]; then
      mkdir -p "$(dirname "$target")"
      "$python" "$zoo/zoo_weights.py" materialise "$source_dir/graph.onnx" "$source_dir/weights.npz" "$target" >&2
    fi
    files+=("$model/$exporter")
  done
done

results="${RESULTS:-$(mktemp)}"
[[ -n "${RESULTS:-}" ]] || trap 'rm -f "$results"' EXIT
runs() { [[ $1 == 1 ]] && echo 10 || echo 3; }
warmup() { [[ $1 == 1 ]] && echo 3 || echo 1; }
ort() {  # FILE THREADS BATCH
  echo "ort $1 $2 $3 $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" bench/ort_bench.py "$cache/$1/model.onnx" "$2" "$3" "$(runs "$3")" "$(warmup "$3")")" >> "$results"
}
vig() {  # FILE THREADS BATCH
  echo "vigil $1 $2 $3 $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$vigil" bench "$cache/$1/model.onnx" --threads "$2" --batch "$3" \
    --runs "$(runs "$3")" --warmup "$(warmup "$3")" ${VIGIL_FLAGS:-} --json 2>/dev/null | tr -d "\n")" >> "$results"
}
echo "zoo_vs_ort: ${#files[@]} files, batches $batches, threads $threads_list, $rounds rounds" >&2
for round in $(seq "$rounds"); do
  for file in "${files[@]}"; do
    for batch in $batches; do
      for threads in $threads_list; do
        if (( round % 2 )); then ort "$file" "$threads" "$batch"; vig "$file" "$threads" "$batch"
        else vig "$file" "$threads" "$batch"; ort "$file" "$threads" "$batch"; fi
      done
    done
    echo "zoo_vs_ort: round $round: $file done" >&2
  done
done
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d); onnxruntime $("$python" -c 'import onnxruntime; print(onnxruntime.__version__)'); $rounds rounds"
"$python" bench/zoo_table.py "$results"
