"""Shared model-statistics helpers for the Vigil fixture generators.

The definitions here are the contract that the Swift tests compare against
(see Fixtures/README.md). Keep them in sync with the README.
"""

from __future__ import annotations

import collections
import math

import onnx
from onnx import TensorProto

# dtype names used in manifest.json / inspect_expected.json.
DTYPE_NAMES = {
    TensorProto.FLOAT: "float32",
    TensorProto.FLOAT16: "float16",
    TensorProto.BFLOAT16: "bfloat16",
    TensorProto.DOUBLE: "float64",
    TensorProto.INT8: "int8",
    TensorProto.INT16: "int16",
    TensorProto.INT32: "int32",
    TensorProto.INT64: "int64",
    TensorProto.UINT8: "uint8",
    TensorProto.UINT16: "uint16",
    TensorProto.UINT32: "uint32",
    TensorProto.UINT64: "uint64",
    TensorProto.BOOL: "bool",
    TensorProto.STRING: "string",
    TensorProto.COMPLEX64: "complex64",
    TensorProto.COMPLEX128: "complex128",
}

# Element sizes in bytes (strings are handled separately).
ELEMENT_SIZE = {
    "float32": 4, "float16": 2, "bfloat16": 2, "float64": 8,
    "int8": 1, "int16": 2, "int32": 4, "int64": 8,
    "uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8,
    "bool": 1, "complex64": 8, "complex128": 16,
}


def dtype_name(elem_type: int) -> str:
    if elem_type in DTYPE_NAMES:
        return DTYPE_NAMES[elem_type]
    # Anything exotic (float8 variants, int4, ...): lower-case enum name.
    return TensorProto.DataType.Name(elem_type).lower()


def element_size(name: str) -> float:
    if name in ELEMENT_SIZE:
        return ELEMENT_SIZE[name]
    if name.startswith("float8"):
        return 1
    if name in ("int4", "uint4", "float4e2m1"):
        return 0.5
    raise ValueError(f"unknown element size for dtype {name}")


def num_elements(dims) -> int:
    """Number of elements of a tensor with the given dims; a scalar (dims == []) counts 1."""
    n = 1
    for d in dims:
        n *= int(d)
    return n


def _tensor_bytes(t: TensorProto, count: int) -> int:
    name = dtype_name(t.data_type)
    if name == "string":
        return sum(len(s) for s in t.string_data)
    return int(math.ceil(count * element_size(name)))


def initializer_stats(graph: onnx.GraphProto):
    """(parameter_count, parameter_bytes_by_dtype, initializer_count) for the MAIN graph only."""
    count = 0
    by_dtype: dict[str, int] = collections.defaultdict(int)
    for t in graph.initializer:
        n = num_elements(t.dims)
        count += n
        by_dtype[dtype_name(t.data_type)] += _tensor_bytes(t, n)
    for st in graph.sparse_initializer:
        v = st.values
        n = num_elements(v.dims)
        count += n
        by_dtype[dtype_name(v.data_type)] += _tensor_bytes(v, n)
    init_count = len(graph.initializer) + len(graph.sparse_initializer)
    return count, dict(sorted(by_dtype.items())), init_count


def _walk_graph_tensors(graph: onnx.GraphProto):
    yield from graph.initializer
    for st in graph.sparse_initializer:
        yield st.values
        yield st.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _walk_graph_tensors(attr.g)
            for g in attr.graphs:
                yield from _walk_graph_tensors(g)


def external_data_files(model: onnx.ModelProto) -> list[str]:
    locs = set()
    for t in _walk_graph_tensors(model.graph):
        if t.data_location == TensorProto.EXTERNAL:
            for kv in t.external_data:
                if kv.key == "location":
                    locs.add(kv.value)
    return sorted(locs)


def op_histogram(graph: onnx.GraphProto) -> dict[str, int]:
    """Histogram of op_type over the MAIN graph's nodes (subgraphs are not descended into)."""
    hist = collections.Counter(n.op_type for n in graph.node)
    return dict(sorted(hist.items()))


def opsets(model: onnx.ModelProto) -> list[dict]:
    """opset_import entries in file order; "" is the default ONNX domain."""
    return [{"domain": o.domain, "version": int(o.version)} for o in model.opset_import]


def value_info_entry(vi: onnx.ValueInfoProto) -> dict:
    tt = vi.type.tensor_type
    shape = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            shape.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            shape.append(d.dim_param)
        else:
            shape.append(None)
    return {"name": vi.name, "dtype": dtype_name(tt.elem_type), "shape": shape}


def inspect_stats(model: onnx.ModelProto) -> dict:
    """The subset of statistics shared by manifest.json and inspect_expected.json."""
    pc, _, ic = initializer_stats(model.graph)
    return {
        "parameter_count": pc,
        "initializer_count": ic,
        "node_count": len(model.graph.node),
        "op_histogram": op_histogram(model.graph),
        "ir_version": int(model.ir_version),
        "opsets": opsets(model),
    }
