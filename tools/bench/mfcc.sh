#!/usr/bin/env bash
# MFCC speed: choreo (Rust, rustfft, rayon) vs python_speech_features on the same 4-minute song,
# in the same run. The song is a Tang2018 track looped to 240 s, decoded to 44.1 kHz mono wav.
# Goal (issue 2): choreo ≥ 20× faster.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c "import python_speech_features, scipy" 2>/dev/null || python3 -m pip install -q numpy scipy python_speech_features
SONG=../shared/data/tang2018/DANCE_W_1/audio.mp3
WAV=$(mktemp --suffix=.wav)
trap 'rm -f "$WAV"' EXIT
ffmpeg -v error -y -stream_loop 1 -i "$SONG" -t 240 -ac 1 -ar 44100 -c:a pcm_s16le "$WAV"
RUST=$(cargo bench -q --bench mfcc -- "$WAV" 2>/dev/null | grep choreo_mfcc_seconds)
PY=$(python3 tools/bench/mfcc.py "$WAV")
echo "$RUST"
echo "$PY"
r=$(echo "$RUST" | awk '{print $2}'); p=$(echo "$PY" | awk '{print $2}')
python3 -c "print(f'4-min song: choreo {float(\"$r\")*1000:.1f} ms, python_speech_features {float(\"$p\")*1000:.1f} ms, speed-up {float(\"$p\")/float(\"$r\"):.1f}x (goal >= 20x)')"
