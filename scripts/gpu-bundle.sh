#!/usr/bin/env bash
# Pack what scripts/gpu-check.sh needs on a GPU machine without internet access into one archive,
# .gpu-bundle/bundle.tar.xz (git-ignored through .git/info/exclude; about 35 MB):
#   node                 this machine's Node binary (the GPU image has Python and CUDA, no Node)
#   node_modules/        only the packages that the backends and bench-gpu load: the TF.js packages
#                        (package.json, the Node bundle named by "main", the wasm binaries), long,
#                        seedrandom, and webgpu with its linux-x64 Dawn build alone
#   debs/libvulkan1_*.deb  the Vulkan loader (Dawn dlopens libvulkan.so.1; the NVIDIA driver brings
#                        only its ICD, libGLX_nvidia.so.0 and nvidia_icd.json)
# Run here after `npx tsc -p tsconfig.json`; dist/ travels beside the archive (also git-ignored).
# Needs apt-get with network access for the .deb (Debian bookworm's libvulkan1 1.3.239).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/bench/gpu.js ] || { echo "gpu-bundle: build first (npx tsc -p tsconfig.json)" >&2; exit 1; }
grep -qx '/.gpu-bundle/' .git/info/exclude 2>/dev/null || echo '/.gpu-bundle/' >> "$(git rev-parse --git-path info/exclude)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/node_modules" "$stage/debs"
cp -L "$(command -v node)" "$stage/node"
copy() { # copy <package> <paths inside it...>
  local pkg=$1; shift
  for f in package.json "$@"; do
    mkdir -p "$stage/node_modules/$pkg/$(dirname "$f")"
    cp -rL "node_modules/$pkg/$f" "$stage/node_modules/$pkg/$f"
  done
}
for pkg in tfjs tfjs-core tfjs-backend-cpu tfjs-backend-webgl tfjs-backend-webgpu tfjs-converter tfjs-data tfjs-layers; do
  copy "@tensorflow/$pkg" "$(node -p "require('./node_modules/@tensorflow/$pkg/package.json').main")"
done
copy @tensorflow/tfjs-backend-wasm dist/tf-backend-wasm.node.js dist/tfjs-backend-wasm.wasm dist/tfjs-backend-wasm-simd.wasm dist/tfjs-backend-wasm-threaded-simd.wasm
copy long src dist index.js
copy seedrandom index.js seedrandom.js lib
copy webgpu index.js dist/linux-x64/dawn.node
(cd "$stage/debs" && apt-get download libvulkan1 >/dev/null)
mkdir -p .gpu-bundle
tar -C "$stage" -cf - node node_modules debs | xz -T2 -6 > .gpu-bundle/bundle.tar.xz
ls -la .gpu-bundle/bundle.tar.xz
echo "carry .gpu-bundle and dist to the GPU machine, then run scripts/gpu-check.sh there"
