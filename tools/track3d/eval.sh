#!/usr/bin/env bash
# Realism of the 3-D track against the 2-D dance (issue 14). For every song and seed, `choreo
# dance` writes the dance (2-D frames + joints3d) from index/default, and examples/project3d
# projects its 3-D track with the Tang2018 loader's camera (skeleton3d::project_coco18). Then
# `choreo eval --against ../shared/data/tang2018` scores the 2-D dances of a seed together and the
# projected 3-D tracks together: FID_k, FID_g, and the mean speed over the dances (`mean_speed`).
# The spread over seeds is the noise. Last, the same comparison on the 43 real dances themselves
# (`choreo poses --tang2018`: the loader's 2-D figure vs its 3-D track projected), which measures
# what the two representations differ by before any edit (the 3-D wrist is the real wrist joint).
# Run from the repository root: bash tools/track3d/eval.sh [SONG...]   (SEEDS="0 1 2" by default;
# songs: the 23 beats-dev excerpts and the 3 files of data/beats).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
CORPUS="$ROOT/../shared/data/tang2018"
SEEDS="${SEEDS:-0 1 2}"
SONGS=("$@")
if [ ${#SONGS[@]} -eq 0 ]; then
  SONGS=(../shared/data/beats-dev/*.flac ../shared/data/beats/*.wav)
fi
cargo build --release --locked --quiet --example project3d
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
CH=./target/release/choreo
for seed in $SEEDS; do
  D2=(); D3=()
  for s in "${SONGS[@]}"; do
    n="$(basename "${s%.*}").s$seed"
    $CH dance --song "$s" --seed "$seed" --out "$OUT/$n.json" 2>/dev/null
    ./target/release/examples/project3d "$OUT/$n.json" "$OUT/$n.3d.json"
    D2+=("$OUT/$n.json"); D3+=("$OUT/$n.3d.json")
  done
  $CH eval --poses "${D2[@]}" --song "${SONGS[0]}" --against "$CORPUS" --json > "$OUT/seed$seed.2d.eval.json"
  $CH eval --poses "${D3[@]}" --song "${SONGS[0]}" --against "$CORPUS" --json > "$OUT/seed$seed.3d.eval.json"
done
R2=(); R3=()
for d in "$CORPUS"/DANCE_*; do
  n="$(basename "$d")"
  $CH poses --tang2018 "$d" --out "$OUT/real.$n.json" 2>/dev/null
  ./target/release/examples/project3d "$OUT/real.$n.json" "$OUT/real.$n.3d.json"
  R2+=("$OUT/real.$n.json"); R3+=("$OUT/real.$n.3d.json")
done
$CH eval --poses "${R2[@]}" --song "${SONGS[0]}" --against "$CORPUS" --json > "$OUT/real.2d.eval.json"
$CH eval --poses "${R3[@]}" --song "${SONGS[0]}" --against "$CORPUS" --json > "$OUT/real.3d.eval.json"
python3 - "$OUT" "${#SONGS[@]}" $SEEDS <<'PY'
import json, sys, statistics as st
out, nsongs, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
def row(path):
    e = json.load(open(path))
    r = e["realism"]["dances"]
    sp = [d["metrics"]["mean_speed"] for d in e["dances"]]
    return r["fid_k"], r["fid_g"], sum(sp) / len(sp)
print(f"{nsongs} songs × seeds {' '.join(seeds)} (index/default), against ../shared/data/tang2018")
print(f"{'dances':<40} {'FID_k':>7} {'FID_g':>7} {'speed':>7}")
cols = {"2d": [], "3d": []}
for s in seeds:
    for k, label in [("2d", "2-D dance"), ("3d", "3-D track, projected")]:
        v = row(f"{out}/seed{s}.{k}.eval.json")
        cols[k].append(v)
        print(f"{label + ', seed ' + s:<40} {v[0]:7.2f} {v[1]:7.2f} {v[2]:7.4f}")
for k, label in [("2d", "2-D dance"), ("3d", "3-D track, projected")]:
    m = [st.mean(c) for c in zip(*cols[k])]
    sd = [st.stdev(c) if len(c) > 1 else 0.0 for c in zip(*cols[k])]
    print(f"{label + ', mean ± sd over seeds':<40} {m[0]:5.2f}±{sd[0]:.2f} {m[1]:5.2f}±{sd[1]:.2f} {m[2]:.4f}±{sd[2]:.4f}")
for k, label in [("2d", "43 real dances, 2-D (loader)"), ("3d", "43 real dances, 3-D projected")]:
    v = row(f"{out}/real.{k}.eval.json")
    print(f"{label:<40} {v[0]:7.2f} {v[1]:7.2f} {v[2]:7.4f}")
f = json.load(open(f"{out}/seed{seeds[0]}.2d.eval.json"))["realism"]["floor"]
print(f"{'real test vs training dances (floor)':<40} {f['fid_k']:7.2f} {f['fid_g']:7.2f}")
PY
