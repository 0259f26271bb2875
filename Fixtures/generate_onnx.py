#!/usr/bin/env python3
"""Generate the ONNX fixture models used by the Vigil Swift tests.

Usage (from the repository root, inside a venv with Fixtures/requirements.txt):

    python Fixtures/generate_onnx.py [--out Fixtures/onnx] [--only NAME ...]

Deterministic: every model uses its own fixed-seed numpy Generator. Outputs:

    Fixtures/onnx/<name>/model.onnx
    Fixtures/onnx/<name>/test_data_set_0/{input_<i>,output_<i>}.pb   (when has_reference)
    Fixtures/onnx/typed_fields_all_dtypes/values.json
    Fixtures/onnx/manifest.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_stats  # noqa: E402

PRODUCER_NAME = "vigil-fixtures"
PRODUCER_VERSION = "1.0"
TOLERANCE = {"atol": 1e-5, "rtol": 1e-4}
F = TensorProto.FLOAT


# --------------------------------------------------------------------------- helpers


def rnd(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def init(name, arr):
    """Initializer stored in raw_data (numpy_helper default)."""
    return numpy_helper.from_array(np.asarray(arr), name=name)


def vi(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def conv_weight(rng, cout, cin, k):
    fan_in = cin * k * k
    return rnd(rng, cout, cin, k, k, scale=1.0 / np.sqrt(fan_in))


def bn_params(rng, prefix, c):
    return [
        init(f"{prefix}_scale", rng.uniform(0.5, 1.5, c).astype(np.float32)),
        init(f"{prefix}_bias", rnd(rng, c, scale=0.1)),
        init(f"{prefix}_mean", rnd(rng, c, scale=0.1)),
        init(f"{prefix}_var", rng.uniform(0.5, 2.0, c).astype(np.float32)),
    ]


def bn_node(x, y, prefix, name=None):
    return helper.make_node(
        "BatchNormalization",
        [x, f"{prefix}_scale", f"{prefix}_bias", f"{prefix}_mean", f"{prefix}_var"],
        [y],
        epsilon=1e-5,
        name=name or prefix,
    )


def finish_model(graph, opset, ir_version=10, extra_opsets=()):
    opset_imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(graph, opset_imports=opset_imports,
                              producer_name=PRODUCER_NAME, producer_version=PRODUCER_VERSION)
    model.ir_version = ir_version
    return model


class Spec:
    """A fixture: the model plus how to produce reference data."""

    def __init__(self, name, model, inputs=None, reference=True, check=True, save_kwargs=None,
                 extra_files=None, note=""):
        self.name = name
        self.model = model
        self.inputs = inputs or {}        # graph input name -> np.ndarray (feeds, in graph order)
        self.reference = reference
        self.check = check
        self.save_kwargs = save_kwargs or {}
        self.extra_files = extra_files or {}  # filename -> bytes
        self.note = note


# --------------------------------------------------------------------------- models


def m_conv_bn_relu():
    rng = np.random.default_rng(1001)
    inits = [init("conv_W", conv_weight(rng, 8, 3, 3)), init("conv_B", rnd(rng, 8, scale=0.1))]
    inits += bn_params(rng, "bn", 8)
    nodes = [
        helper.make_node("Conv", ["X", "conv_W", "conv_B"], ["conv_out"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1], name="conv"),
        bn_node("conv_out", "bn_out", "bn"),
        helper.make_node("Relu", ["bn_out"], ["relu_out"], name="relu"),
        helper.make_node("MaxPool", ["relu_out"], ["Y"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
    ]
    graph = helper.make_graph(nodes, "conv_bn_relu", [vi("X", F, [1, 3, 16, 16])],
                              [vi("Y", F, [1, 8, 8, 8])], inits)
    model = finish_model(graph, 13)
    # Populate value_info for the intermediates (conv_out, bn_out, relu_out).
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    assert len(model.graph.value_info) == 3, model.graph.value_info
    return Spec("conv_bn_relu", model, {"X": rnd(rng, 1, 3, 16, 16)},
                note="Conv+BN+Relu+MaxPool; value_info for intermediates")


def m_cnn_embedding():
    rng = np.random.default_rng(1002)
    inits = [init("conv1_W", conv_weight(rng, 8, 1, 3)), init("conv1_B", rnd(rng, 8, scale=0.1))]
    inits += bn_params(rng, "bn1", 8)
    inits += [init("conv2_W", conv_weight(rng, 16, 8, 3)), init("conv2_B", rnd(rng, 16, scale=0.1))]
    inits += bn_params(rng, "bn2", 16)
    inits += [
        init("fc1_W", rnd(rng, 64, 16 * 7 * 7, scale=1.0 / np.sqrt(784))),
        init("fc1_B", rnd(rng, 64, scale=0.1)),
        init("fc2_W", rnd(rng, 10, 64, scale=1.0 / 8.0)),
        init("fc2_B", rnd(rng, 10, scale=0.1)),
    ]
    nodes = [
        helper.make_node("Conv", ["X", "conv1_W", "conv1_B"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
        bn_node("c1", "b1", "bn1"),
        helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
        helper.make_node("Conv", ["p1", "conv2_W", "conv2_B"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv2"),
        bn_node("c2", "b2", "bn2"),
        helper.make_node("Relu", ["b2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], name="pool2"),
        helper.make_node("Flatten", ["p2"], ["flat"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["flat", "fc1_W", "fc1_B"], ["g1"], transB=1, name="fc1"),
        helper.make_node("Relu", ["g1"], ["r3"], name="relu3"),
        helper.make_node("Gemm", ["r3", "fc2_W", "fc2_B"], ["embedding"], transB=1, name="fc2"),
    ]
    graph = helper.make_graph(nodes, "cnn_embedding", [vi("X", F, ["N", 1, 28, 28])],
                              [vi("embedding", F, ["N", 10])], inits)
    model = finish_model(graph, 13)
    return Spec("cnn_embedding", model, {"X": rnd(rng, 4, 1, 28, 28)},
                note="symbolic batch dim N; reference at N=4")


def m_residual_block():
    rng = np.random.default_rng(1003)
    inits = [
        init("conv1_W", conv_weight(rng, 8, 8, 3)), init("conv1_B", rnd(rng, 8, scale=0.1)),
        init("conv2_W", conv_weight(rng, 8, 8, 3)), init("conv2_B", rnd(rng, 8, scale=0.1)),
    ]
    nodes = [
        helper.make_node("Conv", ["X", "conv1_W", "conv1_B"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "conv2_W", "conv2_B"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Add", ["c2", "X"], ["sum"], name="residual_add"),
        helper.make_node("Relu", ["sum"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["Y"], name="gap"),
    ]
    graph = helper.make_graph(nodes, "residual_block", [vi("X", F, [1, 8, 8, 8])],
                              [vi("Y", F, [1, 8, 1, 1])], inits)
    return Spec("residual_block", finish_model(graph, 17), {"X": rnd(rng, 1, 8, 8, 8)},
                note="residual Add of the block input; GlobalAveragePool")


def m_gemm_mlp():
    rng = np.random.default_rng(1004)
    inits = [
        init("W1", rnd(rng, 32, 64, scale=0.125)), init("B1", rnd(rng, 32, scale=0.1)),
        init("W2", rnd(rng, 32, 10, scale=0.2)), init("B2", rnd(rng, 10, scale=0.1)),
    ]
    nodes = [
        helper.make_node("Gemm", ["X", "W1", "B1"], ["h"], transB=1, name="gemm1"),
        helper.make_node("Tanh", ["h"], ["t"], name="tanh"),
        helper.make_node("Gemm", ["t", "W2", "B2"], ["logits"], alpha=1.0, beta=1.0, name="gemm2"),
        helper.make_node("Softmax", ["logits"], ["Y"], axis=1, name="softmax"),
    ]
    graph = helper.make_graph(nodes, "gemm_mlp", [vi("X", F, [2, 64])], [vi("Y", F, [2, 10])], inits)
    return Spec("gemm_mlp", finish_model(graph, 11), {"X": rnd(rng, 2, 64)},
                note="Gemm transB=1, Tanh, Gemm, Softmax at opset 11")


def m_pooling():
    rng = np.random.default_rng(1005)
    nodes = [
        helper.make_node("AveragePool", ["X"], ["avg"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         count_include_pad=0, name="avgpool"),
        helper.make_node("MaxPool", ["X"], ["max"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         name="maxpool"),
        helper.make_node("Concat", ["avg", "max"], ["Y"], axis=1, name="concat"),
        helper.make_node("GlobalMaxPool", ["X"], ["G"], name="globalmaxpool"),
    ]
    graph = helper.make_graph(nodes, "pooling", [vi("X", F, [1, 4, 12, 12])],
                              [vi("Y", F, [1, 8, 6, 6]), vi("G", F, [1, 4, 1, 1])])
    return Spec("pooling", finish_model(graph, 12), {"X": rnd(rng, 1, 4, 12, 12)},
                note="AveragePool/MaxPool with strides+pads, GlobalMaxPool, Concat; no initializers")


def m_external_data():
    rng = np.random.default_rng(1006)
    inits = [
        init("conv_W", conv_weight(rng, 4, 3, 3)), init("conv_B", rnd(rng, 4, scale=0.1)),
        init("fc_W", rnd(rng, 5, 4 * 8 * 8, scale=1.0 / 16)), init("fc_B", rnd(rng, 5, scale=0.1)),
    ]
    nodes = [
        helper.make_node("Conv", ["X", "conv_W", "conv_B"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["f", "fc_W", "fc_B"], ["Y"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(nodes, "external_data", [vi("X", F, [1, 3, 8, 8])], [vi("Y", F, [1, 5])], inits)
    return Spec("external_data", finish_model(graph, 13), {"X": rnd(rng, 1, 3, 8, 8)},
                save_kwargs=dict(save_as_external_data=True, all_tensors_to_one_file=True,
                                 location="weights.bin", size_threshold=0),
                note="all initializers in one external file weights.bin")


def m_old_ir3_opset7():
    rng = np.random.default_rng(1007)
    inits = [
        init("conv_W", conv_weight(rng, 4, 2, 3)), init("conv_B", rnd(rng, 4, scale=0.1)),
        init("new_shape", np.array([1, 64], dtype=np.int64)),
        init("bias", rnd(rng, 64, scale=0.5)),
    ]
    nodes = [
        helper.make_node("Conv", ["X", "conv_W", "conv_B"], ["c"], kernel_shape=[3, 3], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "new_shape"], ["flat"], name="reshape"),
        helper.make_node("Add", ["flat", "bias"], ["Y"], name="add_broadcast"),  # [1,64] + [64]
    ]
    # IR < 4: every initializer must also be listed as a graph input.
    inputs = [vi("X", F, [1, 2, 6, 6])] + [vi(t.name, t.data_type, list(t.dims)) for t in inits]
    graph = helper.make_graph(nodes, "old_ir3_opset7", inputs, [vi("Y", F, [1, 64])], inits)
    return Spec("old_ir3_opset7", finish_model(graph, 7, ir_version=3), {"X": rnd(rng, 1, 2, 6, 6)},
                note="IR 3 / opset 7: initializers also listed as graph inputs; Reshape with shape input; broadcast Add")


def m_new_ir10_opset21():
    rng = np.random.default_rng(1008)
    inits = [
        init("W1", rnd(rng, 16, 32, scale=0.25)), init("B1", rnd(rng, 32, scale=0.1)),
        init("ln_scale", rng.uniform(0.5, 1.5, 32).astype(np.float32)), init("ln_bias", rnd(rng, 32, scale=0.1)),
        init("W2", rnd(rng, 32, 8, scale=0.18)),
    ]
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["mm1"], name="matmul1"),
        helper.make_node("Add", ["mm1", "B1"], ["a1"], name="add1"),
        helper.make_node("LayerNormalization", ["a1", "ln_scale", "ln_bias"], ["ln"], axis=-1, epsilon=1e-5,
                         name="layernorm"),
        helper.make_node("Gelu", ["ln"], ["gelu"], approximate="tanh", name="gelu"),
        helper.make_node("MatMul", ["gelu", "W2"], ["Y"], name="matmul2"),
    ]
    graph = helper.make_graph(nodes, "new_ir10_opset21", [vi("X", F, [2, 5, 16])], [vi("Y", F, [2, 5, 8])], inits)
    return Spec("new_ir10_opset21", finish_model(graph, 21), {"X": rnd(rng, 2, 5, 16)},
                note="IR 10 / opset 21: MatMul, Add, LayerNormalization, Gelu(approximate=tanh)")


# ---- typed fields


def _bf16_bits(values):
    """bfloat16 bit patterns for float values that are exactly representable in bfloat16."""
    f = np.asarray(values, dtype=np.float32)
    bits = f.view(np.uint32)
    assert np.all((bits & 0xFFFF) == 0), "bfloat16 fixture values must be exactly representable"
    return (bits >> 16).astype(np.uint16)


def _typed_tensor_table():
    """name -> (onnx dtype, manifest dtype, shape, python values (flat), typed-field writer)."""
    rng = np.random.default_rng(1009)
    t = {}
    f32 = rnd(rng, 2, 3)
    t["t_float32"] = (TensorProto.FLOAT, [2, 3], [float(v) for v in f32.ravel()])
    t["t_float64"] = (TensorProto.DOUBLE, [3, 2], [1.0 / 3.0, -2.5, 1e300, -1e-300, 0.0, 123456789.123456789])
    t["t_int32"] = (TensorProto.INT32, [2, 2], [-2147483648, 2147483647, -1, 42])
    t["t_int16"] = (TensorProto.INT16, [2, 3], [-32768, 32767, -1, 0, 1, 1234])
    t["t_int8"] = (TensorProto.INT8, [2, 2, 2], [-128, 127, -1, 0, 1, 2, -3, 100])
    t["t_uint8"] = (TensorProto.UINT8, [3, 2], [0, 1, 127, 128, 200, 255])
    t["t_uint16"] = (TensorProto.UINT16, [2, 2], [0, 1, 32768, 65535])
    t["t_uint32"] = (TensorProto.UINT32, [2, 2], [0, 1, 2147483648, 4294967295])
    t["t_uint64"] = (TensorProto.UINT64, [3], [0, 9223372036854775808, 18446744073709551615])
    t["t_int64"] = (TensorProto.INT64, [2, 2], [-9223372036854775808, 9223372036854775807, -1, 7])
    t["t_bool"] = (TensorProto.BOOL, [2, 3], [True, False, True, True, False, False])
    f16 = np.array([0.5, -1.25, 65504.0, 6.1035156e-05, -0.0, 3.140625], dtype=np.float16)
    t["t_float16"] = (TensorProto.FLOAT16, [3, 2], [float(v) for v in f16])
    bf16_vals = [1.5, -2.25, 1.0, 0.0078125, -65536.0, 3.140625]
    t["t_bfloat16"] = (TensorProto.BFLOAT16, [2, 3], [float(v) for v in bf16_vals])
    t["t_string"] = (TensorProto.STRING, [2, 2], ["hello", "", "h\u00e9llo w\u00f6rld", "\u65e5\u672c"])
    t["t_scalar_float32"] = (TensorProto.FLOAT, [], [2.5])
    t["t_scalar_int64"] = (TensorProto.INT64, [], [-42])
    return t


def _typed_proto(name, dt, shape, values):
    tp = TensorProto()
    tp.name = name
    tp.data_type = dt
    tp.dims.extend(shape)
    if dt == TensorProto.FLOAT:
        tp.float_data.extend(values)
    elif dt == TensorProto.DOUBLE:
        tp.double_data.extend(values)
    elif dt in (TensorProto.INT32, TensorProto.INT16, TensorProto.INT8, TensorProto.UINT8, TensorProto.UINT16):
        tp.int32_data.extend(int(v) for v in values)
    elif dt == TensorProto.BOOL:
        tp.int32_data.extend(1 if v else 0 for v in values)
    elif dt == TensorProto.FLOAT16:
        tp.int32_data.extend(int(b) for b in np.asarray(values, dtype=np.float16).view(np.uint16))
    elif dt == TensorProto.BFLOAT16:
        tp.int32_data.extend(int(b) for b in _bf16_bits(values))
    elif dt == TensorProto.INT64:
        tp.int64_data.extend(int(v) for v in values)
    elif dt in (TensorProto.UINT32, TensorProto.UINT64):
        tp.uint64_data.extend(int(v) for v in values)
    elif dt == TensorProto.STRING:
        tp.string_data.extend(v.encode("utf-8") for v in values)
    else:
        raise ValueError(dt)
    assert not tp.HasField("raw_data")
    return tp


_NP_DTYPE = {
    TensorProto.FLOAT: "<f4", TensorProto.DOUBLE: "<f8", TensorProto.INT32: "<i4", TensorProto.INT16: "<i2",
    TensorProto.INT8: "i1", TensorProto.UINT8: "u1", TensorProto.UINT16: "<u2", TensorProto.UINT32: "<u4",
    TensorProto.UINT64: "<u8", TensorProto.INT64: "<i8", TensorProto.BOOL: "u1",
}


def _raw_proto(name, dt, shape, values):
    tp = TensorProto()
    tp.name = name
    tp.data_type = dt
    tp.dims.extend(shape)
    if dt == TensorProto.FLOAT16:
        raw = np.asarray(values, dtype=np.float16).astype("<f2").tobytes()
    elif dt == TensorProto.BFLOAT16:
        raw = _bf16_bits(values).astype("<u2").tobytes()
    elif dt == TensorProto.BOOL:
        raw = np.asarray([1 if v else 0 for v in values], dtype="u1").tobytes()
    else:
        raw = np.asarray(values, dtype=_NP_DTYPE[dt]).tobytes()
    tp.raw_data = raw
    return tp


def m_typed_fields_all_dtypes():
    rng = np.random.default_rng(1010)
    table = _typed_tensor_table()
    inits = []
    values_json = {}
    for name, (dt, shape, values) in table.items():
        inits.append(_typed_proto(name, dt, shape, values))
        values_json[name] = {"dtype": onnx_stats.dtype_name(dt), "shape": shape, "values": values,
                             "encoding": "typed"}
        if dt == TensorProto.STRING:
            continue  # strings cannot be stored in raw_data
        inits.append(_raw_proto(name + "_raw", dt, shape, values))
        values_json[name + "_raw"] = {"dtype": onnx_stats.dtype_name(dt), "shape": shape, "values": values,
                                      "encoding": "raw_data"}
    # Self-check: numpy_helper decodes typed and raw forms identically and equal to the table.
    for tp in inits:
        ref = values_json[tp.name]
        arr = numpy_helper.to_array(tp)
        assert list(arr.shape) == ref["shape"], tp.name
        flat = arr.ravel().tolist()
        if ref["dtype"] == "string":
            flat = [s.decode("utf-8") if isinstance(s, bytes) else s for s in flat]
        if ref["dtype"] in ("float16", "bfloat16"):
            flat = [float(v) for v in arr.astype(np.float32).ravel()]
        assert flat == ref["values"], (tp.name, flat, ref["values"])

    nodes = [helper.make_node("Add", ["X", "t_float32"], ["sum_float32"], name="add_float32")]
    outputs = [vi("sum_float32", F, [2, 3])]
    # Every initializer (typed and raw twin) is routed to a graph output so that onnxruntime
    # decodes it. onnxruntime's Python API cannot return bfloat16 arrays, so bfloat16 tensors
    # are Cast to float32 (exact) instead of passed through Identity.
    for tp in inits:
        base = tp.name[2:]
        shape = list(tp.dims)
        if tp.data_type == TensorProto.BFLOAT16:
            out = "out_" + base + "_as_float32"
            nodes.append(helper.make_node("Cast", [tp.name], [out], to=F, name="cast_" + base))
            outputs.append(vi(out, F, shape))
        else:
            out = "out_" + base
            nodes.append(helper.make_node("Identity", [tp.name], [out], name="identity_" + base))
            outputs.append(vi(out, tp.data_type, shape))
    graph = helper.make_graph(nodes, "typed_fields_all_dtypes", [vi("X", F, [2, 3])], outputs, inits)
    model = finish_model(graph, 17)
    values_bytes = (json.dumps(values_json, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return Spec("typed_fields_all_dtypes", model, {"X": rnd(rng, 2, 3)},
                extra_files={"values.json": values_bytes},
                note="every dtype in the typed TensorProto fields, plus *_raw twins in raw_data; values.json")


def m_control_flow_if():
    rng = np.random.default_rng(1011)
    inits = [init("A", rnd(rng, 4)), init("B", rnd(rng, 4)), init("zero", np.array(0.0, dtype=np.float32))]
    then_g = helper.make_graph(
        [helper.make_node("Add", ["X", "A"], ["then_out"], name="then_add")],
        "then_branch", [], [vi("then_out", F, [4])])
    else_g = helper.make_graph(
        [helper.make_node("Mul", ["X", "B"], ["else_out"], name="else_mul")],
        "else_branch", [], [vi("else_out", F, [4])])
    nodes = [
        helper.make_node("ReduceSum", ["X"], ["s"], keepdims=0, name="reduce_sum"),
        helper.make_node("Greater", ["s", "zero"], ["cond"], name="greater"),
        helper.make_node("If", ["cond"], ["Y"], then_branch=then_g, else_branch=else_g, name="if"),
    ]
    graph = helper.make_graph(nodes, "control_flow_if", [vi("X", F, [4])], [vi("Y", F, [4])], inits,
                              value_info=[vi("s", F, []), vi("cond", TensorProto.BOOL, [])])
    x = np.abs(rnd(rng, 4)) + 0.1  # positive sum -> then branch
    return Spec("control_flow_if", finish_model(graph, 16), {"X": x},
                note="If with then/else GRAPH attributes referencing outer-scope X, A, B")


def m_constant_if():
    """An If on a condition that shape inference can fold (what exporters leave from Python `if`s
    on shapes): Greater(Gather(Shape(X), 0), 1) is true for X of static shape [2, 4]; the then
    branch has a local Constant, an initializer and two nodes, the else branch one node."""
    rng = np.random.default_rng(1021)
    inits = [init("axis0", np.array(0, dtype=np.int64)), init("one", np.array(1, dtype=np.int64)), init("W", rnd(rng, 4, 3))]
    then_g = helper.make_graph(
        [helper.make_node("Constant", [], ["two"], value=numpy_helper.from_array(np.array(2.0, dtype=np.float32)), name="two"),
         helper.make_node("Mul", ["X", "two"], ["scaled"], name="then_mul"),
         helper.make_node("MatMul", ["scaled", "bias_W"], ["then_out"], name="then_matmul")],
        "then_branch", [], [vi("then_out", F, [2, 3])], [init("bias_W", rnd(rng, 4, 3))])
    else_g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["else_out"], name="else_matmul")],
        "else_branch", [], [vi("else_out", F, [2, 3])])
    nodes = [
        helper.make_node("Shape", ["X"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "axis0"], ["rows"], axis=0, name="rows"),
        helper.make_node("Greater", ["rows", "one"], ["cond"], name="greater"),
        helper.make_node("If", ["cond"], ["H"], then_branch=then_g, else_branch=else_g, name="if"),
        helper.make_node("Relu", ["H"], ["Y"], name="relu"),
    ]
    graph = helper.make_graph(nodes, "constant_if", [vi("X", F, [2, 4])], [vi("Y", F, [2, 3])], inits)
    return Spec("constant_if", finish_model(graph, 17), {"X": rnd(rng, 2, 4)},
                note="If whose condition folds from static shapes; inline-constant-if replaces it by the then branch")


def m_attribute_kinds():
    rng = np.random.default_rng(1012)
    t1 = numpy_helper.from_array(rnd(rng, 2, 2), name="attr_tensor")
    t2 = numpy_helper.from_array(np.arange(3, dtype=np.int64), name="attr_tensor2")
    sparse_vals = numpy_helper.from_array(np.array([1.5, -2.0], dtype=np.float32), name="sp_values")
    sparse_idx = numpy_helper.from_array(np.array([1, 5], dtype=np.int64), name="sp_indices")
    sp = helper.make_sparse_tensor(sparse_vals, sparse_idx, [2, 3])
    sub1 = helper.make_graph([helper.make_node("Identity", ["sx"], ["sy"])], "sub_graph_1",
                             [vi("sx", F, [2])], [vi("sy", F, [2])])
    sub2 = helper.make_graph([helper.make_node("Neg", ["sx"], ["sy"])], "sub_graph_2",
                             [vi("sx", F, [2])], [vi("sy", F, [2])])
    tp_float = helper.make_tensor_type_proto(F, [2, "M"])
    tp_int = helper.make_tensor_type_proto(TensorProto.INT64, [3])

    node = helper.make_node(
        "AllAttributeKinds", ["X"], ["Y"], domain="com.vigil.test", name="all_kinds",
        doc_string="custom-domain node carrying every attribute kind",
        f=0.25, i=-7, s="vigil", t=t1, g=sub1,
        floats=[1.0, -2.5, 3.25], ints=[1, -2, 3, 9223372036854775807], strings=["a", "b\u00e9"],
        tensors=[t1, t2], graphs=[sub1, sub2],
    )
    # helper.make_attribute does not infer these kinds from Python values; build them explicitly.
    a = node.attribute.add(); a.name = "sparse_tensor"; a.type = onnx.AttributeProto.SPARSE_TENSOR; a.sparse_tensor.CopyFrom(sp)
    a = node.attribute.add(); a.name = "sparse_tensors"; a.type = onnx.AttributeProto.SPARSE_TENSORS; a.sparse_tensors.extend([sp, sp])
    a = node.attribute.add(); a.name = "type_proto"; a.type = onnx.AttributeProto.TYPE_PROTO; a.tp.CopyFrom(tp_float)
    a = node.attribute.add(); a.name = "type_protos"; a.type = onnx.AttributeProto.TYPE_PROTOS; a.type_protos.extend([tp_float, tp_int])
    # A sparse initializer too (counts towards parameter_count via its values).
    sparse_init = helper.make_sparse_tensor(
        numpy_helper.from_array(np.array([3.0, 4.0, 5.0], dtype=np.float32), name="sparse_w"),
        numpy_helper.from_array(np.array([0, 4, 7], dtype=np.int64), name="sparse_w_indices"),
        [2, 4])
    nodes = [node, helper.make_node("Add", ["Y", "dense_w"], ["Z"], name="add")]
    graph = helper.make_graph(nodes, "attribute_kinds", [vi("X", F, [2, 4])], [vi("Z", F, [2, 4])],
                              [init("dense_w", rnd(rng, 2, 4))], value_info=[vi("Y", F, [2, 4])],
                              sparse_initializer=[sparse_init])
    model = finish_model(graph, 17, extra_opsets=[("com.vigil.test", 1)])
    return Spec("attribute_kinds", model, reference=False,
                note="custom domain com.vigil.test node with every attribute kind; sparse initializer; "
                     "no reference (onnxruntime has no kernel for the custom op)")


def m_dynamic_batch_mlp():
    rng = np.random.default_rng(1013)
    inits = [
        init("W1", rnd(rng, 32, 16, scale=0.25)), init("B1", rnd(rng, 32, scale=0.1)),
        init("W2", rnd(rng, 4, 32, scale=0.18)), init("B2", rnd(rng, 4, scale=0.1)),
    ]
    nodes = [
        helper.make_node("Gemm", ["X", "W1", "B1"], ["h"], transB=1, name="fc1",
                         doc_string="first fully connected layer"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "W2", "B2"], ["Y"], transB=1, name="fc2"),
    ]
    graph = helper.make_graph(nodes, "dynamic_batch_mlp", [vi("X", F, ["batch", 16])], [vi("Y", F, ["batch", 4])],
                              inits, doc_string="graph doc string")
    model = finish_model(graph, 13)
    model.doc_string = "A two-layer MLP with a symbolic batch dimension."
    model.model_version = 3
    model.domain = "dev.vigil.fixtures"
    helper.set_model_props(model, {"author": "vigil-fixtures", "license": "MIT", "purpose": "metadata round-trip"})
    return Spec("dynamic_batch_mlp", model, {"X": rnd(rng, 3, 16)},
                note="symbolic dim 'batch' (reference at 3); metadata_props, doc strings, producer, model_version")


def m_optimizer_patterns():
    """The patterns exporters emit and the optimizer rewrites (PyTorch-style flatten through Shape,
    Conv followed by per-channel Mul/Add, cancelling Transposes, Reshape chains, MatMul+Add,
    duplicate subexpressions and initializers, no-op Dropout/Identity/Cast, BatchNorm after MatMul)."""
    rng = np.random.default_rng(1014)
    w_fc = rnd(rng, 256, 16, scale=1.0 / 16.0)
    inits = [
        init("conv_W", conv_weight(rng, 4, 3, 3)), init("conv_B", rnd(rng, 4, scale=0.1)),
        init("scale", (1.0 + 0.1 * rng.standard_normal((4, 1, 1))).astype(np.float32)),
        init("shift", rnd(rng, 4, 1, 1, scale=0.1)),
        init("shape_2_4_64", np.array([2, 4, 64], dtype=np.int64)),
        init("minus_one", np.array([-1], dtype=np.int64)),
        init("zero", np.array(0, dtype=np.int64)),
        init("axes0", np.array([0], dtype=np.int64)),
        init("fc_W", w_fc), init("fc_B", rnd(rng, 16, scale=0.1)),
        init("fc_W_copy", w_fc.copy()),
        init("head_W", rnd(rng, 16, 8, scale=0.25)),
    ]
    inits += bn_params(rng, "bn", 8)
    nodes = [
        helper.make_node("Conv", ["X", "conv_W", "conv_B"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Mul", ["c", "scale"], ["c_scaled"], name="channel_scale"),
        helper.make_node("Add", ["c_scaled", "shift"], ["c_shifted"], name="channel_shift"),
        helper.make_node("Relu", ["c_shifted"], ["r"], name="relu"),
        helper.make_node("Dropout", ["r"], ["d"], name="dropout"),
        helper.make_node("Identity", ["d"], ["i"], name="identity"),
        helper.make_node("Transpose", ["i"], ["nhwc"], perm=[0, 2, 3, 1], name="to_nhwc"),
        helper.make_node("Transpose", ["nhwc"], ["nchw"], perm=[0, 3, 1, 2], name="to_nchw"),
        helper.make_node("Reshape", ["nchw", "shape_2_4_64"], ["rows"], name="reshape_rows"),
        helper.make_node("Shape", ["rows"], ["rows_shape"], name="shape"),
        helper.make_node("Gather", ["rows_shape", "zero"], ["batch"], axis=0, name="gather_batch"),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch_1d"], name="unsqueeze_batch"),
        helper.make_node("Concat", ["batch_1d", "minus_one"], ["flat_shape"], axis=0, name="concat_shape"),
        helper.make_node("Reshape", ["rows", "flat_shape"], ["flat"], name="reshape_flat"),
        helper.make_node("MatMul", ["flat", "fc_W"], ["mm"], name="fc_matmul"),
        helper.make_node("Add", ["mm", "fc_B"], ["fc"], name="fc_bias"),
        helper.make_node("MatMul", ["flat", "fc_W_copy"], ["mm_copy"], name="fc_matmul_copy"),
        helper.make_node("Add", ["mm_copy", "fc_B"], ["fc_copy"], name="fc_bias_copy"),
        helper.make_node("Relu", ["fc"], ["h1"], name="relu_a"),
        helper.make_node("Relu", ["fc_copy"], ["h2"], name="relu_b"),
        helper.make_node("Add", ["h1", "h2"], ["h"], name="sum"),
        helper.make_node("Cast", ["h"], ["h_float"], to=TensorProto.FLOAT, name="cast_noop"),
        helper.make_node("MatMul", ["h_float", "head_W"], ["head"], name="head"),
        bn_node("head", "Y", "bn"),
    ]
    graph = helper.make_graph(nodes, "optimizer_patterns", [vi("X", F, [2, 3, 8, 8])], [vi("Y", F, [2, 8])], inits)
    return Spec("optimizer_patterns", finish_model(graph, 13), {"X": rnd(rng, 2, 3, 8, 8)},
                note="exporter patterns for the optimizer: shape-chain flatten, affine after Conv, cancelling "
                     "Transposes, Reshape chain, MatMul+Add, duplicates, no-ops, BatchNorm after MatMul")


def m_mobile_patterns():
    """The blocks of the torchvision zoo's mobile and residual networks, at opset 17 with a symbolic batch
    dim N (so fusions must match shapes by symbol): Conv 3x3/2 -> SiLU (Sigmoid and Mul, fuse-swish),
    depthwise 3x3 -> HardSwish, squeeze-and-excitation (GlobalAveragePool -> Conv -> Relu -> Conv -> Sigmoid
    -> Mul by the per-channel gate), 1x1 projection + residual Add (shapes [N, 16, 6, 6]), depthwise 5x5/2
    -> Clip(0, 6), grouped 3x3 (4 groups) + Sum of the two branches -> Relu, a dilated depthwise 3x3,
    a channel shuffle (Reshape -> Transpose -> Reshape), Concat, then GlobalAveragePool -> Flatten -> Gemm."""
    rng = np.random.default_rng(1021)

    def dw(c, k):
        return rnd(rng, c, 1, k, k, scale=1.0 / k)

    inits = [
        init("stem_W", conv_weight(rng, 16, 8, 3) * 2), init("stem_B", rnd(rng, 16, scale=0.1)),
        init("dw_W", dw(16, 3) * 2), init("dw_B", rnd(rng, 16, scale=0.1)),
        init("se1_W", conv_weight(rng, 4, 16, 1)), init("se1_B", rnd(rng, 4, scale=0.1)),
        init("se2_W", conv_weight(rng, 16, 4, 1) * 2), init("se2_B", rnd(rng, 16, scale=0.1)),
        init("proj_W", conv_weight(rng, 16, 16, 1)), init("proj_B", rnd(rng, 16, scale=0.1)),
        init("dw5_W", dw(16, 5) * 2), init("dw5_B", rnd(rng, 16, scale=0.1)),
        init("grp_W", conv_weight(rng, 16, 4, 3)), init("grp_B", rnd(rng, 16, scale=0.1)),
        init("dil_W", dw(16, 3)),
        init("clip_zero", np.array(0.0, dtype=np.float32)), init("clip_six", np.array(6.0, dtype=np.float32)),
        init("shape5", np.array([0, 4, 4, 3, 3], dtype=np.int64)), init("shape4", np.array([0, 16, 3, 3], dtype=np.int64)),
        init("fc_W", rnd(rng, 5, 32, scale=0.2)), init("fc_B", rnd(rng, 5, scale=0.1)),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["X", "stem_W", "stem_B"], ["stem"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], name="stem"),
        n("Sigmoid", ["stem"], ["stem_gate"], name="stem_sigmoid"),
        n("Mul", ["stem", "stem_gate"], ["a1"], name="stem_silu"),
        n("Conv", ["a1", "dw_W", "dw_B"], ["dwc"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=16, name="dw"),
        n("HardSwish", ["dwc"], ["a2"], name="dw_hardswish"),
        n("GlobalAveragePool", ["a2"], ["se_pool"], name="se_pool"),
        n("Conv", ["se_pool", "se1_W", "se1_B"], ["se1"], kernel_shape=[1, 1], name="se_reduce"),
        n("Relu", ["se1"], ["se1r"], name="se_relu"),
        n("Conv", ["se1r", "se2_W", "se2_B"], ["se2"], kernel_shape=[1, 1], name="se_expand"),
        n("Sigmoid", ["se2"], ["se_gate"], name="se_sigmoid"),
        n("Mul", ["a2", "se_gate"], ["a3"], name="se_scale"),
        n("Conv", ["a3", "proj_W", "proj_B"], ["proj"], kernel_shape=[1, 1], name="project"),
        n("Add", ["proj", "a1"], ["r1"], name="residual_add"),
        n("Conv", ["r1", "dw5_W", "dw5_B"], ["dw5"], kernel_shape=[5, 5], strides=[2, 2], pads=[2, 2, 2, 2], group=16, name="dw5"),
        n("Clip", ["dw5", "clip_zero", "clip_six"], ["b1"], name="dw5_relu6"),
        n("Conv", ["b1", "grp_W", "grp_B"], ["grp"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=4, name="grouped"),
        n("Sum", ["grp", "b1"], ["sum"], name="branch_sum"),
        n("Relu", ["sum"], ["b2"], name="sum_relu"),
        n("Conv", ["b2", "dil_W"], ["dil"], kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2], group=16, name="dilated_dw"),
        n("Reshape", ["dil", "shape5"], ["shuf5"], name="shuffle_split"),
        n("Transpose", ["shuf5"], ["shuf5t"], perm=[0, 2, 1, 3, 4], name="shuffle_transpose"),
        n("Reshape", ["shuf5t", "shape4"], ["shuf"], name="shuffle_merge"),
        n("Concat", ["shuf", "b2"], ["cat"], axis=1, name="concat"),
        n("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
        n("Flatten", ["gap"], ["flat"], axis=1, name="flatten"),
        n("Gemm", ["flat", "fc_W", "fc_B"], ["Y"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(nodes, "mobile_patterns", [vi("X", F, ["N", 8, 12, 12])], [vi("Y", F, ["N", 5])], inits)
    return Spec("mobile_patterns", finish_model(graph, 17), {"X": rnd(rng, 2, 8, 12, 12)},
                note="zoo blocks with a symbolic batch: SiLU, depthwise, squeeze-and-excitation, residual Add and Sum, "
                     "grouped and dilated convs, channel shuffle, Concat")


def m_vgg_like():
    """The VGG-like network of Masana et al. at 1/8 width (the full-width one, 39 MB of weights, is
    generated at benchmark time by bench/make_vgg.py): five blocks of two 3x3 convs (8-16-32-64-64),
    max-pool after blocks 1-4, average pool after block 5, then fc 64 -> 64 -> 10, on 32x32 images."""
    rng = np.random.default_rng(1015)
    nodes, inits = [], []
    x, cin, i = "X", 3, 0
    for block, cout in enumerate([8, 16, 32, 64, 64]):
        for _ in range(2):
            inits += [init(f"conv{i}_W", conv_weight(rng, cout, cin, 3)), init(f"conv{i}_B", rnd(rng, cout, scale=0.1))]
            nodes.append(helper.make_node("Conv", [x, f"conv{i}_W", f"conv{i}_B"], [f"c{i}"], kernel_shape=[3, 3],
                                          pads=[1, 1, 1, 1], name=f"conv{i}"))
            nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"))
            x, cin, i = f"r{i}", cout, i + 1
        if block < 4:
            nodes.append(helper.make_node("MaxPool", [x], [f"p{block}"], kernel_shape=[2, 2], strides=[2, 2], name=f"pool{block}"))
            x = f"p{block}"
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1, name="flatten"))
    inits += [init("fc1_W", rnd(rng, 64, 64, scale=0.125)), init("fc1_B", rnd(rng, 64, scale=0.1)),
              init("fc2_W", rnd(rng, 10, 64, scale=0.125)), init("fc2_B", rnd(rng, 10, scale=0.1))]
    nodes.append(helper.make_node("Gemm", ["flat", "fc1_W", "fc1_B"], ["h"], transB=1, name="fc1"))
    nodes.append(helper.make_node("Relu", ["h"], ["hr"], name="relu_fc1"))
    nodes.append(helper.make_node("Gemm", ["hr", "fc2_W", "fc2_B"], ["Y"], transB=1, name="fc2"))
    graph = helper.make_graph(nodes, "vgg_like", [vi("X", F, ["N", 3, 32, 32])], [vi("Y", F, ["N", 10])], inits)
    return Spec("vgg_like", finish_model(graph, 13), {"X": rnd(rng, 2, 3, 32, 32)},
                note="VGG-like net of the paper at 1/8 width; symbolic batch, reference at N=2")


def m_bn_then_conv():
    """BatchNormalizations *before* the ops that can absorb them (fold-batchnorm-forward): BN -> Conv
    without padding (foldable), BN -> grouped Conv without padding (foldable), BN -> Conv with pads 1
    (not foldable: padding would see the BN's shift), then on [N, C]: BN -> Gemm(transB=1) and
    BN -> MatMul by a constant (both foldable). No BN follows a Conv, so fold-batchnorm finds nothing."""
    rng = np.random.default_rng(1016)
    inits = []
    for prefix, c in [("bn0", 4), ("bn1", 8), ("bn2", 8), ("bn3", 64), ("bn4", 16)]:
        inits += bn_params(rng, prefix, c)
    inits += [
        init("conv0_W", conv_weight(rng, 8, 4, 3)), init("conv0_B", rnd(rng, 8, scale=0.1)),
        init("conv1_W", conv_weight(rng, 8, 4, 3)), init("conv1_B", rnd(rng, 8, scale=0.1)),
        init("conv2_W", conv_weight(rng, 4, 8, 3)), init("conv2_B", rnd(rng, 4, scale=0.1)),
        init("fc_W", rnd(rng, 16, 64, scale=0.125)), init("fc_B", rnd(rng, 16, scale=0.1)),
        init("head_W", rnd(rng, 16, 5, scale=0.25)),
    ]
    nodes = [
        bn_node("X", "z0", "bn0"),
        helper.make_node("Conv", ["z0", "conv0_W", "conv0_B"], ["c0"], kernel_shape=[3, 3], pads=[0, 0, 0, 0], name="conv0"),
        helper.make_node("Relu", ["c0"], ["r0"], name="relu0"),
        bn_node("r0", "z1", "bn1"),
        helper.make_node("Conv", ["z1", "conv1_W", "conv1_B"], ["c1"], kernel_shape=[3, 3], group=2, name="conv1_grouped"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        bn_node("r1", "z2", "bn2"),
        helper.make_node("Conv", ["z2", "conv2_W", "conv2_B"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv2_padded"),
        helper.make_node("Flatten", ["c2"], ["flat"], axis=1, name="flatten"),
        bn_node("flat", "z3", "bn3"),
        helper.make_node("Gemm", ["z3", "fc_W", "fc_B"], ["h"], transB=1, name="fc"),
        helper.make_node("Relu", ["h"], ["hr"], name="relu_fc"),
        bn_node("hr", "z4", "bn4"),
        helper.make_node("MatMul", ["z4", "head_W"], ["Y"], name="head"),
    ]
    graph = helper.make_graph(nodes, "bn_then_conv", [vi("X", F, ["N", 4, 8, 8])], [vi("Y", F, ["N", 5])], inits)
    return Spec("bn_then_conv", finish_model(graph, 17), {"X": rnd(rng, 2, 4, 8, 8)},
                note="BatchNorm before Conv (unpadded, grouped, padded), Gemm and MatMul; reference at N=2")


def m_fused_activations():
    """Every activation fuse-activations folds into a Conv or Gemm, at opset 17 (HardSwish needs 14):
    Conv -> LeakyRelu(alpha 0.2), Conv -> Clip(0, 6), Conv -> Sigmoid, Conv -> Tanh, Conv -> HardSwish,
    Conv + Add of the block input (same shape) -> Relu, Conv -> Clip(min -0.5, no max), then
    GlobalAveragePool -> Flatten -> Gemm(transB=1) -> Tanh."""
    rng = np.random.default_rng(1017)
    inits = [
        init("clip_zero", np.array(0.0, dtype=np.float32)), init("clip_six", np.array(6.0, dtype=np.float32)),
        init("clip_low", np.array(-0.5, dtype=np.float32)),
        init("fc_W", rnd(rng, 6, 8, scale=0.15)), init("fc_B", rnd(rng, 6, scale=0.1)),
    ]
    nodes, x, cin = [], "X", 3
    # (name, activation, extra inputs, attributes, weight gain so that the nonlinear ranges are reached)
    acts = [
        ("leaky", "LeakyRelu", [], {"alpha": 0.2}, 1.5), ("clip6", "Clip", ["clip_zero", "clip_six"], {}, 6.0),
        ("sigmoid", "Sigmoid", [], {}, 1.0), ("tanh", "Tanh", [], {}, 3.0), ("hardswish", "HardSwish", [], {}, 8.0),
        ("residual", "Relu", [], {}, 1.0), ("clipmin", "Clip", ["clip_low", ""], {}, 2.0),
    ]
    for i, (tag, op, extra, attrs, gain) in enumerate(acts):
        k = 1 if tag == "clipmin" else 3
        weight = (conv_weight(rng, 8, cin, k) * gain).astype(np.float32)
        inits += [init(f"conv{i}_W", weight), init(f"conv{i}_B", rnd(rng, 8, scale=0.1))]
        pads = [k // 2] * 4
        nodes.append(helper.make_node("Conv", [x, f"conv{i}_W", f"conv{i}_B"], [f"c{i}"], kernel_shape=[k, k],
                                      pads=pads, name=f"conv_{tag}"))
        pre = f"c{i}"
        if tag == "residual":
            nodes.append(helper.make_node("Add", [x, pre], [f"s{i}"], name="residual_add"))
            pre = f"s{i}"
        nodes.append(helper.make_node(op, [pre] + extra, [f"a{i}"], name=tag, **attrs))
        x, cin = f"a{i}", 8
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_W", "fc_B"], ["h"], transB=1, name="fc"),
        helper.make_node("Tanh", ["h"], ["Y"], name="fc_tanh"),
    ]
    graph = helper.make_graph(nodes, "fused_activations", [vi("X", F, [2, 3, 8, 8])], [vi("Y", F, [2, 6])], inits)
    return Spec("fused_activations", finish_model(graph, 17), {"X": rnd(rng, 2, 3, 8, 8)},
                note="Conv/Gemm followed by each fusable activation, and a residual Add before Relu")


def m_trait_activations():
    """The activations that fuse through their descriptors' traits beyond the classic ones, at opset 20
    (Gelu needs 20, Mish 18): Conv -> Mish, Conv -> Gelu(tanh), Conv -> HardSigmoid(0.3, 0.4),
    Conv -> Elu(0.7), Conv -> Selu, Conv -> Softplus, Conv -> Gelu, then GlobalAveragePool -> Flatten
    -> Gemm -> Celu(alpha 1.3)."""
    rng = np.random.default_rng(1020)
    inits = [init("fc_W", rnd(rng, 5, 8, scale=0.3)), init("fc_B", rnd(rng, 5, scale=0.1))]
    nodes, x, cin = [], "X", 3
    acts = [
        ("mish", "Mish", {}, 2.0), ("gelu_tanh", "Gelu", {"approximate": "tanh"}, 2.0),
        ("hardsigmoid", "HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 4.0), ("elu", "Elu", {"alpha": 0.7}, 2.0),
        ("selu", "Selu", {}, 1.0), ("softplus", "Softplus", {}, 2.0), ("gelu", "Gelu", {}, 1.0),
    ]
    for i, (tag, op, attrs, gain) in enumerate(acts):
        weight = (conv_weight(rng, 8, cin, 3) * gain).astype(np.float32)
        inits += [init(f"conv{i}_W", weight), init(f"conv{i}_B", rnd(rng, 8, scale=0.1))]
        nodes.append(helper.make_node("Conv", [x, f"conv{i}_W", f"conv{i}_B"], [f"c{i}"], kernel_shape=[3, 3],
                                      pads=[1, 1, 1, 1], name=f"conv_{tag}"))
        nodes.append(helper.make_node(op, [f"c{i}"], [f"a{i}"], name=tag, **attrs))
        x, cin = f"a{i}", 8
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_W", "fc_B"], ["h"], transB=1, name="fc"),
        helper.make_node("Celu", ["h"], ["Y"], name="fc_celu", alpha=1.3),
    ]
    graph = helper.make_graph(nodes, "trait_activations", [vi("X", F, [2, 3, 8, 8])], [vi("Y", F, [2, 5])], inits)
    return Spec("trait_activations", finish_model(graph, 20), {"X": rnd(rng, 2, 3, 8, 8)},
                note="Conv/Gemm followed by activations that fuse through their descriptors' traits (Mish, Gelu, ...)")


def m_qdq_patterns():
    """A quantized model in the QDQ format, as onnxruntime's quantize_static writes it, for the
    optimizer's fuse-qdq pass (opset 13, per-channel weights): x -> Q -> DQ -> Conv(DQ(int8 W, per
    channel), DQ(int32 B)) -> Relu -> Q -> DQ -> Conv(DQ(W), no bias, pads) -> LeakyRelu(0.1) -> Q -> DQ
    -> GlobalAveragePool -> Flatten -> Q -> DQ -> Gemm(DQ(W), float C, transB, alpha 0.5) -> Y (float)."""
    rng = np.random.default_rng(1021)

    def qweights(shape, axis):
        w = rng.standard_normal(shape).astype(np.float32)
        moved = np.moveaxis(w, axis, 0).reshape(shape[axis], -1)
        scale = (np.abs(moved).max(axis=1) / 127.0).astype(np.float32)
        q = np.clip(np.rint(w / np.expand_dims(scale, tuple(i for i in range(len(shape)) if i != axis))), -127, 127).astype(np.int8)
        return q, scale

    w1, s1 = qweights((8, 3, 3, 3), 0)
    w2, s2 = qweights((8, 8, 3, 3), 0)
    wf, sf = qweights((5, 8), 0)
    x_scale, r1_scale, r2_scale, f_scale = np.float32(0.02), np.float32(0.05), np.float32(0.03), np.float32(0.01)
    b1 = np.rint(rng.standard_normal(8) * 0.1 / (x_scale * s1)).astype(np.int32)
    inits = [
        numpy_helper.from_array(np.array(x_scale), "x_scale"), numpy_helper.from_array(np.array(128, np.uint8), "x_zp"),
        numpy_helper.from_array(w1, "w1_q"), numpy_helper.from_array(s1, "w1_scale"), numpy_helper.from_array(np.zeros(8, np.int8), "w1_zp"),
        numpy_helper.from_array(b1, "b1_q"), numpy_helper.from_array((x_scale * s1).astype(np.float32), "b1_scale"),
        numpy_helper.from_array(np.array(r1_scale), "r1_scale"), numpy_helper.from_array(np.array(0, np.uint8), "r1_zp"),
        numpy_helper.from_array(w2, "w2_q"), numpy_helper.from_array(s2, "w2_scale"),
        numpy_helper.from_array(np.array(r2_scale), "r2_scale"), numpy_helper.from_array(np.array(20, np.uint8), "r2_zp"),
        numpy_helper.from_array(np.array(f_scale), "f_scale"), numpy_helper.from_array(np.array(30, np.uint8), "f_zp"),
        numpy_helper.from_array(wf, "wf_q"), numpy_helper.from_array(sf, "wf_scale"),
        init("fc_C", rnd(rng, 5, scale=0.1)),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["X", "x_scale", "x_zp"], ["xq"], name="x_q"),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"], name="x_dq"),
        helper.make_node("DequantizeLinear", ["w1_q", "w1_scale", "w1_zp"], ["w1"], axis=0, name="w1_dq"),
        helper.make_node("DequantizeLinear", ["b1_q", "b1_scale"], ["b1"], axis=0, name="b1_dq"),
        helper.make_node("Conv", ["xd", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("QuantizeLinear", ["r1", "r1_scale", "r1_zp"], ["r1q"], name="r1_q"),
        helper.make_node("DequantizeLinear", ["r1q", "r1_scale", "r1_zp"], ["r1d"], name="r1_dq"),
        helper.make_node("DequantizeLinear", ["w2_q", "w2_scale"], ["w2"], axis=0, name="w2_dq"),
        helper.make_node("Conv", ["r1d", "w2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2], name="conv2"),
        helper.make_node("LeakyRelu", ["c2"], ["r2"], alpha=0.1, name="leaky2"),
        helper.make_node("QuantizeLinear", ["r2", "r2_scale", "r2_zp"], ["r2q"], name="r2_q"),
        helper.make_node("DequantizeLinear", ["r2q", "r2_scale", "r2_zp"], ["r2d"], name="r2_dq"),
        helper.make_node("GlobalAveragePool", ["r2d"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("QuantizeLinear", ["f", "f_scale", "f_zp"], ["fq"], name="f_q"),
        helper.make_node("DequantizeLinear", ["fq", "f_scale", "f_zp"], ["fd"], name="f_dq"),
        helper.make_node("DequantizeLinear", ["wf_q", "wf_scale"], ["wf"], axis=0, name="wf_dq"),
        helper.make_node("Gemm", ["fd", "wf", "fc_C"], ["Y"], transB=1, alpha=0.5, name="fc"),
    ]
    graph = helper.make_graph(nodes, "qdq_patterns", [vi("X", F, [2, 3, 8, 8])], [vi("Y", F, [2, 5])], inits)
    return Spec("qdq_patterns", finish_model(graph, 13), {"X": rnd(rng, 2, 3, 8, 8)},
                note="a QDQ model (per-channel int8 weights, uint8 activations, int32 bias) for fuse-qdq")


def m_preactivation_bn():
    """DenseNet's pre-activation: BatchNormalizations that no Conv can absorb (on a Concat, or after an
    activation) each followed by an activation, at opset 17 with a symbolic batch N. fuse-activations
    makes FusedBatchNormalization of bn0 -> Relu, bn1 -> Relu (on the Concat of X and a conv's output)
    and bn2 -> Clip(0, 6); bn3's output is read twice (LeakyRelu and an Add), so it stays a
    BatchNormalization."""
    rng = np.random.default_rng(1017)
    inits = []
    for prefix, c in [("bn0", 8), ("bn1", 14), ("bn2", 18), ("bn3", 18)]:
        inits += bn_params(rng, prefix, c)
    inits += [
        init("conv0_W", conv_weight(rng, 6, 8, 1)), init("conv0_B", rnd(rng, 6, scale=0.1)),
        init("conv1_W", conv_weight(rng, 4, 14, 3)),
        init("clip_min", np.array(0, np.float32)), init("clip_max", np.array(6, np.float32)),
    ]
    nodes = [
        bn_node("X", "z0", "bn0"),
        helper.make_node("Relu", ["z0"], ["a0"], name="relu0"),
        helper.make_node("Conv", ["a0", "conv0_W", "conv0_B"], ["c0"], kernel_shape=[1, 1], name="conv0"),
        helper.make_node("Concat", ["X", "c0"], ["k1"], axis=1, name="concat1"),
        bn_node("k1", "z1", "bn1"),
        helper.make_node("Relu", ["z1"], ["a1"], name="relu1"),
        helper.make_node("Conv", ["a1", "conv1_W"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Concat", ["k1", "c1"], ["k2"], axis=1, name="concat2"),
        bn_node("k2", "z2", "bn2"),
        helper.make_node("Clip", ["z2", "clip_min", "clip_max"], ["a2"], name="clip2"),
        bn_node("a2", "z3", "bn3"),
        helper.make_node("LeakyRelu", ["z3"], ["a3"], alpha=0.1, name="leaky3"),
        helper.make_node("Add", ["a3", "z3"], ["s3"], name="add3"),
        helper.make_node("GlobalAveragePool", ["s3"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["Y"], axis=1, name="flatten"),
    ]
    graph = helper.make_graph(nodes, "preactivation_bn", [vi("X", F, ["N", 8, 10, 10])], [vi("Y", F, ["N", 18])], inits)
    return Spec("preactivation_bn", finish_model(graph, 17), {"X": rnd(rng, 2, 8, 10, 10)},
                note="DenseNet-style BatchNorm -> activation pairs on Concats (FusedBatchNormalization); reference at N=2")


MODELS = [
    m_conv_bn_relu, m_cnn_embedding, m_residual_block, m_gemm_mlp, m_pooling, m_external_data,
    m_old_ir3_opset7, m_new_ir10_opset21, m_typed_fields_all_dtypes, m_control_flow_if, m_attribute_kinds,
    m_dynamic_batch_mlp, m_optimizer_patterns, m_vgg_like, m_bn_then_conv, m_fused_activations,
    m_trait_activations, m_constant_if, m_mobile_patterns, m_qdq_patterns, m_preactivation_bn,
]


# --------------------------------------------------------------------------- driver


def run_reference(model_path, feeds):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, feeds)
    return list(zip(names, outs))


def write_tensor(path, arr, name):
    tp = numpy_helper.from_array(np.asarray(arr), name=name)
    with open(path, "wb") as fh:
        fh.write(tp.SerializeToString())


def manifest_entry(spec, model_path, has_reference):
    model = onnx.load(model_path, load_external_data=False)
    pc, bytes_by_dtype, ic = onnx_stats.initializer_stats(model.graph)
    return {
        "name": spec.name,
        "path": f"{spec.name}/model.onnx",
        "ir_version": int(model.ir_version),
        "producer_name": model.producer_name,
        "opsets": onnx_stats.opsets(model),
        "inputs": [onnx_stats.value_info_entry(v) for v in model.graph.input],
        "outputs": [onnx_stats.value_info_entry(v) for v in model.graph.output],
        "node_count": len(model.graph.node),
        "op_histogram": onnx_stats.op_histogram(model.graph),
        "parameter_count": pc,
        "parameter_bytes_by_dtype": bytes_by_dtype,
        "initializer_count": ic,
        "external_data_files": onnx_stats.external_data_files(model),
        "has_reference": has_reference,
        "tolerance": dict(TOLERANCE),
    }


def build(spec, out_root):
    d = os.path.join(out_root, spec.name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    model_path = os.path.join(d, "model.onnx")
    if spec.check:
        onnx.checker.check_model(spec.model, full_check=True)
    onnx.save_model(spec.model, model_path, **spec.save_kwargs)
    if spec.check:
        onnx.checker.check_model(model_path, full_check=True)
    for fname, data in spec.extra_files.items():
        with open(os.path.join(d, fname), "wb") as fh:
            fh.write(data)

    has_ref = False
    if spec.reference:
        outs = run_reference(model_path, spec.inputs)
        ds = os.path.join(d, "test_data_set_0")
        os.makedirs(ds)
        init_names = {t.name for t in spec.model.graph.initializer}
        feed_names = [v.name for v in spec.model.graph.input if v.name not in init_names]
        assert feed_names == list(spec.inputs), (feed_names, list(spec.inputs))
        for i, name in enumerate(feed_names):
            write_tensor(os.path.join(ds, f"input_{i}.pb"), spec.inputs[name], name)
        graph_out = [v.name for v in spec.model.graph.output]
        assert graph_out == [n for n, _ in outs], (graph_out, outs)
        for i, (name, arr) in enumerate(outs):
            write_tensor(os.path.join(ds, f"output_{i}.pb"), arr, name)
        has_ref = True
    entry = manifest_entry(spec, model_path, has_ref)
    print(f"  {spec.name:26s} ir={entry['ir_version']:<2} opset={entry['opsets'][0]['version']:<2} "
          f"nodes={entry['node_count']:<3} params={entry['parameter_count']:<7} ref={has_ref}")
    return entry


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "onnx"))
    ap.add_argument("--only", action="append", help="regenerate only these models (manifest is merged)")
    args = ap.parse_args()

    if (onnx.__version__, ort.__version__) != ("1.22.0", "1.22.1"):
        print(f"warning: expected onnx 1.22.0 / onnxruntime 1.22.1, have {onnx.__version__} / {ort.__version__}",
              file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    existing = {}
    if args.only and os.path.exists(manifest_path):
        with open(manifest_path) as fh:
            existing = {m["name"]: m for m in json.load(fh)["models"]}

    entries = []
    for fn in MODELS:
        spec = fn()
        if args.only and spec.name not in args.only:
            if spec.name in existing:
                entries.append(existing[spec.name])
            continue
        entries.append(build(spec, args.out))
    with open(manifest_path, "w") as fh:
        json.dump({"models": entries}, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    print(f"wrote {manifest_path} ({len(entries)} models)")


if __name__ == "__main__":
    main()
