#!/usr/bin/env python3
"""Keras's outputs in float64 for the models of Fixtures/keras_apps (``output_0_float64.npy``).

The references (``output_0.npy``) are Keras's float32 outputs. Two float32 implementations that sum
in a different order differ by rounding noise, which in deep networks (InceptionV3, ResNet50) reaches
atol 1e-4 on a few logits: Keras/jax and onnxruntime already disagree by that much on the same
model. To tell Vigil's error apart from the reference's own, this script rebuilds every model from its
saved config with every dtype policy set to float64, gives it the saved weights (float32 values,
widened exactly), and records its outputs on the same seeded input, computed in float64
(jax with ``JAX_ENABLE_X64=1``, set below before jax loads). scripts/keras_apps_interop.py judges an
output that is out of tolerance of ``output_0.npy`` against this one (see scripts/zoo_interop.py).

    KERAS_BACKEND=jax /work/venvs/keras/bin/python Fixtures/keras_apps/float64_reference.py [NAME ...]

Pinned by requirements.txt (the generator's Keras 3 + jax).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

os.environ["JAX_ENABLE_X64"] = "1"
os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keras_weights  # noqa: E402


def widened(model: keras.Model) -> keras.Model:
    """The same functional model with every float32 dtype policy and input dtype set to float64."""
    config = json.loads(json.dumps(model.get_config()).replace('"float32"', '"float64"'))
    wide = model.__class__.from_config(config)
    wide.set_weights([np.asarray(w, np.float64) if np.asarray(w).dtype == np.float32 else w for w in model.get_weights()])
    return wide


def record(name: str, facts: dict):
    folder = os.path.join(HERE, name)
    x = keras_weights.inputs_for(facts["input_range"], facts["input_shape"][1:], facts["seed"])
    with tempfile.TemporaryDirectory() as tmp:
        if facts["committed"]:
            path = os.path.join(folder, "model.keras")
        else:
            keras_weights.materialise(folder, tmp)
            path = os.path.join(tmp, "model.keras")
        model = keras.models.load_model(path)
        y32 = np.asarray(model.predict(x, verbose=0))
        assert np.array_equal(y32, np.load(os.path.join(folder, "output_0.npy"))), f"{name}: float32 outputs changed"
        wide = widened(model)
        y64 = np.asarray(wide.predict(x.astype(np.float64), verbose=0))
    assert y64.dtype == np.float64, f"{name}: computed in {y64.dtype}, not float64"
    np.save(os.path.join(folder, "output_0_float64.npy"), y64)
    diff = np.abs(y32 - y64)
    print(f"{name}: float32 vs float64 max abs {diff.max():.3g}, max rel {(diff / np.abs(y64)).max():.3g}", flush=True)


def main(argv) -> int:
    with open(os.path.join(HERE, "manifest.json")) as fh:
        manifest = {k: v for k, v in json.load(fh).items() if not k.startswith("_")}
    names = argv or sorted(manifest)
    for name in names:
        record(name, manifest[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
