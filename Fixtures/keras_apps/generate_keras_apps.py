#!/usr/bin/env python3
"""keras.applications families and Keras 3 operation-layer models, with Keras's outputs.

    python3 -m venv /work/venvs/keras && /work/venvs/keras/bin/pip install -r Fixtures/keras_apps/requirements.txt
    KERAS_BACKEND=jax /work/venvs/keras/bin/python Fixtures/keras_apps/generate_keras_apps.py [--out DIR] [NAME ...]

Every model (``MODELS``) is built with ``weights=None`` (keras.applications, ``classifier_activation=None``
so the outputs are logits) or by the functions below, seeded with ``keras.utils.set_random_seed(seed)``,
then given plausible random weights:

* every weight of rank >= 2 (kernels) is set to ``std * z``, z drawn by numpy from ``[seed, i]`` (i its
  position in ``model.weights``), std the standard deviation of Keras's own initial values (see
  keras_weights.py), so that it can be redrawn exactly without Keras;
* BatchNormalization/LayerNormalization scales from U(0.5, 1.5), shifts from N(0, 0.1); zero biases
  from N(0, 0.05); ConvNeXt's 1e-6 layer scales from U(0.1, 0.5);
* BatchNormalization moving statistics calibrated on one batch of ``CALIBRATION_BATCH`` random inputs
  (momentum 0, training mode, dropout off);
* the last Dense (MobileNetV3: the last Conv2D) rescaled (its std) so the logits' standard deviation
  is ``LOGIT_STD``.

Written into ``<out>/<name>/``: ``output_0.npy``, Keras's outputs (``model.predict``, float32) on the
seeded input ``keras_weights.inputs_for(kind, shape, seed)`` (batch 2), and

* small models (``committed`` in MODELS: vit_small, ops_layers): ``model.h5``, ``model.keras`` and
  ``input_0.npy`` (like Fixtures/keras/);
* the applications (15-110 MB each): skeletons of ``model.h5`` and ``model.keras`` with
  ``weights.json`` + ``weights.npz``, from which ``keras_weights.py`` (numpy + h5py) materialises the
  exact files; the generator checks that Keras loads the materialised files and reproduces
  ``output_0.npy``.

``manifest.json`` describes all of them. Same versions, same seed: same weights and outputs.
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
import tempfile  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_weights  # noqa: E402
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
            if value.ndim >= 2:
                pass  # drawn by draw_kernels
            elif isinstance(layer, (L.BatchNormalization, L.LayerNormalization)):
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


def draw_kernels(model, seed):
    """Sets every weight of rank >= 2 to keras_weights.draw(seed, i, shape, std), std the standard
    deviation of Keras's initial values; returns {variable path: (i, std)}."""
    drawn = {}
    statistics = {var.path for layer in all_layers(model) if isinstance(layer, L.Normalization) for var in layer.weights}
    for i, var in enumerate(model.weights):
        value = np.asarray(var)
        if value.ndim < 2 or value.dtype != np.float32 or var.path in statistics:
            continue
        std = float(np.float32(value.std())) or float(np.float32(1.0 / np.sqrt(value[..., 0].size)))
        var.assign(keras_weights.draw(seed, i, value.shape, std))
        drawn[var.path] = (i, std)
    return drawn


def scale_logits(model, x, seed, drawn):
    """Scales the last Dense/Conv2D (its drawn std, exactly, and its bias) so the logits' standard
    deviation is LOGIT_STD."""
    last = [layer for layer in all_layers(model) if isinstance(layer, (L.Dense, L.Conv2D))][-1]
    std = float(np.std(np.asarray(model(x, training=False))))
    if std <= 0:
        return
    factor = LOGIT_STD / std
    for var in last.weights:
        if var.path in drawn:
            i, old = drawn[var.path]
            new = float(np.float32(old * factor))
            var.assign(keras_weights.draw(seed, i, var.shape, new))
            drawn[var.path] = (i, new)
        else:
            var.assign(np.asarray(var) * np.float32(factor))


def build(name):
    """The model with its plausible weights, and {variable path: (index, std)} of the drawn ones."""
    ctor, seed, shape, kind, _ = MODELS[name]
    keras.backend.clear_session()  # layer names do not depend on what was built before
    keras.utils.set_random_seed(seed)
    model = ctor()
    drawn = draw_kernels(model, seed)
    rng = np.random.default_rng(seed)
    randomise(model, rng)
    calibration = keras_weights.inputs_for(kind, shape, seed + 1, CALIBRATION_BATCH)
    calibrate(model, calibration)
    scale_logits(model, calibration, seed, drawn)
    return model, drawn


def layer_histogram(model):
    """{class_name (module-qualified for operation layers): count} from the saved config."""
    config = json.loads(model.to_json())["config"]["layers"]
    names = [(c["class_name"] if c.get("module", "").startswith("keras.layers") or "module" not in c
              else f"{c['module'].rsplit('.', 1)[-1]}.{c['class_name']}") for c in config]
    return dict(sorted(collections.Counter(names).items()))


def write(name, out):
    started = time.time()
    _, seed, shape, kind, committed = MODELS[name]
    model, drawn = build(name)
    folder = os.path.join(out, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    x = keras_weights.inputs_for(kind, shape, seed)
    y = np.asarray(model.predict(x, verbose=0), dtype="float32")
    np.save(os.path.join(folder, "output_0.npy"), y)
    with tempfile.TemporaryDirectory() as tmp:
        full = folder if committed else tmp
        model.save(os.path.join(full, "model.h5"))
        model.save(os.path.join(full, "model.keras"))
        if committed:
            np.save(os.path.join(folder, "input_0.npy"), x)
        else:
            by_content = {}
            for var in model.weights:
                if var.path in drawn:
                    by_content[keras_weights.content_key(np.asarray(var))] = drawn[var.path]
            keras_weights.skeletonise(tmp, folder, seed, by_content)
            check = os.path.join(tmp, "materialised")
            keras_weights.materialise(folder, check)
            full = check
        reload_problems = {}
        for fmt in ("keras", "h5"):
            try:
                reloaded = keras.models.load_model(os.path.join(full, f"model.{fmt}"))
            except Exception as e:  # noqa: BLE001  Keras's legacy .h5 loader cannot rebuild some op layers
                if fmt == "keras":
                    raise
                reload_problems[fmt] = str(e).strip().splitlines()[0]
                continue
            again = np.asarray(reloaded.predict(x, verbose=0))
            assert np.allclose(again, y, atol=1e-6, rtol=1e-6), f"{name}: the {fmt} file does not reproduce Keras's outputs"
    entry = {
        "committed": committed, "seed": seed, "input_shape": [None] + list(shape), "input_range": kind,
        "inputs": [layer.name for layer in model.layers if isinstance(layer, L.InputLayer)], "outputs": 1,
        "parameter_count": int(model.count_params()), "logit_std": float(y.std()),
        "drawn_weights": len(drawn), "layers": layer_histogram(model), "tolerance": TOLERANCE,
        "keras_cannot_reload": reload_problems,
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


if __name__ == "__main__":
    sys.exit(main())
