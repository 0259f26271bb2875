"""Writes the model for the `vigil swift` naming tests, with onnxruntime's outputs as the reference.

    .venv/bin/python Fixtures/generate_swift.py      # -> Fixtures/swift/   (pins: Fixtures/requirements.txt)

awkward_names: graph inputs and outputs whose names are not Swift identifiers or collide once made
into ones (`input.1`, `0`, `images:0`, `input_1`, `class`, `n` beside a symbolic dim `N`, an output
`self`, `default`, `1`, `out put`), symbolic dims `N` and `batch size`, doc strings with backticks,
quotes, backslashes and newlines, and model metadata. The layout is the ONNX test-data one:
test_data_set_0/{input,output}_<i>.pb (graph input and output order).
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "swift")
F, I64 = TensorProto.FLOAT, TensorProto.INT64


def value(name, elem, shape, doc=""):
    info = helper.make_tensor_value_info(name, elem, shape)
    info.doc_string = doc
    return info


def awkward_names():
    inputs = [
        value("input.1", F, ["N", 4], 'The first input: `backticks`, "quotes", a backslash \\ and\na second line.'),
        value("0", F, ["batch size", 4], "Named 0, sized by the dim `batch size`."),
        value("images:0", F, ["N", 4]),
        value("input_1", F, [1, 4], "Collides with input.1 once both are Swift names."),
        value("class", I64, ["N"], "A Swift keyword."),
        value("n", F, [], "A scalar whose Swift name collides with the dim N."),
    ]
    outputs = [
        value("output:0", F, ["N", 4], "Relu(input.1 + 0 + images:0) · n."),
        value("default", F, ["N"], "Float(class) + 1."),
        value("1", F, ["N", 4], "input.1 + input_1."),
        value("self", F, ["N", 4], "images:0 − input_1."),
        value("out put", F, [], "The sum of output:0."),
    ]
    one = numpy_helper.from_array(np.array(1.0, dtype=np.float32), name="one")
    nodes = [
        helper.make_node("Add", ["input.1", "0"], ["sum.a"], name="add/a"),
        helper.make_node("Add", ["sum.a", "images:0"], ["sum.b"], name="add:b"),
        helper.make_node("Relu", ["sum.b"], ["relu.out"], name="relu 1"),
        helper.make_node("Mul", ["relu.out", "n"], ["output:0"], name="scale"),
        helper.make_node("Cast", ["class"], ["class.float"], to=F, name="cast"),
        helper.make_node("Add", ["class.float", "one"], ["default"], name="plus one"),
        helper.make_node("Add", ["input.1", "input_1"], ["1"], name="broadcast"),
        helper.make_node("Sub", ["images:0", "input_1"], ["self"], name="sub"),
        helper.make_node("ReduceSum", ["output:0"], ["out put"], keepdims=0, name="sum"),
    ]
    graph = helper.make_graph(nodes, "awkward graph", inputs, outputs, initializer=[one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="vigil-fixtures",
                              producer_version="1.0")
    model.ir_version = 10
    model.doc_string = "Awkward names for `vigil swift`: dots, colons, digits, keywords and collisions."
    helper.set_model_props(model, {"purpose": "naming tests", "quote": 'say "hi" \\ bye'})
    onnx.checker.check_model(model, full_check=True)
    rng = np.random.default_rng(15)
    feeds = {
        "input.1": rng.standard_normal((3, 4)).astype(np.float32),
        "0": rng.standard_normal((3, 4)).astype(np.float32),
        "images:0": rng.standard_normal((3, 4)).astype(np.float32),
        "input_1": rng.standard_normal((1, 4)).astype(np.float32),
        "class": np.array([0, 2, 7], dtype=np.int64),
        "n": np.array(1.5, dtype=np.float32),
    }
    return model, feeds


def main():
    model, feeds = awkward_names()
    folder = os.path.join(OUT, "awkward_names")
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"), options, providers=["CPUExecutionProvider"])
    results = session.run(None, feeds)
    for i, info in enumerate(model.graph.input):
        onnx.save_tensor(numpy_helper.from_array(feeds[info.name], name=info.name), os.path.join(data, f"input_{i}.pb"))
    for i, (info, result) in enumerate(zip(model.graph.output, results)):
        onnx.save_tensor(numpy_helper.from_array(result, name=info.name), os.path.join(data, f"output_{i}.pb"))
    print("wrote", folder)


if __name__ == "__main__":
    main()
