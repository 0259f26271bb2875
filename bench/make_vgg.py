"""The VGG-like network of Masana et al. (five blocks of two 3x3 convs, 64-128-256-512-512, max-pool after
blocks 1-4, average pool after block 5, fc 512 -> 512 -> 10) on 32x32 inputs, random weights, opset 13.
Usage: make_vgg.py OUT.onnx [--batchnorm]; --batchnorm adds a BatchNormalization after every conv and
after fc1 (as PyTorch's vgg*_bn exports them), for the optimizer benchmark."""
import sys
import numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
rng = np.random.default_rng(0)
batchnorm = "--batchnorm" in sys.argv
def bn(x, c, name):
    """Appends BatchNormalization(x) with random inference statistics; returns its output name."""
    w(f"{name}_s", rng.uniform(0.5, 1.5, c)); w(f"{name}_b", rng.standard_normal(c) * 0.1)
    w(f"{name}_m", rng.standard_normal(c) * 0.1); w(f"{name}_v", rng.uniform(0.5, 1.5, c))
    nodes.append(helper.make_node("BatchNormalization", [x] + [f"{name}_{p}" for p in "sbmv"], [name], epsilon=1e-5))
    return name
nodes, inits = [], []
x = "X"; cin = 3; i = 0
def w(name, arr): inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
for block, cout in enumerate([64, 128, 256, 512, 512]):
    for j in range(2):
        w(f"w{i}", rng.standard_normal((cout, cin, 3, 3)) / np.sqrt(cin * 9)); w(f"b{i}", rng.standard_normal(cout) * 0.1)
        nodes.append(helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        y = bn(f"c{i}", cout, f"bn{i}") if batchnorm else f"c{i}"
        nodes.append(helper.make_node("Relu", [y], [f"r{i}"])); x = f"r{i}"; cin = cout; i += 1
    if block < 4:
        nodes.append(helper.make_node("MaxPool", [x], [f"p{block}"], kernel_shape=[2, 2], strides=[2, 2])); x = f"p{block}"
nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1))
w("fc1w", rng.standard_normal((512, 512)) / np.sqrt(512)); w("fc1b", rng.standard_normal(512) * 0.1)
w("fc2w", rng.standard_normal((10, 512)) / np.sqrt(512)); w("fc2b", rng.standard_normal(10) * 0.1)
nodes.append(helper.make_node("Gemm", ["flat", "fc1w", "fc1b"], ["h"], transB=1))
nodes.append(helper.make_node("Relu", [bn("h", 512, "bnfc") if batchnorm else "h"], ["hr"]))
nodes.append(helper.make_node("Gemm", ["hr", "fc2w", "fc2b"], ["Y"], transB=1))
g = helper.make_graph(nodes, "vgg", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3, 32, 32])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 10])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
args = [a for a in sys.argv[1:] if not a.startswith("--")]
onnx.save(m, args[0] if args else "vgg.onnx")
