#!/usr/bin/env python3
"""The torchvision model zoo: architectures with random (seeded) weights, exported to ONNX by both of
torch's exporters, committed with their weights stripped. Run by hand, never in CI:

    python3 -m venv /work/venvs/zoo
    /work/venvs/zoo/bin/pip install -r Fixtures/zoo/requirements.txt
    /work/venvs/zoo/bin/python Fixtures/zoo/generate_zoo.py [--only NAME ...]

For every architecture (``MODELS``), seeded with ``seed``:

1. build it with ``weights=None`` and make the random network plausible: BatchNorm/LayerNorm scales
   drawn from U(0.5, 1.5) and shifts from N(0, 0.1); parameters that torchvision initialises to one
   constant (ViT's zero head and class token, ConvNeXt's 1e-6 layer scale, zero biases) redrawn;
   BatchNorm running statistics calibrated on random N(0, 1) images (a cumulative average over
   ``CALIBRATION_BATCHES`` batches, everything else in eval mode) so activations neither explode nor
   vanish; the last Linear rescaled so the logits have a standard deviation of ``LOGIT_STD``;
2. export it in eval mode with a symbolic batch dimension ``batch``, input ``input`` [batch, 3, 224,
   224] and output ``logits`` (``embedding`` for the metric-learning head), with
   ``torch.onnx.export(dynamo=False)`` (the TorchScript exporter) and ``torch.onnx.export(dynamo=True)``,
   both at their default opset;
3. strip it (``zoo_weights.strip``) into ``<name>/<flavour>/graph.onnx`` + ``weights.npz``;
4. for the small models (``WHOLE``), also write ``<name>/<flavour>/model.onnx``, the materialised
   model (``zoo_weights.materialise`` of the stripped one, so it is byte-identical to what the interop
   step materialises), with onnxruntime references in ``test_data_set_0`` (batch 1) and
   ``test_data_set_1`` (batch 2);
5. write ``manifest.json`` (same keys as ``Fixtures/onnx/manifest.json`` plus zoo facts).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import onnx_stats  # noqa: E402
import zoo_weights  # noqa: E402

FLAVOURS = ("torchscript", "dynamo")
# More exports of some models: the dynamo exporter at opset 23 writes ViT's attention as the ONNX
# Attention op (and Gelu), which the default opset (20) decomposes.
EXTRA_FLAVOURS = {"vit_b_16": ("dynamo_opset23",)}
INPUT_SHAPE = (3, 224, 224)
CALIBRATION_BATCHES = 4
CALIBRATION_BATCH_SIZE = 8
ONNX_CALIBRATION_BATCH_SIZE = 4  # images for calibrating the stripped statistics
CALIBRATION_WINDOW = 8      # layers measured past the first unsettled one
CALIBRATION_TOLERANCE = 1e-3
LOGIT_STD = 3.0
TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}
# Committed whole (model.onnx under ~10 MB) so that `swift test` can run them without Python.
WHOLE = {"squeezenet1_1", "shufflenet_v2_x1_0", "squeezenet1_1_embedding"}


class EmbeddingHead(nn.Module):
    """ResNet-18 backbone → global average pool → 128-d linear → L2 normalisation (the detector's shape)."""

    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet18(weights=None)
        self.backbone.fc = nn.Linear(512, 128)

    def forward(self, x):
        return F.normalize(self.backbone(x), p=2.0, dim=1)


class SmallEmbeddingHead(nn.Module):
    """The same head on SqueezeNet 1.1's features (3 MB, committed whole so that `swift test` covers the
    shape): features → global average pool → 128-d linear → L2 normalisation."""

    def __init__(self):
        super().__init__()
        self.features = torchvision.models.squeezenet1_1(weights=None).features
        self.fc = nn.Linear(512, 128)

    def forward(self, x):
        pooled = torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1)
        return F.normalize(self.fc(pooled), p=2.0, dim=1)


