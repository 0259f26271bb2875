#!/usr/bin/env bash
# Usage: scripts/ort-interop.sh PATH_TO_VIGIL_BINARY [extra args for scripts/ort_interop.py, e.g. --only NAME]
#
# Creates (if missing) a virtualenv at .venv/ in the repository root, installs
# Fixtures/requirements.txt into it, and runs scripts/ort_interop.py --vigil PATH.
# Environment: PYTHON (default python3) is used to create the virtualenv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then
    echo "usage: $0 PATH_TO_VIGIL_BINARY [--only NAME ...]" >&2
    exit 2
fi
VIGIL="$1"; shift
[[ -x "$VIGIL" ]] || { echo "ort-interop: error: vigil binary not found or not executable: $VIGIL" >&2; exit 2; }
VIGIL="$(cd "$(dirname "$VIGIL")" && pwd)/$(basename "$VIGIL")"

VENV="$ROOT/.venv"
REQ="$ROOT/Fixtures/requirements.txt"
STAMP="$VENV/.vigil-requirements"
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "ort-interop: creating virtualenv $VENV"
    "${PYTHON:-python3}" -m venv "$VENV" || { echo "ort-interop: error: could not create $VENV" >&2; exit 1; }
fi
if ! cmp -s "$REQ" "$STAMP"; then
    echo "ort-interop: installing $REQ into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" \
        || { echo "ort-interop: error: pip install -r $REQ failed" >&2; exit 1; }
    cp "$REQ" "$STAMP"
fi

exec "$VENV/bin/python" "$ROOT/scripts/ort_interop.py" --vigil "$VIGIL" "$@"
