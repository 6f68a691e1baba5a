#!/usr/bin/env bash
# Execute every notebook headless (npm run test:notebooks): a failing cell fails the script.
# Needs Jupyter's nbconvert and nbclient (Debian: jupyter-nbconvert python3-nbclient python3-ipykernel)
# and the compiled library (dist/). The executed copies go to a temporary folder; the notebooks
# in the repository are left as they are.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v jupyter-nbconvert >/dev/null || { echo "jupyter-nbconvert not found: apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel" >&2; exit 1; }
[ -f dist/index.js ] || npx tsc -p tsconfig.json
kernels="$(mktemp -d)"
out="$(mktemp -d)"
trap 'rm -rf "$kernels" "$out"' EXIT
bash notebooks/install-kernel.sh "$kernels" >/dev/null
for notebook in notebooks/*.ipynb; do
  start=$(date +%s)
  JUPYTER_PATH="$kernels" jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 --output-dir "$out" "$notebook" 2>&1 | grep -v '^\[NbConvertApp\]' || true
  [ -f "$out/$(basename "$notebook")" ] || { echo "FAILED: $notebook" >&2; exit 1; }
  echo "ok: $notebook ($(( $(date +%s) - start )) s)"
done
