#!/usr/bin/env bash
# Cluster index build (issue 15), printed, not asserted: the 2-worker local Ray build against the
# single-process `choreo index build` on this machine, both from a cold pose cache, on the test
# corpus of tools/cluster/test_cluster.py (vtest.avi 80 s + three 10-s clips, 10 fps: 1,100
# frames); and a paper estimate for 100 h of video on N nodes from the measured per-frame cost.
#   bash tools/bench/cluster.sh [--pose-model thunder|lightning] [--cores-per-node 2]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x vendor/venv-cluster/bin/python ] || { echo "vendor/venv-cluster missing: run tools/setup.sh"; exit 1; }
cargo build --release --locked -q
exec vendor/venv-cluster/bin/python tools/bench/cluster.py "$@"
