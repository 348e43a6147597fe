#!/usr/bin/env python3
"""Independent forward-kinematics check of a BVH file written by choreo.

    python3 tools/check/bvh_fk.py tang DANCE_DIR OUT.json      # a pose file with the dance's 3-D joints
    python3 tools/check/bvh_fk.py compare DANCE.bvh POSES.json [--max-mean CM] [--max-max CM]

`tang` writes a pose file whose `joints3d` block is a Tang2018 dance as humanoid18 (the mapping of
tests/integration/bvh.rs: hips, knees, ankles, toes, shoulders, elbows, wrists per side, the side
decided as src/pose/tang2018.rs does; Hips and Neck the hip and shoulder midpoints, Spine halfway
between them, Head the ears' midpoint), with placeholder 2-D frames. Then
`choreo poses --poses OUT.json --fps 25 --out DANCE.bvh` writes the BVH, and `compare` runs
forward kinematics of it two ways, neither of them choreo's code: a numpy FK written here from the
BVH definition (rotation channels multiplied in the listed order, position channels replacing the
offset), and the PyPI reader `bvhio` (if installed: pip install bvhio). It prints the mean and max
distance (cm) to the pose file's 3-D joints over all frames and the 18 joints, and exits 1 when a
given bound is passed. Needs numpy.
"""
import json
import sys

import numpy as np

NAMES = ["Hips", "Spine", "Neck", "Head", "LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm",
         "RightHand", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg", "RightFoot",
         "RightToeBase"]


def tang(dance_dir, out):
    s = json.load(open(f"{dance_dir}/skeletons.json"))
    J = np.array(s["skeletons"], dtype=float)[:, :23]
    W = J + np.array(s["center"], dtype=float)[:, None, :]
    # Side: the 12-20 side is anatomical right when, facing the way the feet point, its shoulder
    # lies to the right (src/pose/tang2018.rs body_sides).
    f = (J[:, 10] - J[:, 11]) + (J[:, 19] - J[:, 20])
    right = np.stack([-f[:, 2], np.zeros(len(f)), f[:, 0]], 1)
    ok = np.hypot(f[:, 0], f[:, 2]) > 1e-9
    score = np.sign(((J[:, 12] - J[:, 3]) * right).sum(1))[ok].sum()
    a, b = [3, 4, 5, 7, 8, 9, 10], [12, 13, 14, 16, 17, 18, 19]
    r, l = (b, a) if score >= 0 else (a, b)
    hips = (W[:, l[3]] + W[:, r[3]]) / 2
    neck = (W[:, l[0]] + W[:, r[0]]) / 2
    cols = [hips, (hips + neck) / 2, neck, (W[:, 0] + W[:, 1]) / 2] + [W[:, l[k]] for k in (0, 1, 2)] + \
           [W[:, r[k]] for k in (0, 1, 2)] + [W[:, l[k]] for k in (3, 4, 5, 6)] + [W[:, r[k]] for k in (3, 4, 5, 6)]
    H = np.round(np.stack(cols, 1), 3)
    T = len(H)
    pose = {"fps": 25.0, "skeleton": "coco18", "width": 512, "height": 512,
            "frames": [[[0.0, 0.0, 0.0]] * 18] * T,
            "joints3d": {"skeleton": "humanoid18", "units": "cm", "up": "y", "frames": H.tolist()}}
    json.dump(pose, open(out, "w"))
    print(f"{out}: {T} frames")


def rot(axis, deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return {"X": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
            "Y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "Z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def numpy_fk(path):
    """World positions {name: [T, 3]} of every joint."""
    toks = open(path).read().split()
    i, joints, stack, nch = 1, [], [], 0  # after HIERARCHY
    while toks[i] != "MOTION":
        t = toks[i]
        if t in ("ROOT", "JOINT"):
            joints.append({"name": toks[i + 1], "parent": stack[-1] if stack else None, "ch": [], "c0": nch})
            stack.append(len(joints) - 1)
            i += 3
        elif t == "End":
            joints.append({"name": None, "parent": stack[-1], "ch": [], "c0": nch})
            stack.append(len(joints) - 1)
            i += 3
        elif t == "OFFSET":
            joints[stack[-1]]["offset"] = np.array([float(x) for x in toks[i + 1:i + 4]])
            i += 4
        elif t == "CHANNELS":
            n = int(toks[i + 1])
            joints[stack[-1]]["ch"] = toks[i + 2:i + 2 + n]
            joints[stack[-1]]["c0"] = nch
            nch += n
            i += 2 + n
        elif t == "}":
            stack.pop()
            i += 1
        else:
            raise SystemExit(f"{path}: unexpected {t!r}")
    frames = int(toks[i + 2])
    vals = np.array(toks[i + 6:i + 6 + frames * nch], dtype=float).reshape(frames, nch)
    out = {}
    for t in range(frames):
        R, P = [None] * len(joints), [None] * len(joints)
        for k, j in enumerate(joints):
            off = j["offset"].copy()
            r = np.eye(3)
            for c, name in enumerate(j["ch"]):
                v = vals[t, j["c0"] + c]
                if name.endswith("position"):
                    off["XYZ".index(name[0])] = v
                else:
                    r = r @ rot(name[0], v)
            if j["parent"] is None:
                P[k], R[k] = off, r
            else:
                p = j["parent"]
                P[k], R[k] = P[p] + R[p] @ off, R[p] @ r
            if j["name"]:
                out.setdefault(j["name"], []).append(P[k])
    return {k: np.array(v) for k, v in out.items()}


def bvhio_fk(path):
    import bvhio
    root = bvhio.readAsHierarchy(path)
    joints = {j.Name: j for j, _, _ in root.layout()}
    n = len(root.Keyframes)
    out = {name: np.zeros((n, 3)) for name in NAMES}
    for t in range(n):
        root.loadPose(t)
        for name in NAMES:
            out[name][t] = np.array(joints[name].PositionWorld)
    return out


def compare(bvh, poses, max_mean=None, max_max=None):
    want = np.array(json.load(open(poses))["joints3d"]["frames"], dtype=float)
    readers = [("numpy FK", numpy_fk)]
    try:
        import bvhio  # noqa: F401
        readers.append(("bvhio", bvhio_fk))
    except ImportError:
        print("bvhio not installed (pip install bvhio): numpy FK only")
    bad = False
    for label, fk in readers:
        got = fk(bvh)
        G = np.stack([got[n] for n in NAMES], 1)
        if G.shape != want.shape:
            raise SystemExit(f"{bvh}: {G.shape[0]} frames, {poses}: {want.shape[0]}")
        d = np.linalg.norm(G - want, axis=2)
        worst = NAMES[int(np.argmax(d.max(0)))]
        print(f"{label}: {d.shape[0]} frames, mean {d.mean():.4f} cm, max {d.max():.4f} cm (at {worst})")
        bad |= (max_mean is not None and d.mean() > max_mean) or (max_max is not None and d.max() > max_max)
    return 1 if bad else 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "tang":
        tang(a[1], a[2])
    elif len(a) >= 3 and a[0] == "compare":
        opts = dict(zip(a[3::2], map(float, a[4::2])))
        sys.exit(compare(a[1], a[2], opts.get("--max-mean"), opts.get("--max-max")))
    else:
        print(__doc__)
        sys.exit(2)
