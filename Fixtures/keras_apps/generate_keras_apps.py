#!/usr/bin/env python3
"""keras.applications families and Keras 3 operation-layer models, with Keras's outputs.

    python3 -m venv /work/venvs/keras && /work/venvs/keras/bin/pip install -r Fixtures/keras_apps/requirements.txt
    KERAS_BACKEND=jax /work/venvs/keras/bin/python Fixtures/keras_apps/generate_keras_apps.py [--out DIR] [NAME ...]

Every model (``MODELS``) is built with ``weights=None`` (keras.applications, ``classifier_activation=None``
so the outputs are logits) or by the functions below, seeded with ``keras.utils.set_random_seed(seed)``,
then made plausible: BatchNormalization/LayerNormalization scales drawn from U(0.5, 1.5) and shifts
from N(0, 0.1), zero biases from N(0, 0.05), ConvNeXt's 1e-6 layer scales from U(0.1, 0.5);
BatchNormalization moving statistics calibrated on one batch of ``CALIBRATION_BATCH`` random inputs
(momentum 0, training mode, dropout off); the last Dense (MobileNetV3: the last Conv2D) rescaled so
the logits' standard deviation is ``LOGIT_STD``. Then, in ``<out>/<name>/``:

    model.h5, model.keras     the model in both full-model formats
    input_0.npy, output_0.npy seeded inputs (batch 2) and Keras's outputs (model.predict), float32

Small models (``committed`` in MODELS) are committed under Fixtures/keras_apps/; the applications are
too big (15-110 MB each) and are materialised by the interop step (scripts/keras_apps_interop.py runs
this generator into .cache/keras_apps/ and checks vigil there). manifest.json (committed) describes
all of them. Same versions, same seed: same weights and outputs.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
from keras import ops  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CALIBRATION_BATCH = 8
LOGIT_STD = 3.0
TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}
A = keras.applications


def app(ctor, **kw):
    return lambda: ctor(weights=None, input_shape=(224, 224, 3), classifier_activation=None, **kw)


def vit_small():
    """A small ViT: 4x4 patches of a 32x32 image, two pre-norm encoder blocks (MultiHeadAttention,
    LayerNormalization, GELU MLP), learned position embedding added by an operation layer."""
    image = keras.Input((32, 32, 3), name="image")
    x = L.Conv2D(48, 4, strides=4, name="patch_embed")(image)
    x = L.Reshape((64, 48), name="tokens")(x)
    positions = L.Embedding(64, 48, name="position_embedding")(ops.arange(64))
    x = x + positions
    for i in range(2):
        h = L.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln1")(x)
        h = L.MultiHeadAttention(num_heads=4, key_dim=12, name=f"block{i}_attention")(h, h)
        x = L.Add(name=f"block{i}_residual1")([x, h])
        h = L.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln2")(x)
        h = L.Dense(96, activation="gelu", name=f"block{i}_mlp1")(h)
        h = L.Dense(48, name=f"block{i}_mlp2")(h)
        x = x + h
    x = L.LayerNormalization(epsilon=1e-6, name="final_ln")(x)
    x = L.GlobalAveragePooling1D(name="pool")(x)
    return keras.Model(image, L.Dense(10, name="head")(x), name="vit_small")


def ops_layers():
    """Keras 3 operation layers in a functional model (arithmetic with constants and tensors,
    keras.ops calls), Rescaling/Normalization, DepthwiseConv2D, SeparableConv2D, a squeeze-and-
    excitation block, hard_swish/hard_sigmoid/swish/gelu."""
    image = keras.Input((32, 32, 3), name="image")
    x = L.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(image)
    x = L.Normalization(mean=[0.1, -0.2, 0.05], variance=[0.9, 1.1, 1.2], name="normalize")(x)
    x = L.Conv2D(16, 3, strides=2, padding="same", name="stem")(x)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = x * ops.relu6(x + 3.0) * (1.0 / 6.0)                      # hard swish as MobileNetV3 writes it
    x = L.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = L.BatchNormalization(name="depthwise_bn")(x)
    x = L.Activation("hard_swish", name="hard_swish")(x)
    s = L.GlobalAveragePooling2D(keepdims=True, name="se_pool")(x)  # squeeze and excitation
    s = L.Conv2D(4, 1, activation="relu", name="se_reduce")(s)
    s = L.Conv2D(16, 1, name="se_expand")(s)
    s = L.Activation("hard_sigmoid", name="se_gate")(s)
    x = L.Multiply(name="se_scale")([x, s])
    x = L.SeparableConv2D(24, 3, padding="same", activation="swish", name="separable")(x)
    skip = L.Conv2D(24, 1, name="skip")(x)
    x = ops.add(x, 2.0 * skip) - 1.0                               # ops call, reflected multiply, subtract
    x = ops.maximum(x, -2.0) / 3.0
    y = ops.mean(x, axis=[1, 2])                                   # reduction as an operation layer
    y = L.Dense(32, activation="gelu", name="fc_gelu")(y)
    y = ops.concatenate([y, ops.sigmoid(y) - 0.5, ops.tanh(y) * y], axis=-1)
    y = ops.reshape(y, (-1, 8, 12))
    y = ops.transpose(y, (0, 2, 1))
    y = ops.reshape(y, (-1, 96))
    y = ops.sqrt(ops.square(y) + 1.0) + ops.abs(y) * ops.exp(-ops.abs(y))
    return keras.Model(image, L.Dense(10, name="head")(y), name="ops_layers")


# name -> (constructor, seed, input shape, input range: "image255" U(0, 255) | "normal" N(0, 1), committed)
MODELS = {
    "resnet50": (app(A.ResNet50), 3101, (224, 224, 3), "normal", False),
    "mobilenet_v2": (app(A.MobileNetV2), 3102, (224, 224, 3), "normal", False),
    "mobilenet_v3_small": (app(A.MobileNetV3Small), 3103, (224, 224, 3), "image255", False),
    "efficientnet_b0": (app(A.EfficientNetB0), 3104, (224, 224, 3), "image255", False),
    "convnext_tiny": (app(A.ConvNeXtTiny), 3105, (224, 224, 3), "image255", False),
    "inception_v3": (app(A.InceptionV3), 3106, (224, 224, 3), "normal", False),
    "xception": (app(A.Xception), 3107, (224, 224, 3), "normal", False),
    "densenet121": (app(A.DenseNet121), 3108, (224, 224, 3), "normal", False),
    "nasnet_mobile": (app(A.NASNetMobile), 3109, (224, 224, 3), "normal", False),
    "vit_small": (vit_small, 3110, (32, 32, 3), "normal", True),
    "ops_layers": (ops_layers, 3111, (32, 32, 3), "image255", True),
}


def inputs_for(kind, shape, rng, batch):
    if kind == "image255":
        return rng.uniform(0.0, 255.0, (batch,) + shape).astype("float32")
    return rng.standard_normal((batch,) + shape).astype("float32")


def all_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)
        else:
            yield layer


def randomise(model, rng):
    """Redraws the weights Keras initialises to constants (see the module docstring)."""
    for layer in all_layers(model):
        if isinstance(layer, (L.Normalization, L.Embedding)):
            continue
        values = []
        for var in layer.weights:
            name = var.path.split("/")[-1]
            value = np.asarray(var)
            if isinstance(layer, (L.BatchNormalization, L.LayerNormalization)):
                if name == "gamma":
                    value = rng.uniform(0.5, 1.5, value.shape)
                elif name == "beta":
                    value = rng.standard_normal(value.shape) * 0.1
            elif value.size and np.all(value == value.flat[0]):
                if "gamma" in name or "scale" in name:   # ConvNeXt LayerScale
                    value = rng.uniform(0.1, 0.5, value.shape)
                elif "bias" in name:
                    value = rng.standard_normal(value.shape) * 0.05
            values.append(np.asarray(value, dtype="float32"))
        if values:
            layer.set_weights(values)


def calibrate(model, x):
    """BatchNormalization moving statistics = the batch statistics of x (momentum 0, dropout off)."""
    bns = [layer for layer in all_layers(model) if isinstance(layer, L.BatchNormalization)]
    if not bns:
        return
    dropouts = [layer for layer in all_layers(model) if isinstance(layer, L.Dropout)]
    saved = [(b, b.momentum) for b in bns], [(d, d.rate) for d in dropouts]
    for b in bns:
        b.momentum = 0.0
    for d in dropouts:
        d.rate = 0.0
    model(x, training=True)
    for b, m in saved[0]:
        b.momentum = m
    for d, r in saved[1]:
        d.rate = r


def scale_logits(model, x):
    last = [layer for layer in all_layers(model) if isinstance(layer, (L.Dense, L.Conv2D))][-1]
    std = float(np.std(np.asarray(model(x, training=False))))
    if std > 0:
        last.set_weights([w * (LOGIT_STD / std) for w in last.get_weights()])


def build(name):
    ctor, seed, shape, kind, _ = MODELS[name]
    keras.backend.clear_session()  # layer names do not depend on what was built before
    keras.utils.set_random_seed(seed)
    model = ctor()
    rng = np.random.default_rng(seed)
    randomise(model, rng)
    calibration = inputs_for(kind, shape, rng, CALIBRATION_BATCH)
    calibrate(model, calibration)
    scale_logits(model, calibration)
    return model


def layer_histogram(model):
    """{class_name (module-qualified for operation layers): count} from the saved config."""
    config = json.loads(model.to_json())["config"]["layers"]
    names = [(c["class_name"] if c.get("module", "").startswith("keras.layers") or "module" not in c
              else f"{c['module'].rsplit('.', 1)[-1]}.{c['class_name']}") for c in config]
    return dict(sorted(collections.Counter(names).items()))


def write(name, out):
    started = time.time()
    _, seed, shape, kind, committed = MODELS[name]
    model = build(name)
    folder = os.path.join(out, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    x = inputs_for(kind, shape, np.random.default_rng([seed, 2]), 2)
    y = np.asarray(model.predict(x, verbose=0), dtype="float32")
    np.save(os.path.join(folder, "input_0.npy"), x)
    np.save(os.path.join(folder, "output_0.npy"), y)
    model.save(os.path.join(folder, "model.h5"))
    model.save(os.path.join(folder, "model.keras"))
    reloaded = keras.models.load_model(os.path.join(folder, "model.keras"))
    again = np.asarray(reloaded.predict(x, verbose=0), dtype="float32")
    assert np.allclose(again, y, atol=1e-5, rtol=1e-5), f"{name}: the reloaded .keras disagrees"
    entry = {
        "committed": committed, "seed": seed, "input_shape": [None] + list(shape), "input_range": kind,
        "inputs": [layer.name for layer in model.layers if isinstance(layer, L.InputLayer)], "outputs": 1,
        "parameter_count": int(model.count_params()), "logit_std": float(y.std()),
        "layers": layer_histogram(model), "tolerance": TOLERANCE,
    }
    print(f"{name}: {entry['parameter_count']} parameters, logit std {entry['logit_std']:.3g}, "
          f"{time.time() - started:.0f} s", flush=True)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="models to write (default: all)")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--committed", action="store_true", help="only the models committed to the repository")
    args = ap.parse_args()
    unknown = set(args.names) - set(MODELS)
    if unknown:
        ap.error(f"unknown model(s): {', '.join(sorted(unknown))}")
    names = args.names or [n for n in MODELS if MODELS[n][4] or not args.committed]
    entries = {name: write(name, args.out) for name in names}
    if os.path.abspath(args.out) == HERE:
        path = os.path.join(HERE, "manifest.json")
        manifest = json.load(open(path)) if os.path.exists(path) else {}
        manifest.update(entries)
        manifest["_generator"] = {"keras": keras.__version__, "backend": keras.backend.backend(),
                                  "numpy": np.__version__}
        with open(path, "w") as fh:
            json.dump(dict(sorted(manifest.items())), fh, indent=1)
            fh.write("\n")
        for name in entries:  # only the committed ones stay in the repository
            if not MODELS[name][4]:
                shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