def tv(name):
    return lambda: getattr(torchvision.models, name)(weights=None)


# name -> (constructor, seed, output name)
MODELS = {
    "resnet18": (tv("resnet18"), 2001, "logits"),
    "resnet50": (tv("resnet50"), 2002, "logits"),
    "mobilenet_v2": (tv("mobilenet_v2"), 2003, "logits"),
    "mobilenet_v3_small": (tv("mobilenet_v3_small"), 2004, "logits"),
    "mobilenet_v3_large": (tv("mobilenet_v3_large"), 2005, "logits"),
    "efficientnet_b0": (tv("efficientnet_b0"), 2006, "logits"),
    "densenet121": (tv("densenet121"), 2007, "logits"),
    "squeezenet1_1": (tv("squeezenet1_1"), 2008, "logits"),
    "shufflenet_v2_x1_0": (tv("shufflenet_v2_x1_0"), 2009, "logits"),
    "regnet_y_400mf": (tv("regnet_y_400mf"), 2010, "logits"),
    "convnext_tiny": (tv("convnext_tiny"), 2011, "logits"),
    "vit_b_16": (tv("vit_b_16"), 2012, "logits"),
    "resnet18_embedding": (EmbeddingHead, 2013, "embedding"),
    "squeezenet1_1_embedding": (SmallEmbeddingHead, 2014, "embedding"),
}


# --------------------------------------------------------------------------- plausible random weights


def _constant(p: torch.Tensor) -> bool:
    return p.numel() > 0 and bool(torch.all(p == p.reshape(-1)[0]))


def randomise(model: nn.Module, gen: torch.Generator):
    """Redraws the parameters a fresh torchvision model initialises to constants."""
    norms = (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, norms):
                if getattr(module, "weight", None) is not None:
                    module.weight.copy_(torch.rand(module.weight.shape, generator=gen) + 0.5)
                if getattr(module, "bias", None) is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.1)
        norm_params = {id(p) for m in model.modules() if isinstance(m, norms) for p in m.parameters(recurse=False)}
        for name, p in model.named_parameters():
            if id(p) in norm_params or not _constant(p):
                continue
            if name.endswith("layer_scale"):          # ConvNeXt: 1e-6 at init
                p.copy_(torch.rand(p.shape, generator=gen) * 0.4 + 0.1)
            elif p.dim() >= 2 and "token" not in name:  # zero-initialised weights (ViT head)
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / np.sqrt(fan_in))
            else:                                       # zero biases, class token
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)


def calibrate(model: nn.Module, gen: torch.Generator):
    """BatchNorm running statistics from random images: cumulative averages, BN in training mode only."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for _ in range(CALIBRATION_BATCHES):
            model(torch.randn((CALIBRATION_BATCH_SIZE,) + INPUT_SHAPE, generator=gen))
    model.eval()


def scale_logits(model: nn.Module, gen: torch.Generator):
    """Rescales the last Linear (SqueezeNet: Conv) so that the logits' standard deviation is LOGIT_STD."""
    last = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    with torch.no_grad():
        std = float(model(torch.randn((CALIBRATION_BATCH_SIZE,) + INPUT_SHAPE, generator=gen)).std())
        if std > 0:
            last.weight.mul_(LOGIT_STD / std)
            if last.bias is not None:
                last.bias.mul_(LOGIT_STD / std)


def build(name):
    ctor, seed, output = MODELS[name]
    torch.manual_seed(seed)
    model = ctor()
    gen = torch.Generator().manual_seed(seed)
    randomise(model, gen)
    calibrate(model, gen)
    if output == "logits":
        scale_logits(model, gen)
    return model.eval(), seed, output


# --------------------------------------------------------------------------- calibrating the stripped model


