#!/usr/bin/env bash
# Write a Jupyter kernel spec for tslab (TypeScript) into DIR/kernels/tslab (default: the user's
# Jupyter data folder). Debian's Jupyter has no `jupyter kernelspec install`, so the spec is written
# by hand; point Jupyter at DIR with JUPYTER_PATH=DIR when DIR is not a default location.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}"
mkdir -p "$dir/kernels/tslab"
cat > "$dir/kernels/tslab/kernel.json" <<JSON
{"argv": ["$root/node_modules/.bin/tslab", "kernel", "--config-path", "{connection_file}"], "display_name": "TypeScript (tslab)", "language": "typescript"}
JSON
echo "tslab kernel spec written to $dir/kernels/tslab"
