#!/usr/bin/env python3
"""QuantizeLinear(Add(DequantizeLinear(a), DequantizeLinear(b))), uint8, with and without a Relu before
the QuantizeLinear, on all 65,536 pairs of bytes: onnxruntime's outputs (its QDQ fusion runs them as
QLinearAdd), which Vigil's fused QAdd must give to the byte (QuantizedModelTests). The two scale sets
are ones where the separate nodes' float arithmetic, ((a - za) sa + (b - zb) sb) / sc, rounds 3 and 1
pairs differently from QLinearAdd's (found among 30 random sets, 10 differing pairs in all). Writes
Fixtures/quantized/qadd_exact/{plain,relu}/ (model.onnx, test_data_set_0/). Run by hand with the pinned
requirements.txt:

    python Fixtures/quantized/generate_qadd_exact.py
"""

import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qadd_exact")
N = 65536
# (sa, za, sb, zb, sc, zc) per case.
CASES = {"plain": (0.09694366157054901, 3, 0.0254253838211298, 76, 0.06881769001483917, 127),
         "relu": (0.08798757940530777, 76, 0.005500203929841518, 33, 0.08301670104265213, 0)}


def model(sa, za, sb, zb, sc, zc, relu):
    scalars = [numpy_helper.from_array(np.array(v, np.float32), n) for n, v in (("sa", sa), ("sb", sb), ("sc", sc))]
    scalars += [numpy_helper.from_array(np.array(v, np.uint8), n) for n, v in (("za", za), ("zb", zb), ("zc", zc))]
    nodes = [helper.make_node("DequantizeLinear", ["a", "sa", "za"], ["fa"], name="a_dq"),
             helper.make_node("DequantizeLinear", ["b", "sb", "zb"], ["fb"], name="b_dq"),
             helper.make_node("Add", ["fa", "fb"], ["s"], name="add")]
    last = "s"
    if relu:
        nodes.append(helper.make_node("Relu", ["s"], ["r"], name="relu"))
        last = "r"
    nodes.append(helper.make_node("QuantizeLinear", [last, "sc", "zc"], ["y"], name="y_q"))
    inputs = [helper.make_tensor_value_info(n, TensorProto.UINT8, [N]) for n in ("a", "b")]
    graph = helper.make_graph(nodes, "qadd_exact", inputs, [helper.make_tensor_value_info("y", TensorProto.UINT8, [N])], scalars)
    m = helper.make_model(graph, producer_name="vigil-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    feeds = {"a": np.repeat(np.arange(256), 256).astype(np.uint8), "b": np.tile(np.arange(256), 256).astype(np.uint8)}
    for name, (sa, za, sb, zb, sc, zc) in CASES.items():
        m = model(sa, za, sb, zb, sc, zc, name == "relu")
        folder = os.path.join(OUT, name)
        os.makedirs(os.path.join(folder, "test_data_set_0"))
        onnx.save(m, os.path.join(folder, "model.onnx"))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(os.path.join(folder, "model.onnx"), options, providers=["CPUExecutionProvider"])
        (y,) = session.run(None, feeds)
        data = os.path.join(folder, "test_data_set_0")
        for i, n in enumerate(("a", "b")):
            with open(os.path.join(data, f"input_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(feeds[n], n).SerializeToString())
        with open(os.path.join(data, "output_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(y, "y").SerializeToString())
        print(f"{name}: sa {sa:.6g} za {za} sb {sb:.6g} zb {zb} sc {sc:.6g} zc {zc}")


if __name__ == "__main__":
    main()
