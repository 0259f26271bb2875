#!/usr/bin/env bash
# Usage: scripts/zoo-interop.sh PATH_TO_VIGIL_BINARY [--strict]
#
# Today's models against the Vigil CLI (issue 13), in two virtualenvs at the repository root:
#   .venv-zoo    Fixtures/zoo/requirements-interop.txt (numpy, onnx 1.23.2, onnxruntime 1.32.0):
#                scripts/zoo_interop.py: the torchvision zoo (materialised from Fixtures/zoo/ into
#                .cache/zoo/), the newest-opset node tests and the newest-defaults model
#   .venv-keras  Fixtures/keras_apps/requirements.txt (Keras 3 + jax + onnxruntime):
#                scripts/keras_apps_interop.py: keras.applications families (materialised into
#                .cache/keras_apps/) and the Keras 3 operation-layer models
# Failures listed in Fixtures/zoo/expected_failures.json are reported as XFAIL and do not fail the
# step unless --strict. Prints the time of each part. Environment: PYTHON (default python3) creates
# the virtualenvs; VIGIL_ZOO_PARTS (default "zoo keras") selects the parts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then
    echo "usage: $0 PATH_TO_VIGIL_BINARY [--strict]" >&2
    exit 2
fi
VIGIL="$1"; shift
[[ -x "$VIGIL" ]] || { echo "zoo-interop: error: vigil binary not found or not executable: $VIGIL" >&2; exit 2; }
VIGIL="$(cd "$(dirname "$VIGIL")" && pwd)/$(basename "$VIGIL")"

# venv DIR REQUIREMENTS...: creates DIR if missing and installs the requirements when they changed.
venv() {
    local dir="$1"; shift
    local stamp="$dir/.vigil-requirements" wanted
    wanted="$(cat "$@")"
    if [[ ! -x "$dir/bin/python" ]]; then
        echo "zoo-interop: creating virtualenv $dir"
        "${PYTHON:-python3}" -m venv "$dir" || { echo "zoo-interop: error: could not create $dir" >&2; exit 1; }
    fi
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
        echo "zoo-interop: installing $* into $dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$1" \
            || { echo "zoo-interop: error: pip install -r $1 failed" >&2; exit 1; }
        printf '%s' "$wanted" > "$stamp"
    fi
}

status=0
for part in ${VIGIL_ZOO_PARTS:-zoo keras}; do
    started=$SECONDS
    case "$part" in
        zoo)
            venv "$ROOT/.venv-zoo" "$ROOT/Fixtures/zoo/requirements-interop.txt"
            "$ROOT/.venv-zoo/bin/python" "$ROOT/scripts/zoo_interop.py" --vigil "$VIGIL" "$@" || status=1 ;;
        keras)
            venv "$ROOT/.venv-keras" "$ROOT/Fixtures/keras_apps/requirements.txt" \
                "$ROOT/Fixtures/requirements-keras.txt" "$ROOT/Fixtures/zoo/requirements-interop.txt"
            KERAS_BACKEND=jax "$ROOT/.venv-keras/bin/python" "$ROOT/scripts/keras_apps_interop.py" --vigil "$VIGIL" "$@" \
                || status=1 ;;
        *) echo "zoo-interop: error: unknown part '$part' in VIGIL_ZOO_PARTS" >&2; exit 2 ;;
    esac
    echo "zoo-interop: $part took $((SECONDS - started)) s"
done
exit $status
