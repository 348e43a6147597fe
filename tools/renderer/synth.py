"""Synthetic target person, for the smoke test (no real target-person video is available offline).

A procedural dancer (COCO-18 poses on choreo's 512 canvas: swaying hips, swinging arms, bending
knees, a turning head), or poses read from a choreo pose file (e.g. a corpus dance from
`choreo poses --tang2018 ...`), drawn as a shaded body: cylinder-shaded limbs in sleeve and
trouser colours, a shirt torso, a skin-coloured head with hair, eyes and a mouth, on a wall and
floor backdrop. It is NOT a person: a renderer trained on it learns to draw this puppet.

    python3 tools/renderer/synth.py --poses-out dancer.json [--video-out dancer.mp4 --song song.ogg]
            [--frames 240] [--size 256]

Needs numpy only (and ffmpeg for --video-out).
"""

import argparse
import json
import math
import subprocess

import numpy as np

# COCO-18: 0 nose, 1 neck, 2-4 right shoulder/elbow/wrist, 5-7 left, 8-10 right hip/knee/ankle,
# 11-13 left, 14/15 right/left eye, 16/17 right/left ear. The dancer faces the camera, so its
# right side is on the picture's left.


def dancer(frames, fps=24.0, seed=0):
    """Procedural dance: COCO-18 frames [[x, y, c] x 18] on the 512 canvas."""
    rng = np.random.default_rng(seed)
    ph = rng.uniform(0, 2 * math.pi, 8)
    out = []
    for t in range(frames):
        s = t / fps
        beat = 2 * math.pi * s * 1.0  # one movement cycle per second
        cx = 256 + 60 * math.sin(0.35 * beat + ph[0])
        bob = 12 * abs(math.sin(beat + ph[1]))
        neck = np.array([cx + 8 * math.sin(beat + ph[2]), 150 + bob])
        hipc = np.array([cx, 290 + bob])
        f = np.zeros((18, 3))
        f[1] = [*neck, 1]
        f[2] = [neck[0] - 45, neck[1] + 4, 1]
        f[5] = [neck[0] + 45, neck[1] + 4, 1]
        for side, (sh, el, wr), sgn, p in [("r", (2, 3, 4), -1, ph[3]), ("l", (5, 6, 7), 1, ph[4])]:
            a1 = math.radians(100 + 70 * math.sin(beat + p)) * -sgn  # upper arm from straight down
            a2 = a1 + sgn * math.radians(60 + 50 * math.sin(2 * beat + p))
            e = f[sh, :2] + 75 * np.array([math.sin(a1) * -1, math.cos(a1)])
            w = e + 65 * np.array([math.sin(a2) * -1, math.cos(a2)])
            f[el] = [*e, 1]
            f[wr] = [*w, 1]
        f[8] = [hipc[0] - 28, hipc[1], 1]
        f[11] = [hipc[0] + 28, hipc[1], 1]
        for hp, kn, an, p in [(8, 9, 10, ph[5]), (11, 12, 13, ph[6])]:
            bend = 0.5 + 0.5 * math.sin(beat + p)
            k = f[hp, :2] + np.array([8 * math.sin(beat + p), 88 - 10 * bend])
            a = k + np.array([-10 * bend * (1 if hp == 8 else -1), 88 - 6 * bend])
            f[kn] = [*k, 1]
            f[an] = [*a, 1]
        turn = 10 * math.sin(0.5 * beat + ph[7])
        head = neck + np.array([turn * 0.3, -45])
        f[0] = [head[0] + turn, head[1], 1]
        f[14] = [head[0] - 9 + turn, head[1] - 8, 1]
        f[15] = [head[0] + 9 + turn, head[1] - 8, 1]
        f[16] = [head[0] - 20 + 0.5 * turn, head[1] - 4, 1 if turn < 6 else 0]
        f[17] = [head[0] + 20 + 0.5 * turn, head[1] - 4, 1 if turn > -6 else 0]
        out.append(f.round(2).tolist())
    return {"fps": fps, "skeleton": "coco18", "width": 512, "height": 512, "frames": out}


def _capsule(img, a, b, r, color, shade=True):
    """Cylinder-shaded capsule a-b of radius r (pixels) into img (H, W, 3 float)."""
    h, w, _ = img.shape
    x0, x1 = int(max(min(a[0], b[0]) - r - 1, 0)), int(min(max(a[0], b[0]) + r + 2, w))
    y0, y1 = int(max(min(a[1], b[1]) - r - 1, 0)), int(min(max(a[1], b[1]) + r + 2, h))
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    d = np.array(b, np.float32) - np.array(a, np.float32)
    l2 = float(d @ d)
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / l2, 0, 1) if l2 > 0 else np.zeros_like(xs)
    qx, qy = a[0] + t * d[0] - xs, a[1] + t * d[1] - ys
    dist = np.sqrt(qx * qx + qy * qy)
    inside = np.clip(r + 0.5 - dist, 0, 1)  # anti-aliased edge
    light = 1.0 - 0.55 * (dist / r) ** 2 if shade else 1.0
    # Light from the upper left: the side facing it is brighter.
    side = np.clip(0.5 + 0.5 * (qx + qy) / (r * 1.41 + 1e-6), 0, 1) if shade else 0.5
    col = np.array(color, np.float32)[None, None, :] * (np.clip(light, 0.25, 1) * (0.8 + 0.4 * side))[..., None]
    patch = img[y0:y1, x0:x1]
    patch[:] = patch * (1 - inside[..., None]) + np.clip(col, 0, 255) * inside[..., None]


