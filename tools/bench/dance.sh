#!/usr/bin/env bash
# Choreography figures (issue 5), on songs that are not in the corpus:
#  1. every variant side by side (random fragments, DanceIt greedy with and without alignment,
#     choreo's default and its ablations) plus the real Tang2018 dances scored against their own
#     songs by the same code (cargo bench --bench dance);
#  2. `choreo dance` wall time and peak memory on a 4-minute song (goal ≤ 1/200 of its duration)
#     and on a 10-minute song (goal ≤ 500 MB).
# Music: Debian game music packages (a7xpg-data, frozen-bubble-data, singularity-music), fetched
# with apt-get download into vendor/music (nothing is installed), plus the two 30-s annotated
# clips in ../shared/data/beats.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d index/default ] || { echo "index/default missing: run tools/setup.sh first" >&2; exit 1; }
MUSIC=vendor/music
mkdir -p "$MUSIC"
if [ ! -f "$MUSIC/sing-media-threat.ogg" ]; then
  T=$(mktemp -d)
  ( cd "$T" && { apt-get download a7xpg-data frozen-bubble-data singularity-music >/dev/null 2>&1 || { apt-get update -qq && apt-get download a7xpg-data frozen-bubble-data singularity-music >/dev/null; }; } )
  for d in "$T"/*.deb; do dpkg-deb -x "$d" "$T/x"; done
  G="$T/x/usr/share/games"
  cp "$G/a7xpg/sounds/bgm1.ogg" "$MUSIC/a7xpg-bgm1.ogg"
  cp "$G/frozen-bubble/snd/introzik.ogg" "$MUSIC/frozen-introzik.ogg"
  cp "$G/frozen-bubble/snd/frozen-mainzik-1p.ogg" "$MUSIC/frozen-mainzik-1p.ogg"
  cp "$G/singularity/music/Awakening.ogg" "$MUSIC/sing-awakening.ogg"
  cp "$G/singularity/music/Coherence.ogg" "$MUSIC/sing-coherence.ogg"
  cp "$G/singularity/music/Media Threat.ogg" "$MUSIC/sing-media-threat.ogg"
  rm -rf "$T"
fi
SONGS=("$MUSIC/a7xpg-bgm1.ogg" "$MUSIC/frozen-introzik.ogg" "$MUSIC/sing-awakening.ogg" "$MUSIC/sing-coherence.ogg" "$MUSIC/sing-media-threat.ogg")
for f in ../shared/data/beats/ballroom_waltz_Media-105901.wav ../shared/data/beats/gtzan_country.00000.wav; do
  [ -f "$f" ] && SONGS+=("$f")
done

echo "== variants side by side"
cargo bench -q --bench dance -- "${SONGS[@]}"

echo
echo "== speed and memory of choreo dance (poses only)"
cargo build -q --release --locked
[ -f "$MUSIC/four-minutes.ogg" ] || ffmpeg -v error -y -i "$MUSIC/frozen-mainzik-1p.ogg" -t 240 -c:a libvorbis "$MUSIC/four-minutes.ogg"
[ -f "$MUSIC/ten-minutes.ogg" ] || ffmpeg -v error -y -i "$MUSIC/sing-media-threat.ogg" -i "$MUSIC/frozen-introzik.ogg" -i "$MUSIC/sing-awakening.ogg" \
  -filter_complex "[0:a]aresample=44100,aformat=channel_layouts=stereo[a];[1:a]aresample=44100,aformat=channel_layouts=stereo[b];[2:a]aresample=44100,aformat=channel_layouts=stereo[c];[a][b][c]concat=n=3:v=0:a=1" \
  -t 600 -c:a libvorbis "$MUSIC/ten-minutes.ogg"
OUT=$(mktemp -d)
for song in four-minutes ten-minutes; do
  f="$MUSIC/$song.ogg"
  dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
  best=""
  for i in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$OUT/t" target/release/choreo dance --song "$f" --out "$OUT/d.json" >/dev/null 2>&1
    read -r secs kb < "$OUT/t"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; mem=$kb; fi
  done
  awk -v s="$song" -v d="$dur" -v t="$best" -v m="$mem" 'BEGIN{printf "%-13s %6.1f s of music: best of 3 %.2f s wall = 1/%.0f of its duration (goal ≥ 1/200), peak memory %.0f MB (goal ≤ 500)\n", s, d, t, d/t, m/1024}'
done
rm -rf "$OUT"