class Layer:
    """A Conv/Gemm/MatMul whose weight is stripped: where its output channels are, and its bias."""

    def __init__(self, weight, weight_axis, bias, output, output_axis, bias_kind="bias"):
        self.weight, self.weight_axis = weight, weight_axis      # tensor key, output-channel axis
        self.bias, self.output, self.output_axis = bias, output, output_axis  # initializer name or None
        self.bias_kind = bias_kind  # "bias" (added), or "bn_mean" (a following BatchNormalization's mean)


def linear_layers(model: onnx.ModelProto):
    """The main graph's Conv, Gemm and MatMul nodes with a float initializer (or Constant) weight used
    by no other node; MatMul's bias is the 1-D initializer of an Add that alone consumes its output."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    constants = {n.output[0]: n for n in graph.node if n.op_type == "Constant"}
    alias = {}
    for n in graph.node:
        if n.op_type == "Identity":
            source = alias.get(n.input[0], n.input[0])
            if source in inits or source in constants:
                alias[n.output[0]] = source
    uses = {}
    for n in graph.node:
        for name in n.input:
            name = alias.get(name, name)
            uses[name] = uses.get(name, 0) + (n.op_type != "Identity")
    consumers = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)

    def key(name):
        name = alias.get(name, name)
        if uses.get(name, 0) != 1:
            return None
        if name in inits:
            return f"initializer:{name}"
        return f"constant:{name}" if name in constants else None

    def bias_name(name, size):
        name = alias.get(name, name)
        t = inits.get(name)
        ok = t is not None and uses.get(name, 0) == 1 and list(t.dims) == [size] and t.data_type == onnx.TensorProto.FLOAT
        return name if ok else None

    def dims(name):
        name = alias.get(name, name)
        if name in inits:
            return list(inits[name].dims)
        return list(constants[name].attribute[0].t.dims) if name in constants else None

    layers = []
    for n in graph.node:
        if n.op_type not in ("Conv", "Gemm", "MatMul") or len(n.input) < 2:
            continue
        weight, shape = key(n.input[1]), dims(n.input[1])
        if weight is None or shape is None or len(shape) < 2:
            continue
        if n.op_type == "Conv":
            axis, out, out_axis = 0, n.output[0], 1
            bias = bias_name(n.input[2], shape[0]) if len(n.input) > 2 and n.input[2] else None
            after = consumers.get(n.output[0], [])
            if bias is None and len(after) == 1 and after[0].op_type == "BatchNormalization" and len(after[0].input) > 3:
                mean = bias_name(after[0].input[3], shape[0])
                if mean:
                    layers.append(Layer(weight, axis, mean, out, out_axis, "bn_mean"))
                    continue
        elif n.op_type == "Gemm":
            trans_b = next((a.i for a in n.attribute if a.name == "transB"), 0)
            axis, out, out_axis = (0 if trans_b else 1), n.output[0], 1
            bias = bias_name(n.input[2], shape[axis]) if len(n.input) > 2 and n.input[2] else None
        else:
            if len(shape) != 2:
                continue
            axis, out, out_axis, bias = 1, n.output[0], -1, None
            after = consumers.get(n.output[0], [])
            if len(after) == 1 and after[0].op_type == "Add":
                other = [i for i in after[0].input if i != n.output[0]]
                if len(other) == 1 and bias_name(other[0], shape[1]):
                    bias, out = bias_name(other[0], shape[1]), after[0].output[0]
        layers.append(Layer(weight, axis, bias, out, out_axis))
    return layers


def channel_stats(model: onnx.ModelProto, layers, x):
    """Per output channel (mean, std, values per channel) of the layers' outputs on the batch x, by
    onnxruntime; only these are the graph's outputs, so nothing after them is computed."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    for name in dict.fromkeys(layer.output for layer in layers):
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
        probe.graph.output[-1].type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    names, values = run_ort(probe.SerializeToString(), {"input": x}, threads=os.cpu_count())
    by_name = dict(zip(names, values))
    stats = []
    for layer in layers:
        y = np.moveaxis(by_name[layer.output].astype(np.float64), layer.output_axis, -1)
        y = y.reshape(-1, y.shape[-1])
        with np.errstate(all="ignore"):  # an overflowing network (before calibration) has inf
            stats.append((y.mean(axis=0), y.std(axis=0), y.shape[0]))
    return stats


