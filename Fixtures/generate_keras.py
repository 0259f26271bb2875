#!/usr/bin/env python3
"""Writes the Keras fixtures in Fixtures/keras/ (see Formats/keras.md for the file layouts).

    python3 -m venv /work/venv-keras
    /work/venv-keras/bin/pip install -r Fixtures/requirements-keras.txt
    KERAS_BACKEND=jax /work/venv-keras/bin/python Fixtures/generate_keras.py

Every model is saved as `model.h5` (legacy full-model HDF5), `model.keras` (Keras 3 zip),
`model.weights.h5` (Keras 3 weights only) plus `config.json`, together with fixed inputs and the
outputs Keras computes for them (`input_<i>.npy`, `output_<i>.npy`: little-endian float32, C order)
and `weights.json`: every layer's weights as read back with h5py from `model.h5`.
`keras2_legacy` is written with h5py in the Keras 2 / tf.keras layout instead.
Everything is seeded; the Swift tests never run Python.

    python Fixtures/generate_keras.py NAME …          # regenerate some models only
    python Fixtures/generate_keras.py --check-onnx "CONVERTER"
        # convert every fixture with `CONVERTER IN OUT [CONFIG]` and compare onnxruntime's outputs
"""
import json
import os
import shutil
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras")
ACTIVATIONS = [
    "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax", "softplus", "softsign", "elu", "selu",
    "swish", "silu", "gelu", "linear", "exponential", "leaky_relu", "hard_swish", "hard_silu", "log_softmax", "mish",
]


