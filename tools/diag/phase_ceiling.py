"""Issue 3 diagnosis: can a 1-s clip of music locate its moment inside an unseen dance?

Reads the dump of `cargo run --release --example enc_dump -- CORPUS DIR` and prints
(1) the frame-level correlation of the audio onset strength with the pose's joint speed, per lag;
(2) Recall@1/@10 and genre P@10 of hand-made matchers among the test fragments (non-overlapping
1-s windows of the test dances, as the encoder figures use), next to random ranking.
Usage: python3 tools/diag/phase_ceiling.py DIR
"""
import json, sys
import numpy as np

D = sys.argv[1]
idx = json.load(open(f"{D}/index.json"))
names = [n for n, g in idx["names"]]
genres = [g for n, g in idx["names"]]
L = 24

def load(name):
    p = np.load(f"{D}/{name}.poses.npy").reshape(-1, 18, 3)
    m = np.load(f"{D}/{name}.mfcc.npy")
    o = np.load(f"{D}/{name}.onset.npy")[:, 0]
    k = np.load(f"{D}/{name}.keep.npy")[:, 0] > 0
    return p, m, o, k

def speed(p):
    """Mean joint speed per frame (body heights / frame), joints seen in both frames."""
    v = np.zeros(len(p))
    d = np.linalg.norm(p[1:, :, :2] - p[:-1, :, :2], axis=2)
    ok = (p[1:, :, 2] > 0) & (p[:-1, :, 2] > 0)
    v[1:] = (d * ok).sum(1) / np.maximum(ok.sum(1), 1)
    v[0] = v[1]
    return v

def starts(k):
    out, run, nxt = [], 0, 0
    for t in range(len(k)):
        run = run + 1 if k[t] else 0
        if run >= L and t + 1 - L >= nxt:
            out.append(t + 1 - L); nxt = t + 1
    return out

def z(x):
    x = x - x.mean(-1, keepdims=True)
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-9)

def retrieval(S, g):
    """S[i, j]: score of pose j for query i (higher = better)."""
    n = len(S)
    order = np.argsort(-S, axis=1, kind="stable")
    r1 = np.mean(order[:, 0] == np.arange(n))
    r10 = np.mean([(order[i, :10] == i).any() for i in range(n)])
    g10 = np.mean([(g[order[i, :10]] == g[i]).mean() for i in range(n)])
    return r1, r10, g10

data = {n: load(n) for n in names}
print("== frame-level corr(onset(t), speed(t+lag)), mean over dances (lag > 0: motion after the sound)")
for split in ("train", "test"):
    ids = idx[split]
    rows = []
    for i in ids:
        p, m, o, k = data[names[i]]
        s = speed(p)
        # high-pass both (remove the slow trend: 1-s moving average) so the figure is about timing
        hp = lambda x: x - np.convolve(x, np.ones(L) / L, mode="same")
        oh, sh = hp(o), hp(s)
        r = []
        for lag in range(-12, 13):
            a = oh[max(0, -lag):len(oh) - max(0, lag)]
            b = sh[max(0, lag):len(sh) - max(0, -lag)]
            kk = k[max(0, -lag):len(k) - max(0, lag)] & k[max(0, lag):len(k) - max(0, -lag)]
            r.append(np.corrcoef(a[kk], b[kk])[0, 1])
        rows.append(r)
    rows = np.array(rows)
    mr = rows.mean(0)
    print(f"{split:5s}", " ".join(f"{l:+d}:{v:+.3f}" for l, v in zip(range(-12, 13), mr)))
    print(f"      best lag {np.argmax(np.abs(mr)) - 12:+d}; per-dance lag-0 corr min {rows[:, 12].min():+.3f} max {rows[:, 12].max():+.3f}")

# Test fragments
def frags(ids):
    F = []
    for i in ids:
        p, m, o, k = data[names[i]]
        s = speed(p)
        for st in starts(k):
            F.append(dict(d=i, s=st, on=o[st:st + L], sp=s[st:st + L], hy=(p[st:st + L, 8, 1] + p[st:st + L, 11, 1]) / 2, mf=m[st:st + L], g=genres[i]))
    return F

for split in ("test",):
    F = frags(idx[split])
    n = len(F)
    g = np.array([f["g"] for f in F])
    dd = np.array([f["d"] for f in F])
    print(f"\n== {split}: {n} fragments; chance R@1 {1/n:.3f} R@10 {10/n:.3f}")
    ON = np.array([f["on"] for f in F]); SP = np.array([f["sp"] for f in F])
    E = np.array([f["mf"][:, 0] for f in F])  # MFCC c0 ~ log energy
    rng = np.random.default_rng(0)
    print("random          R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(rng.random((n, n)), g))
    for lag in (0, 2, 4):
        # speed shifted: compare onset at t with speed at t+lag within the window
        on = ON[:, :L - lag] if lag else ON
        sp = SP[:, lag:] if lag else SP
        S = z(on) @ z(sp).T
        print(f"onset~speed lag{lag}  R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(S, g))
        S = z(on) @ z(-sp).T
        print(f"onset~stop  lag{lag}  R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(S, g))
    # energy level: mean onset vs mean speed (z across fragments), negative abs difference
    mo = (ON.mean(1) - ON.mean()) / ON.mean(1).std(); ms = (SP.mean(1) - SP.mean()) / SP.mean(1).std()
    print("intensity |Δ|   R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(-np.abs(mo[:, None] - ms[None, :]), g))
    me = (E.mean(1) - E.mean()) / E.mean(1).std()
    print("c0 vs speed |Δ| R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(-np.abs(me[:, None] - ms[None, :]), g))
    # Bar-level cue (waltz moves in 2-s bars): the hips' height against the smoothed onset envelope
    HY = np.array([(f["hy"]) for f in F])
    ONs = np.array([np.convolve(f["on"], np.ones(5) / 5, mode="same") for f in F])
    for lag in (0, 4, 8):
        on = ONs[:, :L - lag] if lag else ONs
        hy = HY[:, lag:] if lag else HY
        S = z(on) @ z(hy).T
        print(f"onset~hipY  lag{lag}  R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(S, g))
        Sd = np.where(dd[:, None] == dd[None, :], S, -np.inf)
        print(f"  within the true dance only: R@1 %.3f R@10 %.3f" % retrieval(Sd, g)[:2])
    # Oracle with dance identity: restrict to the same dance, how well does phase rank inside it?
    S = z(ON) @ z(SP).T
    same = dd[:, None] == dd[None, :]
    Sd = np.where(same, S, -np.inf)
    print("onset~speed lag0 within the true dance only: R@1 %.3f R@10 %.3f" % retrieval(Sd, g)[:2],
          " (chance within dance: R@10 ≈ %.3f)" % np.mean([min(1, 10 / same[i].sum()) for i in range(n)]))
    Sd = np.where(same, -np.abs(mo[:, None] - ms[None, :]), -np.inf)
    print("intensity within the true dance only:      R@1 %.3f R@10 %.3f" % retrieval(Sd, g)[:2])
    # How much does the same dance at a nearby time look alike in speed? autocorrelation of the
    # fragments' speed curves across 2-4 s
    print("median fragments per test dance:", np.median(np.bincount(dd)[np.unique(dd)]))
