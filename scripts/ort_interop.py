#!/usr/bin/env python3
"""ONNX Runtime interop check for models re-serialized by the Vigil CLI.

For every model in Fixtures/onnx/manifest.json with has_reference == true:

  1. <vigil> convert <model.onnx> -o <tmp>/plain/model.onnx (also: --optimize, and --optimize --weights fp16)
  2. <vigil> convert <model.onnx> -o <tmp>/ext/model.onnx --external-data-threshold 1024
  3. for each written file: onnx.checker.check_model(path, full_check=True), then run it in
     onnxruntime (CPUExecutionProvider) on test_data_set_0 inputs and compare with the recorded
     outputs: |a - b| <= atol + rtol * |b| (atol 1e-5, rtol 1e-4 unless the manifest says otherwise).

Prints one line per check and finishes with "N passed, M failed"; exit status 1 if anything failed.

    python scripts/ort_interop.py --vigil .build/debug/vigil [--only NAME ...] [--keep]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FIXTURES = os.path.join(ROOT, "Fixtures", "onnx")
# (name, extra vigil convert arguments, tolerance override or None for the manifest's)
VARIANTS = [
    ("plain", [], None),
    ("ext", ["--external-data-threshold", "1024"], None),
    ("optimized", ["--optimize"], None),
    # fp16 weights: rounding to half precision moves outputs by about 1e-3 relative.
    ("fp16", ["--optimize", "--weights", "fp16"], (5e-3, 2e-2)),
]


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def record(self, ok: bool, label: str, detail: str = ""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        line = f"{'PASS' if ok else 'FAIL'} {label}"
        if detail:
            line += f": {detail}"
        print(line, flush=True)
        return ok


def load_test_data(model_dir):
    ds = os.path.join(model_dir, "test_data_set_0")

    def read(kind):
        files = sorted(glob.glob(os.path.join(ds, f"{kind}_*.pb")),
                       key=lambda p: int(os.path.basename(p)[len(kind) + 1:-3]))
        out = []
        for p in files:
            t = onnx.load_tensor(p)
            out.append((t.name, numpy_helper.to_array(t)))
        return out

    return read("input"), read("output")


def compare(name, got, want, atol, rtol):
    """Returns an error string, or None if equal within tolerance."""
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        return f"{name}: shape {list(got.shape)} != expected {list(want.shape)}"
    if want.dtype == object or want.dtype.kind in "SUb" or got.dtype.kind in "SUOb":
        g = [x.decode() if isinstance(x, bytes) else x for x in got.ravel().tolist()]
        w = [x.decode() if isinstance(x, bytes) else x for x in want.ravel().tolist()]
        if g != w:
            return f"{name}: values differ ({g[:4]} vs {w[:4]} ...)"
        return None
    if got.dtype != want.dtype:
        return f"{name}: dtype {got.dtype} != expected {want.dtype}"
    if want.dtype.kind in "iu":
        if not np.array_equal(got, want):
            return f"{name}: integer values differ (max |diff| {np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))})"
        return None
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    nan_ok = np.isnan(g) == np.isnan(w)
    diff = np.abs(g - w)
    ok = (diff <= atol + rtol * np.abs(w)) | (np.isnan(g) & np.isnan(w)) | (g == w)
    if not (np.all(ok) and np.all(nan_ok)):
        bad = int(np.size(ok) - np.count_nonzero(ok))
        return f"{name}: {bad} element(s) out of tolerance, max |diff| {np.nanmax(diff):.3g}"
    return None


def run_vigil(vigil, src, dst, extra, timeout):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    cmd = [vigil, "convert", src, "-o", dst] + extra
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{' '.join(cmd)}: {e}"
    if p.returncode != 0:
        msg = (p.stderr or p.stdout).strip().splitlines()
        return f"exit {p.returncode}: {msg[-1] if msg else ''}"
    if not os.path.isfile(dst):
        return f"{dst} was not written"
    return None


def check_one(res, vigil, fixtures, entry, tmp, timeout):
    name = entry["name"]
    src = os.path.join(fixtures, entry["path"])
    model_dir = os.path.dirname(src)
    tol = entry.get("tolerance", {})
    atol, rtol = float(tol.get("atol", 1e-5)), float(tol.get("rtol", 1e-4))
    inputs, outputs = load_test_data(model_dir)
    quantized = any(op in entry.get("op_histogram", {}) for op in ("QuantizeLinear", "DequantizeLinear"))

    for variant, extra, override in VARIANTS:
        v_atol, v_rtol = override if override else (atol, rtol)
        label = f"{name} [{variant}]"
        dst = os.path.join(tmp, name, variant, "model.onnx")
        err = run_vigil(vigil, src, dst, extra, timeout)
        if not res.record(err is None, f"{label} vigil convert", err or ""):
            continue

        try:
            written = onnx.load(dst, load_external_data=False)
            ext_files = sorted({kv.value for t in written.graph.initializer for kv in t.external_data
                                if kv.key == "location"})
        except Exception as e:  # noqa: BLE001
            res.record(False, f"{label} onnx.load", str(e).splitlines()[0] if str(e) else repr(e))
            continue
        detail = f"external data: {', '.join(ext_files)}" if ext_files else "no external data"

        try:
            onnx.checker.check_model(dst, full_check=True)
            res.record(True, f"{label} onnx.checker", detail)
        except Exception as e:  # noqa: BLE001
            res.record(False, f"{label} onnx.checker", str(e).strip().splitlines()[0] if str(e) else repr(e))

        try:
            so = ort.SessionOptions()
            so.log_severity_level = 3
            if quantized:
                # onnxruntime fuses Q/DQ pairs into int8 kernels whose results depend on the CPU: on AVX2
                # without VNNI its u8s8 products saturate in 16 bits (vpmaddubsw), so the recorded
                # reference (computed exactly) is missed by one quantization step or more (qdq_patterns on
                # a Zen 3: 10 outputs off by 0.82). Unfused, it computes the Q/DQ graph as the spec says.
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            sess = ort.InferenceSession(dst, so, providers=["CPUExecutionProvider"])
            feeds = {n: a for n, a in inputs}
            out_names = [n for n, _ in outputs]
            got = sess.run(out_names, feeds)
        except Exception as e:  # noqa: BLE001
            res.record(False, f"{label} onnxruntime", str(e).strip().splitlines()[0] if str(e) else repr(e))
            continue
        errors = [e for e in (compare(n, g, w, v_atol, v_rtol) for (n, w), g in zip(outputs, got)) if e]
        res.record(not errors, f"{label} onnxruntime outputs",
                   "; ".join(errors) if errors else f"{len(outputs)} output(s) match (atol={v_atol:g}, rtol={v_rtol:g})")


KERAS_FIXTURES = os.path.join(ROOT, "Fixtures", "keras")
# (label, model file, extra convert arguments relative to the fixture folder)
KERAS_LAYOUTS = [
    ("h5", "model.h5", []),
    ("keras", "model.keras", []),
    ("weights+config", "model.weights.h5", ["--config", "config.json"]),
    ("h5 optimized", "model.h5", ["--optimize"]),
]


def check_keras(res, vigil, tmp, timeout, only=None):
    """Keras fixtures converted by `vigil convert` must reproduce Keras's recorded outputs in onnxruntime."""
    with open(os.path.join(KERAS_FIXTURES, "manifest.json")) as fh:
        manifest = json.load(fh)
    for name, facts in sorted(manifest.items()):
        if name.startswith("_") or (only and name not in only):
            continue
        folder = os.path.join(KERAS_FIXTURES, name)
        feeds = {n: np.load(os.path.join(folder, f"input_{i}.npy")) for i, n in enumerate(facts["inputs"])}
        expected = [np.load(os.path.join(folder, f"output_{i}.npy")) for i in range(facts["outputs"])]
        for label, file, extra in KERAS_LAYOUTS:
            src = os.path.join(folder, file)
            if not os.path.isfile(src):
                continue
            extra = [os.path.join(folder, a) if a.endswith(".json") else a for a in extra]
            dst = os.path.join(tmp, "keras", name, label.replace(" ", "_"), "model.onnx")
            err = run_vigil(vigil, src, dst, extra, timeout)
            tag = f"keras {name} [{label}]"
            if not res.record(err is None, f"{tag} vigil convert", err or ""):
                continue
            try:
                so = ort.SessionOptions()
                so.log_severity_level = 3
                sess = ort.InferenceSession(dst, so, providers=["CPUExecutionProvider"])
                got = sess.run([o.name for o in sess.get_outputs()], feeds)
            except Exception as e:  # noqa: BLE001
                res.record(False, f"{tag} onnxruntime", str(e).strip().splitlines()[0] if str(e) else repr(e))
                continue
            errors = [e for e in (compare(f"output_{i}", g, w, 1e-5, 1e-4) for i, (g, w) in enumerate(zip(got, expected))) if e]
            if len(got) != len(expected):
                errors.append(f"{len(got)} outputs, Keras has {len(expected)}")
            res.record(not errors, f"{tag} onnxruntime outputs vs Keras",
                       "; ".join(errors) if errors else f"{len(expected)} output(s) match (atol=1e-05, rtol=0.0001)")