def randomize(model, rng):
    """Gives every weight a random value (BatchNorm statistics included; variances and scales positive)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            randomize(layer, rng)
            continue
        if isinstance(layer, L.Normalization):
            continue
        values = []
        for var in layer.weights:
            name = var.path.split("/")[-1]
            shape = tuple(var.shape)
            if "variance" in name or "gamma" in name:
                values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            else:
                values.append((rng.standard_normal(shape) * 0.5).astype("float32"))
        if values:
            layer.set_weights(values)


def dense_mlp():
    return keras.Sequential([
        keras.Input((8,), name="features"),
        L.Dense(16, activation="relu", name="hidden"),
        L.Dropout(0.5),
        L.GaussianNoise(0.3),
        L.GaussianDropout(0.2),
        L.AlphaDropout(0.1),
        L.ActivityRegularization(l1=0.01),
        L.Dense(8, use_bias=False, name="no_bias"),
        L.LeakyReLU(negative_slope=0.2),
        L.Dense(4, activation="softmax", name="probs"),
    ], name="dense_mlp")


def conv2d_net():
    return keras.Sequential([
        keras.Input((12, 12, 3), name="image"),
        L.Conv2D(4, 3, padding="same", name="conv_same"),
        L.BatchNormalization(name="bn"),
        L.ReLU(max_value=6.0, name="relu6"),
        L.Conv2D(6, 3, padding="valid", dilation_rate=2, activation="relu", name="conv_dilated"),
        L.Conv2D(6, 3, padding="same", strides=2, groups=2, name="conv_groups"),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise"),
        L.SeparableConv2D(5, 3, padding="same", activation="relu", name="separable"),
        L.MaxPooling2D(3, strides=2, padding="same", name="maxpool"),
        L.Conv2DTranspose(4, 3, strides=2, padding="same", name="deconv_same"),
        L.Conv2DTranspose(3, 2, strides=1, padding="valid", name="deconv_valid"),
        L.AveragePooling2D(2, strides=2, padding="same", name="avgpool"),
        L.Flatten(name="flatten"),
        L.Dense(5, name="logits"),
    ], name="conv2d_net")


def conv1d_net():
    x = keras.Input((16, 3), name="sequence")
    h = L.ZeroPadding1D((1, 2), name="pad")(x)
    h = L.Conv1D(4, 3, strides=2, activation="tanh", name="conv_strided")(h)
    h = L.Conv1D(4, 3, padding="same", dilation_rate=2, name="conv_dilated")(h)
    h = L.Conv1D(4, 2, padding="causal", name="conv_causal")(h)
    h = L.Cropping1D((1, 1), name="crop")(h)
    h = L.SpatialDropout1D(0.3)(h)
    a = L.MaxPooling1D(2, name="maxpool")(h)
    b = L.AveragePooling1D(3, strides=2, padding="same", name="avgpool")(h)
    out_a = L.GlobalAveragePooling1D(name="gap")(a)
    out_b = L.GlobalMaxPooling1D(keepdims=True, name="gmp")(b)
    return keras.Model(x, [out_a, out_b, a, b], name="conv1d_net")


def activations():
    x = keras.Input((3, 10), name="x")
    branches = [L.Activation(name, name=f"act_{name}")(x) for name in ACTIVATIONS]
    branches += [
        L.ReLU(name="relu_plain")(x),
        L.ReLU(max_value=2.5, negative_slope=0.1, threshold=0.5, name="relu_full")(x),
        L.LeakyReLU(negative_slope=0.2, name="leaky")(x),
        L.PReLU(name="prelu")(x),
        L.PReLU(shared_axes=[1], name="prelu_shared")(x),
        L.ELU(alpha=0.7, name="elu_layer")(x),
        L.Softmax(axis=1, name="softmax_axis1")(x),
    ]
    y = L.Concatenate(axis=-1, name="all")(branches)
    return keras.Model(x, y, name="activations")


def merge_functional():
    a = keras.Input((6,), name="left")
    b = keras.Input((6,), name="right")
    shared = L.Dense(6, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    merged = [
        L.Add(name="add")([sa, sb]),
        L.Add(name="add3")([sa, sb, a]),
        L.Subtract(name="subtract")([sa, sb]),
        L.Multiply(name="multiply")([sa, sb]),
        L.Average(name="average")([sa, sb]),
        L.Maximum(name="maximum")([sa, sb]),
        L.Minimum(name="minimum")([sa, sb]),
    ]
    cat = L.Concatenate(name="concat")(merged)
    inner = keras.Sequential([
        keras.Input((42,)),
        L.Dense(5, name="inner_dense"),
        L.BatchNormalization(name="inner_bn"),
    ], name="inner")
    out1 = inner(cat)
    out2 = L.Maximum(name="max_out")([shared(sa), b])
    return keras.Model([a, b], [out1, out2], name="merge_functional")


def norm_shape():
    x = keras.Input((4, 5, 6), name="volume")
    h = L.BatchNormalization(axis=1, center=False, name="bn_axis1")(x)
    h = L.BatchNormalization(axis=-1, scale=False, epsilon=0.01, name="bn_noscale")(h)
    h = L.LayerNormalization(axis=-1, name="ln_last")(h)
    h = L.LayerNormalization(axis=[2, 3], center=False, name="ln_two")(h)
    h = L.LayerNormalization(axis=1, name="ln_axis1")(h)
    h = L.Rescaling(0.5, offset=0.1, name="rescale")(h)
    h = L.Normalization(axis=-1, mean=np.linspace(-0.5, 0.5, 6), variance=np.linspace(0.5, 2.0, 6),
                        name="norm_fixed")(h)
    adapted = L.Normalization(axis=2, name="norm_adapted")
    adapted.adapt(np.random.default_rng(7).standard_normal((20, 4, 5, 6)).astype("float32") * 2 + 1)
    h = adapted(h)
    h = L.UnitNormalization(axis=-1, name="unit")(h)
    h = L.Identity(name="identity")(h)
    h = L.Permute((2, 1, 3), name="permute")(h)
    h = L.Reshape((5, 24), name="reshape")(h)
    h = L.Reshape((-1, 4), name="reshape_infer")(h)
    return keras.Model(x, h, name="norm_shape")


def pad_resize():
    x = keras.Input((6, 5, 3), name="image")
    h = L.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(x)
    h = L.Cropping2D(((1, 0), (2, 1)), name="crop")(h)
    h = L.UpSampling2D((2, 1), name="up_nearest")(h)
    h = L.UpSampling2D(2, interpolation="bilinear", name="up_bilinear")(h)
    h = L.SpatialDropout2D(0.4, name="spatial_dropout")(h)
    a = L.GlobalAveragePooling2D(keepdims=True, name="gap")(h)
    b = L.GlobalMaxPooling2D(name="gmp")(h)
    return keras.Model(x, [a, b, h], name="pad_resize")


def volumetric():
    x = keras.Input((6, 7, 5, 2), name="volume")
    h = L.ZeroPadding3D(((1, 0), (0, 1), (1, 1)), name="pad")(x)
    h = L.Conv3D(3, (3, 2, 2), strides=(1, 2, 1), padding="same", activation="elu", name="conv3d")(h)
    h = L.Cropping3D(((0, 1), (1, 0), (0, 2)), name="crop")(h)
    h = L.SpatialDropout3D(0.5)(h)
    a = L.MaxPooling3D(2, name="maxpool")(h)
    b = L.AveragePooling3D((2, 1, 2), strides=1, padding="same", name="avgpool")(h)
    ga = L.GlobalAveragePooling3D(name="gap")(b)
    gm = L.GlobalMaxPooling3D(keepdims=True, name="gmp")(a)
    d = L.Dense(4, activation="sigmoid", name="dense_rank5")(b)
    return keras.Model(x, [a, ga, gm, d], name="volumetric")


def channels_first():
    x = keras.Input((3, 8, 6), name="nchw")
    h = L.ZeroPadding2D(1, data_format="channels_first", name="pad")(x)
    h = L.Conv2D(4, 3, strides=2, padding="same", data_format="channels_first", name="conv")(h)
    h = L.BatchNormalization(axis=1, name="bn")(h)
    h = L.DepthwiseConv2D(3, padding="same", data_format="channels_first", name="depthwise")(h)
    h = L.UpSampling2D(2, data_format="channels_first", name="up")(h)
    h = L.MaxPooling2D(2, data_format="channels_first", name="pool")(h)
    g = L.GlobalAveragePooling2D(data_format="channels_first", name="gap")(h)
    f = L.Flatten(data_format="channels_first", name="flatten")(h)
    y = L.Dense(3, name="dense")(f)
    return keras.Model(x, [y, g], name="channels_first")


def nested_functional():
    # A Functional model with two inputs, holding a nested Sequential, used twice by the outer model.
    p = keras.Input((5,), name="p")
    q = keras.Input((5,), name="q")
    deep = keras.Sequential([keras.Input((5,)), L.Dense(5, activation="tanh", name="deep_dense"),
                             L.LayerNormalization(name="deep_ln")], name="deep")
    mixed = L.Concatenate(name="mix")([deep(p), q])
    inner = keras.Model([p, q], L.Dense(4, name="inner_dense")(mixed), name="inner_fn")
    a = keras.Input((5,), name="a")
    b = keras.Input((5,), name="b")
    first = inner([a, b])
    second = inner([b, a])
    out = L.Subtract(name="diff")([first, second])
    return keras.Model([a, b], [out, second], name="nested_functional")


def dynamic_spatial():
    # Height and width unknown in the config: padding "same" cannot be resolved at import time.
    x = keras.Input((None, None, 3), name="image")
    h = L.ZeroPadding2D(((1, 0), (2, 1)), name="pad")(x)
    h = L.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv")(h)
    h = L.MaxPooling2D(3, strides=2, padding="same", name="pool")(h)
    h = L.Cropping2D(((1, 1), (0, 2)), name="crop")(h)
    h = L.UpSampling2D(2, name="up")(h)
    h = L.Conv2DTranspose(2, 3, strides=2, padding="same", name="deconv")(h)
    g = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(x, [h, g], name="dynamic_spatial")


def dict_io():
    # Dict inputs and outputs: Keras flattens both in key order.
    zeta = keras.Input((4,), name="zeta")
    alpha = keras.Input((4,), name="alpha")
    mixed = L.Dense(4, name="mix")(L.Concatenate(name="cat")([zeta, alpha]))
    return keras.Model({"zeta": zeta, "alpha": alpha},
                       {"sum": L.Add(name="add")([mixed, alpha]), "diff": L.Subtract(name="sub")([mixed, zeta])},
                       name="dict_io")


def operations():
    """Keras 3 operation layers: arithmetic with Python numbers and constant tensors on either side,
    keras.ops functions (activations, reductions, shapes, indexing, split, stack, where, matmul)."""
    from keras import ops
    x = keras.Input((6, 4), name="x")
    h = L.Dense(4, name="proj")(x)
    a = (h + 3.0) * (1 / 6)                                 # Add, Multiply with constants
    a = 2.0 * ops.relu6(a) - ops.maximum(h, -0.5) / 3.0     # constants on the left, Maximum, TrueDivide
    a = a + ops.convert_to_tensor(np.linspace(-1, 1, 4, dtype="float32"))  # a constant tensor
    b = ops.softmax(h, axis=1) + ops.log_softmax(h) + ops.silu(h) + ops.gelu(h) + ops.gelu(h, approximate=False)
    b = b + ops.hard_sigmoid(h) + ops.hard_silu(h) + ops.leaky_relu(h, negative_slope=0.3) + ops.elu(h, alpha=0.7)
    b = b + ops.softplus(h) + ops.sigmoid(h) + ops.tanh(h) + ops.erf(h) + ops.square(h) - ops.negative(ops.abs(h))
    b = b + ops.exp(-ops.abs(h)) + ops.sqrt(ops.abs(h) + 1) * ops.log(ops.abs(h) + 1) + ops.power(ops.abs(h) + 1, 1.5)
    b = b + ops.clip(h, -0.5, 0.5) + ops.where(h > 0, h, 0.1 * h) + ops.minimum(h, 0.2)
    c = ops.mean(h, axis=1, keepdims=True) + ops.sum(h, axis=-1, keepdims=True) + ops.max(h, axis=1, keepdims=True)
    c = c + ops.min(h, axis=-1, keepdims=True) + ops.expand_dims(ops.var(h, axis=-1) + ops.std(h, axis=-1), -1)
    d = ops.matmul(h, ops.transpose(h, (0, 2, 1)))          # [N, 6, 6]
    d = ops.reshape(d, (-1, 36))
    e = ops.concatenate([x[:, 0], x[:, -1, ::2], x[..., 1:3][:, 2]], axis=-1)   # indexing
    s = ops.split(h, [1, 3], axis=-1)
    f = ops.concatenate([s[0], s[2], ops.squeeze(ops.expand_dims(s[1], 1), 1)], axis=-1)
    g = ops.reshape(ops.stack([h, a], axis=1), (-1, 48))
    out = L.Dense(5, name="head")(L.Concatenate(name="cat")([ops.reshape(a + b + c + f, (-1, 24)), d, e, g]))
    return keras.Model(x, [out, ops.argmax(h, axis=-1)], name="operations")


def attention():
    """A ViT-style encoder block: patches, a learned position table added as a constant, LayerNorm,
    MultiHeadAttention (self-attention), an MLP with GELU, residual adds."""
    x = keras.Input((8, 8, 3), name="image")
    h = L.Conv2D(16, 2, strides=2, name="patches")(x)
    h = L.Reshape((16, 16), name="tokens")(h)
    h = h + keras.ops.convert_to_tensor(np.random.default_rng(7).normal(0, 0.1, (16, 16)).astype("float32"))
    for i in range(2):
        n = L.LayerNormalization(epsilon=1e-6, name=f"ln{i}a")(h)
        h = L.Add(name=f"res{i}a")([h, L.MultiHeadAttention(num_heads=4, key_dim=4, name=f"mha{i}")(n, n)])
        n = L.LayerNormalization(epsilon=1e-6, name=f"ln{i}b")(h)
        h = h + L.Dense(16, name=f"mlp{i}_out")(L.Dense(32, activation="gelu", name=f"mlp{i}_in")(n))
    n = L.LayerNormalization(epsilon=1e-6, name="final_ln")(h)
    cross = L.MultiHeadAttention(num_heads=2, key_dim=6, name="cross")(n[:, :4], n)
    return keras.Model(x, [L.Dense(5, name="head")(L.GlobalAveragePooling1D(name="pool")(n)), cross], name="attention")


MODELS = {
    "dense_mlp": (dense_mlp, [(3, 8)]),
    "conv2d_net": (conv2d_net, [(2, 12, 12, 3)]),
    "conv1d_net": (conv1d_net, [(2, 16, 3)]),
    "activations": (activations, [(2, 3, 10)]),
    "merge_functional": (merge_functional, [(3, 6), (3, 6)]),
    "norm_shape": (norm_shape, [(2, 4, 5, 6)]),
    "pad_resize": (pad_resize, [(2, 6, 5, 3)]),
    "volumetric": (volumetric, [(2, 6, 7, 5, 2)]),
    "channels_first": (channels_first, [(2, 3, 8, 6)]),
    "nested_functional": (nested_functional, [(3, 5), (3, 5)]),
    "dynamic_spatial": (dynamic_spatial, [(2, 13, 11, 3)]),
    "dict_io": (dict_io, [(3, 4), (3, 4)]),
    "operations": (operations, [(3, 6, 4)]),
    "attention": (attention, [(2, 8, 8, 3)]),
}


def save_npy(path, array):
    """Little-endian float32, or int64 for integer results (argmax)."""
    array = np.asarray(array)
    dtype = "<i8" if np.issubdtype(array.dtype, np.integer) else "<f4"
    np.save(path, np.ascontiguousarray(array, dtype=dtype))


def legacy_weights(path):
    """Every layer's weights as h5py reads them from a legacy `.h5`: {layer: [{name, shape, values}]}."""
    result = {}
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        names = attr_strings(group, "layer_names")
        for layer in names:
            entries = []
            for weight in attr_strings(group[layer], "weight_names"):
                data = np.asarray(group[layer][weight], dtype="float32")
                entries.append({"name": weight, "shape": list(data.shape), "values": [float(v) for v in data.ravel()]})
            result[layer] = entries
    return result


