#!/usr/bin/env python3
"""Strip the weights out of an ONNX model, and put plausible ones back deterministically.

numpy + onnx only (it runs in the interop virtualenv, pinned by Fixtures/zoo/requirements-interop.txt).

Why not the onnx package's "light" models? onnx/backend/test/data/light/ replaces every big float
initializer by a `ConstantOfShape` node (`onnx.tools.replace_constants.
replace_initializer_by_constant_of_shape`): the graph stays runnable but every weight becomes one
value (0.5), which changes the graph (initializers become nodes, the parameter count drops) and makes
the network numerically degenerate (every channel identical), which is useless for parity. Here the
graph is kept exactly as exported, initializer for initializer; only the bytes of the big float tensors
are removed, and enough statistics are kept to draw values from the same distribution:

* A stripped tensor keeps its name, dims and data type; its data becomes an external-data reference to
  the file ``weights.stripped``, which does not exist (so any tool that tries to read the stripped
  graph as a full model fails by naming that file).
* Which tensors are stripped: float tensors (float32/float16/float64/bfloat16) of rank >= 2 with at
  least ``MIN_ELEMENTS`` elements, in the main graph's initializers and in Constant nodes' ``value``.
  Everything else is kept verbatim: integer tensors (shapes, axes, indices), scalars, every rank-0/1
  tensor (biases, BatchNorm statistics whose variances must stay positive, LayerNorm scales, ...).
* Statistics (``weights.npz``): per tensor either one (mean, std) pair, or one pair per slice along
  an axis (``axes[i]``; -1 = one pair for the whole tensor). The generator asks for per-slice
  statistics along the output-channel axis of every Conv/Gemm/MatMul weight (dim 0 of a Conv weight
  or of a Gemm with transB=1, the last dim of a MatMul weight) and then calibrates them (see
  generate_zoo.py); any other stripped tensor gets per-slice statistics along dim 0 when its slices
  differ (relative spread of the slice stds > ``ROW_SPREAD`` or slice means away from the tensor's),
  one pair otherwise. A tensor whose values are all positive is described in log space and drawn
  log-normal (``laws[i]``), so it stays positive.
* Materialising: stripped tensor i (in the order of ``names`` in weights.npz) gets
  ``mean + std * z`` (or ``exp(mean + std * z)``), with z drawn by
  ``numpy.random.default_rng([seed, i]).standard_normal(n, dtype=float32)`` in C order and the
  statistics broadcast along their axis. Same seed and statistics, same bytes; a tensor does not
  depend on the order or values of the others.

    python Fixtures/zoo/zoo_weights.py materialise GRAPH.onnx WEIGHTS.npz OUT.onnx
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

STRIPPED_LOCATION = "weights.stripped"
MIN_ELEMENTS = 64
ROW_SPREAD = 0.15
FLOAT_TYPES = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16, TensorProto.DOUBLE: np.float64}
FORMAT_VERSION = 1


def tensors(graph: onnx.GraphProto):
    """(key, TensorProto) for the main graph's initializers and Constant values, in file order."""
    for t in graph.initializer:
        yield f"initializer:{t.name}", t
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for attr in node.attribute:
                if attr.name == "value" and attr.HasField("t"):
                    yield f"constant:{node.output[0]}", attr.t


def _strippable(t: TensorProto) -> bool:
    if t.data_type not in FLOAT_TYPES and t.data_type != TensorProto.BFLOAT16:
        return False
    if t.data_location == TensorProto.EXTERNAL or len(t.dims) < 2:
        return False
    return int(np.prod(t.dims)) >= MIN_ELEMENTS


def _statistics(values: np.ndarray, axis):
    """(law, axis, mean, std): per slice along `axis` (chosen when None), or axis -1 and one pair."""
    x = values.astype(np.float64)
    law = "normal"
    if axis is None and np.all(x > 0):
        law, x = "lognormal", np.log(x)
    slices = np.moveaxis(x, axis or 0, 0).reshape(x.shape[axis or 0], -1)
    row_mean, row_std = slices.mean(axis=1), slices.std(axis=1)
    overall_std = x.std()
    if axis is None:
        spread = slices.shape[0] > 1 and slices.shape[1] > 1 and overall_std > 0 and (
            row_std.std() > ROW_SPREAD * max(row_std.mean(), 1e-30)
            or np.abs(row_mean - x.mean()).max() > ROW_SPREAD * overall_std)
        axis = 0 if spread else -1
    if axis >= 0:
        return law, axis, row_mean.astype(np.float32), row_std.astype(np.float32)
    return law, -1, np.array([x.mean()], np.float32), np.array([overall_std], np.float32)


