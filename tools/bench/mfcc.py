#!/usr/bin/env python3
"""python_speech_features MFCC time on a wav (same settings as choreo), median of 7 runs."""
import sys
import time

import numpy as np
import scipy.io.wavfile
from python_speech_features import mfcc

sr, x = scipy.io.wavfile.read(sys.argv[1])
x = x.astype(np.float64) / 32768.0
if x.ndim == 2:
    x = x.mean(axis=1)
win = 1.0 / 24.0
nfft = 1
while nfft < sr * win:
    nfft *= 2
times = []
for _ in range(7):
    t = time.perf_counter()
    feat = mfcc(x, samplerate=sr, winlen=win, winstep=win, numcep=13, nfilt=26, nfft=nfft,
                preemph=0.97, ceplifter=22, appendEnergy=True)
    times.append(time.perf_counter() - t)
times.sort()
print(f"psf_mfcc_seconds {times[3]:.5f} frames {feat.shape[0]}")