def attr_strings(obj, name):
    if name in obj.attrs:
        values = obj.attrs[name]
    else:
        values, index = [], 0
        while f"{name}{index}" in obj.attrs:
            values.extend(obj.attrs[f"{name}{index}"])
            index += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]


def write_model(name, build, input_shapes, rng):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    model = build()
    randomize(model, rng)
    inputs = [rng.uniform(-3, 3, shape).astype("float32") for shape in input_shapes]
    config = json.loads(model.to_json())["config"]
    if isinstance(config.get("input_layers"), dict):
        # Dict inputs: input_<i> follows the sorted keys (Keras's flattening order).
        feed = dict(zip(sorted(config["input_layers"]), inputs))
    else:
        feed = inputs if len(inputs) > 1 else inputs[0]
    outputs = model.predict(feed, verbose=0)
    if isinstance(outputs, dict):
        outputs = [outputs[key] for key in sorted(outputs)]
    elif not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    for i, array in enumerate(inputs):
        save_npy(os.path.join(folder, f"input_{i}.npy"), array)
    for i, array in enumerate(outputs):
        save_npy(os.path.join(folder, f"output_{i}.npy"), np.asarray(array))
    model.save(os.path.join(folder, "model.h5"))
    model.save(os.path.join(folder, "model.keras"))
    model.save_weights(os.path.join(folder, "model.weights.h5"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(model.to_json())
    with open(os.path.join(folder, "weights.json"), "w") as f:
        json.dump(legacy_weights(os.path.join(folder, "model.h5")), f)
    return {
        "inputs": [t.name for t in model.inputs] if False else [l for l in input_names(model)],
        "outputs": len(outputs),
    }


def input_names(model):
    config = json.loads(model.to_json())["config"]
    if "input_layers" in config:
        layers = config["input_layers"]
        if isinstance(layers, dict):
            layers = [layers[key] for key in sorted(layers)]
        if layers and isinstance(layers[0], str):
            layers = [layers]
        return [entry[0] for entry in layers]
    return [config["layers"][0]["config"]["name"]]


# MARK: Keras 2 layout, written by hand with h5py

# Keras 2 numbers a nested model's nodes from 1 (node 0 is its own construction), in inbound nodes and outputs alike.
KERAS2_CONFIG = {
    "class_name": "Functional",
    "config": {
        "name": "model",
        "layers": [
            {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 8, 8, 2], "dtype": "float32", "sparse": False,
                        "ragged": False, "name": "input_1"}},
            {"class_name": "Conv2D", "name": "conv2d", "inbound_nodes": [[["input_1", 0, 0, {}]]],
             "config": {"name": "conv2d", "trainable": True, "dtype": "float32", "filters": 4,
                        "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last",
                        "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": True}},
            {"class_name": "BatchNormalization", "name": "batch_normalization",
             "inbound_nodes": [[["conv2d", 0, 0, {}]]],
             "config": {"name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [3],
                        "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True}},
            {"class_name": "MaxPooling2D", "name": "max_pooling2d",
             "inbound_nodes": [[["batch_normalization", 0, 0, {}]]],
             "config": {"name": "max_pooling2d", "trainable": True, "dtype": "float32", "pool_size": [2, 2],
                        "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}},
            {"class_name": "Flatten", "name": "flatten", "inbound_nodes": [[["max_pooling2d", 0, 0, {}]]],
             "config": {"name": "flatten", "trainable": True, "dtype": "float32", "data_format": "channels_last"}},
            {"class_name": "Sequential", "name": "sequential", "inbound_nodes": [[["flatten", 0, 0, {}]]],
             "config": {"name": "sequential", "layers": [
                 {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 64], "dtype": "float32",
                                                         "sparse": False, "ragged": False, "name": "dense_input"}},
                 {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "dtype": "float32",
                                                    "units": 8, "activation": "relu", "use_bias": True}},
                 {"class_name": "LeakyReLU", "config": {"name": "leaky_re_lu", "trainable": True,
                                                        "dtype": "float32", "alpha": 0.3}},
                 {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "dtype": "float32",
                                                    "units": 3, "activation": "linear", "use_bias": True}},
             ]}},
            {"class_name": "Activation", "name": "activation", "inbound_nodes": [[["sequential", 1, 0, {}]]],
             "config": {"name": "activation", "trainable": True, "dtype": "float32", "activation": "hard_sigmoid"}},
        ],
        "input_layers": [["input_1", 0, 0]],
        "output_layers": [["sequential", 1, 0], ["activation", 0, 0]],
    },
}


