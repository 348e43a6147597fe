#!/usr/bin/env bash
# tools/bench/renderer.sh on a CUDA GPU: the pix2pixHD-global-size generator at 256² and 512²
# through `choreo render --renderer onnx --device cuda --strict` (fails rather than falling back
# to CPU). Goal: >= 30 frames/s at 512² (the "generator" figure; the whole-render figure adds
# H.264 encoding on the CPU).
#
# Needs, on the GPU machine (which may have no internet: stage these beforehand):
#   - ONNX Runtime 1.31.1 with the CUDA execution provider: the onnxruntime-gpu 1.31.1 wheel
#     (ORT_GPU_WHEEL=path/to/onnxruntime_gpu-1.31.1-*.whl), or an unpacked folder holding
#     libonnxruntime.so.1.31.1 and libonnxruntime_providers_{shared,cuda}.so (ORT_GPU_DIR=...).
#   - The CUDA 12 runtime, cuBLAS and cuDNN 9 that build links against, on the loader path
#     (system CUDA, or the pip nvidia-* wheels: NVIDIA_SITE=.../site-packages/nvidia adds their lib/).
#   - python3 with numpy + onnx (to build the benchmark model), cargo, ffmpeg.
# Environment as renderer.sh (BATCH default 8 here, FRAMES_256 / FRAMES_512 default 240).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ORT_GPU_DIR=${ORT_GPU_DIR:-$ROOT/vendor/onnxruntime-gpu}
if [ ! -f "$ORT_GPU_DIR/libonnxruntime.so.1.31.1" ]; then
  [ -n "${ORT_GPU_WHEEL:-}" ] && [ -f "$ORT_GPU_WHEEL" ] || { echo "set ORT_GPU_WHEEL to the onnxruntime-gpu 1.31.1 wheel, or ORT_GPU_DIR to its unpacked capi folder"; exit 1; }
  mkdir -p "$ORT_GPU_DIR"
  TMPW=$(mktemp -d)
  python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$ORT_GPU_WHEEL" "$TMPW"
  cp "$TMPW"/onnxruntime/capi/libonnxruntime*.so* "$ORT_GPU_DIR"/
  rm -rf "$TMPW"
  [ -f "$ORT_GPU_DIR/libonnxruntime.so.1.31.1" ] || { echo "$ORT_GPU_WHEEL: no libonnxruntime.so.1.31.1 in onnxruntime/capi"; exit 1; }
fi
if [ -n "${NVIDIA_SITE:-}" ]; then
  for d in "$NVIDIA_SITE"/*/lib; do LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"; done
  export LD_LIBRARY_PATH
fi
export CHOREO_ORT_LIB="$ORT_GPU_DIR/libonnxruntime.so.1.31.1"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || { echo "no GPU (nvidia-smi failed)"; exit 1; }
DEVICE=cuda STRICT=1 BATCH=${BATCH:-8} FRAMES_256=${FRAMES_256:-240} FRAMES_512=${FRAMES_512:-240} CARGO_FEATURES=cuda \
  exec tools/bench/renderer.sh
