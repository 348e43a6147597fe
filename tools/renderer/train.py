"""Trains choreo's learned renderer on a video of the target person and exports it as ONNX.

    python3 tools/renderer/train.py --video TARGET.mp4 --out models/NAME.onnx [--size 256|512]
                                    [--steps N] [--face] [--device cpu|cuda]
    python3 tools/renderer/train.py --smoke --out /tmp/smoke.onnx     # a few steps, CPU, < 2 min

1. Poses: `choreo poses --video TARGET.mp4` (MoveNet, letterboxed to 512², 24 fps), and pose maps
   drawn by `choreo draw --all --size S`: the training inputs are byte-for-byte the rasters
   `choreo render --renderer onnx` feeds the generator.
2. Frames: ffmpeg decodes the video at the same rate, letterboxed to S² the same way.
3. Generator: pix2pixHD's global generator (ngf 64, 4 downsamplings, 9 residual blocks) trained
   against a multi-scale PatchGAN (LSGAN + discriminator feature matching + L1; a VGG19
   perceptual loss only when torchvision and its ImageNet weights are already on this machine).
4. Face (--face): a residual GAN on the crop centred on the nose (DanceIt: 50 px at 512², scaled
   with S) of the generated frame and of the pose map; the residual is blended into the crop by
   the same edge mask the Rust side uses.
5. Export: single-file ONNX, opset 17, batch dimension dynamic: OUT (generator, input
   [N,3,S,S]) and OUT with `_face` before `.onnx` (input [N,6,h,w], any h = w).

--smoke without --video trains on frames synthesised from poses (tools/renderer/synth.py: a
shaded puppet drawn from the procedural dancer, or from --poses, e.g. a corpus dance); no real
target-person video is available offline. Needs PyTorch (tools/renderer/requirements.txt).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import synth  # noqa: E402

OPSET = 17


def log(msg):
    print(f"train.py: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- models (pix2pixHD, networks.py)


class ResnetBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class GlobalGenerator(nn.Module):
    """pix2pixHD GlobalGenerator; the same layer sequence as onnx_graphs.global_generator."""

    def __init__(self, ngf=64, n_down=4, n_blocks=9):
        super().__init__()
        L = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        c = ngf
        for _ in range(n_down):
            L += [nn.Conv2d(c, c * 2, 3, 2, 1), nn.InstanceNorm2d(c * 2), nn.ReLU(True)]
            c *= 2
        L += [ResnetBlock(c) for _ in range(n_blocks)]
        for _ in range(n_down):
            L += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        L += [nn.ReflectionPad2d(3), nn.Conv2d(c, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*L)

    def forward(self, x):
        return self.model(x)


class FaceResidual(nn.Module):
    """Face residual generator: stride-1 convolutions (any crop side), dilations for context."""

    def __init__(self, nf=32, n_layers=5):
        super().__init__()
        L = [nn.Conv2d(6, nf, 3, 1, 1), nn.LeakyReLU(0.2, True)]
        for i in range(n_layers - 2):
            d = 2 ** (i % 3)
            L += [nn.Conv2d(nf, nf, 3, 1, d, dilation=d), nn.InstanceNorm2d(nf), nn.LeakyReLU(0.2, True)]
        L += [nn.Conv2d(nf, 3, 3, 1, 1), nn.Tanh()]
        self.model = nn.Sequential(*L)

    def forward(self, x):
        return self.model(x)


class NLayerD(nn.Module):
    """PatchGAN (pix2pixHD NLayerDiscriminator); returns every layer's output for feature matching."""

    def __init__(self, cin, ndf=64, n_layers=3):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(cin, ndf, 4, 2, 2), nn.LeakyReLU(0.2, True))]
        c = ndf
        for i in range(1, n_layers):
            c2 = min(c * 2, 512)
            layers.append(nn.Sequential(nn.Conv2d(c, c2, 4, 2, 2), nn.InstanceNorm2d(c2), nn.LeakyReLU(0.2, True)))
            c = c2
        c2 = min(c * 2, 512)
        layers.append(nn.Sequential(nn.Conv2d(c, c2, 4, 1, 2), nn.InstanceNorm2d(c2), nn.LeakyReLU(0.2, True)))
        layers.append(nn.Conv2d(c2, 1, 4, 1, 2))
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        feats = []
        for L in self.layers:
            x = L(x)
            feats.append(x)
        return feats


