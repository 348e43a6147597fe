#!/usr/bin/env python3
"""Beat-tracking F-measure: choreo (`CMD SONG --json --method M`) vs librosa.beat.beat_track.

F-measure as `choreo::audio::beats::f_measure`: a detection and an annotation match within
±70 ms, each used once, F = 2PR/(P+R). librosa runs with its defaults (`librosa.load` resamples
to 22.05 kHz) and, for reference, at the file's own rate ("librosa@sr").
"""
import argparse
import json
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

TOL = 0.07
AUBIO = ["specflux", "hfc", "complex", "energy", "phase", "wphase", "kl", "mkl", "specdiff"]


def annotations(path):
    out = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            out.append(float(line.split()[0]))
        except ValueError:
            pass
    return out


def f_measure(detected, annotated, tol=TOL):
    d = sorted(t for t in detected if np.isfinite(t))
    a = sorted(t for t in annotated if np.isfinite(t))
    if not d or not a:
        return 0.0
    i = j = hits = 0
    while i < len(d) and j < len(a):
        if abs(d[i] - a[j]) <= tol:
            hits, i, j = hits + 1, i + 1, j + 1
        elif d[i] < a[j]:
            i += 1
        else:
            j += 1
    if hits == 0:
        return 0.0
    p, r = hits / len(d), hits / len(a)
    return 2 * p * r / (p + r)


def find_beats(obj):
    """The beat list and bpm in choreo's JSON, wherever the CLI nests them."""
    if isinstance(obj, dict):
        if isinstance(obj.get("beats"), list):
            return [float(t) for t in obj["beats"]], float(obj.get("bpm", 0.0) or 0.0)
        for v in obj.values():
            found = find_beats(v)
            if found:
                return found
    return None


def run_choreo(cmd, song, method):
    args = shlex.split(cmd) + [str(song), "--json", "--method", method]
    t = time.perf_counter()
    res = subprocess.run(args, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if res.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({res.returncode}):\n{res.stderr}")
    found = find_beats(json.loads(res.stdout))
    if found is None:
        sys.exit(f"no 'beats' list in the output of {' '.join(args)}:\n{res.stdout[:500]}")
    return found[0], found[1], secs


def run_librosa(song, sr):
    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, sr = librosa.load(str(song), sr=sr)
        t = time.perf_counter()
        tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
        secs = time.perf_counter() - t
    return list(map(float, beats)), float(np.atleast_1d(tempo)[0]), secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="folder of NAME.wav + NAME.beats")
    ap.add_argument("--cmd", required=True, help="choreo beats command")
    args = ap.parse_args()

    songs = sorted(p for p in Path(args.data).glob("*.wav") if p.with_suffix(".beats").exists())
    if not songs:
        sys.exit(f"no annotated .wav/.beats pairs in {args.data}")
    methods = ["dp"] + [f"aubio:{o}" for o in AUBIO]
    cols = methods + ["librosa", "librosa@sr"]
    table, tempo_rows, secs = {}, [], {c: 0.0 for c in cols}
    for song in songs:
        ann = annotations(song.with_suffix(".beats"))
        row, bpms = {}, {}
        for m in methods:
            beats, bpm, s = run_choreo(args.cmd, song, m)
            row[m], bpms[m], secs[m] = f_measure(beats, ann), bpm, secs[m] + s
        for c, sr in (("librosa", 22050), ("librosa@sr", None)):
            beats, bpm, s = run_librosa(song, sr)
            row[c], bpms[c], secs[c] = f_measure(beats, ann), bpm, secs[c] + s
        table[song.stem] = row
        ibi = np.median(np.diff(ann)) if len(ann) > 1 else float("nan")
        tempo_rows.append((song.stem, 60.0 / ibi, bpms["dp"], bpms["aubio:wphase"], bpms["librosa"]))

    short = [c.replace("aubio:", "") for c in cols]
    w = max(len(s) for s in table) + 1
    print(f"\nF-measure (±{TOL * 1000:.0f} ms); aubio columns are `--method aubio:ONSET`")
    print(f"{'file':<{w}}" + "".join(f"{s:>11}" for s in short))
    for name, row in table.items():
        print(f"{name:<{w}}" + "".join(f"{row[c]:>11.3f}" for c in cols))
    means = {c: float(np.mean([r[c] for r in table.values()])) for c in cols}
    print(f"{'mean':<{w}}" + "".join(f"{means[c]:>11.3f}" for c in cols))
    print(f"{'seconds':<{w}}" + "".join(f"{secs[c]:>11.2f}" for c in cols))
    print("\n(seconds: choreo columns are whole process runs, decode included; librosa is beat_track only, its first call includes numba compilation)")
    print(f"\n{'file':<{w}}{'annotated':>10}{'dp':>10}{'wphase':>10}{'librosa':>10}   (BPM)")
    for name, *b in tempo_rows:
        print(f"{name:<{w}}" + "".join(f"{x:>10.1f}" for x in b))
    verdict = "≥" if means["dp"] >= means["librosa"] else "<"
    print(f"\nmean F: dp {means['dp']:.3f} {verdict} librosa {means['librosa']:.3f} (librosa at native rate {means['librosa@sr']:.3f})")


if __name__ == "__main__":
    main()
