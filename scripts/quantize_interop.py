#!/usr/bin/env python3
"""Issue 17's acceptance on the model zoo's CNNs and the bundled detector networks (run by hand; not
part of `swift test`): for each network, `vigil quantize` on 32 calibration images, then

- the quantized file's size against the float file's (≤ 30%),
- `onnx.checker` (full check) and onnxruntime load it,
- Vigil's outputs on it against onnxruntime's on the same file (8 images), in quantization steps of the
  output (the DequantizeLinear's scale, else the output's range over onnxruntime's outputs / 255; ≤ 1),
  against onnxruntime as optimized (integer kernels: QLinearConv, QLinearAdd, …) and as written
  (graph optimizations off: every QDQ pair computed in float), and onnxruntime's two forms against each
  other (how far two faithful implementations of the same file drift apart through a deep network),
- the top-1 agreement of the quantized model (run by Vigil) with the float model (onnxruntime) on
  `--images` calibration-style images: N(0, 1) images drawn like the calibration set (≥ 99%); for an
  embedding network (`*_embedding`) the smallest cosine similarity to the float embeddings instead,
- for the detector: the novelty AUROC and FPR@95 of the mean-distance scorer, quantized against float
  (`vigil detect evaluate --baseline`; |ΔAUROC| ≤ 0.01), and the classifier's top-1 agreement on the
  in-distribution test and validation images,
- the same top-1 agreement for onnxruntime's own `quantize_static` (QDQ, per-channel int8 weights,
  uint8 activations, min-max on the same calibration images) run by onnxruntime: the reference for
  what int8 quantization costs on these networks and images.

    scripts/quantize_interop.py --vigil .build/release/vigil --zoo Fixtures/zoo [--only resnet18] [--images 200]

Needs onnx 1.23.2 + onnxruntime 1.32.0 (Fixtures/quantized/requirements.txt). Writes models and data to
`.cache/quantize/` and a JSON summary to `.cache/quantize/summary.json`; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CNNS = ["squeezenet1_1", "shufflenet_v2_x1_0", "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
        "efficientnet_b0", "densenet121", "regnet_y_400mf", "convnext_tiny", "resnet18_embedding"]


def vigil(binary, *args):
    result = subprocess.run([binary, *args, "--quiet"], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"vigil {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def session(path, threads=2, optimize=True):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    if not optimize:  # QDQ as written: DequantizeLinear → float op → QuantizeLinear (no integer kernels)
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_quantize_static(source, target, input_name, calibration):
    """onnxruntime's own static QDQ quantization with the options `vigil quantize` defaults to (per-channel
    int8 weights, uint8 activations, min-max on the same calibration images): the reference quantizer."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{input_name: image[None]} for image in calibration])

        def get_next(self):
            return next(self.items, None)

    if not os.path.exists(target):
        quantize_static(source, target, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)


def run_vigil(binary, model, name, images, work, batch=25):
    """The model's first output on `images`, computed by `vigil run`, batch by batch."""
    outputs = []
    for start in range(0, len(images), batch):
        x, y = os.path.join(work, "batch.npy"), os.path.join(work, "batch_out.npz")
        np.save(x, images[start:start + batch])
        vigil(binary, "run", model, "--input", f"{name}={x}", "-o", y)
        with np.load(y) as z:
            outputs.append(z[z.files[0]])
    return np.concatenate(outputs)


def run_ort(path, name, images, batch=25, optimize=True):
    s = session(path, optimize=optimize)
    return np.concatenate([s.run(None, {name: images[i:i + batch]})[0] for i in range(0, len(images), batch)])


def output_step(path, values):
    model = onnx.load(path)
    output = model.graph.output[0].name
    producer = next((n for n in model.graph.node if output in n.output), None)
    if producer is not None and producer.op_type == "DequantizeLinear":
        scales = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        return float(np.max(scales[producer.input[1]]))
    return float((values.max() - values.min()) / 255.0)


def within_one_step(a, b, step):
    """The fraction of output values that differ by at most one quantization step (a little float slack)."""
    return float(np.mean(np.abs(a - b) <= step * 1.0001))


def materialise(zoo, name, work):
    """The zoo's float model: committed whole, or materialised from its stripped graph."""
    folder = os.path.join(zoo, name, "torchscript")
    whole = os.path.join(folder, "model.onnx")
    if os.path.exists(whole):
        return whole
    out = os.path.join(work, f"{name}.onnx")
    if not os.path.exists(out):
        subprocess.run([sys.executable, os.path.join(zoo, "zoo_weights.py"), "materialise", os.path.join(folder, "graph.onnx"),
                        os.path.join(folder, "weights.npz"), out], check=True)
    return out


