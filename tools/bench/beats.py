#!/usr/bin/env python3
"""Beat-tracking bench: every tracker side by side in one run, mean F-measure (±70 ms) per set and
wall time per minute of audio.

Trackers: choreo's `beatnet` (the default: BeatNet ONNX + Rust DBN), `dp`, `aubio` (wphase), all as
whole `choreo beats SONG --json --method M` runs (decoding included); librosa's `beat_track` with its
defaults (`librosa.load` at 22.05 kHz, load included); madmom's RNNBeatProcessor + DBNBeatTrackingProcessor
where madmom is installed (its RNN weights are CC BY-NC-SA: benchmarked here, never shipped).

Sets: `tuning` = the 16 beats-dev files the tracker may be tuned on, `report` = the 7 beats-dev files at
positions 3, 6, 9, ... (1-based) of the sorted names, never tuned on; `clips` = the 3 clips of data/beats.
F-measure as `choreo::audio::beats::f_measure`: a detection and an annotation match within ±70 ms,
each used once, F = 2PR/(P+R).
"""
import argparse
import json
import resource
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# The F-measure and annotation reader shared with tools/beats (torch is only imported there
# when a network is built).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "beats"))
from common import TOL, annotations, f_measure  # noqa: E402


def songs_of(folder):
    return sorted(p for p in Path(folder).iterdir() if p.suffix in (".wav", ".flac") and p.with_suffix(".beats").exists())


def sets(shared, which):
    dev = songs_of(Path(shared) / "beats-dev")
    report = [s for i, s in enumerate(dev, 1) if i % 3 == 0]
    tuning = [s for s in dev if s not in report]
    all_sets = {"tuning": tuning, "report": report, "clips": songs_of(Path(shared) / "beats")}
    return {k: all_sets[k] for k in which}


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


CPU = {}  # tracker -> CPU seconds (user + system) of the choreo processes


def run_choreo(cmd, song, method):
    args = shlex.split(cmd) + [str(song), "--json", "--method", method]
    c = children_cpu()
    t = time.perf_counter()
    res = subprocess.run(args, capture_output=True, text=True)
    secs = time.perf_counter() - t
    CPU[method] = CPU.get(method, 0.0) + children_cpu() - c
    if res.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({res.returncode}):\n{res.stderr}")
    return json.loads(res.stdout)["beats"], secs


def run_librosa(song):
    import librosa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        y, sr = librosa.load(str(song), sr=22050)
        _, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
        return list(map(float, beats)), time.perf_counter() - t


_MADMOM = {}


def run_madmom(song):
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
    if not _MADMOM:
        _MADMOM["rnn"], _MADMOM["dbn"] = RNNBeatProcessor(), DBNBeatTrackingProcessor(fps=100)
    import librosa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        y, sr = librosa.load(str(song), sr=44100)
        beats = _MADMOM["dbn"](_MADMOM["rnn"](y))
        return list(map(float, beats)), time.perf_counter() - t


def have(module):
    try:
        __import__(module)
        return True
    except Exception:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", required=True, help="the shared data folder (holding beats-dev/ and beats/)")
    ap.add_argument("--cmd", required=True, help="choreo beats command")
    ap.add_argument("--sets", default="tuning,report,clips", help="comma-separated: tuning, report, clips")
    ap.add_argument("--per-file", action="store_true", help="also print every file's F")
    args = ap.parse_args()

    trackers = [("beatnet", lambda s: run_choreo(args.cmd, s, "beatnet")),
                ("dp", lambda s: run_choreo(args.cmd, s, "dp")),
                ("aubio", lambda s: run_choreo(args.cmd, s, "aubio"))]
    if have("librosa"):
        trackers.append(("librosa", run_librosa))
    if have("madmom") and have("librosa"):
        trackers.append(("madmom", run_madmom))
    names = [n for n, _ in trackers]
    print("trackers:", ", ".join(names), "(librosa / madmom: not installed)" if len(names) < 5 else "")
    secs = {n: 0.0 for n in names}
    minutes = 0.0
    summary = {}
    for set_name, songs in sets(args.shared, args.sets.split(",")).items():
        rows = {}
        for song in songs:
            ann = annotations(song.with_suffix(".beats"))
            import soundfile
            minutes += soundfile.info(str(song)).duration / 60.0
            row = {}
            for n, fn in trackers:
                beats, s = fn(song)
                row[n], secs[n] = f_measure(beats, ann), secs[n] + s
            rows[song.stem] = row
        summary[set_name] = {n: float(np.mean([r[n] for r in rows.values()])) for n in names}
        if args.per_file:
            w = max(len(s) for s in rows) + 1
            print(f"\n{set_name}: F-measure (±{TOL * 1000:.0f} ms)")
            print(f"{'file':<{w}}" + "".join(f"{n:>9}" for n in names))
            for name, row in rows.items():
                print(f"{name:<{w}}" + "".join(f"{row[n]:>9.3f}" for n in names))
        summary[set_name]["_n"] = len(rows)
    print(f"\nmean F-measure (±{TOL * 1000:.0f} ms), and wall seconds per minute of audio")
    print(f"{'set':<16}" + "".join(f"{n:>9}" for n in names))
    for set_name, m in summary.items():
        print(f"{set_name + ' (' + str(m['_n']) + ')':<16}" + "".join(f"{m[n]:>9.3f}" for n in names))
    print(f"{'s / min audio':<16}" + "".join(f"{secs[n] / minutes:>9.2f}" for n in names))
    print(f"{'cpu s / min':<16}" + "".join(f"{CPU[n] / minutes:>9.2f}" if n in CPU else f"{'':>9}" for n in names))
    load = open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    print(f"(load average at the end: {' '.join(load)}; cpu = user + system time of the choreo processes)")
    print("\n(choreo columns: whole process runs, decoding included; librosa and madmom: load at their rate + tracking,"
          " in this Python process, librosa's first call includes numba compilation)")


if __name__ == "__main__":
    main()
