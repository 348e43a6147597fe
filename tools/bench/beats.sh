#!/usr/bin/env bash
# Beat tracking: choreo's trackers (beatnet = default, dp, aubio) beside librosa.beat.beat_track and
# madmom (where installed), mean F-measure (±70 ms) on the beats-dev tuning split (16 files), the
# beats-dev report split (7 files) and the 3 clips of data/beats, plus wall seconds per minute of audio,
# all in one run.
#   SETS=tuning,report,clips   which sets (default all three)
#   PER_FILE=1                 also print every file's F
#   PYTHON=...                 interpreter with numpy, soundfile, librosa (and optionally madmom)
#   CHOREO_BEATS=CMD           command to run instead of `target/release/choreo beats`
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
"$PY" -c "import librosa, numpy, soundfile" 2>/dev/null || "$PY" -m pip install -q librosa soundfile

if [ -n "${CHOREO_BEATS:-}" ]; then
  CMD=$CHOREO_BEATS
else
  cargo build --release -q --locked
  CMD="target/release/choreo beats"
fi
echo "tracker: $CMD"
exec "$PY" tools/bench/beats.py --shared ../shared/data --cmd "$CMD" --sets "${SETS:-tuning,report,clips}" ${PER_FILE:+--per-file}