def _set(tensor, array):
    tensor.CopyFrom(onnx.numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), tensor.name))


def calibrate_stripped(exported, stripped, stats, layers, seed):
    """Adjusts the per-channel weight statistics (and the verbatim biases, or the running mean of a
    BatchNormalization right after a bias-less Conv) of the stripped model so that the materialised
    network's layer outputs have, channel by channel, the mean and standard deviation that the
    exported network's have on random images. Drawn values are mean + std * z with z fixed by the seed,
    so scaling a channel's (mean, std) by a scales its weights by a.

    Layers are in graph (topological) order. Each pass measures the layers up to the first one not yet
    settled plus a window (one onnxruntime run on the model truncated there) and corrects them all; a
    correction is exact once every layer before it is settled, so the first unsettled layer settles in
    every pass, and layers on parallel branches settle together. Layers with fewer than 32 values per
    channel (logits) get one scale for the whole tensor. Returns (passes, largest error measured in
    the last pass)."""
    x = np.random.default_rng([seed, 99]).standard_normal((ONNX_CALIBRATION_BATCH_SIZE,) + INPUT_SHAPE,
                                                          dtype=np.float32)
    targets = [(m, s) for m, s, _ in channel_stats(exported, layers, x)]
    index = {str(k): i for i, k in enumerate(stats["names"])}
    full = zoo_weights.materialise(stripped, stats)
    weights = dict(zoo_weights.tensors(full.graph))
    full_inits = {t.name: t for t in full.graph.initializer}
    stripped_inits = {t.name: t for t in stripped.graph.initializer}
    settled, passes, worst = 0, 0, float("inf")
    while passes < 2 * len(layers) + 3:
        passes += 1
        end = min(len(layers), settled + CALIBRATION_WINDOW)
        measured = channel_stats(full, layers[:end], x)
        errors = [correct(layer, target, actual, stats, index, weights, full_inits, stripped_inits)
                  for layer, target, actual in zip(layers, targets, measured)]
        unsettled = [k for k, e in enumerate(errors) if not e <= CALIBRATION_TOLERANCE]
        worst = max(errors)
        if not unsettled and end == len(layers):
            break
        settled = (unsettled[0] + 1) if unsettled else end
    return passes, worst


def correct(layer, target, actual, stats, index, weights, full_inits, stripped_inits):
    """Corrects one layer from its measured channel statistics unless it is within the tolerance
    already (so settled layers stop moving); returns its error before correcting (inf when its input
    overflowed: it is corrected in a later pass)."""
    (t_mean, t_std), (mean, std, count) = target, actual
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
        return float("inf")
    if count < 32:
        # one scale: the pooled within-channel spread (the bias sets each channel's mean)
        scale = np.full_like(std, np.sqrt((t_std ** 2).mean() / max((std ** 2).mean(), 1e-24)))
    else:
        scale = np.where(std > 1e-12, t_std / np.maximum(std, 1e-12), 1.0)
    error = np.abs(np.log(scale))
    if layer.bias is not None:
        # relative to the channel's spread, at least 1% of the layer's spread over all its values (a
        # channel of logits varies little around a large mean)
        spread = float(np.sqrt((t_std ** 2).mean() + t_mean.var()))
        error = np.maximum(error, np.abs(t_mean - mean) / np.maximum(t_std, max(1e-2 * spread, 1e-12)))
    error = float(error.max())
    if error <= CALIBRATION_TOLERANCE:
        return error
    i = index[layer.weight]
    stats[f"mean_{i}"] = (stats[f"mean_{i}"] * scale).astype(np.float32)
    stats[f"std_{i}"] = (stats[f"std_{i}"] * scale).astype(np.float32)
    shape = [1] * len(weights[layer.weight].dims)
    shape[layer.weight_axis] = len(scale)
    _set(weights[layer.weight], onnx.numpy_helper.to_array(weights[layer.weight]) * scale.reshape(shape))
    if layer.bias is not None:
        b = onnx.numpy_helper.to_array(full_inits[layer.bias]).astype(np.float64)
        b = t_mean - scale * (mean - b) if layer.bias_kind == "bias" else b + scale * mean - t_mean
        _set(full_inits[layer.bias], b)
        _set(stripped_inits[layer.bias], b)
    return error


