#!/usr/bin/env bash
# choreo set-up for a fresh Debian machine: installs everything the project needs, then builds.
#   1. ffmpeg (Debian package): non-native audio formats, video in and out.
#   2. ONNX Runtime 1.31.1: libonnxruntime.so from the PyPI wheel, unpacked into vendor/onnxruntime/
#      (the binary looks there by itself, relative to its own path).
#   3. Test footage of real people: vtest.avi, messi5.jpg and basketball1.png from Debian's
#      opencv-doc, unpacked into vendor/media/ (the .deb is a 96 MB download, 270 MB installed;
#      only these 8 MB are kept). Skipped when the package is installed system-wide.
#   4. The release build (target/release/choreo).
#   5. index/default from ../shared/data/tang2018 with the shipped encoder (when both are there).
# Re-running is cheap: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ORT_VERSION=1.31.1

step() { printf '\n== %s\n' "$*"; }

step "system packages (ffmpeg)"
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg
fi
ffmpeg -version | head -n1

step "ONNX Runtime $ORT_VERSION (PyPI wheel → vendor/onnxruntime)"
ORT_DIR="$ROOT/vendor/onnxruntime"
if [ ! -f "$ORT_DIR/libonnxruntime.so.$ORT_VERSION" ]; then
  PY=$(command -v python3 || command -v python)
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  "$PY" -m pip download -q --no-deps --only-binary=:all: "onnxruntime==$ORT_VERSION" -d "$TMP"
  WHEEL=$(ls "$TMP"/onnxruntime-*.whl | head -n1)
  mkdir -p "$ORT_DIR.partial"
  "$PY" - "$WHEEL" "$ORT_DIR.partial" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        base = os.path.basename(n)
        if n.startswith("onnxruntime/capi/") and base.startswith("libonnxruntime"):
            with z.open(n) as src, open(os.path.join(out, base), "wb") as dst:
                dst.write(src.read())
PY
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR.partial/libonnxruntime.so"
  rm -rf "$ORT_DIR" && mv "$ORT_DIR.partial" "$ORT_DIR"
fi
ls "$ORT_DIR"

step "test footage (Debian opencv-doc samples → vendor/media)"
MEDIA_DIR="$ROOT/vendor/media"
MEDIA_FILES="vtest.avi messi5.jpg basketball1.png"
SYS_MEDIA=/usr/share/doc/opencv-doc/examples/data
have_media() { for f in $MEDIA_FILES; do [ -f "$1/$f" ] || return 1; done; }
if have_media "$SYS_MEDIA"; then
  echo "found in $SYS_MEDIA"
elif ! have_media "$MEDIA_DIR"; then
  MTMP=$(mktemp -d)
  if ( cd "$MTMP" && { apt-get download opencv-doc >/dev/null 2>&1 || { apt-get update -qq && apt-get download opencv-doc >/dev/null; }; } ); then
    DEB=$(ls "$MTMP"/opencv-doc_*.deb | head -n1)
    mkdir -p "$MTMP/x" "$MEDIA_DIR"
    dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$MTMP/x" $(for f in $MEDIA_FILES; do echo "./usr/share/doc/opencv-doc/examples/data/$f"; done)
    for f in $MEDIA_FILES; do mv "$MTMP/x/usr/share/doc/opencv-doc/examples/data/$f" "$MEDIA_DIR/$f"; done
  else
    echo "warning: could not download opencv-doc; the tests on real footage will skip" >&2
  fi
  rm -rf "$MTMP"
fi
have_media "$SYS_MEDIA" || ls "$MEDIA_DIR"

step "release build"
cargo build --release --locked 2>&1 | tail -n 3
"$ROOT/target/release/choreo" doctor

step "default index (index/default from ../shared/data/tang2018 with the shipped encoder; rebuilt on every run, so an index of an older format version is replaced)"
CORPUS="$ROOT/../shared/data/tang2018"
if [ -d "$CORPUS" ] && [ -f "$ROOT/models/encoders.safetensors" ]; then
  "$ROOT/target/release/choreo" index build --corpus "$CORPUS" --model "$ROOT/models/encoders.safetensors" --out "$ROOT/index/default"
else
  echo "skipped: needs $CORPUS and models/encoders.safetensors"
fi

echo
echo "set-up done: target/release/choreo"
