#!/usr/bin/env python3
"""Node tests for the newest ONNX opsets, in the ONNX backend layout, with references computed by
onnx.reference.ReferenceEvaluator of the current onnx release (pinned in requirements.txt).

The backend node tests shipped with onnx 1.22.0 (which `scripts/fetch-onnx-backend-tests.sh`
fetches) stop at older opsets for many ops; these cover the forms up to
``onnx.defs.onnx_opset_version()`` (28 for onnx 1.23.2) of the ops Vigil supports, the ops today's
exporters emit for transformers and modern CNNs, and a model saved with the newest defaults.

    python3 -m venv /tmp/venv-node && /tmp/venv-node/bin/pip install -r Fixtures/onnx-node-new/requirements.txt
    /tmp/venv-node/bin/python Fixtures/onnx-node-new/generate_node_new.py

Writes (everything seeded; running it twice gives identical files):

    node/<test>/model.onnx                      one node (If: with its branches), opset_import as named
    node/<test>/test_data_set_0/input_<i>.pb    TensorProtos named after the graph inputs, in order
    node/<test>/test_data_set_0/output_<i>.pb   ReferenceEvaluator's outputs, in graph-output order
    newest_defaults/model.onnx                  helper.make_model + onnx.save, no ir_version/opset given
    newest_defaults/test_data_set_0/            onnxruntime's outputs (checked against ReferenceEvaluator)
    manifest.json                               per test: op, opset, IR version, what it covers
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import ml_dtypes
import numpy as np
import onnx
import onnx.defs
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

OUT = os.path.dirname(os.path.abspath(__file__))
NEWEST = onnx.defs.onnx_opset_version()
PRODUCER = "vigil-fixtures"
F32, F16, BF16, I64, I32, BOOL = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.INT64,
                                  TensorProto.INT32, TensorProto.BOOL)
NP_TO_ONNX = {np.dtype("float32"): F32, np.dtype("float16"): F16, np.dtype("int64"): I64, np.dtype("int32"): I32,
              np.dtype("bool"): BOOL, np.dtype(ml_dtypes.bfloat16): BF16, np.dtype("float64"): TensorProto.DOUBLE,
              np.dtype("uint8"): TensorProto.UINT8, np.dtype("int8"): TensorProto.INT8}

CASES = []  # (name, dict)


def case(name, op, inputs, outputs=1, opset=NEWEST, note="", nodes=None, **attrs):
    """A single-node test: `inputs` is [(name, array)] (an empty name = an omitted optional input);
    `outputs` the number of outputs (named y, y1, y2, ...) or a list of names."""
    CASES.append((name, dict(op=op, inputs=inputs, outputs=outputs, opset=opset, note=note, nodes=nodes, attrs=attrs)))


def u(r, *shape, lo=-3.0, hi=3.0, dtype=np.float32):
    return r.uniform(lo, hi, shape).astype(dtype)


# --------------------------------------------------------------------------- cases


def cases_supported_newest_forms():
    """Ops Vigil supports, in the form of the newest opset (most gained bfloat16/float8/int4 type
    constraints in 22-25; Celu, DepthToSpace, SpaceToDepth, ReduceLogSum(Exp), Cast changed in 28)."""
    r = np.random.default_rng(3001)
    x4 = u(r, 2, 3, 6, 6)
    w = (r.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    b = u(r, 4, lo=-0.5, hi=0.5)
    case("conv_pads_strides", "Conv", [("x", x4), ("w", w), ("b", b)], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    case("conv_group_dilation", "Conv", [("x", u(r, 1, 4, 7, 7)), ("w", u(r, 4, 2, 3, 3, lo=-0.5, hi=0.5))],
         group=2, dilations=[2, 2], kernel_shape=[3, 3])
    case("conv_fp16", "Conv", [("x", x4.astype(np.float16)), ("w", w.astype(np.float16))], kernel_shape=[3, 3],
         note="float16 inputs")
    case("conv_transpose_strides", "ConvTranspose", [("x", u(r, 1, 3, 4, 4)), ("w", u(r, 3, 2, 3, 3, lo=-0.5, hi=0.5))],
         strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    for op, attrs in [("Celu", {"alpha": 1.5}), ("Elu", {"alpha": 0.7}), ("HardSigmoid", {"alpha": 0.25, "beta": 0.4}),
                      ("HardSwish", {}), ("Selu", {}), ("Softplus", {}), ("Softsign", {}), ("Round", {})]:
        x = u(r, 3, 4, 5)
        if op == "Round":
            x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, -0.6, 3.49, -3.51], np.float32)
        case(op.lower(), op, [("x", x)], **attrs)
    case("hardswish_fp16", "HardSwish", [("x", u(r, 2, 8).astype(np.float16))], note="float16")
    case("softplus_fp16", "Softplus", [("x", u(r, 2, 8).astype(np.float16))], note="float16")
    case("instance_normalization", "InstanceNormalization", [("x", x4), ("scale", u(r, 3, lo=0.5, hi=1.5)),
                                                                  ("bias", u(r, 3, lo=-0.5, hi=0.5))], epsilon=1e-5)
    case("lp_normalization_l2", "LpNormalization", [("x", u(r, 3, 5))], axis=-1, p=2)
    case("lp_normalization_l1_axis0", "LpNormalization", [("x", u(r, 3, 5))], axis=0, p=1)
    case("averagepool_pads_count_include", "AveragePool", [("x", x4)], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
         strides=[2, 2], count_include_pad=1)
    case("averagepool_ceil_dilations", "AveragePool", [("x", x4)], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1,
         dilations=[2, 2])
    case("maxpool_pads_strides", "MaxPool", [("x", x4)], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    case("maxpool_indices", "MaxPool", [("x", u(r, 1, 2, 4, 4))], outputs=["y", "indices"], kernel_shape=[2, 2],
         strides=[2, 2])
    case("maxpool_fp16", "MaxPool", [("x", x4.astype(np.float16))], kernel_shape=[2, 2], strides=[2, 2], note="float16")
    case("global_averagepool", "GlobalAveragePool", [("x", x4)])
    case("global_maxpool", "GlobalMaxPool", [("x", x4)])
    axes = np.array([1], np.int64)
    for op in ["ReduceLogSum", "ReduceLogSumExp"]:
        case(f"{op.lower()}_axes_keepdims", op, [("x", u(r, 2, 3, 4, lo=0.1, hi=3.0)), ("axes", axes)], keepdims=1)
        case(f"{op.lower()}_default_axes", op, [("x", u(r, 2, 3, 4, lo=0.1, hi=3.0))], keepdims=0)
    for op in ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare"]:
        case(f"{op.lower()}_axes_input", op, [("x", u(r, 2, 3, 4, lo=-1.5, hi=1.5)), ("axes", np.array([-1, 0], np.int64))],
             keepdims=0)
    case("cast_float_to_float16", "Cast", [("x", u(r, 3, 4, lo=-100, hi=100))], to=F16)
    case("cast_float_to_int32", "Cast", [("x", u(r, 3, 4, lo=-100, hi=100))], to=I32)
    case("cast_int64_to_float", "Cast", [("x", r.integers(-1000, 1000, (3, 4)).astype(np.int64))], to=F32)
    case("cast_float16_to_float", "Cast", [("x", u(r, 3, 4).astype(np.float16))], to=F32)
    case("cast_float_to_bfloat16", "Cast", [("x", u(r, 3, 4, lo=-100, hi=100))], to=BF16, note="bfloat16 output")
    case("cast_bool_to_float", "Cast", [("x", r.integers(0, 2, (6,)).astype(bool))], to=F32)
    case("constant_tensor", "Constant", [], value=numpy_helper.from_array(u(r, 2, 3), "value"))
    case("constant_value_ints", "Constant", [], value_ints=[3, -1, 4])
    case("constant_value_float", "Constant", [], value_float=2.5)
    case("constant_of_shape_float", "ConstantOfShape", [("shape", np.array([2, 3], np.int64))],
         value=numpy_helper.from_array(np.array([1.25], np.float32), "value"))
    case("constant_of_shape_int64_default", "ConstantOfShape", [("shape", np.array([4], np.int64))],
         value=numpy_helper.from_array(np.array([7], np.int64), "value"))
    x_dts = u(r, 1, 8, 2, 3)
    case("depth_to_space_dcr", "DepthToSpace", [("x", x_dts)], blocksize=2, mode="DCR")
    case("depth_to_space_crd", "DepthToSpace", [("x", x_dts)], blocksize=2, mode="CRD")
    case("space_to_depth", "SpaceToDepth", [("x", u(r, 1, 2, 4, 6))], blocksize=2)
    case("dropout_inference", "Dropout", [("x", u(r, 3, 4))], note="no ratio/training_mode: identity")
    case("dropout_ratio_mask", "Dropout", [("x", u(r, 3, 4)), ("ratio", np.array(0.3, np.float32))], outputs=["y", "mask"],
         note="training_mode omitted (false): y = x, mask all true")
    case("flatten_axis2", "Flatten", [("x", u(r, 2, 3, 4, 5))], axis=2)
    case("flatten_negative_axis", "Flatten", [("x", u(r, 2, 3, 4, 5))], axis=-1)
    case("identity", "Identity", [("x", u(r, 3, 4))])
    case("pad_constant_axes", "Pad", [("x", u(r, 2, 3, 4)), ("pads", np.array([1, 2, 0, 1], np.int64)),
                                      ("constant_value", np.array(1.5, np.float32)), ("axes", np.array([1, 2], np.int64))],
         mode="constant")
    case("pad_reflect", "Pad", [("x", u(r, 1, 2, 4, 4)), ("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))], mode="reflect")
    case("pad_edge", "Pad", [("x", u(r, 1, 2, 4, 4)), ("pads", np.array([0, 0, 2, 1, 0, 0, 1, 2], np.int64))], mode="edge")
    case("pad_wrap", "Pad", [("x", u(r, 1, 2, 4, 4)), ("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], mode="wrap")
    case("range_float", "Range", [("start", np.array(1.0, np.float32)), ("limit", np.array(5.5, np.float32)),
                                  ("delta", np.array(0.75, np.float32))])
    case("range_int64_negative", "Range", [("start", np.array(10, np.int64)), ("limit", np.array(-3, np.int64)),
                                           ("delta", np.array(-4, np.int64))])
    case("reshape_minus_one_zero", "Reshape", [("x", u(r, 2, 3, 4)), ("shape", np.array([0, -1, 2], np.int64))])
    case("reshape_allowzero", "Reshape", [("x", u(r, 0, 3, 4)), ("shape", np.array([3, 4, 0], np.int64))], allowzero=1)
    case("shape_start_end", "Shape", [("x", u(r, 2, 3, 4, 5))], start=1, end=-1)
    case("shape", "Shape", [("x", u(r, 2, 3, 4, 5))])
    case("size", "Size", [("x", u(r, 2, 3, 4))])
    case("squeeze_axes", "Squeeze", [("x", u(r, 1, 3, 1, 4)), ("axes", np.array([0, -2], np.int64))])
    case("squeeze_all", "Squeeze", [("x", u(r, 1, 3, 1, 4))])
    case("unsqueeze_axes", "Unsqueeze", [("x", u(r, 3, 4)), ("axes", np.array([0, 3], np.int64))])
    case("transpose_perm", "Transpose", [("x", u(r, 2, 3, 4))], perm=[2, 0, 1])
    case("transpose_default", "Transpose", [("x", u(r, 2, 3, 4))])
    case("split_num_outputs_uneven", "Split", [("x", u(r, 7, 2))], outputs=3, axis=0, num_outputs=3)
    case("split_sizes_input", "Split", [("x", u(r, 2, 6)), ("split", np.array([1, 2, 3], np.int64))], outputs=3, axis=1)


def cases_common_at_newest():
    """Ops whose latest form predates opset 22, inside an opset-NEWEST model (as exporters write them)."""
    r = np.random.default_rng(3002)
    a, b = u(r, 2, 3, 4), u(r, 3, 1)
    for op in ["Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean"]:
        second = b if op != "Div" else u(r, 3, 1, lo=0.5, hi=2.0)
        case(op.lower() + "_broadcast", op, [("a", a), ("b", second)])
    case("pow_broadcast", "Pow", [("a", u(r, 2, 3, lo=0.1, hi=2.0)), ("b", u(r, 3, lo=-2, hi=2))])
    for op in ["Relu", "Sigmoid", "Tanh", "Exp", "Erf", "Abs", "Neg", "Floor", "Ceil", "Sign", "Reciprocal"]:
        case(op.lower(), op, [("x", u(r, 3, 4) if op != "Reciprocal" else u(r, 3, 4, lo=0.5, hi=3))])
    for op in ["Log", "Sqrt"]:
        case(op.lower(), op, [("x", u(r, 3, 4, lo=0.1, hi=5))])
    case("leaky_relu", "LeakyRelu", [("x", u(r, 3, 4))], alpha=0.2)
    case("prelu_broadcast", "PRelu", [("x", u(r, 2, 3, 4)), ("slope", u(r, 3, 1, lo=0, hi=0.5))])
    case("clip_min_max", "Clip", [("x", u(r, 3, 4)), ("min", np.array(-1.0, np.float32)), ("max", np.array(2.0, np.float32))])
    case("clip_max_only", "Clip", [("x", u(r, 3, 4)), ("", None), ("max", np.array(0.5, np.float32))])
    case("where_broadcast", "Where", [("c", r.integers(0, 2, (3, 1)).astype(bool)), ("a", u(r, 3, 4)), ("b", u(r, 4))])
    for op in ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"]:
        case(op.lower(), op, [("a", np.round(u(r, 3, 4))), ("b", np.round(u(r, 4)))])
    case("not", "Not", [("x", r.integers(0, 2, (3, 4)).astype(bool))])
    for op in ["And", "Or", "Xor"]:
        case(op.lower(), op, [("a", r.integers(0, 2, (3, 4)).astype(bool)), ("b", r.integers(0, 2, (4,)).astype(bool))])
    case("matmul_batched", "MatMul", [("a", u(r, 2, 3, 4)), ("b", u(r, 4, 5))])
    case("gemm_trans_b_alpha_beta", "Gemm", [("a", u(r, 3, 4)), ("b", u(r, 5, 4)), ("c", u(r, 5))], transB=1, alpha=0.5, beta=2.0)
    case("batchnorm_inference", "BatchNormalization", [("x", u(r, 2, 3, 4, 4)), ("scale", u(r, 3, lo=0.5, hi=1.5)),
                                                         ("b", u(r, 3, lo=-0.5, hi=0.5)), ("mean", u(r, 3, lo=-0.5, hi=0.5)),
                                                         ("var", u(r, 3, lo=0.5, hi=2))], epsilon=1e-3)
    case("softmax_axis1", "Softmax", [("x", u(r, 2, 3, 4))], axis=1)
    case("logsoftmax", "LogSoftmax", [("x", u(r, 2, 3, 4))])
    case("lrn", "LRN", [("x", u(r, 1, 5, 3, 3))], size=3, alpha=1e-3, beta=0.75, bias=1.0)
    case("argmax_keepdims", "ArgMax", [("x", u(r, 3, 4))], axis=1, keepdims=1)
    case("argmin_last_index", "ArgMin", [("x", np.round(u(r, 3, 4)))], axis=0, keepdims=0, select_last_index=1)
    case("resize_linear_half_pixel", "Resize", [("x", u(r, 1, 2, 3, 4)), ("", None), ("scales", np.array([1, 1, 2, 1.5], np.float32))],
         mode="linear", coordinate_transformation_mode="half_pixel")
    case("resize_nearest_sizes", "Resize", [("x", u(r, 1, 2, 3, 4)), ("", None), ("", None), ("sizes", np.array([1, 2, 6, 8], np.int64))],
         mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    case("resize_linear_axes", "Resize", [("x", u(r, 1, 2, 3, 4)), ("", None), ("scales", np.array([2, 0.5], np.float32))],
         mode="linear", axes=[2, 3])
    case("concat_axis_negative", "Concat", [("a", u(r, 2, 3)), ("b", u(r, 2, 2))], axis=-1)
    case("gather_axis1_negative_indices", "Gather", [("x", u(r, 3, 4)), ("i", np.array([[0, -1], [2, 1]], np.int64))], axis=1)
    case("slice_steps_axes", "Slice", [("x", u(r, 4, 6)), ("starts", np.array([5, 0], np.int64)), ("ends", np.array([0, 3], np.int64)),
                                       ("axes", np.array([1, 0], np.int64)), ("steps", np.array([-2, 1], np.int64))])
    case("expand", "Expand", [("x", u(r, 3, 1)), ("shape", np.array([2, 1, 4], np.int64))])
    case("tile", "Tile", [("x", u(r, 2, 3)), ("repeats", np.array([2, 1], np.int64))])


def cases_new_ops():
    """Ops issue 13 lists (today's exporters emit them for transformers and modern CNNs)."""
    r = np.random.default_rng(3003)
    x = u(r, 2, 3, 8)
    case("layer_normalization_last_axis", "LayerNormalization", [("x", x), ("scale", u(r, 8, lo=0.5, hi=1.5)),
                                                                   ("b", u(r, 8, lo=-0.5, hi=0.5))], axis=-1, epsilon=1e-5)
    case("layer_normalization_axis1_three_outputs", "LayerNormalization",
         [("x", x), ("scale", u(r, 3, 8, lo=0.5, hi=1.5))], outputs=["y", "mean", "inv_std_dev"], axis=1)
    case("layer_normalization_fp16", "LayerNormalization", [("x", x.astype(np.float16)),
                                                            ("scale", u(r, 8, lo=0.5, hi=1.5).astype(np.float16))],
         note="float16; stash_type float32")
    case("gelu_none", "Gelu", [("x", u(r, 3, 8))])
    case("gelu_tanh", "Gelu", [("x", u(r, 3, 8))], approximate="tanh")
    case("rms_normalization_last_axis", "RMSNormalization", [("x", x), ("scale", u(r, 8, lo=0.5, hi=1.5))], axis=-1)
    case("rms_normalization_axis1", "RMSNormalization", [("x", x), ("scale", u(r, 3, 8, lo=0.5, hi=1.5))], axis=1, epsilon=1e-3)
    q, k, v = u(r, 2, 2, 4, 8, lo=-1, hi=1), u(r, 2, 2, 6, 8, lo=-1, hi=1), u(r, 2, 2, 6, 8, lo=-1, hi=1)
    case("attention_4d", "Attention", [("q", q), ("k", k), ("v", v)])
    case("attention_4d_causal", "Attention", [("q", q), ("k", u(r, 2, 2, 4, 8, lo=-1, hi=1)), ("v", u(r, 2, 2, 4, 8, lo=-1, hi=1))],
         is_causal=1)
    case("attention_4d_bool_mask", "Attention", [("q", q), ("k", k), ("v", v), ("mask", r.integers(0, 2, (4, 6)).astype(bool) | np.eye(4, 6, dtype=bool))])
    case("attention_4d_float_mask_scale", "Attention", [("q", q), ("k", k), ("v", v), ("mask", u(r, 2, 1, 4, 6, lo=-2, hi=0))], scale=0.25)
    case("attention_3d_heads", "Attention", [("q", u(r, 2, 4, 16, lo=-1, hi=1)), ("k", u(r, 2, 6, 16, lo=-1, hi=1)),
                                             ("v", u(r, 2, 6, 16, lo=-1, hi=1))], q_num_heads=2, kv_num_heads=2)
    case("einsum_matmul", "Einsum", [("a", u(r, 3, 4)), ("b", u(r, 4, 5))], equation="ij,jk->ik")
    case("einsum_batch_matmul", "Einsum", [("a", u(r, 2, 3, 4)), ("b", u(r, 2, 4, 5))], equation="bij,bjk->bik")
    case("einsum_attention_scores", "Einsum", [("q", u(r, 2, 2, 3, 4)), ("k", u(r, 2, 2, 5, 4))], equation="bhqd,bhkd->bhqk")
    case("einsum_transpose", "Einsum", [("a", u(r, 3, 4))], equation="ij->ji")
    case("einsum_sum_axis", "Einsum", [("a", u(r, 3, 4))], equation="ij->i")
    case("einsum_outer", "Einsum", [("a", u(r, 3)), ("b", u(r, 4))], equation="i,j->ij")
    case("einsum_implicit_output", "Einsum", [("a", u(r, 3, 4)), ("b", u(r, 4, 5))], equation="ij,jk")
    case("einsum_ellipsis", "Einsum", [("a", u(r, 2, 3, 4)), ("b", u(r, 4, 5))], equation="...j,jk->...k")
    x = u(r, 2, 3, 4)
    case("reduce_mean_axes_input_opset18", "ReduceMean", [("x", x), ("axes", np.array([1, 2], np.int64))], opset=18, keepdims=1)
    case("reduce_mean_axes_input_no_keepdims", "ReduceMean", [("x", x), ("axes", np.array([-1], np.int64))], keepdims=0)
    case("reduce_mean_empty_axes_noop", "ReduceMean", [("x", x), ("axes", np.array([], np.int64))], noop_with_empty_axes=1)
    case("reduce_mean_no_axes_all", "ReduceMean", [("x", x)], keepdims=0)
    case("mod_int64", "Mod", [("a", np.array([-7, -3, 3, 7, 5, -5], np.int64)), ("b", np.array([3, 2, -2, -3, 5, 2], np.int64))])
    case("mod_fmod_float", "Mod", [("a", u(r, 2, 5, lo=-10, hi=10)), ("b", u(r, 5, lo=1, hi=4))], fmod=1)
    case("mod_int32_broadcast", "Mod", [("a", r.integers(-20, 20, (3, 4)).astype(np.int32)), ("b", np.array([3, -4, 5, 7], np.int32))])
    case("trilu_upper", "Trilu", [("x", u(r, 4, 5))])
    case("trilu_lower_k", "Trilu", [("x", u(r, 2, 4, 5)), ("k", np.array(-1, np.int64))], upper=0)
    case("trilu_upper_k", "Trilu", [("x", u(r, 4, 5)), ("k", np.array(2, np.int64))], upper=1)
    case("cumsum_axis1", "CumSum", [("x", u(r, 2, 5)), ("axis", np.array(1, np.int64))])
    case("cumsum_exclusive_reverse", "CumSum", [("x", u(r, 2, 5)), ("axis", np.array(-1, np.int32))], exclusive=1, reverse=1)
    case("cumsum_int64", "CumSum", [("x", r.integers(-5, 5, (6,)).astype(np.int64)), ("axis", np.array(0, np.int64))])
    data = u(r, 4, 3)
    case("scatter_nd_rows", "ScatterND", [("data", data), ("indices", np.array([[1], [3]], np.int64)), ("updates", u(r, 2, 3))])
    case("scatter_nd_elements", "ScatterND", [("data", data), ("indices", np.array([[0, 1], [2, 2]], np.int64)), ("updates", u(r, 2))])
    case("scatter_nd_add", "ScatterND", [("data", data), ("indices", np.array([[1], [1]], np.int64)), ("updates", u(r, 2, 3))],
         reduction="add")
    x = u(r, 3, 6)
    case("topk_largest", "TopK", [("x", x), ("k", np.array([3], np.int64))], outputs=["values", "indices"], axis=1)
    case("topk_smallest_axis0", "TopK", [("x", x), ("k", np.array([2], np.int64))], outputs=["values", "indices"], axis=0, largest=0)
    case("topk_ties_sorted", "TopK", [("x", np.array([[1, 3, 3, 2, 3, 1]], np.float32)), ("k", np.array([4], np.int64))],
         outputs=["values", "indices"], note="ties: lower index first")
    case("nonzero_float", "NonZero", [("x", np.round(u(r, 3, 4, lo=-1, hi=1)))])
    case("nonzero_bool", "NonZero", [("x", r.integers(0, 2, (2, 3, 2)).astype(bool))])
    case("mish_opset18", "Mish", [("x", u(r, 3, 8))], opset=18)
    case("mish", "Mish", [("x", u(r, 3, 8))])
    # If with a constant condition: the condition is a Constant node in the graph (what exporters and
    # shape-specialised graphs produce), both branches use an outer-scope value.
    for taken in (True, False):
        then_g = helper.make_graph([helper.make_node("Mul", ["x", "x"], ["t"])], "then", [],
                                   [helper.make_tensor_value_info("t", F32, [3, 4])])
        else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [],
                                   [helper.make_tensor_value_info("e", F32, [3, 4])])
        nodes = [helper.make_node("Constant", [], ["cond"], value=numpy_helper.from_array(np.array(taken), "cond")),
                 helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)]
        case(f"if_constant_{'true' if taken else 'false'}", "If", [("x", u(r, 3, 4))], nodes=nodes,
             note=f"condition is a Constant node ({taken}); {'then' if taken else 'else'} branch taken")


