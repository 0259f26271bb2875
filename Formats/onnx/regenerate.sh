#!/usr/bin/env bash
# Regenerates the protobuf-c code for Vigil's ONNX schema.
#   Formats/onnx/regenerate.sh          rewrite protobuf-c/ from onnx.proto
#   Formats/onnx/regenerate.sh --check  exit 1 when the committed code is stale
# Needs protoc-c (Debian: protobuf-c-compiler).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && protoc-c --c_out="$tmp" onnx.proto)
if [[ "${1:-}" == "--check" ]]; then
  if cmp -s "$tmp/onnx.pb-c.c" "$here/protobuf-c/onnx.pb-c.c" &&
     cmp -s "$tmp/onnx.pb-c.h" "$here/protobuf-c/include/onnx.pb-c.h"; then
    echo "protobuf-c code is up to date with onnx.proto"
  else
    echo "error: Formats/onnx/protobuf-c is stale; run Formats/onnx/regenerate.sh" >&2
    exit 1
  fi
else
  cp "$tmp/onnx.pb-c.c" "$here/protobuf-c/onnx.pb-c.c"
  cp "$tmp/onnx.pb-c.h" "$here/protobuf-c/include/onnx.pb-c.h"
  echo "regenerated Formats/onnx/protobuf-c from onnx.proto"
fi
