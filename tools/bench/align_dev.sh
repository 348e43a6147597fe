#!/usr/bin/env bash
# Alignment on unheard music (issue 13, part 3): `choreo dance`'s pipeline on the beats-dev songs
# (../shared/data/beats-dev), scored against their TRUE beat grids with the published metrics,
# with the baselines (random fragments + alignment, DanceIt nearest + alignment, no alignment) and
# the real Tang2018 dances in one table. Default: the 7-song report split. Extra arguments go to
# the bench (e.g. `--split tune --only-default --no-real --pulse 0.6` to tune on the other 16).
# Re-run after the beat tracker changes: the dances use whatever `choreo beats` gives.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d index/default ] || { echo "index/default missing: run tools/setup.sh first" >&2; exit 1; }
[ -d ../shared/data/beats-dev ] || { echo "../shared/data/beats-dev missing" >&2; exit 1; }
cargo bench -q --locked --bench align_dev -- "$@"
