"""Per zoo model, how close Vigil's convolutions and matrix products get to the core's FMA peak: runs
`vigil bench --profile --threads 1` on each model and sums its Conv, FusedConv, Gemm, FusedGemm and
MatMul rows (GFLOP per CPU second times CPU time = GFLOP), printing a Markdown table: the share of the
run's CPU time those ops take, their GFLOP/s, and that as a fraction of the measured peak.

Usage: zoo_gflops.py VIGIL CACHE MODEL/EXPORTER...  (CACHE holds MODEL/EXPORTER/model.onnx)
Environment: RUNS (default 10)."""
import os
import re
import subprocess
import sys

vigil, cache, files = sys.argv[1], sys.argv[2], sys.argv[3:]
env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
row = re.compile(r"^\s+(\S+)\s+[0-9.]+ ms/run\s+[0-9.]+%\s+cpu\s+([0-9.]+) ms(?:\s+([0-9.]+) GFLOP/s)?")
print("| model | exporter | CPU ms per run | matrix ops' share of CPU | their GFLOP/s | of the FMA peak |")
print("|---|---|---:|---:|---:|---:|")
for f in files:
    out = subprocess.run([vigil, "bench", f"{cache}/{f}/model.onnx", "--threads", "1", "--runs", os.environ.get("RUNS", "10"), "--profile"],
                         env=env, capture_output=True, text=True).stdout
    peak = float(re.search(r"FMA peak, ([0-9.]+) GFLOP/s", out).group(1))
    total_cpu = float(re.search(r"CPU time per run \(all threads\) ([0-9.]+) ms", out).group(1))
    cpu = flop = 0.0
    for line in out.splitlines():
        m = row.match(line)
        if m and m.group(1) in ("Conv", "FusedConv", "Gemm", "FusedGemm", "MatMul") and m.group(3):
            cpu += float(m.group(2))
            flop += float(m.group(2)) * float(m.group(3))
    model, exporter = f.split("/")
    rate = flop / cpu if cpu else 0
    print(f"| {model} | {exporter} | {total_cpu:.1f} | {cpu / total_cpu:.0%} | {rate:.0f} | {rate / peak:.0%} of {peak:.0f} |")