DETECTOR_FIXTURES = os.path.join(ROOT, "Fixtures", "detector")


def check_detector(res, vigil, tmp, timeout):
    """`vigil detect export` appends the class-mean distance score to the embedding network as
    standard ONNX ops, with the detector's preprocessing in front; onnxruntime, fed the same image
    file, must compute the same scores as `vigil detect score`."""
    d, out = DETECTOR_FIXTURES, os.path.join(tmp, "detector")
    os.makedirs(out, exist_ok=True)
    detector, exported, scores = (os.path.join(out, n) for n in ("detector.h5", "scored.onnx", "scores.npy"))
    model = os.path.join(d, "embedding.onnx")
    steps = [
        ["detect", "fit", model, "--data", os.path.join(d, "train_images.npy"), "--labels",
         os.path.join(d, "train_labels.npy"), "-o", detector],
        ["detect", "export", detector, model, "-o", exported],
        ["detect", "score", detector, model, "--data", os.path.join(d, "test_images.npy"), "-o", scores],
    ]
    for args in steps:
        try:
            p = subprocess.run([vigil] + args, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            res.record(False, f"detector vigil {args[1]}", str(e))
            return
        if not res.record(p.returncode == 0, f"detector vigil {args[1]}", (p.stderr or "").strip()[-300:]):
            return
    try:
        onnx.checker.check_model(exported, full_check=True)
        res.record(True, "detector export onnx.checker")
    except Exception as e:  # noqa: BLE001
        res.record(False, "detector export onnx.checker", str(e).strip().splitlines()[0])
    # The exported model takes what `vigil detect score` takes: the uint8 images as stored, [N, 28, 28];
    # its own Cast, Mul(1/255) and Reshape do the preprocessing recorded in the detector.
    images = np.load(os.path.join(d, "test_images.npy"))
    sess = ort.InferenceSession(exported, providers=["CPUExecutionProvider"])
    feed_name = sess.get_inputs()[0].name
    if sess.get_inputs()[0].type != "tensor(uint8)" or list(sess.get_inputs()[0].shape[1:]) != list(images.shape[1:]):
        res.record(False, "detector export input", f"{sess.get_inputs()[0].type} {sess.get_inputs()[0].shape}, "
                   f"vigil detect score takes uint8 {list(images.shape)}")
        return
    got = sess.run(["ood_score"], {feed_name: images})[0].astype(np.float64)
    want = np.load(scores).astype(np.float64)
    # Convolutions in the two runtimes differ by about 1e-6, which moves small squared distances
    # by more than 1e-5 relative; hence the absolute term.
    err = compare("ood_score", got, want, 1e-4, 1e-5)
    res.record(err is None, "detector export onnxruntime ood_score vs vigil detect score",
               err or f"{want.size} scores match (atol=1e-4, rtol=1e-5)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", required=True, help="path to the vigil CLI binary")
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES, help="directory with manifest.json")
    ap.add_argument("--only", action="append", metavar="NAME", help="check only this model (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory with converted models")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per vigil invocation")
    args = ap.parse_args()

    vigil = os.path.abspath(args.vigil) if os.path.sep in args.vigil else (shutil.which(args.vigil) or args.vigil)
    if not (os.path.isfile(vigil) and os.access(vigil, os.X_OK)):
        print(f"error: vigil binary not found or not executable: {args.vigil}", file=sys.stderr)
        return 2
    with open(os.path.join(args.fixtures, "manifest.json")) as fh:
        models = json.load(fh)["models"]
    selected = [m for m in models if m.get("has_reference")]
    if args.only:
        unknown = set(args.only) - {m["name"] for m in models} - set(json.load(open(os.path.join(KERAS_FIXTURES, "manifest.json"))))
        if unknown:
            print(f"error: unknown model(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        for n in args.only:
            m = next(m for m in models if m["name"] == n)
            if not m.get("has_reference"):
                print(f"note: {n} has no reference data; skipped", file=sys.stderr)
        selected = [m for m in selected if m["name"] in args.only]

    print(f"vigil: {vigil}")
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}; "
          f"{len(selected)} model(s)")
    res = Results()
    tmp = tempfile.mkdtemp(prefix="vigil-ort-interop-")
    try:
        for entry in selected:
            check_one(res, vigil, args.fixtures, entry, tmp, args.timeout)
        check_keras(res, vigil, tmp, args.timeout, only=args.only)
        if not args.only:
            check_detector(res, vigil, tmp, args.timeout)
    finally:
        if args.keep:
            print(f"converted models kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed or res.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
