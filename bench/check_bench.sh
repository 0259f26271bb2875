#!/usr/bin/env bash
# Verifier benchmark: `vigil check` on the ~510 MB model of bench/load_bench.py (release build),
# reporting the time to load the file and the time of all checks, from the same run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product vigil >/dev/null
model=.cache/bench/big.onnx
[[ -f "$model" ]] || { echo "run bench/load_bench.sh first (it writes $model)" >&2; exit 1; }
for run in 1 2 3; do
  .build/release/vigil check "$model" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
load, check = r["load_seconds"], r["check_seconds"]
print("load %.3f s, check %.3f s, check/load %.2f" % (load, check, check / load))'
done