def check_cnn(binary, zoo, name, images, work, reference_quantizer=True):
    source = materialise(zoo, name, work)
    r = np.random.default_rng([1700, sum(map(ord, name))])
    calibration = r.standard_normal((32, 3, 224, 224)).astype(np.float32)
    test = r.standard_normal((images, 3, 224, 224)).astype(np.float32)
    np.save(os.path.join(work, "calibration.npy"), calibration)
    quantized = os.path.join(work, f"{name}.int8.onnx")
    report = json.loads(vigil(binary, "quantize", source, "--calibration", os.path.join(work, "calibration.npy"), "-o", quantized, "--json"))
    onnx.checker.check_model(quantized, full_check=True)
    input_name = session(source).get_inputs()[0].name
    ort_q = run_ort(quantized, input_name, test[:8])
    literal_q = run_ort(quantized, input_name, test[:8], optimize=False)
    vigil_q = run_vigil(binary, quantized, input_name, test[:8], work)
    step = output_step(quantized, ort_q)
    floats = run_ort(source, input_name, test)
    vigil_all = np.concatenate([vigil_q, run_vigil(binary, quantized, input_name, test[8:], work)]) if images > 8 else vigil_q
    embedding = name.endswith("_embedding")  # an embedding has no classes: its cosine to the float one instead
    agree = int((floats.argmax(1) == vigil_all.argmax(1)).sum())
    row = {"model": name, "float_bytes": os.path.getsize(source), "int8_bytes": os.path.getsize(quantized),
           "vigil_vs_ort_steps": float(np.abs(vigil_q - ort_q).max() / step),
           "vigil_vs_ort_within_one_step": within_one_step(vigil_q, ort_q, step),
           "vigil_vs_ort_literal_steps": float(np.abs(vigil_q - literal_q).max() / step),
           "ort_vs_ort_literal_steps": float(np.abs(ort_q - literal_q).max() / step),
           "ort_vs_ort_literal_within_one_step": within_one_step(ort_q, literal_q, step),
           "images": images, "quantized_nodes": len(report["quantized"]), "kept_float": len(report["kept_float"])}
    if embedding:
        row["cosine_min"] = min_cosine(vigil_all, floats)
    else:
        row["top1_agreeing"] = agree
    if reference_quantizer:
        ort_file = os.path.join(work, f"{name}.ort-int8.onnx")
        ort_quantize_static(source, ort_file, input_name, calibration)
        ort_all = run_ort(ort_file, input_name, test)
        row["ort_int8_bytes"] = os.path.getsize(ort_file)
        if embedding:
            row["ort_cosine_min"] = min_cosine(ort_all, floats)
        else:
            row["ort_top1_agreeing"] = int((floats.argmax(1) == ort_all.argmax(1)).sum())
    return row


