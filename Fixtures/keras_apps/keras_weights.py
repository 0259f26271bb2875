#!/usr/bin/env python3
"""Keras model files without their weights, and the weights put back exactly (numpy + h5py only).

The keras.applications models are 15-110 MB each, so Fixtures/keras_apps/<name>/ holds them as
*skeletons*: `model.h5.gz` and `model.keras`, the files as Keras saved them (config, attributes,
every group and dataset with its name, shape and dtype) except that every weight dataset is empty
(HDF5 fill value 0, no storage) and, to keep the repository small, the HDF5 file gzip-compressed and
the .keras archive's entries deflated (Keras stores them); plus `weights.json` and `weights.npz` to
fill them in again:

* every weight of rank >= 2 (kernels) was *set* by the generator to ``std * z`` with
  z = ``numpy.random.default_rng([seed, i]).standard_normal(n, dtype=float32)`` (i: the weight's
  position in ``model.weights``) and one float32 ``std`` per tensor, so it is redrawn exactly;
* every other weight (biases, BatchNormalization gamma/beta/moving statistics after calibration,
  LayerNorm, LayerScale, Normalization mean/variance/count) is stored verbatim in `weights.npz`
  (once, keyed by content, shared by both files).

So the materialised `model.h5` and `model.keras` (entries stored, as Keras writes them) hold bit for
bit the weights Keras computed its reference outputs with (`output_0.npy`, committed), and the check
needs neither Keras nor jax. The reference input is
redrawn from the seed (`inputs_for`).

    python Fixtures/keras_apps/keras_weights.py materialise SKELETON_DIR OUT_DIR
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import tempfile
import zipfile

import h5py
import numpy as np

FORMAT_VERSION = 1
KERAS_WEIGHTS_ENTRY = "model.weights.h5"


def draw(seed: int, index: int, shape, std: float) -> np.ndarray:
    """The values of drawn weight number `index`: float32 std times seeded standard normals."""
    n = int(np.prod(shape))
    z = np.random.default_rng([seed, index]).standard_normal(n, dtype=np.float32)
    return (np.float32(std) * z).reshape([int(d) for d in shape])


def inputs_for(kind: str, shape, seed: int, batch: int = 2) -> np.ndarray:
    """The reference input: U(0, 255) images ("image255") or N(0, 1) values ("normal"), float32."""
    rng = np.random.default_rng([seed, batch])
    if kind == "image255":
        return rng.uniform(0.0, 255.0, (batch,) + tuple(shape)).astype("float32")
    return rng.standard_normal((batch,) + tuple(shape)).astype("float32")


def content_key(array: np.ndarray) -> str:
    a = np.ascontiguousarray(array)
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()[:24]


def _copy_attrs(src, dst):
    for name in src.attrs:
        attr = src.attrs.get_id(name)
        dst.attrs.create(name, src.attrs[name], shape=attr.shape, dtype=attr.dtype)


def copy_h5(src_path: str, dst_path: str, values):
    """Copies an HDF5 file group by group (attributes with their exact types); every dataset's data
    is ``values(path, dataset)``: an array to write, or None to leave it empty (fill value 0)."""
    with h5py.File(src_path, "r") as src, h5py.File(dst_path, "w") as dst:
        _copy_attrs(src, dst)

        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                _copy_attrs(obj, dst.require_group(name))
                return
            data = values(name, obj)
            if data is None:
                ds = dst.create_dataset(name, shape=obj.shape, dtype=obj.dtype, fillvalue=np.zeros((), obj.dtype))
            else:
                data = np.asarray(data)
                if data.shape != obj.shape or data.dtype != obj.dtype:
                    raise ValueError(f"{dst_path}: {name}: values {data.dtype}{list(data.shape)} for "
                                     f"{obj.dtype}{list(obj.shape)}")
                ds = dst.create_dataset(name, data=data)
            _copy_attrs(obj, ds)

        src.visititems(visit)


def _rezip(src_zip: str, dst_zip: str, transform, compression):
    """Rewrites a .keras archive with entries compressed by `compression` (zipfile.ZIP_*); the weights
    entry goes through transform(in_path, out_path)."""
    with zipfile.ZipFile(src_zip) as zin, zipfile.ZipFile(dst_zip, "w") as zout, tempfile.TemporaryDirectory() as tmp:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == KERAS_WEIGHTS_ENTRY:
                src, dst = os.path.join(tmp, "in.h5"), os.path.join(tmp, "out.h5")
                with open(src, "wb") as fh:
                    fh.write(data)
                transform(src, dst)
                with open(dst, "rb") as fh:
                    data = fh.read()
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = compression
            entry.external_attr = info.external_attr
            zout.writestr(entry, data)


def skeletonise(folder: str, out: str, seed: int, drawn: dict):
    """Writes the skeletons of folder/model.h5 and folder/model.keras into out, with weights.json and
    weights.npz. `drawn` maps content_key(values) -> (index, std) for the drawn weights."""
    verbatim, spec = {}, {"format": FORMAT_VERSION, "seed": seed, "files": {"h5": {}, "keras": {}}}

    def classify(kind):
        def values(name, ds):
            array = ds[()]
            key = content_key(array)
            if key in drawn:
                index, std = drawn[key]
                spec["files"][kind][name] = {"drawn": index, "std": float(np.float32(std)), "shape": list(ds.shape)}
            else:
                verbatim[key] = np.asarray(array)
                spec["files"][kind][name] = {"verbatim": key}
            return None
        return values

    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        copy_h5(os.path.join(folder, "model.h5"), os.path.join(tmp, "model.h5"), classify("h5"))
        with open(os.path.join(tmp, "model.h5"), "rb") as src, open(os.path.join(out, "model.h5.gz"), "wb") as raw:
            with gzip.GzipFile(filename="model.h5", mode="wb", fileobj=raw, mtime=0) as dst:
                dst.write(src.read())
    _rezip(os.path.join(folder, "model.keras"), os.path.join(out, "model.keras"),
           lambda src, dst: copy_h5(src, dst, classify("keras")), zipfile.ZIP_DEFLATED)
    with open(os.path.join(out, "weights.json"), "w") as fh:
        json.dump(spec, fh, indent=1, sort_keys=True)
        fh.write("\n")
    np.savez_compressed(os.path.join(out, "weights.npz"), **verbatim)
    return spec


def materialise(skeleton: str, out: str):
    """Writes out/model.h5 and out/model.keras with their weights from skeleton/weights.{json,npz}."""
    with open(os.path.join(skeleton, "weights.json")) as fh:
        spec = json.load(fh)
    if spec["format"] != FORMAT_VERSION:
        raise ValueError(f"{skeleton}/weights.json: format {spec['format']}, this materialiser reads {FORMAT_VERSION}")
    seed = spec["seed"]
    os.makedirs(out, exist_ok=True)
    with np.load(os.path.join(skeleton, "weights.npz")) as verbatim:
        def filler(kind):
            def values(name, ds):
                entry = spec["files"][kind].get(name)
                if entry is None:
                    raise ValueError(f"{skeleton}: {kind} dataset {name} has no entry in weights.json")
                if "drawn" in entry:
                    return draw(seed, entry["drawn"], entry["shape"], entry["std"]).astype(ds.dtype)
                return verbatim[entry["verbatim"]]
            return values

        with tempfile.TemporaryDirectory() as tmp:
            plain = os.path.join(tmp, "model.h5")
            with gzip.open(os.path.join(skeleton, "model.h5.gz"), "rb") as src, open(plain, "wb") as dst:
                dst.write(src.read())
            copy_h5(plain, os.path.join(out, "model.h5"), filler("h5"))
        _rezip(os.path.join(skeleton, "model.keras"), os.path.join(out, "model.keras"),
               lambda src, dst: copy_h5(src, dst, filler("keras")), zipfile.ZIP_STORED)


def main(argv) -> int:
    if len(argv) != 4 or argv[1] != "materialise":
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    materialise(argv[2], argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
