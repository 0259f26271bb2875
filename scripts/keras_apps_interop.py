#!/usr/bin/env python3
"""keras.applications families and Keras 3 operation-layer models against the Vigil CLI, with the
references Keras computed when Fixtures/keras_apps/generate_keras_apps.py wrote them. Needs numpy,
h5py and onnxruntime only (the virtualenv of Fixtures/zoo/requirements-interop.txt); see
scripts/zoo-interop.sh.

The small models are committed whole under Fixtures/keras_apps/; the applications are committed as
skeletons that Fixtures/keras_apps/keras_weights.py materialises, bit for bit, into
.cache/keras_apps/ (with the seeded input). Then for every model, in .h5 and .keras:

  check    `vigil check`: 0 errors
  parity   `vigil parity` at batch 2 against Keras's outputs at the same tolerance
  run      `vigil run` at batch 1 (the first image) and 2, --threads 1 and 2, with and without
           --no-optimize, vs Keras's outputs: |vigil - keras| <= atol + rtol |keras|, atol 1e-4,
           rtol 1e-3; when out of tolerance, PASS64 if within it of Keras's float64 outputs
           (output_0_float64.npy, Fixtures/keras_apps/float64_reference.py; see scripts/zoo_interop.py)
  convert  `vigil convert` -> onnxruntime runs the written file, same outputs as Keras

Expected failures come from Fixtures/zoo/expected_failures.json, as in scripts/zoo_interop.py.

    python scripts/keras_apps_interop.py --vigil .build/release/vigil [--only NAME ...] [--strict] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = os.path.join(ROOT, "Fixtures", "keras_apps")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, APPS)
import keras_weights  # noqa: E402
from zoo_interop import Results, check_report, judge, last_line, parity_check, read_npz, vigil  # noqa: E402

FORMATS = ("h5", "keras")


def materialise(name, facts, cache):
    """Materialises a skeleton into cache/<name>/ unless it is up to date; returns the seconds spent."""
    skeleton, folder = os.path.join(APPS, name), os.path.join(cache, name)
    key = hashlib.sha256(b"".join(open(os.path.join(skeleton, f), "rb").read() for f in sorted(os.listdir(skeleton)))
                         + open(os.path.join(APPS, "keras_weights.py"), "rb").read()).hexdigest()
    stamp = os.path.join(folder, "stamp")
    if os.path.exists(stamp) and open(stamp).read() == key:
        return 0.0
    started = time.time()
    shutil.rmtree(folder, ignore_errors=True)
    keras_weights.materialise(skeleton, folder)
    shape = facts["input_shape"][1:]
    np.save(os.path.join(folder, "input_0.npy"), keras_weights.inputs_for(facts["input_range"], shape, facts["seed"]))
    for reference in ("output_0.npy", "output_0_float64.npy"):
        if os.path.exists(os.path.join(skeleton, reference)):
            shutil.copy(os.path.join(skeleton, reference), os.path.join(folder, reference))
    with open(stamp, "w") as fh:
        fh.write(key)
    return time.time() - started


def output_name(binary, model, timeout):
    """The imported model's output name (`vigil inspect --json`), which `vigil parity` matches."""
    ok, out, _ = vigil(binary, ["inspect", "--json", model], timeout)
    try:
        return json.loads(out)["outputs"][0]["name"] if ok else "output"
    except (json.JSONDecodeError, KeyError, IndexError):
        return "output"


