#!/usr/bin/env python3
"""Write Fixtures/onnx-backend/inspect_expected.json from the ONNX backend test data.

Covers every `pytorch-converted/*/model.onnx` and `pytorch-operator/*/model.onnx` of the
onnx 1.22.0 package. The data directory is located through the installed onnx package unless
given explicitly (e.g. `.cache/onnx-backend/data` as produced by
scripts/fetch-onnx-backend-tests.sh):

    python Fixtures/generate_backend_expectations.py [DATA_DIR] [--out PATH]

Each key is "<folder>/<test>", e.g. "pytorch-converted/test_AvgPool1d", and each value has
parameter_count, initializer_count, node_count, op_histogram, ir_version and opsets, defined
exactly as in Fixtures/onnx/manifest.json (see Fixtures/README.md).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_stats  # noqa: E402

FOLDERS = ("pytorch-converted", "pytorch-operator")


def default_data_dir() -> str:
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", nargs="?", default=None,
                    help="directory containing pytorch-converted/ and pytorch-operator/ "
                         "(default: the installed onnx package's backend test data)")
    ap.add_argument("--out", default=os.path.join(here, "onnx-backend", "inspect_expected.json"))
    args = ap.parse_args()

    data_dir = args.data_dir or default_data_dir()
    if onnx.__version__ != "1.22.0" and args.data_dir is None:
        print(f"warning: expected onnx 1.22.0, have {onnx.__version__}", file=sys.stderr)
    result = {}
    for folder in FOLDERS:
        paths = sorted(glob.glob(os.path.join(data_dir, folder, "*", "model.onnx")))
        if not paths:
            print(f"error: no models under {os.path.join(data_dir, folder)}", file=sys.stderr)
            return 1
        for p in paths:
            test = os.path.basename(os.path.dirname(p))
            model = onnx.load(p, load_external_data=False)
            result[f"{folder}/{test}"] = onnx_stats.inspect_stats(model)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(dict(sorted(result.items())), fh, indent=1, sort_keys=False)
        fh.write("\n")
    print(f"wrote {args.out} ({len(result)} models from {data_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
