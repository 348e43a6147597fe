#!/usr/bin/env python3
"""Writes tests/fixtures/metrics/published.json for tests/metrics_parity.rs: small synthetic 2-D
dances (COCO-18, pixels, image y down) with music beats, and what the published evaluation code
gives for them, transcribed here line by line:

- kinematic beats and Beat Align Score: Bailando, utils/metrics_new.py and utils/beat_align_score.py
  (`calc_db`, `BA`): forward-difference joint speed, scipy.ndimage.gaussian_filter(sigma=5 frames
  at 60 fps), scipy.signal.argrelextrema(np.less); BA = mean over music beats of
  exp(-min d^2 / 2 / 9) with d in 60-fps frames (sigma 50 ms);
- beat coverage and hit rate: Lee et al. 2019 (B_k/B_m, B_a/B_k; tolerance 1/12 s, unstated there);
- kinetic features: fairmotion's KineticFeatures as Bailando/AIST++ use them (sliding window 2);
- geometric features: Bailando's utils/features/manual_new.py, the 27 relations with a 2-D meaning;
- FID and diversity: Bailando's quantized_metrics (normalize, calc_fid with scipy.linalg.sqrtm,
  calculate_avg_distance).

The 2-D adaptations (joints present in both frames, y flipped, body units, the 13 body joints,
chest = neck-root midpoint, SMPL lengths over 1.52 m, speeds over half the frame time) are those
documented in src/eval/published.rs and src/eval/features.rs.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scipy
    /tmp/venv/bin/python tools/metrics/published_fixture.py
"""
import json
import pathlib

import numpy as np
from scipy import linalg
from scipy.ndimage import gaussian_filter as G
from scipy.signal import argrelextrema

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "tests" / "fixtures" / "metrics" / "published.json"

BODY = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
HIT_TOL = 2.0 / 24.0


# ---- beats (Bailando calc_db / BA; Lee et al. tallies) ----

def calc_db(kp, fps):
    """kp: T x 18 x 3 (x, y, confidence). Forward differences over joints present in both frames."""
    xy, conf = kp[:, :, :2].astype(np.float64), kp[:, :, 2] > 0
    d = np.sqrt(np.sum((xy[1:] - xy[:-1]) ** 2, axis=2))
    both = conf[1:] & conf[:-1]
    vel = np.zeros(len(d))
    last = 0.0
    for i in range(len(d)):
        if both[i].any():
            last = d[i][both[i]].mean()
        vel[i] = last
    kinetic_vel = G(vel, 5 * fps / 60.0)
    motion_beats = argrelextrema(kinetic_vel, np.less)
    return vel, motion_beats, len(kinetic_vel)


def BA(music_beats, motion_beats, fps):
    # Bailando's BA in frames at 60 fps: exp(-d^2/2/9); here d is in seconds * 60.
    ba = 0
    for bb in music_beats:
        ba += np.exp(-np.min((motion_beats[0] / fps * 60.0 - bb * 60.0) ** 2) / 2 / 9)
    return ba / len(music_beats)


# ---- kinetic features (fairmotion, as in AIST++ / Bailando), 2-D ----

def to_body(kp, height):
    xy = kp[:, :, :2].astype(np.float64)
    root0 = (xy[0, 8] + xy[0, 11]) / 2.0
    b = (xy - root0) / height
    b[:, :, 1] *= -1.0
    return b[:, BODY, :]


def calc_average_velocity_2d(positions, i, joint_idx, sliding_window, frame_time):
    current_window = 0
    average_velocity = np.zeros(2)
    for j in range(-sliding_window, sliding_window + 1):
        if i + j - 1 < 0 or i + j >= len(positions):
            continue
        average_velocity += positions[i + j][joint_idx] - positions[i + j - 1][joint_idx]
        current_window += 1
    return average_velocity / (current_window * frame_time)