class MultiscaleD(nn.Module):
    def __init__(self, cin, ndf=64, n_layers=3, num_d=2):
        super().__init__()
        self.ds = nn.ModuleList([NLayerD(cin, ndf, n_layers) for _ in range(num_d)])

    def forward(self, x):
        out = []
        for i, d in enumerate(self.ds):
            if i:
                x = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
            out.append(d(x))
        return out


def lsgan(preds, real):
    return sum(F.mse_loss(p[-1], torch.full_like(p[-1], 1.0 if real else 0.0)) for p in preds) / len(preds)


def feat_match(fake, real):
    loss = 0.0
    for pf, pr in zip(fake, real):
        for f, r in zip(pf[:-1], pr[:-1]):
            loss = loss + F.l1_loss(f, r.detach())
    return loss / len(fake)


def vgg_loss_or_none(device):
    """VGG19 perceptual loss (pix2pixHD weights) when torchvision and its ImageNet weights are
    already cached; None otherwise (nothing is downloaded)."""
    try:
        import torchvision
        from torchvision.models import VGG19_Weights
    except Exception:
        return None
    w = VGG19_Weights.IMAGENET1K_V1
    path = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(w.url))
    if not os.path.isfile(path):
        return None
    vgg = torchvision.models.vgg19()
    vgg.load_state_dict(torch.load(path, map_location="cpu"))
    feats = vgg.features.eval().to(device)
    for p in feats.parameters():
        p.requires_grad_(False)
    cuts, weights = [2, 7, 12, 21, 30], [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0]
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)

    def loss(x, y):
        x, y = ((x + 1) / 2 - mean) / std, ((y + 1) / 2 - mean) / std
        total, prev = 0.0, 0
        for c, wt in zip(cuts, weights):
            for i in range(prev, c):
                x, y = feats[i](x), feats[i](y)
            prev = c
            total = total + wt * F.l1_loss(x, y.detach())
        return total

    return loss


# ------------------------------------------------------------------------ face crops (as in Rust)


def face_side(g):
    """src/render/onnx.rs face_side: DanceIt's 50 px at 512², scaled, at least 8."""
    return max(int(math.floor(50.0 * g / 512.0 + 0.5)), 8)


def face_mask(f):
    """src/render/onnx.rs face_mask, as an f x f array."""
    ramp = max(f / 5.0, 1.0)
    w = np.array([min((min(i, f - 1 - i) + 0.5) / ramp, 1.0) for i in range(f)], np.float32)
    return np.outer(w, w)


def face_origin(frame, src_w, src_h, g, f):
    """src/render/onnx.rs face_origin: crop corner around the nose, or None."""
    x, y, c = frame[0]
    if not c or c <= 0 or f > g:
        return None
    nx, ny = np.float32(x) * np.float32(g) / np.float32(src_w), np.float32(y) * np.float32(g) / np.float32(src_h)
    at = lambda v: int(min(max(math.floor(v - f / 2 + 0.5), 0), g - f))  # noqa: E731
    return at(nx), at(ny)


# ------------------------------------------------------------------------------------- data


def choreo_bin(arg):
    if arg:
        return arg
    for p in [os.path.join(ROOT, "target", "release", "choreo"), os.path.join(ROOT, "target", "debug", "choreo")]:
        if os.path.isfile(p):
            return p
    return shutil.which("choreo") or "choreo"


