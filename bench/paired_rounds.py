"""Summarizes paired benchmark rounds as a Markdown table (shared by the bench scripts).

Usage: paired_rounds.py RESULTS BASELINE CANDIDATE [--rss]
RESULTS holds one line per run: `NAME THREADS BATCH JSON`, where JSON has median_ms (and, with
--rss, peak_rss_bytes). Each round ran BASELINE and CANDIDATE back to back, so the speedup is taken
per round (BASELINE median / CANDIDATE median, i.e. CANDIDATE's relative throughput) and its median
over rounds is reported, with the number of rounds CANDIDATE was at least as fast."""
import json
import statistics
import sys

path, baseline, candidate = sys.argv[1:4]
rss = "--rss" in sys.argv
rows = {}
for line in open(path):
    name, threads, batch, text = line.split(" ", 3)
    rows.setdefault((int(threads), int(batch)), {}).setdefault(name, []).append(json.loads(text))
header = f"| threads | batch | {baseline} median ms | {candidate} median ms | {candidate} speedup (median of paired rounds) | {candidate} ≥ {baseline} in |"
rule = "|---:|---:|---:|---:|---:|---:|"
if rss:
    header += f" {baseline} peak RSS MB | {candidate} peak RSS MB | OpenBLAS kernel |"
    rule += "---:|---:|---|"
print(header)
print(rule)
for (threads, batch), r in sorted(rows.items()):
    b, c = r[baseline], r[candidate]
    ratios = [x["median_ms"] / y["median_ms"] for x, y in zip(b, c)]
    line = (f"| {threads} | {batch} | {statistics.median(x['median_ms'] for x in b):.2f} | "
            f"{statistics.median(x['median_ms'] for x in c):.2f} | {statistics.median(ratios):.2f}× | "
            f"{sum(x >= 1 for x in ratios)}/{len(ratios)} rounds |")
    if rss:
        line += (f" {max(x['peak_rss_bytes'] for x in b) / 1e6:.0f} | {max(x['peak_rss_bytes'] for x in c) / 1e6:.0f} | "
                 f"{c[0].get('openblas_core', '')} |")
    print(line)
