#!/usr/bin/env python3
"""Builds and runs the Swift packages that use Vigil from outside (issue 15), for `scripts/run test`.

1. Examples/ (a package depending on Vigil by path): built and run. Its embeddings must match
   onnxruntime's (checked by the example itself), and the batch it writes, run through `vigil run`,
   must give exactly the same numbers as the example got.
2. `vigil swift` for every ONNX fixture (Fixtures/onnx/*, Fixtures/swift/*) and every Keras fixture
   (Fixtures/keras/*, .keras or legacy .h5, plus one weights + config pair), recording the fixture's
   own inputs. Models with ops the executor does not support must be refused (one line, exit 1,
   nothing written). Every generated Package.swift is evaluated (`swift package dump-package`).
   Building 30 packages one by one would compile Vigil 30 times, so one aggregate package holds
   the generated targets (sources, resources and tests taken from the generated folders) and is
   built once; then every NAME-run's outputs are compared with onnxruntime's or Keras's reference
   (atol 1e-5, rtol 1e-4; other types exactly) and the generated tests run.
3. One generated package (awkward names) built and run on its own, with its own Package.swift.

All builds share one scratch folder (.build-swift-packages/), so Vigil is compiled once.

    .venv/bin/python scripts/swift_packages.py --vigil .build/debug/vigil [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
from onnx import numpy_helper
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".build-swift-packages")
SCRATCH = os.path.join(WORK, "scratch")
ATOL, RTOL = 1e-5, 1e-4
# Fixtures whose ops the executor does not run: `vigil swift` must refuse them, naming the op.
UNSUPPORTED = {"control_flow_if": "unsupported ops: If", "attribute_kinds": "unsupported ops: com.vigil.test::AllAttributeKinds"}
STANDALONE = "OnnxAwkwardNames"


def log(message: str) -> None:
    print(message, flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def swift(arguments: list[str], label: str) -> None:
    start = time.time()
    result = run(["swift"] + arguments)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-20000:] + result.stderr[-20000:])
        raise SystemExit(f"swift-packages: error: {label} failed")
    log(f"  {label}: {time.time() - start:.0f} s")


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


class Fixture:
    """One model: where it is, its inputs (files) and reference outputs (arrays in graph order)."""

    def __init__(self, package: str, model: str, inputs: list[str], outputs, config: str | None = None):
        self.package, self.model, self.inputs, self.outputs, self.config = package, model, inputs, outputs, config


def onnx_fixtures() -> list[tuple[str, str]]:
    folders = sorted(glob.glob(os.path.join(ROOT, "Fixtures", "onnx", "*", "model.onnx")))
    folders += sorted(glob.glob(os.path.join(ROOT, "Fixtures", "swift", "*", "model.onnx")))
    return [(os.path.basename(os.path.dirname(path)), path) for path in folders]


def load_onnx(name: str, path: str) -> Fixture:
    data = os.path.join(os.path.dirname(path), "test_data_set_0")
    inputs = sorted(glob.glob(os.path.join(data, "input_*.pb")), key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
    outputs = []
    for index in range(len(glob.glob(os.path.join(data, "output_*.pb")))):
        tensor = onnx.load_tensor(os.path.join(data, f"output_{index}.pb"))
        outputs.append((tensor.name, numpy_helper.to_array(tensor)))
    return Fixture("Onnx" + camel(name), path, inputs, outputs)


def keras_fixtures() -> list[Fixture]:
    fixtures = []
    for folder in sorted(glob.glob(os.path.join(ROOT, "Fixtures", "keras", "*", ""))):
        name = os.path.basename(os.path.dirname(folder))
        model = os.path.join(folder, "model.keras")
        if not os.path.exists(model):
            model = os.path.join(folder, "model.h5")
        inputs = sorted(glob.glob(os.path.join(folder, "input_*.npy")))
        outputs = [(None, np.load(p)) for p in sorted(glob.glob(os.path.join(folder, "output_*.npy")))]
        fixtures.append(Fixture("Keras" + camel(name), model, inputs, outputs))
        if name == "dense_mlp":
            fixtures.append(Fixture("KerasDenseMlpWeights", os.path.join(folder, "model.weights.h5"), inputs, outputs,
                                    config=os.path.join(folder, "config.json")))
    return fixtures


def generate(vigil: str, keras: list[Fixture], packages: str, only: str | None) -> list[Fixture]:
    generated, fixtures = [], []
    for name, path in onnx_fixtures():
        if only and only.lower() not in ("Onnx" + camel(name)).lower():
            continue
        if name in UNSUPPORTED:
            target = os.path.join(packages, "Onnx" + camel(name))
            result = run([vigil, "swift", path, "--name", "Onnx" + camel(name), "-o", target])
            lines = result.stderr.splitlines()
            ok = result.returncode == 1 and len(lines) == 1 and UNSUPPORTED[name] in lines[0] and not os.path.exists(target)
            log(f"  {'PASS' if ok else 'FAIL'} {name}: refused ({lines[0] if lines else result.stdout.strip()})")
            if not ok:
                raise SystemExit(f"swift-packages: error: vigil swift {name} should fail with '{UNSUPPORTED[name]}'")
            continue
        fixtures.append(load_onnx(name, path))
    for fixture in fixtures + keras:
        if only and only.lower() not in fixture.package.lower():
            continue
        command = [vigil, "swift", fixture.model, "--name", fixture.package, "-o", os.path.join(packages, fixture.package),
                   "--vigil-path", ROOT]
        if fixture.config:
            command += ["--config", fixture.config]
        for item in fixture.inputs:
            command += ["--input", item]
        result = run(command)
        if result.returncode != 0:
            raise SystemExit(f"swift-packages: error: {' '.join(command)}: {result.stderr.strip()}")
        generated.append(fixture)
    return generated


def check_manifests(fixtures: list[Fixture], packages: str) -> None:
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda f: run(["swift", "package", "dump-package", "--package-path", os.path.join(packages, f.package)]), fixtures))
    for fixture, result in zip(fixtures, results):
        if result.returncode != 0:
            raise SystemExit(f"swift-packages: error: {fixture.package}/Package.swift: {result.stderr.strip()}")
        manifest = json.loads(result.stdout)
        products = sorted(p["name"] for p in manifest["products"])
        if products != sorted([fixture.package, fixture.package + "-run"]):
            raise SystemExit(f"swift-packages: error: {fixture.package}/Package.swift declares {products}")
    log(f"  {len(fixtures)} generated manifests evaluated: {time.time() - start:.0f} s")


def aggregate(fixtures: list[Fixture], packages: str) -> None:
    """One package whose targets are the generated ones (same sources, resources and dependencies)."""
    runtime = '.product(name: "VigilRuntime", package: "Vigil")'
    numpy = '.product(name: "VigilNumpy", package: "Vigil")'
    products, targets = [], []
    for f in fixtures:
        n = f.package
        products.append(f'        .executable(name: "{n}-run", targets: ["{n}Run"]),')
        targets += [
            f'        .target(name: "{n}", dependencies: [{runtime}], path: "{n}/Sources/{n}", resources: [.copy("Model")]),',
            f'        .executableTarget(name: "{n}Run", dependencies: ["{n}", {runtime}, {numpy}], path: "{n}/Sources/{n}-run"),',
            f'        .testTarget(name: "{n}Tests", dependencies: ["{n}", {runtime}, {numpy}], path: "{n}/Tests/{n}Tests", resources: [.copy("Recorded")]),',
        ]
    manifest = "\n".join([
        "// swift-tools-version:6.0",
        "// Written by scripts/swift_packages.py: the packages `vigil swift` generated, as targets of one package.",
        "import PackageDescription", "",
        "let package = Package(",
        '    name: "GeneratedWrappers",',
        "    platforms: [.macOS(.v13)],",
        "    products: [", *products, "    ],",
        f'    dependencies: [.package(name: "Vigil", path: {json.dumps(ROOT)})],',
        "    targets: [", *targets, "    ]",
        ")", ""])
    with open(os.path.join(packages, "Package.swift"), "w") as f:
        f.write(manifest)


def compare(label: str, actual: np.ndarray, expected: np.ndarray) -> str | None:
    if actual.shape != expected.shape:
        return f"{label}: shape {actual.shape}, expected {expected.shape}"
    if expected.dtype.kind in "SUO" or actual.dtype.kind in "SUO":
        a = [x.decode() if isinstance(x, bytes) else str(x) for x in actual.ravel()]
        b = [x.decode() if isinstance(x, bytes) else str(x) for x in expected.ravel()]
        return None if a == b else f"{label}: strings differ"
    if actual.dtype != expected.dtype:
        return f"{label}: dtype {actual.dtype}, expected {expected.dtype}"
    if expected.dtype.kind != "f":
        return None if np.array_equal(actual, expected) else f"{label}: values differ"
    a, b = actual.astype(np.float64), expected.astype(np.float64)
    bad = ~((a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= ATOL + RTOL * np.abs(b)))
    return None if not bad.any() else f"{label}: {int(bad.sum())} of {a.size} elements outside atol {ATOL} + rtol {RTOL}, max |diff| {np.nanmax(np.abs(a - b)):.3g}"


def run_wrappers(fixtures: list[Fixture], binaries: str, work: str) -> int:
    failures = 0
    for f in fixtures:
        inputs = []
        for index, item in enumerate(f.inputs):
            if item.endswith(".pb"):
                path = os.path.join(work, f"{f.package}_input_{index}.npy")
                np.save(path, numpy_helper.to_array(onnx.load_tensor(item)))
                item = path
            inputs += ["--input", item]
        out = os.path.join(work, f"{f.package}.npz")
        result = run([os.path.join(binaries, f.package + "-run")] + inputs + ["-o", out])
        problems = [f"exit {result.returncode}: {result.stderr.strip()}"] if result.returncode != 0 else []
        if not problems:
            archive = np.load(out)
            names = list(archive.files)
            if len(names) != len(f.outputs):
                problems.append(f"{len(names)} outputs, expected {len(f.outputs)}")
            for index, (name, (expected_name, expected)) in enumerate(zip(names, f.outputs)):
                if expected_name is not None and name != expected_name:
                    problems.append(f"output {index} is '{name}', expected '{expected_name}'")
                problem = compare(name, archive[name], expected)
                if problem:
                    problems.append(problem)
        failures += bool(problems)
        log(f"  {'FAIL' if problems else 'PASS'} {f.package}-run ({len(f.outputs)} outputs){': ' + '; '.join(problems) if problems else ''}")
    return failures


def examples(vigil: str) -> None:
    log("==> Examples/ (depends on Vigil by path)")
    swift(["build", "--package-path", os.path.join(ROOT, "Examples"), "--scratch-path", SCRATCH], "build Examples")
    out = os.path.join(WORK, "example")
    result = run([os.path.join(SCRATCH, "debug", "EmbeddingExample"), "-o", out])
    sys.stdout.write("".join("    " + line + "\n" for line in result.stdout.splitlines()))
    if result.returncode != 0:
        raise SystemExit(f"swift-packages: error: EmbeddingExample: {result.stderr.strip()}")
    fixtures = os.path.join(ROOT, "Fixtures", "detector")
    for name, model in [("onnx", "embedding.onnx"), ("keras", "embedding.h5")]:
        reference = os.path.join(out, f"run_{name}.npz")
        result = run([vigil, "run", os.path.join(fixtures, model), "--input", os.path.join(out, "batch.npy"), "-o", reference])
        if result.returncode != 0:
            raise SystemExit(f"swift-packages: error: vigil run {model}: {result.stderr.strip()}")
        example, cli = np.load(os.path.join(out, f"{name}.npz")), np.load(reference)
        same = list(example.files) == list(cli.files) and all(np.array_equal(example[k], cli[k]) for k in cli.files)
        log(f"  {'PASS' if same else 'FAIL'} {model}: the example's outputs {'equal' if same else 'differ from'} `vigil run`'s")
        if not same:
            raise SystemExit("swift-packages: error: the example and vigil run disagree")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vigil", required=True)
    parser.add_argument("--only", help="only fixtures whose package name contains this")
    args = parser.parse_args()
    vigil = os.path.abspath(args.vigil)
    start = time.time()
    os.makedirs(WORK, exist_ok=True)
    if not args.only:
        examples(vigil)
    log("==> vigil swift for every ONNX and Keras fixture")
    packages = os.path.join(WORK, "packages")
    shutil.rmtree(packages, ignore_errors=True)
    os.makedirs(packages)
    fixtures = generate(vigil, keras_fixtures(), packages, args.only)
    log(f"  generated {len(fixtures)} packages")
    check_manifests(fixtures, packages)
    aggregate(fixtures, packages)
    swift(["build", "--build-tests", "--package-path", packages, "--scratch-path", SCRATCH], f"build the {len(fixtures)} packages at once")
    swift(["test", "--skip-build", "--package-path", packages, "--scratch-path", SCRATCH], "their generated tests")
    outputs = os.path.join(WORK, "outputs")
    os.makedirs(outputs, exist_ok=True)
    failures = run_wrappers(fixtures, os.path.join(SCRATCH, "debug"), outputs)
    if any(f.package == STANDALONE for f in fixtures):
        log(f"==> {STANDALONE} on its own (its generated Package.swift)")
        folder = os.path.join(packages, STANDALONE)
        swift(["build", "--package-path", folder, "--scratch-path", SCRATCH], f"build {STANDALONE}")
        failures += run_wrappers([f for f in fixtures if f.package == STANDALONE], os.path.join(SCRATCH, "debug"), outputs)
    log(f"swift-packages: {len(fixtures) - failures} of {len(fixtures)} generated runners match their references; {time.time() - start:.0f} s in all")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