def keras2_legacy(rng):
    """A Keras 2 style file: fixed-length string attributes, `:0` suffixes, nested weight groups,
    `layer_names` split into chunks, Keras 2 config dialect. Outputs come from the same network in Keras 3."""
    folder = os.path.join(OUT, "keras2_legacy")
    os.makedirs(folder, exist_ok=True)
    x = keras.Input((8, 8, 2), name="input_1")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="conv2d")(x)
    h = L.BatchNormalization(name="batch_normalization")(h)
    h = L.MaxPooling2D(2, name="max_pooling2d")(h)
    h = L.Flatten(name="flatten")(h)
    inner = keras.Sequential([
        keras.Input((64,)), L.Dense(8, activation="relu", name="dense"), L.LeakyReLU(0.3, name="leaky_re_lu"),
        L.Dense(3, name="dense_1")], name="sequential")
    y = inner(h)
    # Keras 2's hard_sigmoid, clip(0.2·x + 0.5, 0, 1) (Keras 3's is relu6(x + 3) / 6).
    z = L.Activation(lambda t: keras.ops.clip(0.2 * t + 0.5, 0.0, 1.0), name="activation")(y)
    model = keras.Model(x, [y, z], name="model")
    randomize(model, rng)
    data = rng.uniform(-3, 3, (2, 8, 8, 2)).astype("float32")
    save_npy(os.path.join(folder, "input_0.npy"), data)
    for index, output in enumerate(model.predict(data, verbose=0)):
        save_npy(os.path.join(folder, f"output_{index}.npy"), np.asarray(output))

    def var_names(layer):
        return [v.path.split("/")[-1] + ":0" for v in layer.weights]

    groups = []  # (group name, [(weight name, array)])
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            entries = []
            for sub in layer.layers:
                entries += [(f"{sub.name}/{n}", w) for n, w in zip(var_names(sub), sub.get_weights())]
            groups.append((layer.name, entries))
        else:
            groups.append((layer.name, [(f"{layer.name}/{n}", w) for n, w in zip(var_names(layer), layer.get_weights())]))

    config = json.dumps(KERAS2_CONFIG).encode("utf8")

    def fill(root):
        names = [g[0].encode("utf8") for g in groups]
        # Split `layer_names` as Keras 2 does for attributes over 64 KiB (forced here to test chunked reads).
        root.attrs["layer_names0"] = np.array(names[:3], dtype="S")
        root.attrs["layer_names1"] = np.array(names[3:], dtype="S")
        root.attrs["backend"] = np.bytes_(b"tensorflow")
        root.attrs["keras_version"] = np.bytes_(b"2.13.1")
        for group_name, entries in groups:
            group = root.create_group(group_name)
            group.attrs["weight_names"] = np.array([n.encode("utf8") for n, _ in entries], dtype="S")
            for weight_name, value in entries:
                group.create_dataset(weight_name, data=value.astype("float32"))

    with h5py.File(os.path.join(folder, "model.h5"), "w") as f:
        f.attrs["keras_version"] = np.bytes_(b"2.13.1")
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["model_config"] = np.bytes_(config)
        fill(f.create_group("model_weights"))
    # Weights only (Keras 2 `save_weights('x.h5')`): the same groups at the root, config beside it.
    with h5py.File(os.path.join(folder, "weights_only.h5"), "w") as f:
        fill(f)
    with open(os.path.join(folder, "config.json"), "wb") as f:
        f.write(config)
    with open(os.path.join(folder, "weights.json"), "w") as f:
        json.dump(legacy_weights(os.path.join(folder, "model.h5")), f)
    return {"inputs": ["input_1"], "outputs": 2}


