#!/usr/bin/env python3
"""Today's models against the Vigil CLI: the torchvision zoo (both exporters), the newest-opset node
tests and the model saved with the newest onnx defaults. Runs in the virtualenv pinned by
Fixtures/zoo/requirements-interop.txt (numpy, onnx, onnxruntime); see scripts/zoo-interop.sh.

Zoo (Fixtures/zoo/manifest.json), for every model and exporter:
  materialise  graph.onnx + weights.npz -> model.onnx (Fixtures/zoo/zoo_weights.py, numpy only; cached
               in .cache/zoo/); a model committed whole must come out byte-identical
  reference    onnxruntime (CPU, 1 thread) on seeded N(0, 1) images at batch 1 and 2
  inspect      `vigil inspect --json`: parameter and initializer counts equal onnx's
  check        `vigil check --json`: 0 errors
  parity       `vigil parity` at batch 2 against onnxruntime's outputs at the same tolerance
  run          `vigil run` at batch 1 and 2, --threads 1 and 2, with and without --no-optimize:
               |vigil - ort| <= atol + rtol |ort| with atol 1e-4, rtol 1e-3 (the manifest's tolerance)
  optimize     `vigil optimize` -> `vigil run` of the written file (batch 2) and onnxruntime on it
  convert      `vigil convert` -> onnxruntime loads the written file, same outputs
Node tests (Fixtures/onnx-node-new/node/*): `vigil check`, then `vigil run --no-optimize` (optimized
  for graphs with an `If`, which Vigil runs once its constant condition is folded) vs the recorded
  outputs at the ONNX backend tolerance (atol 1e-7, rtol 1e-3; float16 outputs atol 1e-3).
Newest defaults (Fixtures/onnx-node-new/newest_defaults): inspect (IR and opset as saved), check, run.

Float32 noise: two float32 implementations that sum in a different order differ by rounding noise,
which in deep networks reaches atol 1e-4 on a few logits. When an output is out of tolerance of
onnxruntime's, the check evaluates the same model in float64 (scripts/onnx_float64.py, cached) and
passes it as PASS64 if it is within the same tolerance (atol 1e-4, rtol 1e-3) of the float64 result,
printing Vigil's and onnxruntime's distances to it; otherwise it fails, labelled "noise-limited" when
Vigil's largest distance from the float64 result is at most NOISE_FACTOR (2) times the float32
reference's own.

Every check prints one PASS/PASS64/FAIL line. Failures listed in Fixtures/zoo/expected_failures.json (the
worklist of Fixtures/zoo/STATUS.md), failing for the cause recorded there (scripts/zoo_status.py's
cause_of), are reported as XFAIL and do not fail the step unless --strict;
an expected failure that passes is reported as XPASS (remove it from the list). Exit 1 on any
unexpected failure. --json FILE writes every result (used to write STATUS.md).

    python scripts/zoo_interop.py --vigil .build/release/vigil [--only NAME ...] [--section zoo|node|defaults] [--strict]
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, "Fixtures", "zoo")
NODE = os.path.join(ROOT, "Fixtures", "onnx-node-new")
sys.path.insert(0, ZOO)
import zoo_weights  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import onnx_float64  # noqa: E402
from zoo_status import cause_of  # noqa: E402

INPUT_SHAPE = (3, 224, 224)


class Results:
    def __init__(self, expected, strict):
        self.expected, self.strict = expected, strict
        self.records = []
        self.counts = {"PASS": 0, "PASS64": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0}

    def record(self, key, ok, detail="", float64=False):
        """key: "<subject> <check>", e.g. "resnet18/dynamo run b2 t1 opt". float64: ok only against the
        float64 reference (the float32 reference's own rounding error exceeds the tolerance)."""
        expected = key in self.expected
        if not ok and expected and cause_of(detail) != self.expected[key]:  # an expected failure for another cause fails
            detail += f" [expected to fail only for: {self.expected[key]}]"
            expected = False
        status = ("XPASS" if expected else "PASS64" if float64 else "PASS") if ok else ("XFAIL" if expected and not self.strict else "FAIL")
        self.counts[status] += 1
        self.records.append({"key": key, "status": status, "detail": detail})
        print(f"{status} {key}" + (f": {detail}" if detail else ""), flush=True)
        return ok


def last_line(text):
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def vigil(binary, args, timeout):
    """(ok, stdout, one-line error)."""
    try:
        p = subprocess.run([binary] + args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "", f"timed out after {timeout:.0f} s"
    if p.returncode != 0:
        return False, p.stdout, f"exit {p.returncode}: {last_line(p.stderr) or last_line(p.stdout)}"
    return True, p.stdout, ""


def compare(got, want, atol, rtol):
    """None when |got - want| <= atol + rtol |want| everywhere, else a description with the numbers."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, expected {list(want.shape)}"
    if want.dtype.kind in "iub" or got.dtype.kind in "iub":
        if got.dtype != want.dtype:
            return f"dtype {got.dtype}, expected {want.dtype}"
        return None if np.array_equal(got, want) else f"{int(np.sum(got != want))} of {want.size} values differ"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, expected {want.dtype}"
    g, w = got.astype(np.float64), want.astype(np.float64)
    diff = np.abs(g - w)
    bad = ~((diff <= atol + rtol * np.abs(w)) | (np.isnan(g) & np.isnan(w)) | (g == w))
    if not bad.any():
        return None
    rel = diff / np.maximum(np.abs(w), 1e-30)
    return (f"{int(bad.sum())} of {w.size} out of tolerance (atol {atol:g}, rtol {rtol:g}): "
            f"max abs {np.nanmax(diff):.3g}, max rel {np.nanmax(rel):.3g}")


def error_stats(got, want):
    g, w = np.asarray(got, np.float64), np.asarray(want, np.float64)
    diff = np.abs(g - w)
    return float(np.nanmax(diff)), float(np.nanmax(diff / np.maximum(np.abs(w), 1e-30)))


# An output out of tolerance of both references whose largest distance from the float64 result is at
# most this multiple of the float32 reference's own is labelled noise-limited (it still fails).
NOISE_FACTOR = 2.0


def judge(got, want, atol, rtol, exact=None):
    """(ok, detail, float64) for an output against the float32 reference `want`. When it is out of
    tolerance and `exact()` gives the float64 reference of the same graph and weights (or None), the
    output passes if it is within the same tolerance of the float64 reference, i.e. the difference is
    the float32 reference's own rounding error; the detail then gives all three distances."""
    if got is None:
        return False, "no output", False
    problem = compare(got, want, atol, rtol)
    if problem is None:
        return True, "max abs %.3g, max rel %.3g" % error_stats(got, want), False
    reference = exact() if exact else None
    if reference is None:
        return False, problem, False
    vs_exact = compare(np.asarray(got, np.float64), reference, atol, rtol)
    mine, own = error_stats(got, reference), error_stats(want, reference)
    numbers = ("vs float32 reference: %s; vs float64 reference: max abs %.3g, max rel %.3g; "
               "float32 reference vs float64: max abs %.3g, max rel %.3g" % ((problem,) + mine + own))
    if vs_exact is not None:  # still a failure; say whether it is of the size of the reference's own error
        ratio = mine[0] / max(own[0], 1e-30)
        numbers += ("; noise-limited: Vigil's largest error from float64 is %.2gx the float32 reference's own" % ratio
                    if ratio <= NOISE_FACTOR else "; %.2gx the float32 reference's own error, more than noise" % ratio)
    return vs_exact is None, numbers, vs_exact is None


def ort_session(path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def read_npz(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


# --------------------------------------------------------------------------- zoo


def digest(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


def seeded_inputs(seed, batch):
    return np.random.default_rng([seed, batch]).standard_normal((batch,) + INPUT_SHAPE, dtype=np.float32)


def materialise(entry, cache):
    """Writes cache/<name>/model.onnx and the references unless up to date; returns the folder."""
    graph, weights = os.path.join(ZOO, entry["graph"]), os.path.join(ZOO, entry["weights"])
    folder = os.path.join(cache, entry["name"])
    stamp = os.path.join(folder, "stamp")
    key = digest(graph, weights) + f" ort {ort.__version__}"
    if os.path.exists(stamp) and open(stamp).read() == key:
        return folder, False
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    zoo_weights.materialise_file(graph, weights, path)
    session = ort_session(path)
    out_name = session.get_outputs()[0].name
    for batch in (1, 2):
        x = seeded_inputs(entry["seed"], batch)
        np.save(os.path.join(folder, f"input_b{batch}.npy"), x)
        np.save(os.path.join(folder, f"ort_b{batch}.npy"), session.run([out_name], {"input": x})[0])
    with open(stamp, "w") as fh:
        fh.write(key)
    return folder, True


def float64_reference(folder, batch):
    """A function giving the float64 evaluation of cache/<name>/model.onnx on the batch's input
    (scripts/onnx_float64.py; slow, so computed on demand and cached next to the model)."""
    def compute():
        path = os.path.join(folder, f"float64_b{batch}.npy")
        try:
            return np.load(path) if os.path.exists(path) else evaluate(path)
        except Exception as e:  # noqa: BLE001  (an op onnx.reference lacks): no float64 judgement
            print(f"     (no float64 reference of {os.path.relpath(folder)}: {last_line(str(e))})", flush=True)
            return None

    def evaluate(path):
        started = time.time()
        y = onnx_float64.evaluate(os.path.join(folder, "model.onnx"), np.load(os.path.join(folder, f"input_b{batch}.npy")))
        np.save(path, y)
        print(f"     (float64 reference of {os.path.relpath(folder)} at batch {batch}: {time.time() - started:.0f} s)", flush=True)
        return y
    return compute


def check_committed(res, entry, model, x, want):
    """A model committed whole: the materialiser writes it byte for byte, and its committed references
    (what `swift test` uses) agree with today's onnxruntime run."""
    name = entry["name"]
    same = digest(os.path.join(ZOO, entry["path"])) == digest(model)
    res.record(f"{name} materialise", same, "byte-identical to the committed model.onnx" if same
               else "differs from the committed model.onnx")
    problems = []
    for index, batch in enumerate((1, 2)):
        data = os.path.join(ZOO, os.path.dirname(entry["path"]), f"test_data_set_{index}")
        _, committed_x = load_pb(os.path.join(data, "input_0.pb"))
        _, committed_y = load_pb(os.path.join(data, "output_0.pb"))
        if not np.array_equal(committed_x, np.load(x[batch])):
            problems.append(f"test_data_set_{index} input differs from the seeded input")
        elif compare(committed_y, want[batch], 1e-6, 1e-6):
            problems.append(f"test_data_set_{index}: {compare(committed_y, want[batch], 1e-6, 1e-6)}")
    res.record(f"{name} references", not problems, "; ".join(problems) or "committed test data = onnxruntime today")


def check_zoo_model(res, binary, entry, cache, tmp, timeout):
    name = entry["name"]
    tol = entry["tolerance"]
    atol, rtol = tol["atol"], tol["rtol"]
    started = time.time()
    folder, fresh = materialise(entry, cache)
    model = os.path.join(folder, "model.onnx")
    x = {b: os.path.join(folder, f"input_b{b}.npy") for b in (1, 2)}
    want = {b: np.load(os.path.join(folder, f"ort_b{b}.npy")) for b in (1, 2)}
    if entry.get("path"):
        check_committed(res, entry, model, x, want)
    out_name = entry["outputs"][0]["name"]

    ok, out, err = vigil(binary, ["inspect", "--json", model], timeout)
    if ok:
        facts = json.loads(out)
        problems = [f"{k} {facts.get(k)} != onnx's {entry[k]}" for k in ("parameter_count", "initializer_count")
                    if facts.get(k) != entry[k]]
        res.record(f"{name} inspect", not problems, "; ".join(problems) or f"{entry['parameter_count']} parameters")
    else:
        res.record(f"{name} inspect", False, err)

    res.record(f"{name} check", *check_report(binary, model, timeout))

    for batch in (1, 2):
        for threads in (1, 2):
            for optimize in (True, False):
                tag = f"run b{batch} t{threads} {'opt' if optimize else 'noopt'}"
                dst = os.path.join(tmp, f"{name.replace('/', '_')}_{batch}_{threads}_{optimize}.npz")
                args = ["run", model, "--input", f"input={x[batch]}", "-o", dst, "--threads", str(threads)]
                ok, _, err = vigil(binary, args + ([] if optimize else ["--no-optimize"]), timeout)
                if not ok:
                    res.record(f"{name} {tag}", False, err)
                    continue
                ok, detail, wide = judge(read_npz(dst).get(out_name), want[batch], atol, rtol, float64_reference(folder, batch))
                res.record(f"{name} {tag}", ok, detail, wide)

    parity_check(res, f"{name} parity", binary, model, [f"input={x[2]}"], want[2], out_name, tol,
                 float64_reference(folder, 2), tmp, timeout)

    optimized = os.path.join(tmp, name.replace("/", "_") + ".opt.onnx")
    ok, out, err = vigil(binary, ["optimize", model, "-o", optimized, "--json"], timeout)
    if ok:
        try:
            report = json.loads(out)
            err = f"nodes {report['before']['nodes']} -> {report['after']['nodes']}"
        except (json.JSONDecodeError, KeyError):
            err = ""
    if res.record(f"{name} optimize", ok, err):
        dst = optimized + ".npz"
        ok, _, err = vigil(binary, ["run", optimized, "--input", f"input={x[2]}", "-o", dst, "--threads", "2"], timeout)
        if ok:
            ok, detail, wide = judge(read_npz(dst).get(out_name), want[2], atol, rtol, float64_reference(folder, 2))
            res.record(f"{name} optimize+run", ok, detail, wide)
        else:
            res.record(f"{name} optimize+run", False, err)
        ort_check(res, f"{name} optimize+ort", optimized, x[2], want[2], atol, rtol, float64_reference(folder, 2))

    converted = os.path.join(tmp, name.replace("/", "_") + ".conv.onnx")
    ok, _, err = vigil(binary, ["convert", model, "-o", converted], timeout)
    if res.record(f"{name} convert", ok, err):
        ort_check(res, f"{name} convert+ort", converted, x[2], want[2], atol, rtol, float64_reference(folder, 2))
    for p in glob.glob(os.path.join(tmp, name.replace("/", "_") + "*")):
        os.remove(p)
    return time.time() - started, fresh


def parity_check(res, key, binary, model, inputs, want, out_name, tol, exact, tmp, timeout):
    """`vigil parity` of the model at batch 2 against the reference outputs (an .npz keyed by output
    name) at the tolerance; when it reports a mismatch and `exact` gives the float64 reference, against
    that (PASS64), labelled like `judge` when it fails both."""
    def parity(reference):
        path = os.path.join(tmp, "parity_reference.npz")
        np.savez(path, **{out_name: reference})
        args = ["parity", model, "--reference", path, "--atol", str(tol["atol"]), "--rtol", str(tol["rtol"]), "--threads", "2"]
        for item in inputs:
            args += ["--input", item]
        ok, out, err = vigil(binary, args, timeout)
        os.remove(path)
        # the output's row: name, [shape], max abs, max rel, mean abs, mismatches, result
        pattern = r"^\s*" + re.escape(out_name) + r"\s+\[[^\]]*\]\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)"
        row = next((m for m in (re.match(pattern, line) for line in out.splitlines()) if m), None)
        if row is None:  # not a comparison: an error
            return ok, last_line(out) if ok else err, None
        return ok, f"{last_line(out)} (max abs {row[1]}, max rel {row[2]}, {row[3]} mismatches)", float(row[1])
    ok, detail, mismatch = parity(want)
    reference = exact() if exact and not ok and mismatch is not None else None
    if ok or reference is None:
        res.record(key, ok, detail)
        return
    wide_ok, wide_detail, mine = parity(np.asarray(reference, np.float32))
    detail = f"vs float32 reference: {detail}; vs float64 reference: {wide_detail}"
    if not wide_ok and mine is not None:
        ratio = mine / max(error_stats(want, reference)[0], 1e-30)
        detail += ("; noise-limited: Vigil's largest error from float64 is %.2gx the float32 reference's own" % ratio
                   if ratio <= NOISE_FACTOR else "; %.2gx the float32 reference's own error, more than noise" % ratio)
    res.record(key, wide_ok, detail, wide_ok)


def check_report(binary, model, timeout):
    """(ok, detail) of `vigil check --json`: ok when it reports 0 errors; detail names the first ones."""
    ok, out, err = vigil(binary, ["check", "--json", model], timeout)
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        return False, err or "unreadable JSON"
    errors = [d for d in report.get("diagnostics", []) if d.get("severity") == "error"]
    detail = "; ".join(f"{d.get('code')} {d.get('message')}" + (f" [{d['location'].get('node')}]" if d.get("location", {}).get("node") else "")
                       for d in errors[:3])
    if len(errors) > 3:
        detail += f"; ... {len(errors)} errors"
    return report.get("errors", 1) == 0, detail or f"0 errors, {report.get('warnings')} warnings"


def downgraded(model, tmp, ir_version):
    """Diagnostics only (--downgrade-ir): a copy of the model claiming an older IR version, to see what
    fails once the IR version itself is accepted."""
    m = onnx.load(model, load_external_data=False)
    if m.ir_version <= ir_version:
        return model
    m.ir_version = ir_version
    path = os.path.join(tmp, "downgraded", os.path.basename(os.path.dirname(model)) + ".onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(m, path)
    return path


def ort_check(res, key, path, x_path, want, atol, rtol, exact=None):
    try:
        session = ort_session(path)
        got = session.run(None, {session.get_inputs()[0].name: np.load(x_path)})[0]
    except Exception as e:  # noqa: BLE001
        res.record(key, False, last_line(str(e)))
        return
    ok, detail, wide = judge(got, want, atol, rtol, exact)
    res.record(key, ok, detail, wide)


# --------------------------------------------------------------------------- node tests


def load_pb(path):
    t = onnx.load_tensor(path)
    return t.name, numpy_helper.to_array(t)


def check_node_test(res, binary, folder, tmp, timeout, downgrade=None):
    test = os.path.basename(folder)
    model = os.path.join(folder, "model.onnx")
    if downgrade:
        model = downgraded(model, tmp, downgrade)
    data = os.path.join(folder, "test_data_set_0")
    res.record(f"{test} check", *check_report(binary, model, timeout))
    inputs = sorted(glob.glob(os.path.join(data, "input_*.pb")), key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
    outputs = sorted(glob.glob(os.path.join(data, "output_*.pb")), key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
    dst = os.path.join(tmp, test + ".npz")
    # Vigil runs `If` only once the optimizer has folded its constant condition: those tests run optimized.
    folded = any(n.op_type == "If" for n in onnx.load(model, load_external_data=False).graph.node)
    args = ["run", model, "-o", dst, "--threads", "1"] + ([] if folded else ["--no-optimize"])
    for p in inputs:
        args += ["--input", f"{load_pb(p)[0]}={p}"]
    ok, _, err = vigil(binary, args, timeout)
    if not ok:
        res.record(f"{test} run", False, err)
        return
    try:
        got = read_npz(dst)
    except Exception as e:  # noqa: BLE001  (e.g. a dtype numpy cannot read)
        res.record(f"{test} run", False, f"cannot read vigil's outputs: {last_line(str(e))}")
        return
    problems = []
    for p in outputs:
        name, want = load_pb(p)
        if name not in got:
            problems.append(f"no output {name}")
            continue
        atol = 1e-3 if want.dtype == np.float16 else 1e-7
        problem = compare(got[name], want, atol, 1e-3)
        if problem:
            problems.append(f"{name}: {problem}")
    res.record(f"{test} run", not problems, "; ".join(problems))
    os.remove(dst)


def check_newest_defaults(res, binary, tmp, timeout, downgrade=None):
    with open(os.path.join(NODE, "manifest.json")) as fh:
        facts = json.load(fh)["newest_defaults"]
    model = os.path.join(NODE, facts["path"])
    if downgrade:
        model = downgraded(model, tmp, downgrade)
        facts = {**facts, "ir_version": downgrade}
    ok, out, err = vigil(binary, ["inspect", "--json", model], timeout)
    if ok:
        got = json.loads(out)
        same = got.get("ir_version") == facts["ir_version"] and got.get("opsets") == facts["opsets"]
        res.record("newest_defaults inspect", same, f"IR {got.get('ir_version')}, opsets {got.get('opsets')}")
    else:
        res.record("newest_defaults inspect", False, err)
    res.record("newest_defaults check", *check_report(binary, model, timeout))
    data = os.path.join(NODE, "newest_defaults", "test_data_set_0")
    name, _ = load_pb(os.path.join(data, "input_0.pb"))
    dst = os.path.join(tmp, "newest_defaults.npz")
    ok, _, err = vigil(binary, ["run", model, "--input", f"{name}={os.path.join(data, 'input_0.pb')}", "-o", dst], timeout)
    if not ok:
        res.record("newest_defaults run", False, err)
        return
    out_name, want = load_pb(os.path.join(data, "output_0.pb"))
    got = read_npz(dst).get(out_name)
    problem = compare(got, want, facts["tolerance"]["atol"], facts["tolerance"]["rtol"]) if got is not None else "no output"
    res.record("newest_defaults run", problem is None, problem or "")


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--only", action="append", metavar="NAME", help="zoo architecture or node test (repeatable)")
    ap.add_argument("--section", action="append", choices=["zoo", "node", "defaults"])
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "zoo"))
    ap.add_argument("--strict", action="store_true", help="expected failures fail too")
    ap.add_argument("--json", metavar="FILE", help="write every result here")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--downgrade-ir", type=int, metavar="N",
                    help="diagnostics: run node tests and the defaults model as copies claiming IR version N")
    args = ap.parse_args()
    binary = os.path.abspath(args.vigil)
    if not os.access(binary, os.X_OK):
        print(f"error: vigil binary not found or not executable: {args.vigil}", file=sys.stderr)
        return 2
    with open(os.path.join(ZOO, "expected_failures.json")) as fh:
        expected = json.load(fh)["failures"]
    sections = args.section or ["zoo", "node", "defaults"]
    res = Results(expected, args.strict)
    timings = {}
    print(f"vigil: {binary}\nonnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}")
    tmp = tempfile.mkdtemp(prefix="vigil-zoo-")
    try:
        if "zoo" in sections:
            with open(os.path.join(ZOO, "manifest.json")) as fh:
                models = json.load(fh)["models"]
            started = time.time()
            for entry in models:
                if args.only and entry["architecture"] not in args.only and entry["name"] not in args.only:
                    continue
                seconds, fresh = check_zoo_model(res, binary, entry, args.cache, tmp, args.timeout)
                timings[entry["name"]] = round(seconds, 1)
                print(f"---- {entry['name']}: {seconds:.0f} s{' (materialised)' if fresh else ''}", flush=True)
            timings["zoo total"] = round(time.time() - started, 1)
        if "node" in sections:
            started = time.time()
            for folder in sorted(glob.glob(os.path.join(NODE, "node", "test_*"))):
                if args.only and os.path.basename(folder) not in args.only:
                    continue
                check_node_test(res, binary, folder, tmp, args.timeout, args.downgrade_ir)
            timings["node tests"] = round(time.time() - started, 1)
        if "defaults" in sections and not args.only:
            check_newest_defaults(res, binary, tmp, args.timeout, args.downgrade_ir)
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
