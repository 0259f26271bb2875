#!/usr/bin/env bash
# Builds the DocC documentation of every library product's targets (swift-docc-plugin), with DocC
# warnings as errors. Archives: .build/plugins/Swift-DocC/outputs/<Target>.doccarchive.
#
#   scripts/docs.sh            # every target of every library product
#   scripts/docs.sh VigilRuntime
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if (($#)); then
    targets=("$@")
else
    # The targets of the library products, from the manifest itself.
    mapfile -t targets < <(swift package dump-package | python3 -c '
import json, sys
products = json.load(sys.stdin)["products"]
names = sorted({t for p in products if "library" in p["type"] for t in p["targets"]})
print("\n".join(names))')
fi
arguments=()
for target in "${targets[@]}"; do arguments+=(--target "$target"); done
echo "docs: ${targets[*]}" >&2
swift package generate-documentation "${arguments[@]}" --warnings-as-errors