def calc_average_acceleration(positions, i, joint_idx, sliding_window, frame_time):
    current_window = 0
    average_acceleration = np.zeros(2)
    for j in range(-sliding_window, sliding_window + 1):
        if i + j - 1 < 0 or i + j + 1 >= len(positions):
            continue
        v2 = (positions[i + j + 1][joint_idx] - positions[i + j][joint_idx]) / frame_time
        v1 = (positions[i + j][joint_idx] - positions[i + j - 1][joint_idx]) / frame_time
        average_acceleration += (v2 - v1) / frame_time
        current_window += 1
    return np.linalg.norm(average_acceleration / current_window)


def extract_kinetic_features(positions, frame_time):
    out = []
    n = len(positions)
    for joint in range(positions.shape[1]):
        h = v = a = 0.0
        for i in range(1, n):
            vel = calc_average_velocity_2d(positions, i, joint, 2, frame_time)
            h += vel[0] ** 2  # horizontal: image x (no depth axis in 2-D)
            v += vel[1] ** 2  # vertical: image y, up
            a += calc_average_acceleration(positions, i, joint, 2, frame_time)
        out.extend([h / (n - 1.0), v / (n - 1.0), a / (n - 1.0)])
    return np.array(out, dtype=np.float64)


# ---- geometric features (Bailando manual_new.py), 2-D ----

NAMES = ["neck", "rshoulder", "relbow", "rwrist", "lshoulder", "lelbow", "lwrist",
         "rhip", "rknee", "rankle", "lhip", "lknee", "lankle"]
HL, SW, HW = 0.256 / 1.52, 0.391 / 1.52, 0.119 / 1.52


def distance_from_plane_normal(n1, n2, a, p, threshold):
    normal = np.array(n2) - np.array(n1)
    pa = np.array(p) - np.array(a)
    return np.dot(normal, pa) / np.linalg.norm(normal) > threshold


def angle_within_range(j1, j2, k1, k2, range):
    j = np.array(j2) - np.array(j1)
    k = np.array(k2) - np.array(k1)
    angle = np.arccos(np.clip(np.dot(j, k) / (np.linalg.norm(j) * np.linalg.norm(k)), -1, 1))
    angle = np.degrees(angle)
    return angle > range[0] and angle < range[1]


def velocity_direction_above_threshold(j1, j1_prev, j2, j2_prev, p, p_prev, threshold, time_per_frame):
    velocity = np.array(p) - np.array(j1) - (np.array(p_prev) - np.array(j1_prev))
    direction = np.array(j2) - np.array(j1)
    velocity_along_direction = np.dot(velocity, direction) / np.linalg.norm(direction)
    velocity_along_direction = velocity_along_direction / time_per_frame
    return velocity_along_direction > threshold


def velocity_above_threshold(p, p_prev, threshold, time_per_frame):
    velocity = np.linalg.norm(np.array(p) - np.array(p_prev)) / time_per_frame
    return velocity > threshold


class ManualFeatures2D:
    def __init__(self, positions, time_per_frame):
        self.positions = positions
        self.frame_num = 1
        self.tpf = time_per_frame
        self.hl, self.sw, self.hw = HL, SW, HW

    def next_frame(self):
        self.frame_num += 1

    def fetch(self, j, t):
        f = self.positions[t]
        root = (f[NAMES.index("rhip")] + f[NAMES.index("lhip")]) / 2.0
        if j == "y_unit":
            return np.array([0.0, 1.0])
        if j == "minus_y_unit":
            return np.array([0.0, -1.0])
        if j == "zero":
            return np.array([0.0, 0.0])
        if j == "y_min":
            return np.array([0.0, min(y for (_, y) in f)])
        if j == "root" or j == "belly":
            return root
        if j == "chest":
            return (f[NAMES.index("neck")] + root) / 2.0
        return f[NAMES.index(j)]

    def f_move(self, j1, j2, j3, j4, range):
        # As published: j4 is fetched but the moving point is j3.
        t = self.frame_num
        p = [self.fetch(j, t - 1) for j in (j1, j2, j3, j4)]
        c = [self.fetch(j, t) for j in (j1, j2, j3, j4)]
        return velocity_direction_above_threshold(c[0], p[0], c[1], p[1], c[2], p[2], range, self.tpf)

    def f_nplane(self, j1, j2, j3, j4, threshold):
        c = [self.fetch(j, self.frame_num) for j in (j1, j2, j3, j4)]
        return distance_from_plane_normal(*c, threshold)

    def f_angle(self, j1, j2, j3, j4, range):
        c = [self.fetch(j, self.frame_num) for j in (j1, j2, j3, j4)]
        return angle_within_range(*c, range)

    def f_fast(self, j1, threshold):
        return velocity_above_threshold(self.fetch(j1, self.frame_num), self.fetch(j1, self.frame_num - 1), threshold, self.tpf)


