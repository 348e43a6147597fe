#!/usr/bin/env python3
"""Writes MFCC reference arrays made by python_speech_features (what DanceIt used) for the parity
test tests/mfcc_parity.rs. One .npy per clip of ../shared/data/beats, T x 13 float32, with the
settings choreo uses: window = step = 1/fps s, nfft = next power of two >= window, 26 filters,
pre-emphasis 0.97, lifter 22, c0 = log frame energy.

    pip install numpy scipy python_speech_features
    python3 tools/mfcc_fixture.py [--fps 24]
"""
import argparse
import pathlib

import numpy as np
import scipy.io.wavfile
from python_speech_features import mfcc

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEATS = ROOT.parent / "shared" / "data" / "beats"
OUT = ROOT / "tests" / "fixtures" / "mfcc"


def load(path):
    """Mono float in [-1, 1], as symphonia gives it (int PCM / 2^(bits-1))."""
    sr, x = scipy.io.wavfile.read(path)
    if x.dtype == np.int16:
        x = x.astype(np.float64) / 32768.0
    elif x.dtype == np.int32:
        x = x.astype(np.float64) / 2147483648.0
    elif x.dtype == np.uint8:
        x = (x.astype(np.float64) - 128.0) / 128.0
    else:
        x = x.astype(np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return sr, x


def nfft_for(sr, fps):
    n = 1
    while n < sr / fps:
        n *= 2
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fps", type=float, default=24.0)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for wav in sorted(BEATS.glob("*.wav")):
        sr, x = load(wav)
        win = 1.0 / args.fps
        feat = mfcc(x, samplerate=sr, winlen=win, winstep=win, numcep=13, nfilt=26,
                    nfft=nfft_for(sr, args.fps), preemph=0.97, ceplifter=22, appendEnergy=True)
        out = OUT / (wav.stem + f".fps{int(args.fps)}.npy")
        np.save(out, feat.astype(np.float32))
        print(f"{out.relative_to(ROOT)}: {feat.shape[0]} x {feat.shape[1]} (sr {sr})")


if __name__ == "__main__":
    main()
