#!/usr/bin/env bash
# Index figures (issue 4): recall@10 of HNSW vs exact on real queries against index/default,
# query times, the Tang2018 index build time, and synthetic 16-d scale runs at 100k and 1M
# (build time, memory, recall@10, speed-up over exact). `--max 100000` skips the 1M run.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d index/default ] || { echo "index/default missing: run tools/setup.sh first" >&2; exit 1; }
cargo bench -q --bench index_search -- "$@"