def run(cmd):
    log(" ".join(cmd))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"train.py: {cmd[0]} failed: {r.stderr.strip() or r.stdout.strip()}")
    return r


def pose_maps(choreo, poses, size, work):
    out = os.path.join(work, "maps.npy")
    run([choreo, "draw", "--poses", poses, "--all", "--size", str(size), "--out", out])
    return np.load(out)


def video_frames(video, fps, size, n):
    """The video at `fps`, letterboxed (centred, black bars) onto size², as n x size x size x 3."""
    vf = f"fps={fps},scale={size}:{size}:force_original_aspect_ratio=decrease:flags=area,pad={size}:{size}:(ow-iw)/2:(oh-ih)/2"
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", video, "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"train.py: {video}: ffmpeg could not decode it: {r.stderr.decode().strip()}")
    fr = np.frombuffer(r.stdout, np.uint8).reshape(-1, size, size, 3)
    if len(fr) < n:  # the fps filter may end a frame early: repeat the last one
        fr = np.concatenate([fr, np.repeat(fr[-1:], n - len(fr), 0)])
    return fr[:n]


def load_data(a, work, choreo):
    """Returns (pose maps, frames, pose frames, src_w, src_h), frames without a person dropped."""
    if a.video:
        poses = os.path.join(work, "poses.json")
        run([choreo, "poses", "--video", a.video, "--device", "cpu" if a.device == "cpu" else "auto", "--out", poses])
        seq = json.load(open(poses))
        maps = pose_maps(choreo, poses, a.size, work)
        frames = video_frames(a.video, seq["fps"], a.size, len(maps))
        log(f"{a.video}: {len(maps)} frames at {seq['fps']} fps")
    else:
        poses = os.path.join(work, "poses.json")
        if a.poses:
            seq = json.load(open(a.poses))
            what = a.poses
        else:
            seq = synth.dancer(a.frames, seed=a.seed)
            what = "procedural dancer"
        with open(poses, "w") as fh:
            json.dump(seq, fh)
        maps = pose_maps(choreo, poses, a.size, work)
        sx = 512 / max(seq["width"], seq["height"])
        clean = [[[x * sx, y * sx, c or 0] if x is not None else [0, 0, 0] for x, y, c in fr] for fr in seq["frames"]]
        frames = np.stack([synth.draw_person(f, a.size) for f in clean])
        log(f"SYNTHETIC target person ({what}, {len(maps)} frames): no real video was given")
    pf = [[[x or 0, y or 0, c or 0] for x, y, c in fr] for fr in seq["frames"]]
    keep = [i for i, f in enumerate(pf) if any(j[2] > 0 for j in f)]
    return maps[keep], frames[keep], [pf[i] for i in keep], seq["width"], seq["height"]


def to_t(x, device):
    return torch.from_numpy(np.ascontiguousarray(x)).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0


# ------------------------------------------------------------------------------------- export


