"""Minimal hostile inputs, one per class of attack or accepted garbage (issue 18), for the regression
tests, plus the models that still crash the shape inference, planner and executor (for the lead).

    /work/venvs/keras/bin/python Fixtures/generate_hostile.py    # pins: Fixtures/requirements-hostile.txt

Writes Fixtures/hostile/{keras,npy,npz,detector,executor}/ and Fixtures/hostile/expected.json
(numpy's reading of the valid cases). Deterministic: fixed values, no randomness, fixed zip
timestamps. Each file is described in Fixtures/hostile/README.md.
"""
import hashlib
import io
import json
import os
import shutil
import struct
import zipfile
import zlib

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hostile")
DENSE = os.path.join(HERE, "keras", "dense_mlp")
EXPECTED = {}


def path(*parts):
    full = os.path.join(OUT, *parts)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full


# MARK: zip archives ------------------------------------------------------------------------------

def zip_bytes(members, compress=zipfile.ZIP_STORED):
    """A zip with fixed timestamps; members: [(name, bytes)] (duplicates allowed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compress
            info.external_attr = 0o100644 << 16
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # duplicate names are the point of one case
                archive.writestr(info, data)
    return buffer.getvalue()


def patch_member(data, name, crc=None, size=None, compressed=None):
    """Rewrites a member's CRC-32 / uncompressed / compressed size in its local header and the
    central directory (the lie is consistent, so only the data can tell)."""
    data = bytearray(data)
    encoded = name.encode()
    for signature, crc_at, name_length_at, name_at in ((b"PK\x03\x04", 14, 26, 30), (b"PK\x01\x02", 16, 28, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            length = struct.unpack_from("<H", data, start + name_length_at)[0]
            if bytes(data[start + name_at:start + name_at + length]) == encoded:
                if crc is not None:
                    struct.pack_into("<I", data, start + crc_at, crc)
                if compressed is not None:
                    struct.pack_into("<I", data, start + crc_at + 4, compressed)
                if size is not None:
                    struct.pack_into("<I", data, start + crc_at + 8, size)
            start += 4
    return bytes(data)


def read(*parts):
    with open(os.path.join(*parts), "rb") as f:
        return f.read()


def keras_cases():
    config = read(DENSE, "config.json")
    weights = read(DENSE, "model.weights.h5")
    metadata = b'{"keras_version": "3.15.1", "date_saved": "2026-01-01@00:00:00"}'
    good = [("metadata.json", metadata), ("config.json", config), ("model.weights.h5", weights)]

    def write(name, data):
        with open(path("keras", name), "wb") as f:
            f.write(data)

    write("traversal.keras", zip_bytes(good + [("../evil.txt", b"outside")]))
    write("duplicate_config.keras", zip_bytes(good + [("config.json", b'{"class_name": "Sequential", "config": {"layers": []}}')]))
    write("crc_lie.keras", patch_member(zip_bytes(good), "config.json", crc=zlib.crc32(config) ^ 0xFFFF))
    write("size_lie.keras", patch_member(zip_bytes(good), "model.weights.h5", size=len(weights) - 1000, compressed=len(weights) - 1000))
    # 300 MB of JSON whitespace deflates to ~290 KB: under 1100:1, over the budget.
    bomb = b"{" + b" " * (300 << 20) + b"}"
    write("zip_bomb.keras", zip_bytes([("metadata.json", metadata), ("config.json", bomb)], zipfile.ZIP_DEFLATED))
    write("ratio_lie.keras", patch_member(zip_bytes(good, zipfile.ZIP_DEFLATED), "model.weights.h5", size=2_000_000_000))

    no_layers = {"class_name": "Sequential", "config": {"name": "empty", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "dtype": "float32", "name": "x"}}]}}
    cycle = {"class_name": "Functional", "config": {
        "name": "cycle", "input_layers": [["x", 0, 0]], "output_layers": [["b", 0, 0]],
        "layers": [
            {"class_name": "InputLayer", "name": "x", "config": {"batch_input_shape": [None, 8], "dtype": "float32", "name": "x"}, "inbound_nodes": []},
            {"class_name": "Dense", "name": "a", "config": {"name": "a", "units": 8, "activation": "linear", "use_bias": True}, "inbound_nodes": [[["b", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "b", "config": {"name": "b", "units": 8, "activation": "linear", "use_bias": True}, "inbound_nodes": [[["a", 0, 0, {}]]]},
        ]}}
    for name, value in (("no_layers", no_layers), ("layer_cycle", cycle)):
        text = json.dumps(value, sort_keys=True).encode()
        write(name + ".json", text)
        write(name + ".keras", zip_bytes([("metadata.json", metadata), ("config.json", text)]))
    legacy_hdf5_cases()


def copy_dense_h5(name):
    target = path("keras", name)
    shutil.copyfile(os.path.join(DENSE, "model.h5"), target)
    return h5py.File(target, "r+")


KERNEL = "model_weights/hidden/dense_mlp/hidden/kernel"


def replace_kernel(f, **options):
    del f[KERNEL]
    return f.create_dataset(KERNEL, **options)


def legacy_hdf5_cases():
    with copy_dense_h5("external_link.h5") as f:
        del f["model_weights/hidden"]
        f["model_weights/hidden"] = h5py.ExternalLink("../../../../etc/passwd", "/")
    with copy_dense_h5("soft_link.h5") as f:
        del f["model_weights/hidden"]
        f["model_weights/hidden"] = h5py.SoftLink("/model_weights/probs")
    with copy_dense_h5("hard_link_cycle.h5") as f:
        f["model_weights/hidden/dense_mlp/loop"] = f["model_weights"]
    with copy_dense_h5("deep_groups.h5") as f:
        f.create_group("model_weights/deep/" + "/".join(["g"] * 100))
    with copy_dense_h5("external_storage.h5") as f:
        replace_kernel(f, shape=(8, 16), dtype="<f4", external=[("/etc/passwd", 0, 8 * 16 * 4)])
    with copy_dense_h5("virtual_dataset.h5") as f:
        layout = h5py.VirtualLayout(shape=(8, 16), dtype="<f4")
        layout[:] = h5py.VirtualSource("missing_source.h5", "data", shape=(8, 16))
        del f[KERNEL]
        f.create_virtual_dataset(KERNEL, layout, fillvalue=0)
    with copy_dense_h5("huge_dataset.h5") as f:
        replace_kernel(f, shape=(1 << 20, 1 << 20), dtype="<f4", chunks=(64, 64))
    with copy_dense_h5("lzf_filter.h5") as f:
        replace_kernel(f, data=np.zeros((8, 16), "<f4"), compression="lzf")


# MARK: .npy / .npz ------------------------------------------------------------------------------

def npy_bytes(header, data=b"", version=(1, 0)):
    text = header.encode("latin1" if version[0] < 3 else "utf8")
    prefix = 10 if version[0] == 1 else 12
    padding = (64 - (prefix + len(text) + 1) % 64) % 64
    text += b" " * padding + b"\n"
    length = struct.pack("<H", len(text)) if version[0] == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + data


def numpy_cases():
    two = np.array([1.5, -2.0], "<f4").tobytes()
    cases = {
        "duplicate_key.npy": npy_bytes("{'descr': '<f4', 'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", two),
        "extra_key.npy": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", two),
        "missing_key.npy": npy_bytes("{'descr': '<f4', 'shape': (2,), }", two),
        "overflow_dims.npy": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"),
        "huge_declared.npy": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", two),
        "trailing_garbage_header.npy": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", two),
    }
    for name, data in cases.items():
        with open(path("npy", name), "wb") as f:
            f.write(data)
    # Valid files numpy itself writes: version 3.0 (UTF-8 header) and Fortran order.
    values = np.arange(24, dtype="<f4").reshape(2, 3, 4) / 7
    with open(path("npy", "version3.npy"), "wb") as f:
        np.lib.format.write_array(f, values, version=(3, 0))
    np.save(path("npy", "fortran_2x3x4.npy"), np.asfortranarray(values))
    for name in ("version3", "fortran_2x3x4"):
        reread = np.load(path("npy", name + ".npy"))
        EXPECTED["npy/" + name] = {"shape": list(reread.shape), "values": [repr(float(v)) for v in reread.ravel(order="C")]}

    a = np.array([1.0, 2.0, 3.0], "<f4")
    member = io.BytesIO()
    np.lib.format.write_array(member, a)
    member = member.getvalue()
    with open(path("npz", "crc_lie.npz"), "wb") as f:
        f.write(patch_member(zip_bytes([("a.npy", member)]), "a.npy", crc=zlib.crc32(member) ^ 1))
    with open(path("npz", "size_lie.npz"), "wb") as f:
        f.write(patch_member(zip_bytes([("a.npy", member)]), "a.npy", size=len(member) + 64, compressed=len(member) + 64))
    with open(path("npz", "duplicate_names.npz"), "wb") as f:
        f.write(zip_bytes([("a.npy", member), ("a.npy", member)]))
    zeros = io.BytesIO()
    np.lib.format.write_array(zeros, np.zeros(75 << 20, "<f4"))  # 300 MiB of zeros, ~300 KB deflated
    with open(path("npz", "zip_bomb.npz"), "wb") as f:
        f.write(zip_bytes([("z.npy", zeros.getvalue())], zipfile.ZIP_DEFLATED))


# MARK: detector files ---------------------------------------------------------------------------

def detector_cases():
    """A small valid detector written from numpy (the layout of Formats/detector.md), and variants."""
    embeddings = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0.2], [0.1, 0.8, 0.1], [0, 0.9, 0.4]], "<f4")
    labels = np.array([0, 0, 1, 1, 1])
    e = embeddings.astype(np.float64)
    means = np.stack([e[labels == c].mean(0) for c in (0, 1)])
    centered = e - means[labels]
    covariance = centered.T @ centered / len(e)
    spread = np.array([np.sqrt((centered[labels == c] ** 2).sum(1).mean()) for c in (0, 1)])
    ridge = 1e-3 * np.trace(covariance) / 3
    precision = np.linalg.inv(covariance + ridge * np.eye(3))
    normalized = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype("<f4")
    model_hash = hashlib.sha256(read(HERE, "detector", "embedding.onnx")).hexdigest()
    classifier_hash = hashlib.sha256(read(HERE, "detector", "classifier.onnx")).hexdigest()
    attributes = {
        "format": "vigil-detector", "format_version": "1", "scorer": "mean_distance", "class_count": "2",
        "dimension": "3", "counts": "2,3", "ridge": repr(float(ridge)), "knn_k": "2", "mahalanobis_ridge": "0.001",
        "energy_temperature": "1.0", "odin_temperature": "1000.0", "calibration_tpr": "0.95",
        "model_sha256": model_hash, "classifier_sha256": classifier_hash, "input_name": "images",
        "embedding_output": "embedding", "input_scale": "0.003921569",
    }
    datasets = {"means": means, "counts": np.array([2.0, 3.0]), "spread": spread, "covariance": covariance,
                "precision": precision}

    def write(name, changed_attributes=None, changed_datasets=None, extra=None):
        with h5py.File(path("detector", name), "w", track_order=False) as f:
            for key, value in {**attributes, **(changed_attributes or {})}.items():
                f.attrs[key] = value
            for key, value in {**datasets, **(changed_datasets or {})}.items():
                if isinstance(value, dict):
                    f.create_dataset(key, **value)
                else:
                    f.create_dataset(key, data=np.asarray(value, "<f8"))
            f.create_dataset("training_embeddings", data=normalized)
            thresholds = f.create_group("thresholds")
            thresholds.attrs["mean_distance"] = "0.25"
            thresholds.attrs["max_softmax"] = "-0.5"
            if extra:
                extra(f)

    write("valid.h5")
    EXPECTED["detector/valid"] = {
        "means": [repr(float(v)) for v in means.ravel()], "spread": [repr(float(v)) for v in spread],
        "covariance": [repr(float(v)) for v in covariance.ravel()], "precision": [repr(float(v)) for v in precision.ravel()],
        "ridge": repr(float(ridge)), "counts": [2, 3], "model_sha256": model_hash, "classifier_sha256": classifier_hash,
        "training": [repr(float(v)) for v in normalized.ravel()],
    }
    bad_means = means.copy()
    bad_means[0, 0] = np.nan
    write("nan_means.h5", changed_datasets={"means": bad_means})
    bad_precision = precision.copy()
    bad_precision[1, 1] = np.inf
    write("inf_precision.h5", changed_datasets={"precision": bad_precision})
    for attribute in ("class_count", "dimension", "knn_k"):
        for label, value in (("nan", "nan"), ("1e400", "1e400"), ("int64max", "9223372036854775807")):
            write(f"{attribute}_{label}.h5", changed_attributes={attribute: value})
    write("huge_means.h5", changed_datasets={"means": {"shape": (1 << 20, 1 << 20), "dtype": "<f8", "chunks": (64, 64)}})
    for label, target in (("dev_zero", "/dev/zero"), ("passwd", "/etc/passwd")):
        write(f"external_{label}.h5", changed_datasets={"means": {"shape": (2, 3), "dtype": "<f8", "external": [(target, 0, 48)]}})

    def virtual(f):
        layout = h5py.VirtualLayout(shape=(3, 3), dtype="<f8")
        layout[:] = h5py.VirtualSource("missing_source.h5", "data", shape=(3, 3))
        del f["precision"]
        f.create_virtual_dataset("precision", layout, fillvalue=np.nan)
    write("virtual_precision.h5", extra=virtual)

    def external_link(f):
        del f["thresholds"]
        f["thresholds"] = h5py.ExternalLink("../../etc/passwd", "/")
    write("external_link.h5", extra=external_link)


# MARK: models that still crash the executor (for the lead; no tests yet) -------------------------

def model(name, nodes, inputs, outputs, initializers=(), opset=17, opset_imports=None):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    imports = opset_imports if opset_imports is not None else [helper.make_opsetid("", opset)]
    m = helper.make_model(graph, opset_imports=imports, producer_name="vigil-hostile")
    m.ir_version = 10
    with open(path("executor", name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def value(name, dims, dtype=TensorProto.FLOAT):
    """A typed value; an int for `dims` is a rank of unknown (symbolic) sizes, as the checker requires."""
    if isinstance(dims, int):
        dims = [f"{name}_{axis}" for axis in range(dims)]
    return helper.make_tensor_value_info(name, dtype, dims)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def executor_cases():
    big = 1 << 62
    model("reshape_overflow", [helper.make_node("Reshape", ["x", "s"], ["y"])], [value("x", [1, 4])], [value("y", 2)],
          [ints("s", [big, big])])
    model("slice_huge", [helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])], [value("x", [4, 4])], [value("y", 2)],
          [ints("st", [-(1 << 63)]), ints("en", [(1 << 63) - 1]), ints("ax", [0]), ints("sp", [-(1 << 63)])])
    for label, limit in (("nan", np.nan), ("inf", np.inf)):
        model(f"range_{label}", [helper.make_node("Range", ["a", "b", "d"], ["y"])], [], [value("y", 1)],
              [numpy_helper.from_array(np.array(v, np.float32), n) for n, v in (("a", 0.0), ("b", limit), ("d", 1.0))])
    model("range_2e62", [helper.make_node("Range", ["a", "b", "d"], ["y"])], [], [value("y", 1, TensorProto.INT64)],
          [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in (("a", 0), ("b", big), ("d", 1))])
    model("resize_negative", [helper.make_node("Resize", ["x", "", "", "sz"], ["y"], mode="nearest")],
          [value("x", [1, 1, 4, 4])], [value("y", 4)], [ints("sz", [1, 1, -4, 8])])
    model("resize_scales_huge", [helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="nearest")],
          [value("x", [1, 1, 4, 4])], [value("y", 4)], [numpy_helper.from_array(np.array([1, 1, 1e6, 1e6], np.float32), "sc")])
    model("int32_dims", [helper.make_node("Conv", ["x", "w"], ["y"])], [value("x", [1, 1, 1 << 31, 1])], [value("y", 4)],
          [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w")])
    model("pad_huge", [helper.make_node("Pad", ["x", "p"], ["y"])], [value("x", [1, 4])], [value("y", 2)],
          [ints("p", [0, 1 << 40, 0, 1 << 40])])
    model("conv_pads_huge", [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1 << 20, 1 << 20, 1 << 20, 1 << 20])],
          [value("x", [1, 1, 4, 4])], [value("y", 4)], [numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")])
    model("maxpool_pads_huge", [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[1 << 20, 1 << 20, 1 << 20, 1 << 20])],
          [value("x", [1, 1, 4, 4])], [value("y", 4)])
    model("expand_huge", [helper.make_node("Expand", ["x", "s"], ["y"])], [value("x", [1])], [value("y", 3)],
          [ints("s", [1 << 20, 1 << 20, 1 << 10])])
    model("tile_huge", [helper.make_node("Tile", ["x", "r"], ["y"])], [value("x", [2, 2])], [value("y", 2)],
          [ints("r", [1 << 30, 1 << 30])])
    model("huge_input", [helper.make_node("Relu", ["x"], ["y"])], [value("x", [1 << 20, 1 << 20])], [value("y", [1 << 20, 1 << 20])])
    model("zero_batch", [helper.make_node("Add", ["x", "b"], ["y"])], [value("x", ["N", 4])], [value("y", ["N", 4])],
          [numpy_helper.from_array(np.ones(4, np.float32), "b")])
    np.save(path("executor", "zero_batch_input.npy"), np.zeros((0, 4), np.float32))
    model("matmul_2e62", [helper.make_node("MatMul", ["x", "w"], ["y"])], [value("x", [big, 4])], [value("y", 2)],
          [numpy_helper.from_array(np.ones((4, 2), np.float32), "w")])
    model("transpose_rank_mismatch", [helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0]),
                                      helper.make_node("Transpose", ["t"], ["y"], perm=[0, 2, 1])],
          [value("x", [2, 3])], [value("y", 3)])
    model("no_opset_import", [helper.make_node("Relu", ["x"], ["y"])], [value("x", [2])], [value("y", [2])], opset_imports=[])
    model("opset_2e62", [helper.make_node("Relu", ["x"], ["y"])], [value("x", [2])], [value("y", [2])],
          opset_imports=[helper.make_opsetid("", big)])
    model("no_outputs", [helper.make_node("Relu", ["x"], ["y"])], [value("x", [2])], [])
    for shape in ((2,), (1,), (1, 4), (4, 4), (2, 2), (2, 3), (1, 1, 4, 4)):
        np.save(path("executor", "x_" + "x".join(map(str, shape)) + ".npy"), np.ones(shape, np.float32))


def main():
    if os.path.isdir(OUT):
        for sub in ("keras", "npy", "npz", "detector", "executor"):
            shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    keras_cases()
    numpy_cases()
    detector_cases()
    executor_cases()
    with open(path("expected.json"), "w") as f:
        json.dump(EXPECTED, f, indent=1, sort_keys=True)
    count = sum(len(files) for _, _, files in os.walk(OUT))
    print("wrote", count, "files to", OUT)


if __name__ == "__main__":
    main()
