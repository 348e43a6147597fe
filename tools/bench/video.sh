#!/usr/bin/env bash
# Video speed (issue 6), printed, not asserted:
#   - MoveNet pose extraction frames/s, thunder and lightning, CPU (`choreo poses --video` on 40 s
#     of opencv-doc's vtest.avi at its own 10 fps: decode + crop/resize + inference, whole pipeline).
#     Goals: thunder ≥ 12, lightning ≥ 60.
#   - Skeleton render + H.264/AAC encode frames/s at 512² (`choreo render` of those poses at 24 fps).
#     Goal ≥ 100.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VTEST=""
for d in "$ROOT/vendor/media" /usr/share/doc/opencv-doc/examples/data; do
  [ -f "$d/vtest.avi" ] && VTEST="$d/vtest.avi" && break
done
[ -n "$VTEST" ] || { echo "vtest.avi not found: run tools/setup.sh (it unpacks opencv-doc's samples into vendor/media)"; exit 1; }
cargo build --release -q
BIN="$ROOT/target/release/choreo"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ffmpeg -v error -nostdin -y -i "$VTEST" -t 40 -c copy "$TMP/clip.avi"
ffmpeg -v error -nostdin -y -f lavfi -i "sine=frequency=440:duration=120" -ac 2 "$TMP/song.ogg"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
for model in thunder lightning; do
  line=$("$BIN" poses --video "$TMP/clip.avi" --model "$model" --device cpu --out "$TMP/$model.json" 2>&1 | grep 'frames/s')
  fps=$(echo "$line" | grep -o '[0-9.]* frames/s' | head -n1 | cut -d' ' -f1)
  goal=$([ "$model" = thunder ] && echo 12 || echo 60)
  echo "movenet_$model: $fps frames/s (goal >= $goal)   [$(echo "$line" | grep -o 'pose model [^:]*')]"
done
line=$("$BIN" render --poses "$TMP/lightning.json" --song "$TMP/song.ogg" --out "$TMP/dance.mp4" --size 512 2>&1 | tail -n1)
fps=$(echo "$line" | grep -o '([0-9.]* frames/s)' | tr -d '()' | cut -d' ' -f1)
echo "render skeleton 512x512 + encode: $fps frames/s (goal >= 100)   [$(echo "$line" | sed "s|$TMP/||")]"
