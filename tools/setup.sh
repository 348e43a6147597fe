#!/usr/bin/env bash
# choreo set-up for a fresh Debian machine: installs everything the project needs, then builds.
#   1. ffmpeg (Debian package): non-native audio formats, video in and out; chromium (Debian
#      package, for the browser test of `choreo view`) and npm (to fetch three.js) when missing.
#   2. ONNX Runtime 1.31.1: libonnxruntime.so from the PyPI wheel, unpacked into vendor/onnxruntime/
#      (the binary looks there by itself, relative to its own path).
#   3. Test footage of real people: vtest.avi, messi5.jpg and basketball1.png from Debian's
#      opencv-doc, unpacked into vendor/media/ (the .deb is a 96 MB download, 270 MB installed;
#      only these 8 MB are kept). Skipped when the package is installed system-wide.
#   4. three.js 0.185.0 (npm registry, MIT) into vendor/three/: the files `choreo view` inlines.
#   5. The release build (target/release/choreo).
#   6. index/default from ../shared/data/tang2018 with the shipped encoder (when both are there).
#   7. vendor/venv-cluster: a Python venv with ray 2.60.0 and tqdm (PyPI wheels) for the cluster
#      index build (tools/cluster/); about 25 s and 290 MB the first time, created only if missing.
# Re-running is cheap: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ORT_VERSION=1.31.1
RAY_VERSION=2.60.0
THREE_VERSION=0.185.0   # the last release with minified builds; src/render/view.rs names it too
THREE_SHA256=5f52a93ffb7d5bd87735d414fad83709af45ddcb77f8c1198dda98971074433d

step() { printf '\n== %s\n' "$*"; }

step "system packages (ffmpeg, chromium, npm)"
PKGS=""
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || PKGS="$PKGS ffmpeg"
command -v chromium >/dev/null 2>&1 || PKGS="$PKGS chromium"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
if [ -n "$PKGS" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # chromium alone: 22 s here with the package lists current (download and unpack).
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PKGS
fi
ffmpeg -version | head -n1
chromium --version 2>/dev/null || echo "chromium: not installed (the browser test of choreo view will skip)"

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

step "three.js $THREE_VERSION (npm registry → vendor/three)"
# The files `choreo view` inlines into its page: the core and module builds, OrbitControls, the
# MIT licence. npm checks the tarball against the registry's integrity hash; so do we (pinned).
THREE_DIR="$ROOT/vendor/three"
if [ "$(cat "$THREE_DIR/VERSION" 2>/dev/null)" != "$THREE_VERSION" ]; then
  TTMP=$(mktemp -d)
  ( cd "$TTMP" && npm pack --silent "three@$THREE_VERSION" >/dev/null )
  TGZ="$TTMP/three-$THREE_VERSION.tgz"
  GOT=$(sha256sum "$TGZ" | cut -d' ' -f1)
  [ "$GOT" = "$THREE_SHA256" ] || { echo "three-$THREE_VERSION.tgz: sha256 $GOT, expected $THREE_SHA256" >&2; exit 1; }
  tar -xzf "$TGZ" -C "$TTMP" package/LICENSE package/build/three.core.min.js package/build/three.module.min.js \
    package/examples/jsm/controls/OrbitControls.js
  rm -rf "$THREE_DIR.partial" && mkdir -p "$THREE_DIR.partial"
  cp "$TTMP/package/LICENSE" "$TTMP/package/build/three.core.min.js" "$TTMP/package/build/three.module.min.js" \
    "$TTMP/package/examples/jsm/controls/OrbitControls.js" "$THREE_DIR.partial/"
  echo "$THREE_VERSION" > "$THREE_DIR.partial/VERSION"
  rm -rf "$THREE_DIR" && mv "$THREE_DIR.partial" "$THREE_DIR"
  rm -rf "$TTMP"
fi
ls "$THREE_DIR"

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

step "cluster build venv (ray $RAY_VERSION → vendor/venv-cluster)"
VENV="$ROOT/vendor/venv-cluster"
if ! ls -d "$VENV"/lib/python3*/site-packages/ray-$RAY_VERSION.dist-info "$VENV"/lib/python3*/site-packages/tqdm-4.67.1.dist-info >/dev/null 2>&1; then
  PY=$(command -v python3 || command -v python)
  rm -rf "$VENV"
  # A half-made venv is removed (and the check above redoes it on the next run).
  "$PY" -m venv "$VENV" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: "ray==$RAY_VERSION" "tqdm==4.67.1" || { rm -rf "$VENV"; echo "error: could not install ray $RAY_VERSION into $VENV" >&2; exit 1; }
fi
echo "ray $RAY_VERSION in $VENV"

echo
echo "set-up done: target/release/choreo"
