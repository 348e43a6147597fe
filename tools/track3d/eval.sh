#!/usr/bin/env bash
# Realism of the 3-D track against the 2-D dance (issue 14). For every song, `choreo dance` writes
# the dance (2-D frames + joints3d) from index/default, and examples/project3d projects its 3-D
# track with the Tang2018 loader's camera. Then `choreo eval --against ../shared/data/tang2018`
# scores the 2-D dances together and the projected 3-D tracks together: FID_k, FID_g and the mean
# speed over the dances (eval's `mean_speed`), beside the corpus's own real-vs-real floor.
# Run from the repository root: bash tools/track3d/eval.sh [SONG...]
# (default: the 23 beats-dev excerpts and the 3 files of data/beats).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
CORPUS="$ROOT/../shared/data/tang2018"
SONGS=("$@")
if [ ${#SONGS[@]} -eq 0 ]; then
  SONGS=(../shared/data/beats-dev/*.flac ../shared/data/beats/*.wav)
fi
cargo build --release --locked --quiet --example project3d
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
D2=(); D3=()
for s in "${SONGS[@]}"; do
  n="$(basename "${s%.*}")"
  ./target/release/choreo dance --song "$s" --seed 0 --out "$OUT/$n.json" 2>/dev/null
  ./target/release/examples/project3d "$OUT/$n.json" "$OUT/$n.3d.json"
  D2+=("$OUT/$n.json"); D3+=("$OUT/$n.3d.json")
done
./target/release/choreo eval --poses "${D2[@]}" --song "${SONGS[0]}" --against "$CORPUS" --json > "$OUT/2d.eval.json"
./target/release/choreo eval --poses "${D3[@]}" --song "${SONGS[0]}" --against "$CORPUS" --json > "$OUT/3d.eval.json"
python3 - "$OUT/2d.eval.json" "$OUT/3d.eval.json" "${#SONGS[@]}" <<'PY'
import json, sys
print(f"{sys.argv[3]} songs, one dance each (index/default, --seed 0)")
print(f"{'dances':<34} {'FID_k':>7} {'FID_g':>7} {'speed':>7}")
for label, path in [("2-D dance", sys.argv[1]), ("3-D track, projected (project_coco18)", sys.argv[2])]:
    e = json.load(open(path))
    r = e["realism"]["dances"]
    sp = [d["metrics"]["mean_speed"] for d in e["dances"]]
    print(f"{label:<34} {r['fid_k']:7.2f} {r['fid_g']:7.2f} {sum(sp) / len(sp):7.4f}")
f = json.load(open(sys.argv[1]))["realism"]["floor"]
print(f"{'real test dances (floor)':<34} {f['fid_k']:7.2f} {f['fid_g']:7.2f}")
PY
