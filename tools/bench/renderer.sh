#!/usr/bin/env bash
# Learned-renderer speed (issue 7), printed, not asserted: frames/s of a generator of pix2pixHD's
# global size (ngf 64, 4 downsamplings, 9 residual blocks: 182 M parameters, a 730 MB ONNX file
# with random weights, built by tools/renderer/onnx_graphs.py with the `onnx` package; speed does
# not depend on the weights) through `choreo render --renderer onnx`, at 256² and 512².
# Two figures per size: the generator alone (time inside ONNX Runtime) and the whole pipeline
# (pose-map drawing + generator + H.264/AAC encoding). Goal on a GPU: >= 30 frames/s at 512²
# (tools/bench/renderer_gpu.sh runs this with CUDA).
#
# Environment: PYTHON (with numpy + onnx; default python3), DEVICE (cpu|cuda|auto, default cpu),
# STRICT=1 (fail instead of falling back to CPU), BATCH (frames per call, default 4),
# FRAMES_256 / FRAMES_512 (default 8 / 4 on CPU, 240 / 240 otherwise), THREADS (0 = all cores but
# one), CARGO_FEATURES (e.g. cuda), MODEL_DIR (where the 730 MB model is kept, default
# target/bench-renderer).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cpu}
BATCH=${BATCH:-4}
THREADS=${THREADS:-0}
if [ "$DEVICE" = cpu ]; then F256=${FRAMES_256:-8}; F512=${FRAMES_512:-4}; else F256=${FRAMES_256:-240}; F512=${FRAMES_512:-240}; fi
MODEL_DIR=${MODEL_DIR:-$ROOT/target/bench-renderer}
"$PYTHON" -c "import numpy, onnx" 2>/dev/null || { echo "$PYTHON lacks numpy/onnx: pip install numpy onnx (or set PYTHON)"; exit 1; }
if [ -n "${CARGO_FEATURES:-}" ]; then cargo build --release -q --features "$CARGO_FEATURES"; else cargo build --release -q; fi
BIN="$ROOT/target/release/choreo"
mkdir -p "$MODEL_DIR"
MODEL="$MODEL_DIR/pix2pixhd_global.onnx"
if [ ! -f "$MODEL" ]; then
  "$PYTHON" - "$MODEL" <<'PY'
import os, sys
sys.path.insert(0, "tools/renderer")
import onnx
from onnx_graphs import global_generator, param_count
m = global_generator(ngf=64, n_down=4, n_blocks=9, size=None, seed=0)
onnx.save(m, sys.argv[1] + ".tmp")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print(f"built {sys.argv[1]}: {param_count(m) / 1e6:.1f} M parameters, {os.path.getsize(sys.argv[1]) / 1e6:.0f} MB")
PY
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
MAXF=$(( F256 > F512 ? F256 : F512 ))
"$PYTHON" tools/renderer/synth.py --poses-out "$TMP/dance.json" --frames "$MAXF"
ffmpeg -v error -nostdin -y -f lavfi -i "sine=frequency=440:duration=30" -ac 2 "$TMP/song.ogg"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)$(command -v nvidia-smi >/dev/null && echo ", $(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)")"
STRICT_FLAG=(); [ "${STRICT:-0}" = 1 ] && STRICT_FLAG=(--strict)
for size in 256 512; do
  n=$([ "$size" = 256 ] && echo "$F256" || echo "$F512")
  "$PYTHON" - "$TMP/dance.json" "$TMP/cut.json" "$n" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["frames"] = s["frames"][: int(sys.argv[3])]; json.dump(s, open(sys.argv[2], "w"))
PY
  out=$("$BIN" render --poses "$TMP/cut.json" --song "$TMP/song.ogg" --out "$TMP/r.mp4" --size "$size" --renderer onnx \
        --generator "$MODEL" --device "$DEVICE" "${STRICT_FLAG[@]}" --batch "$BATCH" --threads "$THREADS" 2>&1) || { echo "$out"; exit 1; }
  ran=$(echo "$out" | grep '^generator ' | sed "s|$MODEL_DIR/||")
  last=$(echo "$out" | tail -n1)
  gen=$(echo "$last" | grep -o 'generator [0-9.]* ms/frame ([0-9.]* frames/s)')
  all=$(echo "$last" | grep -o '([0-9.]* frames/s' | head -n1 | tr -d '(' | cut -d' ' -f1)
  echo "pix2pixHD global ${size}x${size}, $n frames: $gen; whole render $all frames/s   [$ran]"
done
