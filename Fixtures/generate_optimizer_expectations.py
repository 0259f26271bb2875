"""Node counts after onnx-simplifier followed by onnxoptimizer's default passes, the bar that
`vigil optimize` must meet (issue: optimizer). Run by hand:

    .venv/bin/pip install -r Fixtures/requirements-optimizer.txt
    .venv/bin/python Fixtures/generate_optimizer_expectations.py [BACKEND_DATA_DIR]

BACKEND_DATA_DIR defaults to .cache/onnx-backend/data (scripts/fetch-onnx-backend-tests.sh).
Writes Fixtures/onnx/optimizer_node_counts.json and Fixtures/onnx-backend/optimizer_node_counts.json:
{"<key>": {"original": N, "onnxsim": N, "onnxsim+onnxoptimizer": N}} (null where a tool failed).
"""
import glob
import json
import os
import sys

import onnx
import onnxoptimizer
import onnxsim

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def counts(path):
    model = onnx.load(path)
    result = {"original": len(model.graph.node), "onnxsim": None, "onnxsim+onnxoptimizer": None}
    try:
        simplified, ok = onnxsim.simplify(model)
        if ok:
            result["onnxsim"] = len(simplified.graph.node)
            optimized = onnxoptimizer.optimize(simplified)
            result["onnxsim+onnxoptimizer"] = len(optimized.graph.node)
    except Exception as error:  # recorded, not hidden: a tool that fails sets no bar
        result["error"] = str(error).splitlines()[0][:200]
    return result


def main():
    fixtures = {}
    manifest = json.load(open(os.path.join(ROOT, "Fixtures/onnx/manifest.json")))
    for entry in manifest["models"]:
        fixtures[entry["name"]] = counts(os.path.join(ROOT, "Fixtures/onnx", entry["path"]))
    with open(os.path.join(ROOT, "Fixtures/onnx/optimizer_node_counts.json"), "w") as f:
        json.dump(fixtures, f, indent=1, sort_keys=True)
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache/onnx-backend/data")
    backend = {}
    for folder in ["pytorch-converted", "pytorch-operator"]:
        for path in sorted(glob.glob(os.path.join(data, folder, "*", "model.onnx"))):
            backend[folder + "/" + os.path.basename(os.path.dirname(path))] = counts(path)
    with open(os.path.join(ROOT, "Fixtures/onnx-backend/optimizer_node_counts.json"), "w") as f:
        json.dump(backend, f, indent=1, sort_keys=True)
    print(len(fixtures), "fixtures,", len(backend), "backend models")


if __name__ == "__main__":
    main()