def check_onnx(converter):
    """Converts every fixture with `converter` (a command taking `IN OUT [CONFIG]`, e.g. a build of
    `vigil convert` wrapped in a script) and runs the ONNX files in onnxruntime against the Keras outputs.
    Needs onnxruntime (Fixtures/requirements.txt). Returns the number of mismatches."""
    import subprocess
    import tempfile
    import onnxruntime as ort
    with open(os.path.join(OUT, "manifest.json")) as f:
        manifest = json.load(f)
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for name in sorted(k for k in manifest if not k.startswith("_")):
            folder = os.path.join(OUT, name)
            variants = ([("model.h5", None), ("weights_only.h5", "config.json")] if name == "keras2_legacy" else
                        [("model.h5", None), ("model.keras", None), ("model.weights.h5", "config.json")])
            for file, config in variants:
                target = os.path.join(scratch, f"{name}-{file}.onnx")
                command = converter.split() + [os.path.join(folder, file), target]
                if config:
                    command.append(os.path.join(folder, config))
                subprocess.run(command, check=True)
                session = ort.InferenceSession(target, providers=["CPUExecutionProvider"])
                feeds = {i.name: np.load(os.path.join(folder, f"input_{k}.npy")) for k, i in enumerate(session.get_inputs())}
                for k, actual in enumerate(session.run(None, feeds)):
                    expected = np.load(os.path.join(folder, f"output_{k}.npy"))
                    ok = actual.shape == expected.shape and bool(
                        np.all(np.abs(actual - expected) <= 1e-5 + 1e-4 * np.abs(expected)))
                    failures += not ok
                    print(f"{'ok' if ok else 'MISMATCH'} {name}/{file} output {k}")
    print(f"{failures} mismatches")
    return failures


def main():
    if sys.argv[1:2] == ["--check-onnx"]:
        sys.exit(1 if check_onnx(sys.argv[2]) else 0)
    only = sys.argv[1:]
    keras.utils.set_random_seed(0)
    manifest = {}
    for index, (name, (build, shapes)) in enumerate(MODELS.items()):
        if only and name not in only:
            continue
        shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
        manifest[name] = write_model(name, build, shapes, np.random.default_rng(100 + index))
    if not only or "keras2_legacy" in only:
        shutil.rmtree(os.path.join(OUT, "keras2_legacy"), ignore_errors=True)
        manifest["keras2_legacy"] = keras2_legacy(np.random.default_rng(99))
    path = os.path.join(OUT, "manifest.json")
    if only and os.path.exists(path):
        with open(path) as f:
            manifest = {**json.load(f), **manifest}
    manifest["_generator"] = {"keras": keras.__version__, "backend": keras.backend.backend(),
                              "numpy": np.__version__, "h5py": h5py.__version__}
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
