"""Summarizes bench/zoo_vs_ort.sh's paired rounds as a Markdown table.

Usage: zoo_table.py RESULTS
RESULTS holds one line per run: `NAME FILE THREADS BATCH JSON` (NAME ort or vigil; JSON with median_ms,
cpu_median_ms and peak_rss_bytes). Each round ran both runtimes back to back, so the throughput ratio
(ort median / vigil median) is taken per round and its median over rounds reported, with the number of
rounds vigil was at least as fast; the CPU-time ratio (ort / vigil, the process's CPU time per run)
likewise. Peak RSS is the largest over rounds, per process."""
import json
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    name, file, threads, batch, text = line.split(" ", 4)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None  # a failed run
    rows.setdefault((file, int(batch), int(threads)), {}).setdefault(name, []).append(data)

cores = sorted({d["openblas_core"] for r in rows.values() for d in r.get("vigil", []) if d and d.get("openblas_core")})
print(f"OpenBLAS kernel (openblas_get_corename, as vigil ran): {', '.join(cores) or 'not reported'}")
print()
print("| model | exporter | batch | threads | onnxruntime ms | vigil ms | vigil / ort throughput | vigil ≥ ort in | "
      "CPU-time ratio | ort peak RSS MB | vigil peak RSS MB |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (file, batch, threads), r in sorted(rows.items()):
    model, exporter = file.split("/")
    pairs = [(o, v) for o, v in zip(r.get("ort", []), r.get("vigil", [])) if o and v]
    if not pairs:
        print(f"| {model} | {exporter} | {batch} | {threads} | | | failed | | | | |")
        continue
    ratios = [o["median_ms"] / v["median_ms"] for o, v in pairs]
    cpu = [o["cpu_median_ms"] / v["cpu_median_ms"] for o, v in pairs if o.get("cpu_median_ms") and v.get("cpu_median_ms")]
    print(f"| {model} | {exporter} | {batch} | {threads} | {statistics.median(o['median_ms'] for o, _ in pairs):.1f} | "
          f"{statistics.median(v['median_ms'] for _, v in pairs):.1f} | {statistics.median(ratios):.2f}× | "
          f"{sum(x >= 1 for x in ratios)}/{len(ratios)} | {statistics.median(cpu):.2f}× | "
          f"{max(o['peak_rss_bytes'] for o, _ in pairs) / 1e6:.0f} | {max(v['peak_rss_bytes'] for _, v in pairs) / 1e6:.0f} |")
