#!/usr/bin/env python3
"""A float64 reference for a float32 ONNX model: the same graph with every float tensor widened to
double, evaluated by onnx.reference.ReferenceEvaluator (numpy, float64 throughout).

Used by scripts/zoo_interop.py to tell Vigil's error apart from the float32 reference's own: two
float32 implementations that accumulate in a different order (onnxruntime's MLAS, Vigil's kernels)
differ by float32 rounding noise, which in deep networks can exceed atol 1e-4 on a few logits. The
float64 evaluation of the same weights is accurate to ~1e-12, so "Vigil within tolerance of the
float64 reference" is the tolerance applied to the exact answer, and "onnxruntime vs float64" is the
reference's own error.

    python scripts/onnx_float64.py MODEL.onnx INPUT.npy OUT.npy
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper
from onnx.reference import ReferenceEvaluator

FLOAT, DOUBLE = TensorProto.FLOAT, TensorProto.DOUBLE


def _widen_tensor(t: TensorProto) -> TensorProto:
    if t.data_type != FLOAT:
        return t
    wide = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float64), t.name)
    return wide


def _widen_types(values):
    for v in values:
        tt = v.type.tensor_type
        if tt.elem_type == FLOAT:
            tt.elem_type = DOUBLE


def _widen_graph(graph: onnx.GraphProto):
    for i, t in enumerate(graph.initializer):
        graph.initializer[i].CopyFrom(_widen_tensor(t))
    _widen_types(graph.input)
    _widen_types(graph.output)
    _widen_types(graph.value_info)
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                attr.t.CopyFrom(_widen_tensor(attr.t))
            elif attr.type == onnx.AttributeProto.GRAPH:
                _widen_graph(attr.g)
            elif attr.name in ("to", "dtype") and attr.type == onnx.AttributeProto.INT and attr.i == FLOAT:
                attr.i = DOUBLE
            # stash_type stays: onnx.reference computes LayerNormalization in its input's type (double
            # here) and implements only stash_type 1.


def to_float64(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` computing in double wherever it computed in float."""
    wide = onnx.ModelProto()
    wide.CopyFrom(model)
    _widen_graph(wide.graph)
    return wide


def evaluate(path: str, x: np.ndarray) -> np.ndarray:
    """The model's first output on `x` (fed as float64), computed in float64."""
    model = to_float64(onnx.load(path))
    session = ReferenceEvaluator(model)
    name = model.graph.input[0].name
    return np.asarray(session.run(None, {name: x.astype(np.float64)})[0], dtype=np.float64)


def main(argv) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    np.save(argv[3], evaluate(argv[1], np.load(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
