#!/usr/bin/env python3
"""Groups the failures of scripts/zoo_interop.py and scripts/keras_apps_interop.py (their --json
files) by root cause, for Fixtures/zoo/STATUS.md, and writes Fixtures/zoo/expected_failures.json.

    python scripts/zoo_status.py RESULTS.json ... [--expected Fixtures/zoo/expected_failures.json] [--markdown FILE]

A failure's cause is the first rule of CAUSES whose pattern matches its message (paths removed);
anything else is its own cause (its message, numbers kept). XFAIL counts as a failure here.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys

# (pattern on the message, cause, with \1 etc. from the pattern)
CAUSES = [
    (r"IR version (\d+) is not supported", r"IR version \1 rejected"),
    (r"ai\.onnx opset (\d+) does not exist", r"verifier: ai.onnx opset \1 unknown"),
    (r"unsupported ops: ([A-Za-z0-9_, ]+?) \(", r"unsupported op(s): \1"),
    (r"does not support float16", "float16 kernels missing"),
    (r"dtype bfloat16 cannot be written", "bfloat16 output cannot be written to .npz"),
    (r"layer '[^']*' \((\w+)\): expects at least two inputs, got 1", r"Keras operation layer \1 (one tensor and a constant)"),
    (r"V003 expects at least two inputs, got 1", "Keras operation layer (one tensor and a constant)"),
    (r"unsupported Keras layer[^:]*: (\S+)", r"unsupported Keras layer \1"),
    (r"noise-limited", "float32 rounding noise: out of tolerance of the float32 and the float64 reference, "
                       "by at most 2x the float32 reference's own error from float64"),
    (r"out of tolerance", "parity"),
]


def cause_of(detail: str) -> str:
    text = re.sub(r"(/[^\s:']+)+", "<path>", detail)
    for pattern, cause in CAUSES:
        m = re.search(pattern, text)
        if m:
            return m.expand(cause)
    return re.sub(r"^exit \d+: (vigil: error: )?(<path>: )?", "", text)


def subject_and_check(key: str):
    subject, _, check = key.partition(" ") if not key.startswith("keras ") else (
        " ".join(key.split(" ")[:3]), None, " ".join(key.split(" ")[3:]))
    return subject, check


NUMBERS = r"max abs ([0-9.e+-]+), max rel ([0-9.e+-]+)"


def parity(records):
    """(worst max abs, worst max rel) against the float32 reference over the records, and for the
    PASS64 ones (worst Vigil vs float64, worst reference vs float64) max abs; None when absent."""
    worst = [None, None]
    wide = [None, None]
    for r in records:
        found = re.findall(NUMBERS, r["detail"])
        if not found:
            continue
        worst = [max(worst[i] or 0.0, float(found[0][i])) for i in (0, 1)]
        if len(found) == 3:  # judged against the float64 reference too (PASS64 or noise-limited)
            wide = [max(wide[0] or 0.0, float(found[1][0])), max(wide[1] or 0.0, float(found[2][0]))]
    return worst, wide


def result_cell(records, prefix):
    failed = [r for r in records if r["status"] in ("FAIL", "XFAIL")]
    (_, _), (vigil64, ref64) = parity(records)
    if failed and all("noise-limited" in r["detail"] for r in failed):
        return (f"FAIL, noise-limited: {len(failed)} checks out of tolerance of the float32 and the float64 reference; "
                f"Vigil ≤ {vigil64:.2g} from float64, the float32 reference itself {ref64:.2g}")
    if failed:
        return "FAIL: " + ", ".join(r["key"][len(prefix):] for r in failed)
    passed = sum(r["status"] in ("PASS", "XPASS", "PASS64") for r in records)
    if vigil64 is None:
        return f"pass ({passed} checks)"
    n = sum(r["status"] == "PASS64" for r in records)
    return (f"pass ({passed} checks; {n} within tolerance of the float64 reference only: "
            f"Vigil {vigil64:.2g}, the float32 reference {ref64:.2g} from it)")


def fmt(x):
    return "—" if x is None else f"{x:.2g}"


def zoo_table(records, manifest_path):
    """Markdown: per zoo model and exporter, nodes before/after `vigil optimize`, parameters, the worst
    parity of `vigil run` vs onnxruntime (max abs, max rel over batch 1/2, 1/2 threads, with/without
    --no-optimize, and the optimized file) and the result of all its checks."""
    with open(manifest_path) as fh:
        models = json.load(fh)["models"]
    by_key = {r["key"]: r for r in records}
    rows = ["| model | exporter | IR | opset | nodes | after optimize | parameters | run vs onnxruntime: max abs | max rel | result |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for m in models:
        name = m["name"]
        mine = [r for r in records if r["key"].startswith(name + " ")]
        if not mine:
            continue
        after = re.search(r"-> (\d+)", by_key.get(f"{name} optimize", {}).get("detail", ""))
        runs = [r for r in mine if r["key"].startswith(f"{name} run ") or r["key"] == f"{name} optimize+run"]
        (worst_abs, worst_rel), _ = parity(runs)
        rows.append(f"| {m['architecture']} | {m['exporter']} | {m['ir_version']} | {m['opsets'][0]['version']} | "
                    f"{m['node_count']} | {after[1] if after else '—'} | {m['parameter_count']:,} | "
                    f"{fmt(worst_abs)} | {fmt(worst_rel)} | {result_cell(mine, name + ' ')} |")
    return "\n".join(rows)


def keras_table(records, manifest_path):
    """Markdown: per Keras model and file format, the worst parity of `vigil run` vs Keras and the result."""
    with open(manifest_path) as fh:
        manifest = {k: v for k, v in json.load(fh).items() if not k.startswith("_")}
    rows = ["| model | format | parameters | run vs Keras: max abs | max rel | result |", "|---|---|---|---|---|---|"]
    for name, facts in manifest.items():
        for fmt_ in ("h5", "keras"):
            prefix = f"keras {name} [{fmt_}] "
            mine = [r for r in records if r["key"].startswith(prefix)]
            if not mine:
                continue
            (worst_abs, worst_rel), _ = parity([r for r in mine if " run " in r["key"]])
            rows.append(f"| {name} | .{fmt_} | {facts['parameter_count']:,} | {fmt(worst_abs)} | {fmt(worst_rel)} | "
                        f"{result_cell(mine, prefix)} |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+")
    ap.add_argument("--expected", help="write the expected-failures file here")
    ap.add_argument("--markdown", help="write the grouped failures here")
    ap.add_argument("--zoo-table", metavar="MANIFEST", help="print the per-model table of the zoo results")
    ap.add_argument("--keras-table", metavar="MANIFEST", help="print the per-model table of the Keras results")
    args = ap.parse_args()
    records = []
    for path in args.results:
        with open(path) as fh:
            records += json.load(fh)["results"]
    if args.zoo_table or args.keras_table:
        if args.zoo_table:
            print(zoo_table(records, args.zoo_table))
        if args.keras_table:
            print(keras_table(records, args.keras_table))
        return 0
    failed = [r for r in records if r["status"] in ("FAIL", "XFAIL")]
    by_cause = collections.defaultdict(list)
    for r in failed:
        by_cause[cause_of(r["detail"])].append(r)
    lines = [f"{len(failed)} failing checks of {len(records)}, {len(by_cause)} causes", ""]
    for cause, items in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
        subjects = collections.OrderedDict()
        for r in items:
            subject, check = subject_and_check(r["key"])
            subjects.setdefault(subject, []).append(check)
        lines.append(f"### {cause} ({len(items)} checks, {len(subjects)} subjects)")
        lines.append("")
        for subject, checks in subjects.items():
            lines.append(f"- `{subject}`: {', '.join(checks)}")
        lines.append("")
    text = "\n".join(lines)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    if args.expected:
        expected = {r["key"]: cause_of(r["detail"]) for r in sorted(failed, key=lambda r: r["key"])}
        with open(args.expected, "w") as fh:
            json.dump({"about": "checks that fail with today's Vigil (see STATUS.md), key -> root cause; "
                                "scripts/zoo_status.py writes it from the interop results",
                       "failures": expected}, fh, indent=1)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