def export(model, example, path, in_name, out_name, dyn_hw):
    model.eval()
    axes = {0: "N", 2: "H", 3: "W"} if dyn_hw else {0: "N"}
    kw = dict(input_names=[in_name], output_names=[out_name], opset_version=OPSET,
              dynamic_axes={in_name: axes, out_name: axes})
    tmp = path + ".tmp"
    try:
        torch.onnx.export(model, (example,), tmp, dynamo=False, **kw)
    except TypeError:
        torch.onnx.export(model, (example,), tmp, **kw)
    import onnx
    m = onnx.load(tmp, load_external_data=True)
    onnx.save(m, path)  # one file: weights inline (< 2 GB)
    for p in [tmp, tmp + ".data"]:
        if os.path.exists(p):
            os.remove(p)
    log(f"exported {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


# ------------------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", help="video of the target person (one person, full body)")
    ap.add_argument("--out", required=True, help="generator .onnx; the face model goes to NAME_face.onnx")
    ap.add_argument("--size", type=int, default=None, help="256 or 512 (default 512; 128 with --smoke)")
    ap.add_argument("--steps", type=int, default=None, help="generator steps (default 20000; 200 with --smoke)")
    ap.add_argument("--face-steps", type=int, default=None, help="face GAN steps (default steps/4)")
    ap.add_argument("--face", action="store_true", help="also train and export the face residual model")
    ap.add_argument("--smoke", action="store_true", help="tiny networks, few steps, CPU: checks the pipeline end to end")
    ap.add_argument("--poses", help="without --video: a choreo pose file to synthesise the target person from")
    ap.add_argument("--frames", type=int, default=120, help="without --video/--poses: frames of the procedural dancer")
    ap.add_argument("--batch", type=int, default=None, help="images per step (default 1, as pix2pixHD; 2 with --smoke)")
    ap.add_argument("--ngf", type=int, default=None, help="generator width (64 = pix2pixHD; 8 with --smoke)")
    ap.add_argument("--n-down", type=int, default=None, help="downsamplings (4 = pix2pixHD; 2 with --smoke)")
    ap.add_argument("--n-blocks", type=int, default=None, help="residual blocks (9 = pix2pixHD; 2 with --smoke)")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--choreo", help="the choreo binary (default target/release/choreo, then PATH)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's; 1 with --smoke)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    sm = a.smoke
    a.size = a.size or (128 if sm else 512)
    a.steps = a.steps if a.steps is not None else (200 if sm else 20000)
    a.face_steps = a.face_steps if a.face_steps is not None else max(a.steps // 4, 1)
    a.batch = a.batch or (2 if sm else 1)
    a.ngf, a.n_down, a.n_blocks = a.ngf or (8 if sm else 64), a.n_down or (2 if sm else 4), a.n_blocks or (2 if sm else 9)
    ndf, num_d = (16, 2) if sm else (64, 3)
    if a.size % (2 ** a.n_down) or a.size < 32:
        raise SystemExit(f"train.py: --size {a.size} must be ≥ 32 and a multiple of {2 ** a.n_down}")
    if not a.out.endswith(".onnx"):
        raise SystemExit("train.py: --out must end in .onnx")
    if a.video and not os.path.isfile(a.video):
        raise SystemExit(f"train.py: {a.video}: file not found")
    if not a.video and not sm:
        raise SystemExit("train.py: --video TARGET.mp4 is needed (or --smoke, which synthesises a target person)")
    dev = torch.device("cuda" if a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available()) else "cpu")
    if sm and a.device == "auto":
        dev = torch.device("cpu")
    if sm or a.threads:
        # One thread: on a few shared cores, torch's spinning OpenMP threads ran 5x slower than one.
        torch.set_num_threads(a.threads or 1)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t_start = time.time()
    choreo = choreo_bin(a.choreo)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)

    with tempfile.TemporaryDirectory() as work:
        maps, frames, pf, src_w, src_h = load_data(a, work, choreo)
    if len(maps) == 0:
        raise SystemExit("train.py: no frame with a person to train on")
    log(f"{len(maps)} training pairs at {a.size}², device {dev}, {torch.get_num_threads()} threads")

    G = GlobalGenerator(a.ngf, a.n_down, a.n_blocks).to(dev)
    D = MultiscaleD(6, ndf, 3, num_d).to(dev)
    oG = torch.optim.Adam(G.parameters(), a.lr, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D.parameters(), a.lr, betas=(0.5, 0.999))
    vgg = vgg_loss_or_none(dev)
    log(f"generator {sum(p.numel() for p in G.parameters()) / 1e6:.2f} M parameters; losses: LSGAN + feature matching + L1"
        + (" + VGG19" if vgg else " (no VGG19: torchvision or its weights not available offline)"))

    t0 = time.time()
    for step in range(1, a.steps + 1):
        idx = rng.integers(0, len(maps), a.batch)
        x, y = to_t(maps[idx], dev), to_t(frames[idx], dev)
        fake = G(x)
        # Discriminator.
        oD.zero_grad()
        lD = 0.5 * (lsgan(D(torch.cat([x, fake.detach()], 1)), False) + lsgan(D(torch.cat([x, y], 1)), True))
        lD.backward()
        oD.step()
        # Generator.
        oG.zero_grad()
        pf_fake, pf_real = D(torch.cat([x, fake], 1)), D(torch.cat([x, y], 1))
        lG = lsgan(pf_fake, True) + 10 * feat_match(pf_fake, pf_real) + 10 * F.l1_loss(fake, y)
        if vgg:
            lG = lG + 10 * vgg(fake, y)
        lG.backward()
        oG.step()
        if step == 1 or step % max(a.steps // 10, 1) == 0 or step == a.steps:
            log(f"G step {step}/{a.steps}: D {lD.item():.3f}, G {lG.item():.3f}, L1 {F.l1_loss(fake, y).item():.3f} ({time.time() - t0:.0f} s)")
    export(G.cpu(), torch.zeros(1, 3, a.size, a.size), a.out, "pose_map", "image", dyn_hw=False)
    G.to(dev)

    if a.face:
        f = face_side(a.size)
        mask = torch.from_numpy(face_mask(f)).to(dev)[None, None]
        crops = [(i, face_origin(pf[i], src_w, src_h, a.size, f)) for i in range(len(pf))]
        crops = [(i, o) for i, o in crops if o is not None]
        if not crops:
            raise SystemExit("train.py: --face: no frame with a nose to train the face model on")
        FR = FaceResidual(16 if sm else 32, 4 if sm else 6).to(dev)
        FD = MultiscaleD(6, ndf, 2, 1).to(dev)
        oF = torch.optim.Adam(FR.parameters(), a.lr, betas=(0.5, 0.999))
        oFD = torch.optim.Adam(FD.parameters(), a.lr, betas=(0.5, 0.999))
        G.eval()
        log(f"face: {len(crops)} crops of {f}², {a.face_steps} steps")
        t0 = time.time()
        for step in range(1, a.face_steps + 1):
            pick = [crops[k] for k in rng.integers(0, len(crops), a.batch)]
            idx = [i for i, _ in pick]
            x, y = to_t(maps[idx], dev), to_t(frames[idx], dev)
            with torch.no_grad():
                g = G(x)
            cut = lambda t: torch.stack([t[k, :, o[1]:o[1] + f, o[0]:o[0] + f] for k, (_, o) in enumerate(pick)])  # noqa: E731
            gc, pc, yc = cut(g), cut(x), cut(y)
            out = gc + mask * FR(torch.cat([gc, pc], 1))
            oFD.zero_grad()
            lD = 0.5 * (lsgan(FD(torch.cat([pc, out.detach()], 1)), False) + lsgan(FD(torch.cat([pc, yc], 1)), True))
            lD.backward()
            oFD.step()
            oF.zero_grad()
            pff, pfr = FD(torch.cat([pc, out], 1)), FD(torch.cat([pc, yc], 1))
            lF = lsgan(pff, True) + 10 * feat_match(pff, pfr) + 10 * F.l1_loss(out, yc)
            lF.backward()
            oF.step()
            if step == 1 or step % max(a.face_steps // 5, 1) == 0 or step == a.face_steps:
                log(f"face step {step}/{a.face_steps}: D {lD.item():.3f}, F {lF.item():.3f}, L1 {F.l1_loss(out, yc).item():.3f} (generator alone {F.l1_loss(gc, yc).item():.3f}) ({time.time() - t0:.0f} s)")
        face_out = a.out[: -len(".onnx")] + "_face.onnx"
        export(FR.cpu(), torch.zeros(1, 6, f, f), face_out, "face_in", "residual", dyn_hw=True)
    log(f"done in {time.time() - t_start:.1f} s")


if __name__ == "__main__":
    main()
