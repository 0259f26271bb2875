#!/usr/bin/env python3
"""Load benchmark: onnx.load (Python) vs `vigil inspect --json` on a ~500 MB ONNX model.

    python bench/load_bench.py --vigil .build/release/vigil [--runs 3] [--size-mb 500] [--json out.json]

The model (an MLP of large float32 MatMul weights with random data, initializers in raw_data)
is generated once and cached in .cache/bench/ in two variants:

  big.onnx                          everything in one protobuf file
  big_ext/model.onnx + weights.bin  all initializers in one external data file

Measurements (every run is a fresh process; warm page cache — the files are read once first):

  onnx.load   a fresh Python child times only the onnx.load(path, load_external_data=True) call
              (interpreter start-up and `import onnx` excluded) and reports its own peak RSS
              (getrusage(RUSAGE_SELF).ru_maxrss, KiB).
  vigil       `<vigil> inspect <model> --json`; load time is the "load_seconds" key of its JSON
              output. Peak RSS comes from a dedicated helper process whose only child is vigil:
              the helper's getrusage(RUSAGE_CHILDREN).ru_maxrss is then exactly vigil's peak
              (RUSAGE_CHILDREN is a max over all waited-for children, so it must not be read
              in a process that has run other children). Floor: a few MB, the helper's own
              RSS. The onnx.load child is started through the same helper, because a
              process inherits the peak RSS of the (possibly large) process it was forked from.

Times are the median over --runs runs; peak RSS is the maximum over runs. MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CACHE = os.path.join(ROOT, ".cache", "bench")
MB = 1_000_000

ONNX_CHILD = r"""
import json, resource, sys, time
import onnx
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
m = onnx.load(sys.argv[1], load_external_data=True)
t1 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = sum(len(t.raw_data) for t in m.graph.initializer)
print(json.dumps({"seconds": t1 - t0, "maxrss_kib": peak, "baseline_kib": base, "raw_bytes": n}))
"""

# Runs argv[1:] as its only child; reports the child's peak RSS via RUSAGE_CHILDREN.
RSS_HELPER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "returncode": p.returncode,
    "stdout": p.stdout.decode("utf-8", "replace"),
    "stderr": p.stderr.decode("utf-8", "replace")[-4000:],
    "wall_seconds": wall,
    "maxrss_kib": ru.ru_maxrss,
    "helper_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


# --------------------------------------------------------------------------- model generation


def generate(cache_dir: str, size_mb: int, seed: int = 20240601) -> dict:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden = 4608  # 6 layers of 4608x4608 float32 ~= 510 MB for the default 500 MB
    layer_bytes = hidden * hidden * 4
    layers = max(1, round(size_mb * MB / layer_bytes))
    params = {"hidden": hidden, "layers": layers, "seed": seed, "onnx": onnx.__version__, "format": 1}
    big = os.path.join(cache_dir, "big.onnx")
    ext_dir = os.path.join(cache_dir, "big_ext")
    stamp = os.path.join(cache_dir, "params.json")
    if (os.path.isfile(big) and os.path.isfile(os.path.join(ext_dir, "model.onnx"))
            and os.path.isfile(os.path.join(ext_dir, "weights.bin")) and os.path.isfile(stamp)):
        with open(stamp) as fh:
            if json.load(fh) == params:
                return params
    os.makedirs(cache_dir, exist_ok=True)
    print(f"generating {layers} x [{hidden},{hidden}] float32 MLP (~{layers * layer_bytes / MB:.0f} MB) "
          f"in {cache_dir} ...", file=sys.stderr, flush=True)
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    x = "X"
    for i in range(layers):
        w = rng.standard_normal((hidden, hidden), dtype=np.float32)
        w *= np.float32(1.0 / np.sqrt(hidden))
        inits.append(numpy_helper.from_array(w, name=f"W{i}"))
        del w
        inits.append(numpy_helper.from_array(rng.standard_normal(hidden, dtype=np.float32) * 0.1, name=f"B{i}"))
        nodes.append(helper.make_node("MatMul", [x, f"W{i}"], [f"mm{i}"], name=f"matmul{i}"))
        y = "Y" if i == layers - 1 else f"h{i}"
        nodes.append(helper.make_node("Add", [f"mm{i}", f"B{i}"], [f"a{i}"], name=f"add{i}"))
        nodes.append(helper.make_node("Relu", [f"a{i}"], [y], name=f"relu{i}"))
        x = y
    graph = helper.make_graph(
        nodes, "load_bench_mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, hidden])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, hidden])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="vigil-bench", producer_version="1.0")
    model.ir_version = 10

    tmp_big = big + ".tmp"
    onnx.save_model(model, tmp_big)
    os.replace(tmp_big, big)

    tmp_ext = ext_dir + ".tmp"
    shutil.rmtree(tmp_ext, ignore_errors=True)
    os.makedirs(tmp_ext)
    # Note: this converts `model` in place (raw_data moved out), so it must come after big.onnx.
    onnx.save_model(model, os.path.join(tmp_ext, "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=1024)
    shutil.rmtree(ext_dir, ignore_errors=True)
    os.replace(tmp_ext, ext_dir)
    with open(stamp, "w") as fh:
        json.dump(params, fh)
    return params


# --------------------------------------------------------------------------- measurements


def files_of(variant_path: str) -> list[str]:
    if os.path.basename(os.path.dirname(variant_path)) == "big_ext":
        d = os.path.dirname(variant_path)
        return [variant_path, os.path.join(d, "weights.bin")]
    return [variant_path]


def warm_cache(paths):
    for p in paths:
        with open(p, "rb", buffering=0) as fh:
            while fh.read(16 << 20):
                pass


def run_json(cmd) -> dict:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def measure_onnx(path: str, runs: int) -> dict:
    # The onnx.load child is also started through the RSS helper: on Linux a process inherits the
    # peak RSS of the process it was forked from (the pre-exec mm's high-water mark is folded into
    # ru_maxrss at exec), so it must be forked from a small, fresh process, never from this one.
    res = []
    for _ in range(runs):
        h = run_json([sys.executable, "-c", RSS_HELPER, sys.executable, "-c", ONNX_CHILD, path])
        if h["returncode"] != 0:
            raise RuntimeError(f"onnx.load child exited {h['returncode']}: {h['stderr'].strip()[-2000:]}")
        r = json.loads(h["stdout"].strip().splitlines()[-1])
        res.append(r)
    return {
        "seconds": statistics.median(r["seconds"] for r in res),
        "all_seconds": [r["seconds"] for r in res],
        "peak_rss_bytes": max(r["maxrss_kib"] for r in res) * 1024,
        "baseline_rss_bytes": max(r["baseline_kib"] for r in res) * 1024,
    }


def find_key(obj, key):
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = find_key(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_key(v, key)
            if r is not None:
                return r
    return None


def parse_vigil_json(text: str) -> dict:
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start = text.find("{")
        if start < 0:
            raise
        return json.loads(text[start:text.rfind("}") + 1])


def measure_vigil(vigil: str, path: str, runs: int) -> dict:
    loads, walls, rss, helper_rss = [], [], [], []
    for _ in range(runs):
        r = run_json([sys.executable, "-c", RSS_HELPER, vigil, "inspect", path, "--json"])
        if r["returncode"] != 0:
            raise RuntimeError(f"vigil inspect exited {r['returncode']}: {r['stderr'].strip()[-2000:]}")
        out = parse_vigil_json(r["stdout"])
        ls = find_key(out, "load_seconds")
        if ls is None:
            raise RuntimeError(f"no load_seconds in vigil output: {r['stdout'][:500]}")
        loads.append(float(ls))
        walls.append(r["wall_seconds"])
        rss.append(r["maxrss_kib"] * 1024)
        helper_rss.append(r["helper_maxrss_kib"] * 1024)
    return {
        "seconds": statistics.median(loads),
        "all_seconds": loads,
        "wall_seconds": statistics.median(walls),
        "peak_rss_bytes": max(rss),
        "helper_rss_bytes": max(helper_rss),
    }


# --------------------------------------------------------------------------- report


def machine_info() -> dict:
    import numpy
    import onnx
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    return {
        "nproc": nproc, "cpu": cpu, "mem_total_bytes": mem, "platform": platform.platform(),
        "python": platform.python_version(), "onnx": onnx.__version__, "numpy": numpy.__version__,
    }


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", help="path to the vigil CLI binary")
    ap.add_argument("--onnx-only", action="store_true", help="skip vigil (only measure onnx.load)")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median time, max RSS)")
    ap.add_argument("--size-mb", type=int, default=500, help="approximate initializer size of the model")
    ap.add_argument("--cache-dir", default=DEFAULT_CACHE)
    ap.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    ap.add_argument("--generate-only", action="store_true", help="only generate/cache the model, print its parameters")
    args = ap.parse_args()
    if args.generate_only:
        print(json.dumps(generate(args.cache_dir, args.size_mb)))
        return 0
    if not args.onnx_only:
        if not args.vigil:
            ap.error("--vigil is required (or pass --onnx-only)")
        args.vigil = os.path.abspath(args.vigil) if os.sep in args.vigil else (shutil.which(args.vigil) or args.vigil)
        if not (os.path.isfile(args.vigil) and os.access(args.vigil, os.X_OK)):
            print(f"error: vigil binary not found or not executable: {args.vigil}", file=sys.stderr)
            return 2

    # Generate in a child process so this process stays small (see measure_onnx).
    gen = subprocess.run([sys.executable, os.path.abspath(__file__), "--generate-only",
                          "--cache-dir", args.cache_dir, "--size-mb", str(args.size_mb)],
                         stdout=subprocess.PIPE, text=True)
    if gen.returncode != 0:
        print("error: model generation failed", file=sys.stderr)
        return 1
    params = json.loads(gen.stdout.strip().splitlines()[-1])
    variants = [
        ("single file (big.onnx)", os.path.join(args.cache_dir, "big.onnx")),
        ("external data (big_ext/)", os.path.join(args.cache_dir, "big_ext", "model.onnx")),
    ]
    info = machine_info()
    results, failed = [], False
    for label, path in variants:
        files = files_of(path)
        size = sum(os.path.getsize(f) for f in files)
        warm_cache(files)
        print(f"measuring {label}: onnx.load x{args.runs} ...", file=sys.stderr, flush=True)
        row = {"variant": label, "path": path, "file_bytes": size, "onnx": measure_onnx(path, args.runs)}
        if not args.onnx_only:
            print(f"measuring {label}: vigil inspect x{args.runs} ...", file=sys.stderr, flush=True)
            try:
                row["vigil"] = measure_vigil(args.vigil, path, args.runs)
            except Exception as e:  # noqa: BLE001
                print(f"error: {label}: {e}", file=sys.stderr)
                row["vigil"] = None
                failed = True
        else:
            row["vigil"] = None
        results.append(row)

    print()
    print(f"Machine: nproc={info['nproc']}, CPU: {info['cpu']}, RAM: "
          f"{fmt(info['mem_total_bytes'] and info['mem_total_bytes'] / 2**30, '.1f')} GiB, {info['platform']}")
    print(f"Python {info['python']}, onnx {info['onnx']}, numpy {info['numpy']}; "
          f"model: {params['layers']} x MatMul [{params['hidden']}x{params['hidden']}] float32; "
          f"{args.runs} run(s) each, median time, max peak RSS, warm page cache; MB = 10^6 bytes")
    print()
    print("| Variant | File size (MB) | onnx.load (s) | vigil load (s) | vigil / onnx.load "
          "| onnx.load peak RSS (MB) | × file | vigil peak RSS (MB) | × file |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        size = r["file_bytes"]
        o, v = r["onnx"], r["vigil"]
        vs = v["seconds"] if v else None
        vr = v["peak_rss_bytes"] if v else None
        ratio = vs / o["seconds"] if vs is not None and o["seconds"] > 0 else None
        print(f"| {r['variant']} | {size / MB:.1f} | {o['seconds']:.3f} | {fmt(vs, '.3f')} | "
              f"{fmt(ratio, '.2f')}{'×' if ratio is not None else ''} | "
              f"{o['peak_rss_bytes'] / MB:.0f} | {o['peak_rss_bytes'] / size:.2f}× | "
              f"{fmt(vr and vr / MB, '.0f')} | {fmt(vr and vr / size, '.2f')}{'×' if vr else ''} |")
    print()
    base = results[0]["onnx"]["baseline_rss_bytes"]
    print(f"onnx.load peak RSS includes the Python interpreter + `import onnx` baseline (~{base / MB:.0f} MB).")
    if any(r["vigil"] for r in results):
        print("vigil peak RSS = RUSAGE_CHILDREN.ru_maxrss of a dedicated helper whose only child is vigil.")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "model": params, "runs": args.runs, "results": results}, fh, indent=2)
        print(f"raw results written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
