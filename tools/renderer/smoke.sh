#!/usr/bin/env bash
# The learned renderer end to end on CPU, in about a minute: train.py --smoke --face (a synthetic
# target person: no real video is available offline) exports a generator and a face model, and
# `choreo render --renderer onnx` renders 4 s of the procedural dancer with them into an mp4.
# Needs PyTorch (tools/renderer/requirements.txt; PYTHON=... to pick the interpreter). Not part
# of tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
cargo build --release -q
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
start=$(date +%s.%N)
"$PYTHON" tools/renderer/train.py --smoke --face --out "$TMP/models/smoke.onnx" 2>&1 | grep -v -i 'warn\|^  '
trained=$(date +%s.%N)
"$PYTHON" tools/renderer/synth.py --poses-out "$TMP/dance.json" --frames 96 --seed 1
ffmpeg -v error -nostdin -y -f lavfi -i "sine=frequency=440:duration=4" -ac 2 "$TMP/song.ogg"
target/release/choreo render --poses "$TMP/dance.json" --song "$TMP/song.ogg" --out "$TMP/smoke.mp4" --size 256 \
  --renderer onnx --generator "$TMP/models/smoke.onnx" --face "$TMP/models/smoke_face.onnx" --device cpu
ffprobe -v error -show_entries stream=codec_name,width,height -show_entries format=duration -of compact=p=0 "$TMP/smoke.mp4"
[ -n "${KEEP:-}" ] && cp "$TMP/smoke.mp4" "$TMP/models/"* "$KEEP"/
echo "smoke: training + export $(awk "BEGIN{printf \"%.1f\", $trained - $start}") s; render OK"
