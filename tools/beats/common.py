"""Shared helpers of the tools/beats scripts: BeatNet's network (from the BeatNet 1.1.3 wheel) and
its input features (madmom's log-filtered spectrogram + positive first difference, exactly as
BeatNet's LOG_SPECT builds them), the beats-dev splits and the F-measure."""
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SHARED = ROOT.parent / "shared" / "data"
SR = 22050
HOP = int(20 * 0.001 * SR)  # 441: 50 frames/s
WIN = int(64 * 0.001 * SR)  # 1411
TOL = 0.07


def beatnet_dir(tmp):
    """Unpacks the BeatNet 1.1.3 wheel (downloaded with pip, no dependencies) into tmp; returns the
    folder holding the BeatNet package."""
    import subprocess
    import zipfile
    tmp = pathlib.Path(tmp)
    wheel = next(tmp.glob("BeatNet-1.1.3-*.whl"), None)
    if wheel is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "BeatNet==1.1.3", "-d", str(tmp)], check=True)
        wheel = next(tmp.glob("BeatNet-1.1.3-*.whl"))
    out = tmp / "unpacked"
    if not (out / "BeatNet" / "model.py").exists():
        zipfile.ZipFile(wheel).extractall(out)
    return out


def feature_pipe():
    """madmom processors as in BeatNet/log_spect.py (mode 'offline', n_bands [24])."""
    from madmom.audio.signal import SignalProcessor, FramedSignalProcessor
    from madmom.audio.stft import ShortTimeFourierTransformProcessor
    from madmom.audio.spectrogram import (FilteredSpectrogramProcessor, LogarithmicSpectrogramProcessor,
                                          SpectrogramDifferenceProcessor)
    from madmom.processors import ParallelProcessor, SequentialProcessor
    sig = SignalProcessor(num_channels=1, win_length=WIN, sample_rate=SR)
    frames = FramedSignalProcessor(frame_size=WIN, hop_size=HOP)
    stft = ShortTimeFourierTransformProcessor()
    filt = FilteredSpectrogramProcessor(num_bands=24, fmin=30, fmax=17000, norm_filters=True)
    spec = LogarithmicSpectrogramProcessor(mul=1, add=1)
    diff = SpectrogramDifferenceProcessor(diff_ratio=0.5, positive_diffs=True, stack_diffs=np.hstack)
    multi = ParallelProcessor([SequentialProcessor((frames, stft, filt, spec, diff))])
    return SequentialProcessor((sig, multi, np.hstack))


def load_model(bn_dir, which=1):
    import torch
    sys.path.insert(0, str(bn_dir))
    from BeatNet.model import BDA
    m = BDA(272, 150, 2, "cpu")
    state = torch.load(bn_dir / "BeatNet" / "models" / f"model_{which}_weights.pt", map_location="cpu")
    m.load_state_dict(state, strict=False)
    m.eval()
    return m


def activations(model, feats):
    """[T, 3] softmax (beat, downbeat, no beat) of the network for features [T, 272], from zero state."""
    import torch
    with torch.no_grad():
        model.hidden = torch.zeros(2, 1, 150)
        model.cell = torch.zeros(2, 1, 150)
        x = torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32)).unsqueeze(0)
        out = model(x)[0]  # [3, T]
        return np.ascontiguousarray(torch.softmax(out, dim=0).numpy().T)


def dev_split():
    """(tuning, report) stems of beats-dev: report = positions 3, 6, 9, ... (1-based) of the sorted names."""
    names = sorted(p.stem for p in (SHARED / "beats-dev").glob("*.flac"))
    report = [n for i, n in enumerate(names, 1) if i % 3 == 0]
    tuning = [n for n in names if n not in report]
    return tuning, report


def annotations(path):
    out = []
    for line in pathlib.Path(path).read_text().splitlines():
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
