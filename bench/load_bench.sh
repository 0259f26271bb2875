#!/usr/bin/env bash
# Usage: bench/load_bench.sh PATH_TO_VIGIL_BINARY [extra args for bench/load_bench.py]
#        bench/load_bench.sh --onnx-only [extra args]
#
# Uses (creating if needed) the virtualenv .venv/ in the repository root with
# Fixtures/requirements.txt installed, then runs bench/load_bench.py. The ~500 MB
# benchmark model is generated once into .cache/bench/.
# Environment: PYTHON (default python3) is used to create the virtualenv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then
    echo "usage: $0 PATH_TO_VIGIL_BINARY [--runs N] [--json PATH]" >&2
    echo "       $0 --onnx-only [--runs N]" >&2
    exit 2
fi
ARGS=()
if [[ "$1" == --onnx-only ]]; then
    ARGS+=(--onnx-only); shift
else
    VIGIL="$1"; shift
    [[ -x "$VIGIL" ]] || { echo "load_bench: error: vigil binary not found or not executable: $VIGIL" >&2; exit 2; }
    ARGS+=(--vigil "$(cd "$(dirname "$VIGIL")" && pwd)/$(basename "$VIGIL")")
fi

VENV="$ROOT/.venv"
REQ="$ROOT/Fixtures/requirements.txt"
STAMP="$VENV/.vigil-requirements"
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "load_bench: creating virtualenv $VENV"
    "${PYTHON:-python3}" -m venv "$VENV" || { echo "load_bench: error: could not create $VENV" >&2; exit 1; }
fi
if ! cmp -s "$REQ" "$STAMP"; then
    echo "load_bench: installing $REQ into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" \
        || { echo "load_bench: error: pip install -r $REQ failed" >&2; exit 1; }
    cp "$REQ" "$STAMP"
fi

exec "$VENV/bin/python" "$ROOT/bench/load_bench.py" "${ARGS[@]}" "$@"