# --------------------------------------------------------------------------- writing


def tensor_type(array):
    return NP_TO_ONNX[np.asarray(array).dtype]


def build_model(name, spec):
    ins = [(n, a) for n, a in spec["inputs"] if n]
    node_inputs = [n for n, _ in spec["inputs"]]
    outs = spec["outputs"]
    out_names = outs if isinstance(outs, list) else (["y"] + [f"y{i}" for i in range(1, outs)])
    nodes = spec["nodes"] or [helper.make_node(spec["op"], node_inputs, out_names, **spec["attrs"])]
    graph_inputs = [helper.make_tensor_value_info(n, tensor_type(a), list(a.shape)) for n, a in ins]
    # Outputs typed after a reference run (shapes left to inference).
    probe_graph = helper.make_graph(nodes, name, graph_inputs, [helper.make_empty_tensor_value_info(n) for n in out_names])
    probe = helper.make_model_gen_version(probe_graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", spec["opset"])])
    results = ReferenceEvaluator(probe).run(None, {n: a for n, a in ins})
    graph_outputs = [helper.make_tensor_value_info(n, tensor_type(v), list(np.asarray(v).shape)) for n, v in zip(out_names, results)]
    graph = helper.make_graph(nodes, f"test_{name}", graph_inputs, graph_outputs)
    model = helper.make_model_gen_version(graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", spec["opset"])])
    onnx.checker.check_model(model, full_check=True)
    check = ReferenceEvaluator(model).run(None, {n: a for n, a in ins})
    for got, want in zip(check, results):
        assert np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True), name
    return model, ins, list(zip(out_names, [np.asarray(v) for v in results]))


def write_tensor(path, array, name):
    with open(path, "wb") as fh:
        fh.write(numpy_helper.from_array(np.asarray(array, order="C"), name=name).SerializeToString())


def numpy_lp_normalization(x, axis=-1, p=2, **_):
    norm = np.power(np.power(np.abs(x.astype(np.float64)), p).sum(axis=axis, keepdims=True), 1.0 / p)
    return [np.where(norm == 0, 0, x / np.where(norm == 0, 1, norm)).astype(x.dtype)]


def numpy_lrn(x, size, alpha=1e-4, beta=0.75, bias=1.0, **_):
    x64 = x.astype(np.float64)
    channels = x.shape[1]
    square_sum = np.zeros_like(x64)
    for c in range(channels):
        lo, hi = max(0, c - (size - 1) // 2), min(channels, c + -(-(size - 1) // 2) + 1)
        square_sum[:, c] = (x64[:, lo:hi] ** 2).sum(axis=1)
    return [(x64 / (bias + alpha / size * square_sum) ** beta).astype(x.dtype)]


# onnx 1.23.2's ReferenceEvaluator gets these wrong: LpNormalization raises x to the power p without
# abs (wrong for p=1 with negative values), LRN loops over the batch dimension instead of the channels.
# Their references come from these numpy implementations of the operator definitions instead (and
# must agree with onnxruntime).
NUMPY_REFERENCES = {"LpNormalization": numpy_lp_normalization, "LRN": numpy_lrn}


def onnxruntime_outputs(model, inputs):
    """onnxruntime's outputs, or the first line of its error (e.g. no bfloat16 in its Python API)."""
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.log_severity_level = 3
        session = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        return session.run(None, {n: a for n, a in inputs}), None
    except Exception as e:  # noqa: BLE001
        return None, str(e).strip().splitlines()[0]


def agree(got, want):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return False
    if want.dtype.kind in "iub":
        return bool(np.array_equal(got, want))
    atol = 1e-3 if want.dtype == np.float16 else 1e-5
    return bool(np.allclose(got.astype(np.float64), want.astype(np.float64), atol=atol, rtol=1e-3, equal_nan=True))


def cross_check(name, spec, model, inputs, outputs):
    """Compares the reference with onnxruntime; on a disagreement uses the numpy reference of the op
    when there is one (which must then agree), otherwise stops. Returns (outputs, reference, verdict)."""
    got, error = onnxruntime_outputs(model, inputs)
    if got is None and "bfloat16" in error:
        # onnxruntime's Python API has no bfloat16: compare through an appended Cast to float32.
        widened = onnx.ModelProto()
        widened.CopyFrom(model)
        outs = list(widened.graph.output)
        del widened.graph.output[:]
        for o in outs:
            widened.graph.node.append(helper.make_node("Cast", [o.name], [o.name + "_f32"], to=F32))
            widened.graph.output.append(helper.make_tensor_value_info(o.name + "_f32", F32, None))
        got, error = onnxruntime_outputs(widened, inputs)
        if got is not None:
            same = all(agree(g, np.asarray(w).astype(np.float32)) for g, (_, w) in zip(got, outputs))
            if not same:
                raise SystemExit(f"{name}: ReferenceEvaluator and onnxruntime disagree (bfloat16)")
            return outputs, "onnx.reference.ReferenceEvaluator", "onnxruntime agrees (outputs cast to float32)"
    if got is None:
        return outputs, "onnx.reference.ReferenceEvaluator", f"onnxruntime cannot run it: {error}"
    if all(agree(g, w) for g, (_, w) in zip(got, outputs)):
        return outputs, "onnx.reference.ReferenceEvaluator", "onnxruntime agrees"
    if spec["op"] not in NUMPY_REFERENCES:
        raise SystemExit(f"{name}: ReferenceEvaluator and onnxruntime disagree and there is no numpy reference")
    values = NUMPY_REFERENCES[spec["op"]](*[a for _, a in inputs], **spec["attrs"])
    outputs = [(n, v) for (n, _), v in zip(outputs, values)]
    if not all(agree(g, w) for g, (_, w) in zip(got, outputs)):
        raise SystemExit(f"{name}: the numpy reference disagrees with onnxruntime too")
    return outputs, "numpy (ReferenceEvaluator is wrong here)", "onnxruntime agrees with numpy"


def write_test(folder, model, inputs, outputs):
    shutil.rmtree(folder, ignore_errors=True)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    for i, (n, a) in enumerate(inputs):
        write_tensor(os.path.join(data, f"input_{i}.pb"), a, n)
    for i, (n, a) in enumerate(outputs):
        write_tensor(os.path.join(data, f"output_{i}.pb"), a, n)


def newest_defaults():
    """A small CNN built with helper.make_model and saved with onnx.save, no version given anywhere."""
    r = np.random.default_rng(3004)
    inits = [numpy_helper.from_array((r.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32), "conv_w"),
             numpy_helper.from_array(u(r, 8, lo=-0.1, hi=0.1), "conv_b"),
             numpy_helper.from_array((r.standard_normal((5, 8)) * 0.4).astype(np.float32), "fc_w"),
             numpy_helper.from_array(u(r, 5, lo=-0.1, hi=0.1), "fc_b")]
    nodes = [helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)]
    graph = helper.make_graph(nodes, "newest_defaults", [helper.make_tensor_value_info("x", F32, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("probabilities", F32, ["N", 5])], inits)
    model = helper.make_model(graph)
    folder = os.path.join(OUT, "newest_defaults")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    onnx.checker.check_model(path, full_check=True)
    x = u(r, 2, 3, 8, 8)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    (y,) = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    (ref,) = ReferenceEvaluator(path).run(None, {"x": x})
    assert np.allclose(y, ref, atol=1e-6, rtol=1e-5)
    write_tensor(os.path.join(folder, "test_data_set_0", "input_0.pb"), x, "x")
    write_tensor(os.path.join(folder, "test_data_set_0", "output_0.pb"), y, "probabilities")
    saved = onnx.load(path)
    return {"path": "newest_defaults/model.onnx", "ir_version": saved.ir_version,
            "opsets": [{"domain": o.domain, "version": o.version} for o in saved.opset_import],
            "reference": "onnxruntime (agrees with ReferenceEvaluator at atol 1e-6)", "tolerance": {"atol": 1e-5, "rtol": 1e-4}}


def main():
    cases_supported_newest_forms()
    cases_common_at_newest()
    cases_new_ops()
    names = [n for n, _ in CASES]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, dup
    root = os.path.join(OUT, "node")
    shutil.rmtree(root, ignore_errors=True)
    tests = {}
    for name, spec in CASES:
        test = f"test_{name}" if name.endswith(f"opset{spec['opset']}") else f"test_{name}_opset{spec['opset']}"
        model, ins, outs = build_model(test[len("test_"):], spec)
        outs, reference, verdict = cross_check(test, spec, model, ins, outs)
        write_test(os.path.join(root, test), model, ins, outs)
        tests[test] = {"op": spec["op"], "opset": spec["opset"], "ir_version": model.ir_version,
                       "inputs": [n for n, _ in ins], "outputs": [n for n, _ in outs], "note": spec["note"],
                       "reference": reference, "cross_check": verdict}
    manifest = {
        "generator": {"onnx": onnx.__version__, "numpy": np.__version__, "onnxruntime": ort.__version__,
                      "newest_opset": NEWEST, "newest_ir_version": onnx.IR_VERSION},
        "reference": "onnx.reference.ReferenceEvaluator unless a test says otherwise; every test is cross-checked "
                     "with onnxruntime (cross_check)",
        "tolerance": {"atol": 1e-7, "rtol": 1e-3, "note": "the ONNX backend defaults; float16 outputs: atol 1e-3"},
        "tests": dict(sorted(tests.items())),
        "newest_defaults": newest_defaults(),
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    print(f"wrote {len(tests)} node tests under {root} and newest_defaults/ (opset {NEWEST}, IR {onnx.IR_VERSION})")


if __name__ == "__main__":
    sys.exit(main())