def extract_manual_features_2d(positions, fps):
    features = []
    f = ManualFeatures2D(positions, 0.5 / fps)
    for _ in range(1, positions.shape[0]):
        pf = []
        # dropped: f_nmove x2 (torso-plane normal)
        pf.append(f.f_nplane("chest", "neck", "neck", "rwrist", 0.2 * f.hl))
        pf.append(f.f_nplane("chest", "neck", "neck", "lwrist", 0.2 * f.hl))
        pf.append(f.f_move("belly", "chest", "chest", "rwrist", 1.8 * f.hl))
        pf.append(f.f_move("belly", "chest", "chest", "lwrist", 1.8 * f.hl))
        pf.append(f.f_angle("relbow", "rshoulder", "relbow", "rwrist", [0, 110]))
        pf.append(f.f_angle("lelbow", "lshoulder", "lelbow", "lwrist", [0, 110]))
        pf.append(f.f_nplane("lshoulder", "rshoulder", "lwrist", "rwrist", 2.5 * f.sw))
        pf.append(f.f_move("lwrist", "rwrist", "rwrist", "lwrist", 1.4 * f.hl))
        pf.append(f.f_move("rwrist", "root", "lwrist", "root", 1.4 * f.hl))
        pf.append(f.f_move("lwrist", "root", "rwrist", "root", 1.4 * f.hl))
        pf.append(f.f_fast("rwrist", 2.5 * f.hl))
        pf.append(f.f_fast("lwrist", 2.5 * f.hl))
        # dropped: f_plane x2 (leg planes)
        pf.append(f.f_nplane("zero", "y_unit", "y_min", "rankle", 1.2 * f.hl))
        pf.append(f.f_nplane("zero", "y_unit", "y_min", "lankle", 1.2 * f.hl))
        pf.append(f.f_nplane("lhip", "rhip", "lankle", "rankle", 2.1 * f.hw))
        pf.append(f.f_angle("rknee", "rhip", "rknee", "rankle", [0, 110]))
        pf.append(f.f_angle("lknee", "lhip", "lknee", "lankle", [0, 110]))
        pf.append(f.f_fast("rankle", 2.5 * f.hl))
        pf.append(f.f_fast("lankle", 2.5 * f.hl))
        pf.append(f.f_angle("neck", "root", "rshoulder", "relbow", [25, 180]))
        pf.append(f.f_angle("neck", "root", "lshoulder", "lelbow", [25, 180]))
        pf.append(f.f_angle("neck", "root", "rhip", "rknee", [50, 180]))
        pf.append(f.f_angle("neck", "root", "lhip", "lknee", [50, 180]))
        # dropped: f_plane (rankle, neck, lankle, root)
        pf.append(f.f_angle("neck", "root", "zero", "y_unit", [70, 110]))
        pf.append(f.f_nplane("zero", "minus_y_unit", "y_min", "rwrist", -1.2 * f.hl))
        pf.append(f.f_nplane("zero", "minus_y_unit", "y_min", "lwrist", -1.2 * f.hl))
        pf.append(f.f_fast("root", 2.3 * f.hl))
        features.append(pf)
        f.next_frame()
    return np.array(features, dtype=np.float64).mean(axis=0)


# ---- FID / diversity (Bailando quantized_metrics) ----

def normalize(feat, feat2):
    mean = feat.mean(axis=0)
    std = feat.std(axis=0)
    return (feat - mean) / (std + 1e-10), (feat2 - mean) / (std + 1e-10)