# --------------------------------------------------------------------------- export


def export(model, flavour, output, path):
    x = torch.randn((2,) + INPUT_SHAPE, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if flavour == "torchscript":
            torch.onnx.export(model, (x,), path, dynamo=False, input_names=["input"], output_names=[output],
                              dynamic_axes={"input": {0: "batch"}, output: {0: "batch"}})
        else:
            opset = {"dynamo": None, "dynamo_opset23": 23}[flavour]
            program = torch.onnx.export(model, (x,), dynamo=True, input_names=["input"], output_names=[output],
                                        dynamic_shapes=({0: torch.export.Dim("batch")},), opset_version=opset)
            program.save(path)
    return onnx.load(path)


def seeded_inputs(seed, batch):
    """The reference inputs: N(0, 1) images (what ImageNet normalisation produces)."""
    rng = np.random.default_rng([seed, batch])
    return rng.standard_normal((batch,) + INPUT_SHAPE, dtype=np.float32)


def run_ort(model_bytes_or_path, feeds, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    session = ort.InferenceSession(model_bytes_or_path, so, providers=["CPUExecutionProvider"])
    return [o.name for o in session.get_outputs()], session.run(None, feeds)


def write_tensor(path, array, name):
    tensor = onnx.numpy_helper.from_array(np.ascontiguousarray(array), name=name)
    with open(path, "wb") as fh:
        fh.write(tensor.SerializeToString())


def write_whole(folder, model, seed):
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    for index, batch in enumerate((1, 2)):
        data = os.path.join(folder, f"test_data_set_{index}")
        os.makedirs(data, exist_ok=True)
        x = seeded_inputs(seed, batch)
        names, outputs = run_ort(path, {"input": x})
        write_tensor(os.path.join(data, "input_0.pb"), x, "input")
        for i, (n, y) in enumerate(zip(names, outputs)):
            write_tensor(os.path.join(data, f"output_{i}.pb"), y, n)


def manifest_entry(name, flavour, exported, stripped_path, seed, stats, whole, logit_stds):
    pc, by_dtype, ic = onnx_stats.initializer_stats(exported.graph)
    folder = f"{name}/{flavour}"
    return {
        "name": folder,
        "architecture": name,
        "exporter": flavour,
        "path": f"{folder}/model.onnx" if whole else None,
        "graph": f"{folder}/graph.onnx",
        "weights": f"{folder}/weights.npz",
        "seed": seed,
        "ir_version": int(exported.ir_version),
        "producer_name": exported.producer_name,
        "producer_version": exported.producer_version,
        "opsets": onnx_stats.opsets(exported),
        "inputs": [onnx_stats.value_info_entry(v) for v in exported.graph.input],
        "outputs": [onnx_stats.value_info_entry(v) for v in exported.graph.output],
        "node_count": len(exported.graph.node),
        "op_histogram": onnx_stats.op_histogram(exported.graph),
        "parameter_count": pc,
        "parameter_bytes_by_dtype": by_dtype,
        "initializer_count": ic,
        "external_data_files": [],
        "has_reference": whole,
        "stripped_tensors": int(len(stats["names"])),
        "stripped_per_slice": int(sum(len(stats[f"mean_{i}"]) > 1 for i in range(len(stats["names"])))),
        "graph_bytes": os.path.getsize(stripped_path),
        "logit_std": logit_stds,
        "tolerance": TOLERANCE,
    }


def flavours(name):
    return FLAVOURS + EXTRA_FLAVOURS.get(name, ())


def generate(name, out_root, only_flavours=None):
    model, seed, output = build(name)
    entries = []
    for flavour in flavours(name):
        if only_flavours and flavour not in only_flavours:
            continue
        folder = os.path.join(out_root, name, flavour)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        started = time.time()
        exported_path = os.path.join(folder, "exported.onnx")
        exported = export(model, flavour, output, exported_path)
        onnx.checker.check_model(exported, full_check=True)
        layers = linear_layers(exported)
        stripped, stats = zoo_weights.strip(exported, seed, {layer.weight: layer.weight_axis for layer in layers})
        layers = [layer for layer in layers if layer.weight in set(stats["names"].tolist())]
        passes, calibration_error = calibrate_stripped(exported, stripped, stats, layers, seed)
        stripped_path = os.path.join(folder, "graph.onnx")
        onnx.save(stripped, stripped_path)
        np.savez_compressed(os.path.join(folder, "weights.npz"), **stats)
        with np.load(os.path.join(folder, "weights.npz")) as saved:
            full = zoo_weights.materialise(onnx.load(stripped_path, load_external_data=False), saved)
        onnx.checker.check_model(full, full_check=True)
        x = seeded_inputs(seed, 2)
        exported_out = run_ort(exported_path, {"input": x})[1][0]
        full_out = run_ort(full.SerializeToString(), {"input": x})[1][0]
        with torch.no_grad():
            torch_out = model(torch.from_numpy(x)).numpy()
        export_error = float(np.max(np.abs(exported_out - torch_out)))
        logit_stds = {"torch": float(torch_out.std()), "exported": float(exported_out.std()),
                      "materialised": float(full_out.std())}
        os.remove(exported_path)
        whole = name in WHOLE
        if whole:
            write_whole(folder, full, seed)
        entry = manifest_entry(name, flavour, exported, stripped_path, seed,
                               {k: stats[k] for k in stats}, whole, logit_stds)
        entry["export_max_abs_error_vs_torch"] = export_error
        entry["calibrated_layers"] = len(layers)
        entry["calibration_passes"] = passes
        entry["calibration_error"] = calibration_error
        entries.append(entry)
        print(f"{name} [{flavour}]: {entry['node_count']} nodes, {entry['parameter_count']} parameters, "
              f"opset {entry['opsets']}, IR {entry['ir_version']}, graph {entry['graph_bytes'] / 1e6:.2f} MB, "
              f"logit std {logit_stds}, export vs torch {export_error:.2g}, calibrated {len(layers)} layers in "
              f"{passes} passes (error {calibration_error:.2g}), {time.time() - started:.0f} s", flush=True)
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--only", action="append", choices=sorted(MODELS), help="regenerate only these (manifest merged)")
    ap.add_argument("--flavour", action="append", help="only these exports (torchscript, dynamo, dynamo_opset23)")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    names = args.only or list(MODELS)
    manifest_path = os.path.join(args.out, "manifest.json")
    previous = {}
    if (args.only or args.flavour) and os.path.exists(manifest_path):
        with open(manifest_path) as fh:
            previous = {e["name"]: e for e in json.load(fh)["models"]}
    fresh = {}
    for name in names:
        for entry in generate(name, args.out, args.flavour):
            fresh[entry["name"]] = entry
    merged = {**previous, **fresh}
    order = [f"{n}/{f}" for n in MODELS for f in flavours(n)]
    manifest = {
        "generator": {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__,
                      "onnxruntime": ort.__version__, "numpy": np.__version__},
        "models": [merged[k] for k in order if k in merged],
    }
    with open(manifest_path, "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    print(f"wrote {manifest_path} ({len(manifest['models'])} models)")


if __name__ == "__main__":
    main()
