#!/usr/bin/env bash
# Encoder figures (issue 3): trains from scratch on the full Tang2018 corpus with the shipped
# settings, timed, into a scratch folder (models/ is left alone), and prints the test-split table:
# DanceIt's distances and correlation accuracy, Recall@1/@10, genre precision@10 and the mean rank
# of the true pose, beside the random-ranking and untrained-encoder baselines measured in the same
# run. The shipped models/encoders.* come from exactly this command (same seed → same weights).
# Pass `--out-dir DIR` to keep the weights and report (e.g. `--out-dir models` to refresh them).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=""
if [[ "${1:-}" == "--out-dir" ]]; then OUT="$2"; fi
if [[ -z "$OUT" ]]; then
  OUT=$(mktemp -d)
  trap 'rm -rf "$OUT"' EXIT
fi
cargo build -q --release
start=$(date +%s)
target/release/choreo train --corpus ../shared/data/tang2018 --out "$OUT/encoders.safetensors" \
  --epochs 20 --lr 1e-3 --lr-floor 0.1 --margin 1.5 --seed 0 --time-segments 3 --mfcc-deltas \
  --mirror --validate --eval-every 5 --report "$OUT/encoders.report.json"
echo "wall time: $(( $(date +%s) - start )) s (goal ≤ 900 s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
