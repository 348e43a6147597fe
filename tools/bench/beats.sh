#!/usr/bin/env bash
# Beat tracking: choreo's trackers (dp, and aubio with every onset function) against
# librosa.beat.beat_track, F-measure (±70 ms) on the annotated clips in ../shared/data/beats,
# all in the same run. Prints one row per file and the mean.
#   BEATS_DATA=DIR   other annotated clips (NAME.wav + NAME.beats)
#   CHOREO_BEATS=CMD command to run instead of `target/release/choreo beats`
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${BEATS_DATA:-../shared/data/beats}
PY=${PYTHON:-python3}
"$PY" -c "import librosa, numpy" 2>/dev/null || "$PY" -m pip install -q librosa

if [ -n "${CHOREO_BEATS:-}" ]; then
  CMD=$CHOREO_BEATS
else
  cargo build --release -q
  CMD="target/release/choreo beats"
fi
echo "tracker: $CMD"
exec "$PY" tools/bench/beats.py --data "$DATA" --cmd "$CMD"
