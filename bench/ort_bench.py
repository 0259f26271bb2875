"""onnxruntime latency and peak RSS for one model, threads and batch: the reference side of
bench/executor_vs_ort.sh. Prints one JSON line.
Usage: ort_bench.py MODEL THREADS BATCH [RUNS [WARMUP]] (the model's first input is fed; RUNS defaults to
30 at batch 1 and 10 otherwise, WARMUP to 3). cpu_median_ms is the process's CPU time per run."""
import json
import resource
import sys
import time

import numpy as np
import onnxruntime as ort

path, threads, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
x = np.random.default_rng(1).standard_normal([batch] + list(session.get_inputs()[0].shape[1:])).astype(np.float32)
for _ in range(int(sys.argv[5]) if len(sys.argv) > 5 else 3):
    session.run(None, {name: x})
times, cpu = [], []
for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 10 if batch > 1 else 30):
    start, cpu_start = time.perf_counter(), time.process_time()
    session.run(None, {name: x})
    times.append((time.perf_counter() - start) * 1000)
    cpu.append((time.process_time() - cpu_start) * 1000)
print(json.dumps({"median_ms": float(np.median(times)), "min_ms": min(times), "cpu_median_ms": float(np.median(cpu)),
                  "throughput_per_s": batch / (float(np.median(times)) / 1000),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
