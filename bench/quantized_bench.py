#!/usr/bin/env python3
"""Quantized inference, Vigil against onnxruntime on the same quantized files, and against Vigil's own
float run (issue 17). Run by bench/quantized_vs_ort.sh, which builds vigil and prepares the models.

    quantized_bench.py VIGIL ROUNDS NAME=FLOAT.onnx:INT8.onnx [...]

For each model, thread count (1, 2) and batch (1, 32), every round runs onnxruntime on the int8 file,
vigil on the int8 file and vigil on the float file, each in a fresh process, in an order that rotates
from round to round (so that no side always runs first, on the caches or clocks another left). The
tables give the medians over rounds, the median of the per-round (paired) throughput ratios and the
rounds in which the candidate was at least as fast, and the largest peak RSS of each side.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment of these runs only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}


def runs_for(batch):
    return 20 if batch == 1 else 5


def ort(model, threads, batch):
    out = subprocess.run([sys.executable, os.path.join(HERE, "quantized_ort_bench.py"), model, str(threads), str(batch), str(runs_for(batch))],
                         capture_output=True, text=True, env=ENV, check=True)
    return json.loads(out.stdout)


def vigil(binary, model, threads, batch):
    out = subprocess.run([binary, "bench", model, "--threads", str(threads), "--batch", str(batch), "--runs", str(runs_for(batch)), "--json"],
                         capture_output=True, text=True, env=ENV, check=True)
    return json.loads(out.stdout)


def main():
    binary, rounds, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    results = {}
    for round_index in range(rounds):
        for spec in models:
            name, files = spec.split("=", 1)
            float_model, int8_model = files.split(":")
            for threads in (1, 2):
                for batch in (1, 32):
                    sides = [("ort", lambda: ort(int8_model, threads, batch)), ("vigil", lambda: vigil(binary, int8_model, threads, batch)),
                             ("float", lambda: vigil(binary, float_model, threads, batch))]
                    shift = round_index % 3
                    for side, measure in sides[shift:] + sides[:shift]:
                        results.setdefault((name, threads, batch), {}).setdefault(side, []).append(measure())
            print(f"round {round_index + 1}/{rounds} done", file=sys.stderr, flush=True)
    cores = sorted({x["openblas_core"] for r in results.values() for side in ("vigil", "float") for x in r[side]})
    print(f"OpenBLAS kernel (openblas_get_corename, Vigil's runs): {', '.join(cores)}; {rounds} paired rounds")
    print()
    print("| model | threads | batch | onnxruntime int8 ms | Vigil int8 ms | Vigil / onnxruntime throughput (paired median, range) | Vigil ≥ ort in "
          "| Vigil float ms | int8 / float throughput (paired median) | peak RSS MB: ort int8, Vigil int8, Vigil float |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for (name, threads, batch), r in results.items():
        o, v, f = r["ort"], r["vigil"], r["float"]
        versus = [a["median_ms"] / b["median_ms"] for a, b in zip(o, v)]
        speedup = [a["median_ms"] / b["median_ms"] for a, b in zip(f, v)]
        rss = [max(x["peak_rss_bytes"] for x in side) / 1e6 for side in (o, v, f)]
        print(f"| {name} | {threads} | {batch} | {statistics.median(x['median_ms'] for x in o):.2f} | {statistics.median(x['median_ms'] for x in v):.2f} "
              f"| {statistics.median(versus):.2f}× ({min(versus):.2f}–{max(versus):.2f}) | {sum(x >= 1 for x in versus)}/{len(versus)} "
              f"| {statistics.median(x['median_ms'] for x in f):.2f} | {statistics.median(speedup):.2f}× | {rss[0]:.0f}, {rss[1]:.0f}, {rss[2]:.0f} |")


if __name__ == "__main__":
    main()