def calc_fid(kps_gen, kps_gt):
    mu1, sigma1 = np.mean(kps_gen, axis=0), np.cov(kps_gen, rowvar=False)
    mu2, sigma2 = np.mean(kps_gt, axis=0), np.cov(kps_gt, rowvar=False)
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def calculate_avg_distance(feature_list):
    feature_list = np.stack(feature_list)
    n = feature_list.shape[0]
    dist = 0
    for i in range(n):
        for j in range(i + 1, n):
            dist += np.linalg.norm(feature_list[i] - feature_list[j])
    dist /= (n * n - n) / 2
    return dist


# ---- synthetic dances ----

BASE = {0: (200, 100), 1: (200, 130), 2: (180, 130), 3: (175, 165), 4: (172, 200), 5: (220, 130),
        6: (225, 165), 7: (228, 200), 8: (190, 200), 9: (190, 250), 10: (190, 300), 11: (210, 200),
        12: (210, 250), 13: (210, 300), 14: (196, 96), 15: (204, 96), 16: (192, 100), 17: (208, 100)}


def dance(rng, T, fps, period_s, missing):
    t = np.arange(T) / fps
    kp = np.zeros((T, 18, 3), dtype=np.float32)
    amp = rng.uniform(5, 40, size=18)
    ph = rng.uniform(0, 2 * np.pi, size=18)
    sway = 15 * np.sin(2 * np.pi * t / (2 * period_s))
    for j, (x, y) in BASE.items():
        # limbs swing with stops twice per period, plus jitter
        kp[:, j, 0] = x + sway + amp[j] * np.cos(2 * np.pi * t / period_s + ph[j]) * (j in (3, 4, 6, 7, 9, 10, 12, 13))
        kp[:, j, 1] = y + 0.5 * amp[j] * np.sin(2 * np.pi * t / period_s + ph[j]) * (j in (3, 4, 6, 7)) + rng.normal(0, 0.7, T)
        kp[:, j, 2] = 1.0
    if missing:
        for _ in range(30):
            kp[rng.integers(T), rng.integers(18), 2] = 0.0
        kp[T // 2, :, 2] = 0.0  # one frame with nobody
    # Quarter pixels: exact in f32 and short in JSON.
    kp[:, :, :2] = np.round(kp[:, :, :2] * 4.0) / 4.0
    return kp.astype(np.float32)


def main():
    rng = np.random.default_rng(13)
    out = {"hit_tolerance_secs": HIT_TOL, "dances": []}
    for (T, fps, period, missing) in [(300, 60.0, 1.0, False), (120, 24.0, 0.9, True), (240, 60.0, 1.3, False)]:
        kp = dance(rng, T, fps, period, missing)
        vel, motion_beats, length = calc_db(kp, fps)
        span = (T - 1) / fps
        beats = np.arange(rng.uniform(0, 0.5), span + 1.0, period / 2.0)
        music = beats[(beats >= 0) & (beats < span)]
        kin_s = motion_beats[0] / fps
        aligned = int(sum(1 for k in kin_s if np.any(np.abs(music - k) <= HIT_TOL + 1e-9)))
        height = 200.0
        d = {
            "fps": fps,
            "frames": kp.tolist(),
            "music_beats": beats.tolist(),
            "height": height,
            "velocity": vel.tolist(),
            "kinematic_beats": [int(i) for i in motion_beats[0]],
            "beat_align_score": float(BA(music, motion_beats, fps)),
            "tally": {"music": int(len(music)), "kinematic": int(len(kin_s)), "aligned": aligned},
        }
        if not missing:
            body = to_body(kp, height)
            d["kinetic"] = extract_kinetic_features(body, 1.0 / fps).tolist()
            d["geometric"] = extract_manual_features_2d(body, fps).tolist()
        out["dances"].append(d)
    gen = rng.normal(0.3, 1.2, size=(12, 5)) * np.array([1, 2, 0.5, 1, 3])
    real = rng.normal(0.0, 1.0, size=(30, 5)) * np.array([1, 2, 0.5, 1, 3])
    gt_n, gen_n = normalize(real, gen)
    out["fid"] = {
        "gen": gen.tolist(),
        "real": real.tolist(),
        "fid": float(calc_fid(gen_n, gt_n)),
        "div_gen": float(calculate_avg_distance(gen_n)),
        "div_real": float(calculate_avg_distance(gt_n)),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
