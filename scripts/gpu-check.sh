#!/usr/bin/env bash
# Unattended GPU check for an NVIDIA machine (H100/H200) WITHOUT internet access: which TF.js
# backends run there, on which device or adapter, and bench-gpu (naive, IPS, DLA; MLP 512-256-128;
# batches of 256 to 8192 queries) on each, as ratios to wasm with the losses checked against wasm.
# Writes doctor.txt, bench-gpu.txt, bench-gpu.json and bench-gpu-rows.jsonl (rows as measured) and
# vulkan.txt to $OUT (default ./gpu-check-out). Finishes in well under 8 minutes: the Node part is
# stopped after GPU_CHECK_SECONDS (default 420), keeping the rows measured by then.
#
# Brought along (nothing is fetched): dist/ (npx tsc -p tsconfig.json) and .gpu-bundle/bundle.tar.xz
# made here by scripts/gpu-bundle.sh: a Node binary, the node_modules subset, the libvulkan1 .deb.
# From the machine itself it needs the NVIDIA driver's Vulkan ICD: nvidia_icd.json (searched in the
# usual folders and /usr/local/nvidia) or, failing that, libGLX_nvidia.so.0, for which it writes an ICD
# json of its own. tfjs-node-gpu is not brought: its libtensorflow (TF 2.9.1) needs CUDA 11.2 and
# cuDNN 8.1, several hundred MB that the carried tree cannot hold (see README "Backends").
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
export OUT
work=$(mktemp -d /tmp/clicklab-gpu-check.XXXXXX)
log() { echo "gpu-check: $*" | tee -a "$OUT/vulkan.txt" >&2; }

# 1. Node and the packages: the carried bundle unless this checkout already has them.
if [ -f .gpu-bundle/bundle.tar.xz ]; then
  tar -C "$work" -xJf .gpu-bundle/bundle.tar.xz
fi
NODE=node
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
  [ -x "$work/node" ] || { log "no Node ≥ 20 here and no .gpu-bundle/bundle.tar.xz (make it with scripts/gpu-bundle.sh)"; exit 2; }
  NODE="$work/node"
fi
if [ ! -f node_modules/@tensorflow/tfjs/package.json ]; then
  [ -d "$work/node_modules" ] || { log "node_modules missing and no bundle"; exit 2; }
  rm -f node_modules 2>/dev/null   # a symbolic link to the shared install does not travel
  ln -s "$work/node_modules" node_modules
fi
[ -f dist/bench/gpu.js ] || { log "dist/ missing: build with npx tsc -p tsconfig.json and carry dist"; exit 2; }
log "node $("$NODE" --version)"

# 2. The Vulkan loader: the system's, else the carried libvulkan1 .deb unpacked under /tmp.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  deb=$(ls "$work"/debs/libvulkan1_*.deb 2>/dev/null | head -n1)
  if [ -n "$deb" ]; then
    mkdir -p "$work/vulkan"
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$deb" "$work/vulkan"; else (cd "$work/vulkan" && ar x "$deb" && tar -xf data.tar.*); fi
    export LD_LIBRARY_PATH="$work/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    log "Vulkan loader from $(basename "$deb")"
  else
    log "no libvulkan.so.1 on the system and none carried: WebGPU will find no adapter"
  fi
else
  log "Vulkan loader: $(ldconfig -p | grep -m1 'libvulkan.so.1')"
fi

# 3. The NVIDIA ICD: the driver's json, else one written for libGLX_nvidia.so.0 (the driver's Vulkan library).
icd=""
for f in "${VK_DRIVER_FILES:-}" "${VK_ICD_FILENAMES:-}" /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json \
         /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/local/share/vulkan/icd.d/nvidia_icd*.json; do
  if [ -n "$f" ] && [ -f "$f" ]; then icd=$f; break; fi
done
if [ -z "$icd" ]; then
  glx=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
  [ -z "$glx" ] && glx=$(find /usr/local/nvidia /usr/lib /usr/lib64 -name 'libGLX_nvidia.so.0' 2>/dev/null | head -n1)
  if [ -n "$glx" ]; then
    icd="$work/nvidia_icd.json"
    printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" > "$icd"
    log "no nvidia_icd.json found; wrote $icd for $glx"
  else
    log "no NVIDIA Vulkan ICD (nvidia_icd.json or libGLX_nvidia.so.0): the container may lack the driver's 'graphics' capability"
  fi
fi
if [ -n "$icd" ]; then
  export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"   # the loader's new and old names
  log "Vulkan ICD: $icd"
fi
# Prefer the NVIDIA adapter by name when Dawn lists several (CLICKLAB_DAWN_OPTIONS=adapter=... overrides).
export CLICKLAB_DAWN_OPTIONS="${CLICKLAB_DAWN_OPTIONS:-backend=vulkan}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /' | tee -a "$OUT/vulkan.txt" >&2

# 4. The backends and the benchmark.
TF_CPP_MIN_LOG_LEVEL=0 timeout "${GPU_CHECK_SECONDS:-420}" "$NODE" scripts/gpu-check.mjs 2> >(grep -v 'artificially reduced' >> "$OUT/stderr.txt")
status=$?
[ $status -eq 124 ] && log "stopped after ${GPU_CHECK_SECONDS:-420} s: the rows measured so far are in bench-gpu-rows.jsonl"
rm -rf "$work"
exit $status