def strip(model: onnx.ModelProto, seed: int, slice_axes=None):
    """Returns (stripped copy of the model, dict of arrays for weights.npz). `slice_axes` maps tensor
    keys ("initializer:NAME", "constant:OUTPUT") to the axis their statistics must be kept along."""
    slice_axes = slice_axes or {}
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    names, laws, axes, arrays = [], [], [], {}
    for key, t in tensors(stripped.graph):
        if not _strippable(t):
            continue
        i = len(names)
        law, axis, mean, std = _statistics(numpy_helper.to_array(t), slice_axes.get(key))
        names.append(key)
        laws.append(law)
        axes.append(axis)
        arrays[f"mean_{i}"], arrays[f"std_{i}"] = mean, std
        for field in ("raw_data", "float_data", "int32_data", "double_data"):
            t.ClearField(field)
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        entry = t.external_data.add()
        entry.key, entry.value = "location", STRIPPED_LOCATION
    arrays["names"] = np.array(names, dtype=str)
    arrays["laws"] = np.array(laws, dtype=str)
    arrays["axes"] = np.array(axes, dtype=np.int64)
    arrays["seed"] = np.array(seed, dtype=np.int64)
    arrays["format"] = np.array(FORMAT_VERSION, dtype=np.int64)
    return stripped, arrays


def draw(i: int, seed: int, dims, law: str, axis: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The float32 values of stripped tensor number i."""
    dims = [int(d) for d in dims]
    z = np.random.default_rng([seed, i]).standard_normal(int(np.prod(dims)), dtype=np.float32).reshape(dims)
    shape = [1] * len(dims)
    if axis >= 0:
        if dims[axis] != len(mean):
            raise ValueError(f"tensor {i}: {len(mean)} statistics for dim {axis} of size {dims[axis]}")
        shape[axis] = len(mean)
    values = mean.astype(np.float32).reshape(shape) + std.astype(np.float32).reshape(shape) * z
    if law == "lognormal":
        values = np.exp(values)
    return values.astype(np.float32)


def materialise(stripped: onnx.ModelProto, stats) -> onnx.ModelProto:
    """Returns a full copy of a stripped model, its weights drawn from `stats` (weights.npz)."""
    if int(stats["format"]) != FORMAT_VERSION:
        raise ValueError(f"weights.npz format {int(stats['format'])}, this materialiser reads {FORMAT_VERSION}")
    model = onnx.ModelProto()
    model.CopyFrom(stripped)
    seed = int(stats["seed"])
    index = {str(k): i for i, k in enumerate(stats["names"])}
    found = 0
    for key, t in tensors(model.graph):
        if key not in index:
            if t.data_location == TensorProto.EXTERNAL:
                raise ValueError(f"{key} is external but has no statistics")
            continue
        i = index[key]
        values = draw(i, seed, list(t.dims), str(stats["laws"][i]), int(stats["axes"][i]),
                      stats[f"mean_{i}"], stats[f"std_{i}"])
        dtype = FLOAT_TYPES.get(t.data_type)
        if t.data_type == TensorProto.BFLOAT16:
            full = numpy_helper.from_array(values.astype(_bfloat16()), t.name)
        else:
            full = numpy_helper.from_array(values.astype(dtype), t.name)
        t.ClearField("external_data")
        t.data_location = TensorProto.DEFAULT
        t.raw_data = full.raw_data
        found += 1
    if found != len(index):
        raise ValueError(f"{len(index) - found} tensor(s) of weights.npz are not in the graph")
    return model


def _bfloat16():
    import ml_dtypes  # onnx depends on it

    return ml_dtypes.bfloat16


def materialise_file(graph_path: str, weights_path: str, out_path: str) -> onnx.ModelProto:
    stripped = onnx.load(graph_path, load_external_data=False)
    with np.load(weights_path) as stats:
        model = materialise(stripped, stats)
    onnx.save(model, out_path)
    return model


def main(argv) -> int:
    if len(argv) != 5 or argv[1] != "materialise":
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    materialise_file(argv[2], argv[3], argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