def draw_person(frame, size):
    """The shaded puppet for one COCO-18 frame (512-canvas coordinates) on a size x size picture."""
    s = size / 512.0
    img = np.zeros((size, size, 3), np.float32)
    yy = np.arange(size, dtype=np.float32)[:, None] / size
    img[:] = (np.array([205, 200, 185]) * (0.75 + 0.25 * (1 - yy)))[:, None, :]  # wall
    floor = yy[:, 0] > 0.86
    img[floor] = np.array([120, 95, 70]) * 0.9
    f = np.asarray(frame, np.float32)
    p = lambda j: (f[j, 0] * s, f[j, 1] * s)  # noqa: E731
    ok = lambda *js: all(f[j, 2] > 0 for j in js)  # noqa: E731
    skin, shirt, sleeve, trousers, shoe, hair = (224, 172, 140), (40, 90, 170), (35, 75, 150), (50, 50, 60), (30, 25, 25), (60, 40, 25)
    # Legs behind the torso.
    for hp, kn, an in [(8, 9, 10), (11, 12, 13)]:
        if ok(hp, kn):
            _capsule(img, p(hp), p(kn), 17 * s, trousers)
        if ok(kn, an):
            _capsule(img, p(kn), p(an), 14 * s, trousers)
        if ok(an):
            a = p(an)
            _capsule(img, (a[0] - 6 * s, a[1] + 6 * s), (a[0] + 10 * s, a[1] + 8 * s), 7 * s, shoe)
    # Torso: capsules between shoulders and hips.
    if ok(2, 5, 8, 11):
        for u in np.linspace(0, 1, 5):
            top = tuple(np.array(p(2)) * (1 - u) + np.array(p(5)) * u)
            bot = tuple(np.array(p(8)) * (1 - u) + np.array(p(11)) * u)
            _capsule(img, top, bot, 16 * s, shirt)
    for sh, el, wr in [(2, 3, 4), (5, 6, 7)]:
        if ok(sh, el):
            _capsule(img, p(sh), p(el), 12 * s, sleeve)
        if ok(el, wr):
            _capsule(img, p(el), p(wr), 10 * s, skin)
        if ok(wr):
            _capsule(img, p(wr), p(wr), 9 * s, skin)
    if ok(0, 1):
        n, nk = np.array(p(0)), np.array(p(1))
        _capsule(img, tuple(nk), tuple(nk + (n - nk) * 0.5), 9 * s, skin)
        c = n + np.array([0, -6 * s])
        _capsule(img, tuple(c - [0, 8 * s]), tuple(c + [0, 8 * s]), 22 * s, skin)
        _capsule(img, tuple(c - [12 * s, 18 * s]), tuple(c + [12 * s, -18 * s]), 14 * s, hair)
        for e in (14, 15):
            if ok(e):
                _capsule(img, p(e), p(e), 3 * s, (20, 20, 30), shade=False)
        _capsule(img, tuple(n + [-6 * s, 12 * s]), tuple(n + [6 * s, 12 * s]), 2 * s, (150, 60, 60), shade=False)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poses-out", required=True)
    ap.add_argument("--poses-in", help="draw these poses (a choreo pose file) instead of the procedural dancer")
    ap.add_argument("--video-out")
    ap.add_argument("--song", help="audio muxed into --video-out")
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    seq = json.load(open(a.poses_in)) if a.poses_in else dancer(a.frames, seed=a.seed)
    with open(a.poses_out, "w") as fh:
        json.dump(seq, fh)
    if a.video_out:
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{a.size}x{a.size}", "-framerate", str(seq["fps"]), "-i", "-"]
        if a.song:
            cmd += ["-i", a.song, "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-shortest"]
        cmd += ["-c:v", "libx264", "-crf", "16", "-pix_fmt", "yuv420p", a.video_out]
        pr = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        sx = 512 / max(seq["width"], seq["height"])
        for fr in seq["frames"]:
            f = [[x * sx, y * sx, c or 0] if x is not None else [0, 0, 0] for x, y, c in fr]
            pr.stdin.write(draw_person(f, a.size).tobytes())
        pr.stdin.close()
        if pr.wait() != 0:
            raise SystemExit("ffmpeg failed")


if __name__ == "__main__":
    main()