def min_cosine(a, b):
    """The smallest cosine similarity between corresponding rows."""
    a, b = a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)
    return float(np.min((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def check_detector(binary, work):
    d = os.path.join(REPO, "Fixtures", "detector")
    detector = os.path.join(work, "detector.h5")
    vigil(binary, "detect", "fit", f"{d}/embedding.onnx", "--data", f"{d}/train_images.npy", "--labels", f"{d}/train_labels.npy", "-o", detector)
    rows = []
    for network in ["embedding", "classifier"]:
        quantized = os.path.join(work, f"{network}.int8.onnx")
        vigil(binary, "quantize", f"{d}/{network}.onnx", "--detector", detector, "--calibration", f"{d}/train_images.npy", "-o", quantized)
        onnx.checker.check_model(quantized, full_check=True)
        session(quantized)
        row = {"model": f"detector {network}", "float_bytes": os.path.getsize(f"{d}/{network}.onnx"), "int8_bytes": os.path.getsize(quantized)}
        images = np.concatenate([np.load(f"{d}/test_images.npy"), np.load(f"{d}/val_images.npy")])
        x = (images.astype(np.float32) / np.float32(255)).reshape(len(images), 28, 28, 1)
        ort_q = run_ort(quantized, "input", x[:64], batch=64)
        literal_q = run_ort(quantized, "input", x[:64], batch=64, optimize=False)
        vigil_q = run_vigil(binary, quantized, "input", x[:64], work, batch=64)
        step = output_step(quantized, ort_q)
        row.update(vigil_vs_ort_steps=float(np.abs(vigil_q - ort_q).max() / step), vigil_vs_ort_within_one_step=within_one_step(vigil_q, ort_q, step),
                   vigil_vs_ort_literal_steps=float(np.abs(vigil_q - literal_q).max() / step),
                   ort_vs_ort_literal_steps=float(np.abs(ort_q - literal_q).max() / step),
                   ort_vs_ort_literal_within_one_step=within_one_step(ort_q, literal_q, step))
        if network == "classifier":
            floats = run_ort(f"{d}/classifier.onnx", "input", x, batch=250)
            row.update(images=len(x), top1_agreeing=int((floats.argmax(1) == run_vigil(binary, quantized, "input", x, work, batch=250).argmax(1)).sum()))
            train = np.load(f"{d}/train_images.npy")
            calibration = (train.astype(np.float32) / np.float32(255)).reshape(len(train), 28, 28, 1)
            ort_file = os.path.join(work, "classifier.ort-int8.onnx")
            ort_quantize_static(f"{d}/classifier.onnx", ort_file, "input", calibration)
            row.update(ort_int8_bytes=os.path.getsize(ort_file),
                       ort_top1_agreeing=int((floats.argmax(1) == run_ort(ort_file, "input", x, batch=250).argmax(1)).sum()))
        else:
            evaluation = json.loads(vigil(binary, "detect", "evaluate", detector, quantized, "--baseline", f"{d}/embedding.onnx", "--data",
                                          f"{d}/test_images.npy", "--novelty", f"{d}/novelty_images.npy", "--scorer", "mean_distance", "--json"))
            row["novelty_auroc"] = evaluation["metrics"]["novelty"]["mean_distance"]["auroc"]
            row["novelty_auroc_change"] = evaluation["baseline"]["change"]["novelty"]["mean_distance"]["auroc"]
            row["novelty_fpr95_change"] = evaluation["baseline"]["change"]["novelty"]["mean_distance"]["fpr_at_95_tpr"]
        rows.append(row)
    return rows


def table(rows):
    print("| model | float MB | int8 MB | int8 / float | Vigil vs onnxruntime: max steps (values within 1) | Vigil vs onnxruntime, QDQ as written (steps) "
          "| onnxruntime vs itself, QDQ as written (steps) | top-1 agreement (Vigil int8 vs float) "
          "| top-1 agreement, onnxruntime's quantize_static | novelty ΔAUROC |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def steps(r, key, within=None):
        if key not in r:
            return "—"
        return f"{r[key]:.2f}" + (f" ({100 * r[within]:.2f}% ≤ 1)" if within in r else "")

    def top1(r, key, cosine):
        if cosine in r:
            return f"cosine ≥ {r[cosine]:.4f}"
        return f"{100 * r[key] / r['images']:.1f}% ({r[key]}/{r['images']})" if key in r else "—"

    for r in rows:
        auroc = f"{r['novelty_auroc_change']:+.4f} (AUROC {r['novelty_auroc']:.4f})" if "novelty_auroc_change" in r else "—"
        print(f"| {r['model']} | {r['float_bytes'] / 1e6:.2f} | {r['int8_bytes'] / 1e6:.2f} | {100 * r['int8_bytes'] / r['float_bytes']:.1f}% | "
              f"{steps(r, 'vigil_vs_ort_steps', 'vigil_vs_ort_within_one_step')} | {steps(r, 'vigil_vs_ort_literal_steps')} | "
              f"{steps(r, 'ort_vs_ort_literal_steps', 'ort_vs_ort_literal_within_one_step')} | "
              f"{top1(r, 'top1_agreeing', 'cosine_min')} | {top1(r, 'ort_top1_agreeing', 'ort_cosine_min')} | {auroc} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vigil", required=True)
    parser.add_argument("--zoo", default=os.path.join(REPO, "Fixtures", "zoo"))
    parser.add_argument("--only", action="append")
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    work = os.path.join(REPO, ".cache", "quantize")
    os.makedirs(work, exist_ok=True)
    binary = os.path.abspath(args.vigil)
    rows = [] if args.only and "detector" not in args.only else check_detector(binary, work)
    for name in CNNS:
        if args.only and name not in args.only:
            continue
        try:
            rows.append(check_cnn(binary, args.zoo, name, args.images, work))
        except Exception as e:  # noqa: BLE001 - report and go on
            rows.append({"model": name, "error": str(e).splitlines()[0]})
            print(f"{name}: {rows[-1]['error']}", file=sys.stderr)
        print(json.dumps(rows[-1]), file=sys.stderr)
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(rows, f, indent=1)
    table([r for r in rows if "error" not in r])
    failed = [r for r in rows if "error" in r]
    for r in failed:
        print(f"| {r['model']} | failed: {r['error']} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
