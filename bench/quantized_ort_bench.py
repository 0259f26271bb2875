"""onnxruntime latency and peak RSS for one model (its first input fed N(0, 1) values), threads and
batch: onnxruntime's side of bench/quantized_bench.py. Prints one JSON line.
Usage: quantized_ort_bench.py MODEL THREADS BATCH RUNS"""
import json
import resource
import sys
import time

import numpy as np
import onnxruntime as ort

path, threads, batch, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
first = session.get_inputs()[0]
x = np.random.default_rng(1).standard_normal([batch] + [d if isinstance(d, int) else 1 for d in first.shape[1:]]).astype(np.float32)
for _ in range(3):
    session.run(None, {first.name: x})
times = []
for _ in range(runs):
    start = time.perf_counter()
    session.run(None, {first.name: x})
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({"median_ms": float(np.median(times)), "min_ms": min(times), "throughput_per_s": batch / (float(np.median(times)) / 1000),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
