#!/usr/bin/env bash
# Download the onnx==1.22.0 wheel and extract its backend test data into
# .cache/onnx-backend/data/ (so that .cache/onnx-backend/data/node/test_abs/model.onnx exists).
#
# Idempotent: does nothing if the data is already there.
# Environment: PYTHON (default python3) is used for `-m pip` and `-m zipfile`-style extraction.
set -euo pipefail

ONNX_VERSION="1.22.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WHEEL_DIR="$ROOT/.cache/wheels"
DEST="$ROOT/.cache/onnx-backend/data"
SENTINEL="$DEST/node/test_abs/model.onnx"

die() { echo "fetch-onnx-backend-tests: error: $*" >&2; exit 1; }

if [[ -f "$SENTINEL" ]]; then
    echo "fetch-onnx-backend-tests: $DEST already present, nothing to do."
    exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found (set PYTHON=/path/to/python3)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' is not available"

mkdir -p "$WHEEL_DIR"
WHEEL="$(ls "$WHEEL_DIR"/onnx-"$ONNX_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "$WHEEL" ]]; then
    echo "fetch-onnx-backend-tests: downloading onnx==$ONNX_VERSION wheel into $WHEEL_DIR ..."
    "$PYTHON" -m pip download --no-deps --only-binary=:all: "onnx==$ONNX_VERSION" -d "$WHEEL_DIR" \
        || die "pip download of onnx==$ONNX_VERSION failed (network? platform without a binary wheel?)"
    WHEEL="$(ls "$WHEEL_DIR"/onnx-"$ONNX_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
    [[ -n "$WHEEL" ]] || die "no onnx-$ONNX_VERSION-*.whl found in $WHEEL_DIR after download"
fi
echo "fetch-onnx-backend-tests: extracting onnx/backend/test/data/ from $(basename "$WHEEL") ..."

TMP="$ROOT/.cache/onnx-backend/data.tmp.$$"
rm -rf "$TMP"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -c '
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
prefix = "onnx/backend/test/data/"
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        rel = info.filename[len(prefix):]
        if not rel or rel.startswith("/") or ".." in rel.split("/"):
            continue
        target = os.path.join(out, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
        n += 1
if n == 0:
    sys.exit("no files under " + prefix + " in " + wheel)
print("extracted %d files" % n)
' "$WHEEL" "$TMP" || die "extraction from $WHEEL failed"

[[ -f "$TMP/node/test_abs/model.onnx" ]] || die "extracted data lacks node/test_abs/model.onnx"
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
echo "fetch-onnx-backend-tests: backend test data ready in $DEST"
