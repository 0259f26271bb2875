"""Writes .npy/.npz files with numpy itself, plus the values they hold, for the Swift .npy/.npz tests.

    .venv/bin/python Fixtures/generate_numpy.py      # -> Fixtures/numpy/
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)

arrays = {
    "float32_2x3": rng.standard_normal((2, 3)).astype("<f4"),
    "float64_4": rng.standard_normal(4).astype("<f8"),
    "float16_3x2": rng.standard_normal((3, 2)).astype("<f2"),
    "int8_5": rng.integers(-128, 127, 5).astype("i1"),
    "uint8_2x2x2": rng.integers(0, 255, (2, 2, 2)).astype("u1"),
    "int16_3": rng.integers(-30000, 30000, 3).astype("<i2"),
    "int32_2x2": rng.integers(-(2**31), 2**31 - 1, (2, 2)).astype("<i4"),
    "int64_3": np.array([-(2**62), 5, 2**62], dtype="<i8"),
    "uint16_2": np.array([0, 65535], dtype="<u2"),
    "uint32_2": np.array([0, 4294967295], dtype="<u4"),
    "uint64_2": np.array([0, 2**63 + 5], dtype="<u8"),
    "bool_4": np.array([True, False, False, True]),
    "scalar_float32": np.array(3.5, dtype="<f4"),
    "empty_0x3": np.zeros((0, 3), dtype="<f4"),
    "bigendian_float32_2x2": rng.standard_normal((2, 2)).astype(">f4"),
    "bigendian_int64_3": np.array([1, -2, 3], dtype=">i8"),
    "fortran_float32_2x3x4": np.asfortranarray(rng.standard_normal((2, 3, 4)).astype("<f4")),
}
values = {}
for name, array in arrays.items():
    np.save(os.path.join(OUT, name + ".npy"), array)
    values[name] = {
        "shape": list(array.shape),
        # Strings, so that no JSON parser rounds them: integers exactly, floats as repr (shortest round-trip).
        "values": [str(v) if array.dtype.kind in "iu" else repr(float(v)) for v in np.ravel(array, order="C")],
    }
np.savez(os.path.join(OUT, "stored.npz"), a=arrays["float32_2x3"], b=arrays["int64_3"])
np.savez_compressed(os.path.join(OUT, "compressed.npz"), a=arrays["float32_2x3"], b=arrays["int64_3"])
# A version 2.0 header (numpy writes it for huge headers; force it here).
with open(os.path.join(OUT, "version2_float32_2x3.npy"), "wb") as f:
    np.lib.format.write_array(f, arrays["float32_2x3"], version=(2, 0))
values["version2_float32_2x3"] = values["float32_2x3"]
with open(os.path.join(OUT, "values.json"), "w") as f:
    json.dump(values, f, indent=1, sort_keys=True)
print("wrote", len(arrays) + 3, "files to", OUT)

# Parity metrics computed by numpy for `vigil parity` / VigilParity tests.
a = rng.standard_normal(200).astype(np.float32)
b = (a + rng.standard_normal(200).astype(np.float32) * 1e-4).astype(np.float32)
b[3] = 0.0
a[3] = 1e-6
a[10] = np.nan
b[10] = np.nan      # NaN in both: a match
a[11] = np.nan      # NaN in one: a mismatch
b[12] = np.inf
a[12] = np.inf      # same infinity: a match
a[13] = -np.inf     # infinity against a number: a mismatch
np.save(os.path.join(OUT, "parity_actual.npy"), a)
np.save(os.path.join(OUT, "parity_expected.npy"), b)
metrics = []
for atol, rtol in [(1e-5, 1e-4), (1e-3, 0.0), (0.0, 1e-2), (1.0, 1.0)]:
    x, y = a.astype(np.float64), b.astype(np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    same_nonfinite = ~finite & ((np.isnan(x) & np.isnan(y)) | (x == y))
    bad_nonfinite = ~finite & ~same_nonfinite
    diff = np.abs(x - y)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(y[finite] == 0, np.where(diff[finite] == 0, 0.0, np.inf), diff[finite] / np.abs(y[finite]))
    mismatches = int(np.sum(diff[finite] > atol + rtol * np.abs(y[finite])) + np.sum(bad_nonfinite))
    metrics.append({
        "atol": atol, "rtol": rtol,
        "elements": int(x.size),
        "max_abs_error": "inf" if bad_nonfinite.any() else repr(float(diff[finite].max())),
        "max_rel_error": "inf" if bad_nonfinite.any() or np.isinf(rel).any() else repr(float(rel.max())),
        "finite_max_abs_error": repr(float(diff[finite].max())),
        "mean_abs_error": repr(float(diff[finite].mean())),
        "mismatches": mismatches,
        "nonfinite_mismatches": int(np.sum(bad_nonfinite)),
    })
with open(os.path.join(OUT, "parity_metrics.json"), "w") as f:
    json.dump(metrics, f, indent=1)

# String arrays (string tensors): byte strings ('S', NUL-padded) and Unicode strings ('U', UTF-32),
# one in Fortran order; their values as UTF-8 text in strings.json.
string_arrays = {
    "bytes_2x2": np.array([[b"a", b"bc"], [b"", b"xyz"]], dtype="S3"),
    "unicode_3": np.array(["x", "h\u00e9", "\u4e2d\u6587"], dtype="<U2"),
    "fortran_unicode_2x3": np.asfortranarray(np.array([["a", "bb", "c"], ["dd", "e", "\u00e9"]], dtype="<U2")),
}
string_values = {}
for name, array in string_arrays.items():
    np.save(os.path.join(OUT, name + ".npy"), array)
    string_values[name] = {
        "shape": list(array.shape),
        "values": [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.ravel(array, order="C")],
    }
with open(os.path.join(OUT, "strings.json"), "w") as f:
    json.dump(string_values, f, indent=1, sort_keys=True, ensure_ascii=False)