def check_model(res, binary, name, folder, facts, tmp, timeout):
    tol = facts["tolerance"]
    atol, rtol = tol["atol"], tol["rtol"]
    # Keras's reference batch is 2 (input_0.npy); batch 1 is its first image and first output row.
    x = {2: os.path.join(folder, "input_0.npy"), 1: os.path.join(tmp, f"{name}_input_b1.npy")}
    np.save(x[1], np.load(x[2])[:1])
    want = {2: np.load(os.path.join(folder, "output_0.npy"))}
    want[1] = want[2][:1]
    wide_path = os.path.join(folder, "output_0_float64.npy")
    exact = {b: (lambda b=b: np.load(wide_path)[:b]) if os.path.exists(wide_path) else None for b in (1, 2)}
    for fmt in FORMATS:
        model = os.path.join(folder, f"model.{fmt}")
        key = f"keras {name} [{fmt}]"
        res.record(f"{key} check", *check_report(binary, model, timeout))
        for batch in (1, 2):
            for threads in (1, 2):
                for optimize in (True, False):
                    tag = f"run b{batch} t{threads} {'opt' if optimize else 'noopt'}"
                    dst = os.path.join(tmp, f"{name}_{fmt}_{batch}_{threads}_{optimize}.npz")
                    args = ["run", model, "--input", x[batch], "-o", dst, "--threads", str(threads)]
                    ok, _, err = vigil(binary, args + ([] if optimize else ["--no-optimize"]), timeout)
                    if not ok:
                        res.record(f"{key} {tag}", False, err)
                        continue
                    outputs = list(read_npz(dst).values())
                    if len(outputs) != 1:
                        res.record(f"{key} {tag}", False, f"{len(outputs)} outputs")
                    else:
                        res.record(f"{key} {tag}", *judge(outputs[0], want[batch], atol, rtol, exact[batch]))
                    os.remove(dst)
        parity_check(res, f"{key} parity", binary, model, [x[2]], want[2], output_name(binary, model, timeout),
                     tol, exact[2], tmp, timeout)
        converted = os.path.join(tmp, f"{name}_{fmt}.onnx")
        ok, _, err = vigil(binary, ["convert", model, "-o", converted], timeout)
        if not res.record(f"{key} convert", ok, err):
            continue
        try:
            so = ort.SessionOptions()
            so.log_severity_level = 3
            session = ort.InferenceSession(converted, so, providers=["CPUExecutionProvider"])
            got = session.run(None, {session.get_inputs()[0].name: np.load(x[2])})[0]
        except Exception as e:  # noqa: BLE001
            res.record(f"{key} convert+ort", False, last_line(str(e)))
            continue
        finally:
            if os.path.exists(converted):
                os.remove(converted)
        res.record(f"{key} convert+ort", *judge(got, want[2], atol, rtol, exact[2]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--only", action="append", metavar="NAME")
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "keras_apps"))
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    binary = os.path.abspath(args.vigil)
    if not os.access(binary, os.X_OK):
        print(f"error: vigil binary not found or not executable: {args.vigil}", file=sys.stderr)
        return 2
    with open(os.path.join(APPS, "manifest.json")) as fh:
        manifest = {k: v for k, v in json.load(fh).items() if not k.startswith("_")}
    names = [n for n in manifest if not args.only or n in args.only]
    with open(os.path.join(ROOT, "Fixtures", "zoo", "expected_failures.json")) as fh:
        res = Results(json.load(fh)["failures"], args.strict)
    timings = {"materialise": round(sum(materialise(n, manifest[n], args.cache) for n in names
                                        if not manifest[n]["committed"]), 1)}
    tmp = tempfile.mkdtemp(prefix="vigil-keras-apps-")
    try:
        for name in names:
            started = time.time()
            folder = os.path.join(APPS if manifest[name]["committed"] else args.cache, name)
            check_model(res, binary, name, folder, manifest[name], tmp, args.timeout)
            timings[name] = round(time.time() - started, 1)
            print(f"---- keras {name}: {timings[name]:.0f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c = res.counts
    print(f"timings (s): {json.dumps(timings)}")
    print(f"{c['PASS']} passed, {c['PASS64']} passed against the float64 reference only, {c['FAIL']} failed, "
          f"{c['XFAIL']} expected failures, {c['XPASS']} unexpectedly passed")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": res.records, "timings": timings, "counts": c}, fh, indent=1)
    return 1 if c["FAIL"] or not res.records else 0


if __name__ == "__main__":
    sys.exit(main())
