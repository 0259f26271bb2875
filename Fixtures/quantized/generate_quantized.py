#!/usr/bin/env python3
"""Quantized-model fixtures (issue 17), each with onnxruntime's outputs on the same file, so that the
Swift tests can check that Vigil runs quantized models as onnxruntime does (and never run Python).

    python3 -m venv /tmp/venv-q && /tmp/venv-q/bin/pip install -r Fixtures/quantized/requirements.txt
    swift build --product vigil
    /tmp/venv-q/bin/python Fixtures/quantized/generate_quantized.py --vigil .build/debug/vigil \\
        --squeezenet PATH/TO/Fixtures/zoo/squeezenet1_1/torchscript/model.onnx

Writes (seeded; the onnxruntime-quantized files are byte-identical on a rerun, the Vigil-quantized ones
depend on Vigil's float run of the calibration data, whose last bits may differ between CPUs):

    <name>/model.onnx, <name>/test_data_set_0/input_<i>.pb, output_<i>.pb   onnxruntime's outputs (1 thread)
    manifest.json                                                          per model: producer, note, tolerances
    calibration.json                                                       onnxruntime's calibrators and quantizers on sample arrays
    calibration/<array>.npy                                                those arrays

Models:
- ort_qdq_cnn_u8, ort_qdq_cnn_s8: a small CNN (convolutions with Relu, a strided one, a depthwise one
  with Clip, a residual Add, pooling, Gemm) quantized by `onnxruntime.quantization.quantize_static` in
  QDQ format: uint8 activations and per-channel int8 weights; int8 activations and per-tensor weights.
- ort_qdq_matmul: MatMul + Add + Relu on [2, 5, 16] inputs (a transformer's MLP), QDQ, per channel.
- ort_qoperator: a CNN + MLP quantized to onnxruntime's QOperator format (QLinearConv, QLinearMatMul).
- ort_dynamic: the same quantized by `quantize_dynamic` (DynamicQuantizeLinear, ConvInteger, MatMulInteger).
- qdq_elementwise: HardSwish, MaxPool (requantized to another scale), Sigmoid, and Add + LeakyRelu with int8
  output, each between QDQ pairs, built by hand (onnxruntime's outputs).
- vigil_cnn_entropy_s8, vigil_cnn_dynamic: the small CNN quantized by `vigil quantize` (entropy
  calibration with int8 activations; --weights-only), checked with onnx.checker and run in onnxruntime.
- vigil_detector_embedding, vigil_detector_classifier: the bundled detector networks quantized by
  `vigil quantize --detector` on the 1,500 training images; the manifest records onnxruntime's metrics of
  the quantized networks (novelty AUROC and FPR@95 of the mean-distance scorer, class means from the
  float network's training embeddings; the classifier's top-1 agreement with the float one).
- vigil_squeezenet1_1: the zoo's squeezenet1_1 (torchscript export) quantized by `vigil quantize` on 32
  N(0, 1) images; the manifest records its top-1 agreement with the float model on 64 other images.

Tolerance of each output (`step`): the quantization step of the output — the scale of the
DequantizeLinear that produces it, or (for a float output) its range over the reference outputs / 255.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
from onnxruntime.quantization import quant_utils
from onnxruntime.quantization.calibrate import HistogramCollector

OUT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(OUT))
DETECTOR = os.path.join(REPO, "Fixtures", "detector")
F32 = TensorProto.FLOAT


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def init(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def small_cnn(path):
    """Conv-Relu, MaxPool, strided Conv-Relu, depthwise Conv-Clip(0, 6), residual Add, GAP, Gemm."""
    r = np.random.default_rng(1701)
    inits = [init("w1", r.standard_normal((8, 3, 3, 3)) * 0.3), init("b1", r.standard_normal(8) * 0.1),
             init("w2", r.standard_normal((16, 8, 3, 3)) * 0.2), init("b2", r.standard_normal(16) * 0.1),
             init("w3", r.standard_normal((16, 1, 3, 3)) * 0.3), init("b3", r.standard_normal(16) * 0.1),
             init("lo", np.array(0.0)), init("hi", np.array(6.0)),
             init("wf", r.standard_normal((10, 16)) * 0.3), init("bf", r.standard_normal(10) * 0.1)]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2], name="conv2"),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1], group=16, name="depthwise"),
             helper.make_node("Clip", ["c3", "lo", "hi"], ["r3"], name="clip"),
             helper.make_node("Add", ["r3", "r2"], ["s"], name="residual"),
             helper.make_node("GlobalAveragePool", ["s"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1, name="fc")]
    graph = helper.make_graph(nodes, "small_cnn", [helper.make_tensor_value_info("x", F32, ["N", 3, 16, 16])],
                              [helper.make_tensor_value_info("y", F32, ["N", 10])], inits)
    model = helper.make_model(graph, producer_name="vigil-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def small_mlp(path):
    """x [N, 5, 16] → MatMul [16, 32] → Add → Relu → MatMul [32, 8] → Add (a transformer's MLP)."""
    r = np.random.default_rng(1702)
    inits = [init("w1", r.standard_normal((16, 32)) * 0.3), init("b1", r.standard_normal(32) * 0.1),
             init("w2", r.standard_normal((32, 8)) * 0.2), init("b2", r.standard_normal(8) * 0.1)]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["m1"], name="fc1"), helper.make_node("Add", ["m1", "b1"], ["a1"], name="bias1"),
             helper.make_node("Relu", ["a1"], ["h"], name="relu"), helper.make_node("MatMul", ["h", "w2"], ["m2"], name="fc2"),
             helper.make_node("Add", ["m2", "b2"], ["y"], name="bias2")]
    graph = helper.make_graph(nodes, "small_mlp", [helper.make_tensor_value_info("x", F32, ["N", 5, 16])],
                              [helper.make_tensor_value_info("y", F32, ["N", 5, 8])], inits)
    model = helper.make_model(graph, producer_name="vigil-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


class Samples(CalibrationDataReader):
    def __init__(self, name, arrays):
        self.items = iter([{name: a[None]} for a in arrays])

    def get_next(self):
        return next(self.items, None)


def step(model, output, values):
    """The output's quantization step: its DequantizeLinear's scale, else its range / 255."""
    producers = {o: n for n in model.graph.node for o in n.output}
    node = producers.get(output)
    if node is not None and node.op_type == "DequantizeLinear":
        scales = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        if node.input[1] in scales:
            return float(np.max(scales[node.input[1]]))
    return float((values.max() - values.min()) / 255.0)


def write_case(name, model_path, feeds, producer, note, extra=None):
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    shutil.copyfile(model_path, os.path.join(folder, "model.onnx"))
    model = onnx.load(os.path.join(folder, "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    s = session(os.path.join(folder, "model.onnx"))
    outputs = s.run(None, feeds)
    data = os.path.join(folder, "test_data_set_0")
    for i, inp in enumerate(s.get_inputs()):
        with open(os.path.join(data, f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(feeds[inp.name], inp.name).SerializeToString())
    steps = {}
    for i, (o, v) in enumerate(zip(s.get_outputs(), outputs)):
        with open(os.path.join(data, f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, o.name).SerializeToString())
        steps[o.name] = step(model, o.name, v)
    ops = sorted({f"{n.domain + '::' if n.domain else ''}{n.op_type}" for n in model.graph.node})
    entry = {"name": name, "producer": producer, "note": note, "ops": ops, "steps": steps,
             "bytes": os.path.getsize(os.path.join(folder, "model.onnx"))}
    entry.update(extra or {})
    return entry


def qdq_elementwise(path):
    """Elementwise ops between QDQ pairs, as quantized models hold them: x -> Q -> DQ -> HardSwish -> Q ->
    DQ -> MaxPool(3x3, stride 2, pads 1) -> Q (another scale) -> DQ -> (a) and Sigmoid -> Q -> DQ -> (b);
    Add(a, b) -> LeakyRelu(0.1) -> Q -> DQ -> y."""
    def scalar(name, value, dtype=np.float32):
        return numpy_helper.from_array(np.array(value, dtype), name)
    inits = [scalar("xs", 0.03), scalar("xz", 128, np.uint8), scalar("hs", 0.02), scalar("hz", 20, np.uint8), scalar("ps", 0.025),
             scalar("pz", 16, np.uint8), scalar("ss", 1 / 255), scalar("sz", 0, np.uint8), scalar("as", 0.01), scalar("az", -100, np.int8)]
    Q = lambda i, s, z, o, n: helper.make_node("QuantizeLinear", [i, s, z], [o], name=n)
    D = lambda i, s, z, o, n: helper.make_node("DequantizeLinear", [i, s, z], [o], name=n)
    nodes = [Q("x", "xs", "xz", "xq", "x_q"), D("xq", "xs", "xz", "xd", "x_dq"), helper.make_node("HardSwish", ["xd"], ["h"], name="hardswish"),
             Q("h", "hs", "hz", "hq", "h_q"), D("hq", "hs", "hz", "hd", "h_dq"),
             helper.make_node("MaxPool", ["hd"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], name="maxpool"),
             Q("p", "ps", "pz", "pq", "p_q"), D("pq", "ps", "pz", "a", "p_dq"),
             helper.make_node("Sigmoid", ["a"], ["s"], name="sigmoid"), Q("s", "ss", "sz", "sq", "s_q"), D("sq", "ss", "sz", "b", "s_dq"),
             helper.make_node("Add", ["a", "b"], ["t"], name="add"), helper.make_node("LeakyRelu", ["t"], ["l"], alpha=0.1, name="leaky"),
             Q("l", "as", "az", "lq", "l_q"), D("lq", "as", "az", "y", "l_dq")]
    graph = helper.make_graph(nodes, "qdq_elementwise", [helper.make_tensor_value_info("x", F32, ["N", 4, 9, 9])],
                              [helper.make_tensor_value_info("y", F32, ["N", 4, 5, 5])], inits)
    model = helper.make_model(graph, producer_name="vigil-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def ort_cases(tmp):
    r = np.random.default_rng(1710)
    cnn, mlp = os.path.join(tmp, "cnn.onnx"), os.path.join(tmp, "mlp.onnx")
    small_cnn(cnn)
    small_mlp(mlp)
    images = r.standard_normal((16, 3, 16, 16)).astype(np.float32)
    tokens = r.standard_normal((16, 5, 16)).astype(np.float32)
    x = {"x": r.standard_normal((4, 3, 16, 16)).astype(np.float32)}
    xt = {"x": r.standard_normal((3, 5, 16)).astype(np.float32)}
    entries = []
    quantize_static(cnn, os.path.join(tmp, "u8.onnx"), Samples("x", images), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    entries.append(write_case("ort_qdq_cnn_u8", os.path.join(tmp, "u8.onnx"), x, "onnxruntime quantize_static (QDQ)",
                              "uint8 activations, per-channel int8 weights, min-max on 16 images"))
    quantize_static(cnn, os.path.join(tmp, "s8.onnx"), Samples("x", images), quant_format=QuantFormat.QDQ, per_channel=False,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    entries.append(write_case("ort_qdq_cnn_s8", os.path.join(tmp, "s8.onnx"), x, "onnxruntime quantize_static (QDQ)",
                              "int8 activations, per-tensor int8 weights"))
    quantize_static(mlp, os.path.join(tmp, "mm.onnx"), Samples("x", tokens), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    entries.append(write_case("ort_qdq_matmul", os.path.join(tmp, "mm.onnx"), xt, "onnxruntime quantize_static (QDQ)",
                              "3-D MatMul + Add + Relu, per-channel weights"))
    quantize_static(cnn, os.path.join(tmp, "qop.onnx"), Samples("x", images), quant_format=QuantFormat.QOperator, per_channel=True,
                    op_types_to_quantize=["Conv", "MatMul"], activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    entries.append(write_case("ort_qoperator", os.path.join(tmp, "qop.onnx"), x, "onnxruntime quantize_static (QOperator)",
                              "QLinearConv with per-channel weights"))
    quantize_static(mlp, os.path.join(tmp, "qopm.onnx"), Samples("x", tokens), quant_format=QuantFormat.QOperator, per_channel=False,
                    op_types_to_quantize=["MatMul"], activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    entries.append(write_case("ort_qoperator_matmul", os.path.join(tmp, "qopm.onnx"), xt, "onnxruntime quantize_static (QOperator)",
                              "QLinearMatMul on 3-D inputs"))
    quantize_dynamic(cnn, os.path.join(tmp, "dyn.onnx"), weight_type=QuantType.QInt8, op_types_to_quantize=["Conv", "MatMul"])
    entries.append(write_case("ort_dynamic", os.path.join(tmp, "dyn.onnx"), x, "onnxruntime quantize_dynamic",
                              "DynamicQuantizeLinear + ConvInteger (int8 weights)"))
    quantize_dynamic(mlp, os.path.join(tmp, "dynm.onnx"), weight_type=QuantType.QInt8, per_channel=True)
    entries.append(write_case("ort_dynamic_matmul", os.path.join(tmp, "dynm.onnx"), xt, "onnxruntime quantize_dynamic",
                              "DynamicQuantizeLinear + MatMulInteger, per-channel weights"))
    qdq_elementwise(os.path.join(tmp, "elementwise.onnx"))
    entries.append(write_case("qdq_elementwise", os.path.join(tmp, "elementwise.onnx"), {"x": r.standard_normal((3, 4, 9, 9)).astype(np.float32) * 3},
                              "helper (by hand)", "HardSwish, MaxPool (requantized), Sigmoid, Add + LeakyRelu between QDQ pairs"))
    return entries, cnn, images, x


def vigil(binary, *args):
    result = subprocess.run([binary, *args, "--quiet"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"vigil {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def vigil_cnn_cases(binary, tmp, cnn, images, x):
    calibration = os.path.join(tmp, "cnn_calibration.npy")
    np.save(calibration, images)
    entries = []
    out = os.path.join(tmp, "cnn_entropy.onnx")
    vigil(binary, "quantize", cnn, "--calibration", calibration, "--method", "entropy", "--activation-type", "int8", "-o", out)
    entries.append(write_case("vigil_cnn_entropy_s8", out, x, "vigil quantize --method entropy --activation-type int8",
                              "Vigil's static QDQ form, int8 activations"))
    out = os.path.join(tmp, "cnn_dynamic.onnx")
    vigil(binary, "quantize", cnn, "--weights-only", "-o", out)
    entries.append(write_case("vigil_cnn_dynamic", out, x, "vigil quantize --weights-only", "Vigil's dynamic form"))
    return entries


def mean_distance(embeddings, means):
    e = embeddings.astype(np.float64)
    return ((e[:, None, :] - means[None]) ** 2).sum(axis=2).min(axis=1)


def roc_metrics(in_scores, ood_scores):
    """AUROC (Mann-Whitney, ties counted half) and FPR at the first threshold reaching 95% TPR, with the
    in-distribution set positive and lower scores more in-distribution (as sklearn's roc_curve on -s)."""
    s = np.concatenate([in_scores, ood_scores])
    positive = np.concatenate([np.ones(len(in_scores), bool), np.zeros(len(ood_scores), bool)])
    order = np.argsort(s, kind="mergesort")
    s, positive = s[order], positive[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp, fp = np.cumsum(positive)[distinct], np.cumsum(~positive)[distinct]
    tpr, fpr = tp / len(in_scores), fp / len(ood_scores)
    ranks = np.empty(len(s))
    start = 0
    for end in distinct:
        ranks[start:end + 1] = (start + end) / 2 + 1
        start = end + 1
    # AUROC of -s for the positives = P(an in-distribution score < an OOD score), ties half.
    u = ranks[~positive].sum() - len(ood_scores) * (len(ood_scores) + 1) / 2
    return {"auroc": float(u / (len(in_scores) * len(ood_scores))), "fpr_at_95_tpr": float(fpr[np.argmax(tpr >= 0.95)])}


def detector_cases(binary, tmp):
    images = {k: np.load(os.path.join(DETECTOR, f"{k}_images.npy")) for k in ["train", "val", "test", "novelty", "gaussian", "uniform", "photos"]}
    labels = np.load(os.path.join(DETECTOR, "train_labels.npy"))
    detector = os.path.join(tmp, "detector.h5")
    vigil(binary, "detect", "fit", os.path.join(DETECTOR, "embedding.onnx"), "--data", os.path.join(DETECTOR, "train_images.npy"),
          "--labels", os.path.join(DETECTOR, "train_labels.npy"), "-o", detector)
    prep = lambda a: (a.astype(np.float32) / np.float32(255)).reshape(len(a), 28, 28, 1)
    feeds = {"input": prep(images["test"][:32])}
    entries = []
    float_train = np.load(os.path.join(DETECTOR, "train_embedding.npy")).astype(np.float64)
    means = np.stack([float_train[labels == c].mean(axis=0) for c in sorted(set(labels.tolist()))])
    for network in ["embedding", "classifier"]:
        source = os.path.join(DETECTOR, f"{network}.onnx")
        out = os.path.join(tmp, f"{network}.int8.onnx")
        vigil(binary, "quantize", source, "--detector", detector, "--calibration", os.path.join(DETECTOR, "train_images.npy"), "-o", out)
        name = session(out).get_inputs()[0].name
        q = session(out)
        results = {k: q.run(None, {name: prep(v)})[0] for k, v in images.items() if k != "train"}
        extra = {"float_bytes": os.path.getsize(source)}
        if network == "embedding":
            metrics = {}
            for ood in ["novelty", "gaussian", "uniform", "photos"]:
                f = roc_metrics(mean_distance(np.load(os.path.join(DETECTOR, f"test_embedding.npy")), means),
                                mean_distance(np.load(os.path.join(DETECTOR, f"{ood}_embedding.npy")), means))
                qm = roc_metrics(mean_distance(results["test"], means), mean_distance(results[ood], means))
                metrics[ood] = {"float": f, "quantized": qm}
            extra["mean_distance"] = metrics
        else:
            agree = [int((np.load(os.path.join(DETECTOR, f"{k}_logits.npy")).argmax(1) == results[k].argmax(1)).sum()) for k in ["val", "test"]]
            extra["top1_agreement"] = {"in_distribution_samples": 1000, "agreeing": sum(agree)}
        entries.append(write_case(f"vigil_detector_{network}", out, {name: feeds["input"]}, "vigil quantize --detector",
                                  f"the bundled {network} network, calibrated on the 1,500 training images", extra))
    return entries


def squeezenet_case(binary, tmp, model):
    r = np.random.default_rng(1720)
    calibration = os.path.join(tmp, "squeezenet_calibration.npy")
    np.save(calibration, r.standard_normal((32, 3, 224, 224)).astype(np.float32))
    out = os.path.join(tmp, "squeezenet.int8.onnx")
    vigil(binary, "quantize", model, "--calibration", calibration, "-o", out)
    test = r.standard_normal((64, 3, 224, 224)).astype(np.float32)
    f, q = session(model), session(out)
    name = f.get_inputs()[0].name
    agree = sum(int((f.run(None, {name: test[i:i + 8]})[0].argmax(1) == q.run(None, {name: test[i:i + 8]})[0].argmax(1)).sum())
                for i in range(0, 64, 8))
    extra = {"float_bytes": os.path.getsize(model), "top1_agreement": {"samples": 64, "agreeing": agree}}
    return [write_case("vigil_squeezenet1_1", out, {name: test[:2]}, "vigil quantize",
                       "the zoo's squeezenet1_1 (torchscript), calibrated on 32 N(0, 1) images", extra)]


def calibration_reference():
    """onnxruntime's calibrators (HistogramCollector on one batch, 2048 bins) and quantization
    parameters on sample arrays, for the Swift tests of Vigil's calibration."""
    r = np.random.default_rng(1730)
    arrays = {
        "gaussian": r.standard_normal(20000).astype(np.float32),
        "relu": np.maximum(r.standard_normal(20000) * 2 + 0.3, 0).astype(np.float32),
        "heavy_tail": (r.standard_t(3, 20000) * 0.5).astype(np.float32),
        "skewed": (r.exponential(1.0, 20000) - 0.2).astype(np.float32),
    }
    folder = os.path.join(OUT, "calibration")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    result = {"arrays": {}, "scale_zero_point": [], "weights": {}}
    for name, a in arrays.items():
        np.save(os.path.join(folder, f"{name}.npy"), a)
        entry = {"min": float(a.min()), "max": float(a.max())}
        for method in ["percentile", "entropy"]:
            collector = HistogramCollector(method=method, symmetric=False, num_bins=2048, num_quantized_bins=128, percentile=99.999,
                                           scenario="same")
            collector.collect({name: a})
            low, high = collector.compute_collection_result()[name][:2]
            entry[method] = [float(low), float(high)]
        result["arrays"][name] = entry
    for low, high in [(-1.0, 3.0), (0.0, 6.0), (-2.5, -0.5), (0.1, 0.2), (-3.3, 3.3), (0.0, 0.0), (-1e-30, 1e-30), (-0.7, 113.0)]:
        for qtype, (qmin, qmax) in [("uint8", (0, 255)), ("int8", (-128, 127))]:
            dtype = np.uint8 if qtype == "uint8" else np.int8
            zero, scale = quant_utils.compute_scale_zp(np.array(low, np.float32), np.array(high, np.float32), np.array(qmin, dtype),
                                                       np.array(qmax, dtype))
            result["scale_zero_point"].append({"low": low, "high": high, "type": qtype, "scale": float(scale), "zero_point": int(zero)})
    w = (r.standard_normal((6, 4, 3, 3)) * np.array([0.01, 0.1, 1, 3, 0.5, 0.2])[:, None, None, None]).astype(np.float32)
    np.save(os.path.join(folder, "weights.npy"), w)
    scales, values = [], []
    for channel in w:
        zero, scale, q = quant_utils.quantize_data(channel.ravel(), TensorProto.INT8, True)
        assert int(zero) == 0
        scales.append(float(scale))
        values.extend(int(v) for v in q.ravel())
    result["weights"] = {"array": "weights.npy", "axis": 0, "scales": scales, "values": values}
    with open(os.path.join(OUT, "calibration.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vigil", required=True, help="the vigil binary (for the Vigil-quantized models)")
    parser.add_argument("--squeezenet", required=True, help="the zoo's squeezenet1_1 model.onnx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        entries, cnn, images, x = ort_cases(tmp)
        entries += vigil_cnn_cases(os.path.abspath(args.vigil), tmp, cnn, images, x)
        entries += detector_cases(os.path.abspath(args.vigil), tmp)
        entries += squeezenet_case(os.path.abspath(args.vigil), tmp, args.squeezenet)
    calibration_reference()
    manifest = {"generator": {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__},
                "tolerance": "each output within one quantization step (`steps`) of onnxruntime's", "models": entries}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {len(entries)} models under {OUT}")


if __name__ == "__main__":
    sys.exit(main())
