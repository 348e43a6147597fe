"""Issue 3 diagnosis: a linear ceiling. Hand-made per-window features (audio: MFCC mean/std/Δ,
onset curve and its autocorrelation; pose: joint-speed and hip-height curves, their
autocorrelation, mean pose) → CCA fitted on the training dances → retrieval among the test
fragments (non-overlapping 1-s windows), as the encoder figures. Usage: python3 cca_ceiling.py DIR
"""
import json, sys
import numpy as np

D = sys.argv[1]
exec(open(__file__.replace("cca_ceiling.py", "phase_ceiling.py")).read().split("data = {n")[0].split('D = sys.argv[1]')[1])
data = {n: load(n) for n in names}

def ac(x):
    x = x - x.mean(); d = (x * x).sum() + 1e-9
    return np.array([(x[:-l] * x[l:]).sum() / d for l in range(2, 16)])

def feats(i, st):
    p, m, o, k = data[names[i]]
    s = speed(p)[st:st + L]; w = p[st:st + L]; mm = m[st:st + L]; on = o[st:st + L]
    hy = (w[:, 8, 1] + w[:, 11, 1]) / 2
    a = np.concatenate([mm.mean(0), mm.std(0), np.abs(np.diff(mm, axis=0)).mean(0), on - on.mean(), ac(on), [on.mean(), on.std()]])
    xy = w[:, :, :2] - w[:, [8, 11], :2].mean(1, keepdims=True)
    q = np.concatenate([s - s.mean(), hy - hy.mean(), ac(s), ac(hy), [s.mean(), s.std(), hy.std()], xy.mean(0).ravel(), xy.std(0).ravel()])
    return a, q

def frag_set(ids):
    A, P, G, Dd = [], [], [], []
    for i in ids:
        for st in starts(data[names[i]][3]):
            a, q = feats(i, st); A.append(a); P.append(q); G.append(genres[i]); Dd.append(i)
    return np.array(A), np.array(P), np.array(G), np.array(Dd)

def cca(X, Y, k, reg=1e-1):
    mx, my = X.mean(0), Y.mean(0); sx, sy = X.std(0) + 1e-6, Y.std(0) + 1e-6
    X = (X - mx) / sx; Y = (Y - my) / sy
    n = len(X)
    Cxx = X.T @ X / n + reg * np.eye(X.shape[1]); Cyy = Y.T @ Y / n + reg * np.eye(Y.shape[1]); Cxy = X.T @ Y / n
    ix = np.linalg.inv(np.linalg.cholesky(Cxx)); iy = np.linalg.inv(np.linalg.cholesky(Cyy))
    U, S, Vt = np.linalg.svd(ix @ Cxy @ iy.T)
    Wx = ix.T @ U[:, :k]; Wy = iy.T @ Vt.T[:, :k]
    return (lambda A: ((A - mx) / sx) @ Wx), (lambda B: ((B - my) / sy) @ Wy), S[:k]

tr = idx["train"]; te = idx["test"]
At, Pt, Gt, Dt = frag_set(tr)
Ae, Pe, Ge, De = frag_set(te)
print(f"train {len(At)} fragments, test {len(Ae)}")
rng = np.random.default_rng(0)
print("random            R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(rng.random((len(Ae),) * 2), Ge))
for k in (4, 8, 16):
    fa, fp, S = cca(At, Pt, k)
    for name, (A, P, G) in (("train", (At, Pt, Gt)), ("test", (Ae, Pe, Ge))):
        a, p = fa(A), fp(P)
        if name == "train":
            sel = rng.choice(len(a), 600, replace=False); a, p, G = a[sel], p[sel], G[sel]
        d = ((a[:, None, :] - p[None, :, :]) ** 2).sum(-1)
        print(f"CCA k={k:2d} {name:5s} R@1 %.3f R@10 %.3f gP@10 %.3f" % retrieval(-d, G), " top corr", np.round(S[:3], 2))
# pose features only vs audio features only: within the true dance
fa, fp, S = cca(At, Pt, 16)
a, p = fa(Ae), fp(Pe)
d = ((a[:, None, :] - p[None, :, :]) ** 2).sum(-1)
same = De[:, None] == De[None, :]
print("CCA k=16 test, within the true dance only: R@1 %.3f R@10 %.3f" % retrieval(np.where(same, -d, -np.inf), Ge)[:2])
# dance identification: fraction of top-10 from the true dance
order = np.argsort(d, axis=1)[:, :10]
print("CCA k=16 test: share of top-10 from the query's own dance %.3f (chance %.3f)" % (np.mean(De[order] == De[:, None]), np.mean(same.sum(1) / len(De))))
