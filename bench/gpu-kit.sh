#!/usr/bin/env bash
# The GPU machine (the `device` tool: x86-64, NVIDIA driver with Vulkan, Python and PyTorch, no
# Node, no network) runs bench/gpu.ts from a kit packed here, small enough to travel with the
# working tree (64 MiB in all):
#   bash bench/gpu-kit.sh              packs .gpu-kit/: this node (xz), node_modules without what
#                                      the benches never load (other platforms' onnxruntime,
#                                      linters, Chromium drivers), and Debian's Vulkan/EGL loaders
#                                      (onnxruntime's WebGPU EP reaches the GPU through Vulkan)
#   bash bench/gpu-kit.sh --run [ep] [sizes] [seconds]
#                                      there, with carry [".gpu-kit"]: unpacks, runs bench/gpu.ts
#                                      (default webgpu, 256,1024, 8 s a measure), copies
#                                      bench/results/gpu-*.json and the log to $OUT; then
#                                      bench/gpu_torch.py (PyTorch eager and CUDA graphs) where torch has CUDA
# Checked on a CPU machine with `bash bench/gpu-kit.sh --run cpu 64 2` after packing.
set -euo pipefail
cd "$(dirname "$0")/.."
kit=.gpu-kit
if [ "${1:-}" = "--run" ]; then
  ep=${2:-webgpu}
  sizes=${3:-256,1024}
  seconds=${4:-8}
  if [ -n "$(ls $kit/*.deb 2>/dev/null)" ] && ! ldconfig -p | grep -q libvulkan; then
    for f in $kit/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  mkdir -p /tmp/netbend-kit
  [ -x /tmp/netbend-kit/node ] || { xz -dc $kit/node.xz > /tmp/netbend-kit/node && chmod +x /tmp/netbend-kit/node; }
  [ -d node_modules/onnxruntime-node ] || tar -xJf $kit/modules.tar.xz
  export PATH=/tmp/netbend-kit:$PATH
  out=${OUT:-/tmp/netbend-kit/out}
  mkdir -p "$out"
  set -o pipefail
  node --import tsx bench/gpu.ts --ep "$ep" --sizes "$sizes" --seconds "$seconds" 2>&1 | tee "$out/gpu-bench.log"
  # PyTorch beside it, on the same generated models, where there is a CUDA torch.
  if python3 -c 'import torch, onnx, onnxruntime; assert torch.cuda.is_available()' 2>/dev/null; then
    models=$(for s in ${sizes//,/ }; do echo "/tmp/netbend-gpu-models/stylegan2-$s.onnx"; done)
    # shellcheck disable=SC2086
    PYTHONUNBUFFERED=1 python3 bench/gpu_torch.py $models --seconds "$seconds" 2>&1 | tee -a "$out/gpu-bench.log"
  fi
  cp bench/results/gpu-*.json "$out"/
  exit 0
fi
grep -qx '/.gpu-kit/' .git/info/exclude 2>/dev/null || echo '/.gpu-kit/' >> .git/info/exclude
rm -rf $kit && mkdir -p $kit /tmp/amd64/partial
xz -T2 -6 -c "$(command -v node)" > $kit/node.xz
tar -cJf $kit/modules.tar.xz \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  --exclude='node_modules/@biomejs' --exclude='node_modules/@bufbuild/buf*' --exclude='node_modules/@bufbuild/protoc-gen-es' \
  --exclude='node_modules/@typescript' --exclude='node_modules/typescript' --exclude='node_modules/playwright-core' \
  --exclude='node_modules/electron' --exclude='node_modules/@types' --exclude='node_modules/@julusian' \
  node_modules
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update >/dev/null && (cd $kit && apt-get $o download libvulkan1 libegl1 libglvnd0 >/dev/null)
du -sh $kit $kit/*
