#!/usr/bin/env bash
# Usage: scripts/zoo-interop.sh PATH_TO_VIGIL_BINARY [--strict]
#
# Today's models against the Vigil CLI (issue 13), in a virtualenv at .venv-zoo/ pinned by
# Fixtures/zoo/requirements-interop.txt (numpy, h5py, onnx 1.23.2, onnxruntime 1.32.0):
#   zoo    scripts/zoo_interop.py: the torchvision zoo (materialised from Fixtures/zoo/ into
#          .cache/zoo/), the newest-opset node tests and the newest-defaults model
#   keras  scripts/keras_apps_interop.py: the keras.applications families (materialised from
#          Fixtures/keras_apps/ into .cache/keras_apps/) and the Keras 3 operation-layer models
# Failures listed in Fixtures/zoo/expected_failures.json are reported as XFAIL and do not fail the
# step unless --strict. Prints the time of each part. Environment: PYTHON (default python3) creates
# the virtualenv; VIGIL_ZOO_PARTS (default "zoo keras") selects the parts; VIGIL_ZOO_RESULTS, a folder,
# receives each part's results as PART.json (for scripts/zoo_status.py, which writes STATUS.md's tables).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then
    echo "usage: $0 PATH_TO_VIGIL_BINARY [--strict]" >&2
    exit 2
fi
VIGIL="$1"; shift
[[ -x "$VIGIL" ]] || { echo "zoo-interop: error: vigil binary not found or not executable: $VIGIL" >&2; exit 2; }
VIGIL="$(cd "$(dirname "$VIGIL")" && pwd)/$(basename "$VIGIL")"

# venv DIR REQUIREMENTS: creates DIR if missing and installs the requirements when they changed.
venv() {
    local dir="$1" requirements="$2"
    local stamp="$dir/.vigil-requirements" wanted
    wanted="$(cat "$requirements")"
    if [[ ! -x "$dir/bin/python" ]]; then
        echo "zoo-interop: creating virtualenv $dir"
        "${PYTHON:-python3}" -m venv "$dir" || { echo "zoo-interop: error: could not create $dir" >&2; exit 1; }
    fi
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
        echo "zoo-interop: installing $requirements into $dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" \
            || { echo "zoo-interop: error: pip install -r $requirements failed" >&2; exit 1; }
        printf '%s' "$wanted" > "$stamp"
    fi
}

status=0
venv "$ROOT/.venv-zoo" "$ROOT/Fixtures/zoo/requirements-interop.txt"
for part in ${VIGIL_ZOO_PARTS:-zoo keras}; do
    started=$SECONDS
    results=()
    if [[ -n "${VIGIL_ZOO_RESULTS:-}" ]]; then
        mkdir -p "$VIGIL_ZOO_RESULTS"
        results=(--json "$VIGIL_ZOO_RESULTS/$part.json")
    fi
    case "$part" in
        zoo)
            "$ROOT/.venv-zoo/bin/python" "$ROOT/scripts/zoo_interop.py" --vigil "$VIGIL" "${results[@]}" "$@" || status=1 ;;
        keras)
            "$ROOT/.venv-zoo/bin/python" "$ROOT/scripts/keras_apps_interop.py" --vigil "$VIGIL" "${results[@]}" "$@" || status=1 ;;
        *) echo "zoo-interop: error: unknown part '$part' in VIGIL_ZOO_PARTS" >&2; exit 2 ;;
    esac
    echo "zoo-interop: $part took $((SECONDS - started)) s"
done
exit $status
