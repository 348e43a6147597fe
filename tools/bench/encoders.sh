#!/usr/bin/env bash
# Encoder figures (issue 3): trains from scratch on the full Tang2018 corpus with the shipped
# settings, timed, into a scratch folder (models/ is left alone), and prints the test-split table:
# DanceIt's distances and correlation accuracy, Recall@1/@10 and genre precision@10, beside the
# random-ranking and untrained-encoder baselines measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cargo build -q --release
start=$(date +%s)
target/release/choreo train --corpus ../shared/data/tang2018 --out "$OUT/enc.safetensors" \
  --epochs 40 --lr 2e-3 --margin 1.5 --seed 0 --eval-every 10 --report "$OUT/report.json"
echo "wall time: $(( $(date +%s) - start )) s (goal ≤ 900 s)"
