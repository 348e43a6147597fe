//! The motion features behind FID_k / FID_g and Div_k / Div_g (AIST++ / Bailando: fairmotion's
//! kinetic features and Müller et al.'s geometric "manual" features, `utils/features/` in
//! Bailando), adapted to choreo's 2-D COCO-18 canvas. One feature vector per dance window.
//!
//! The pose is first put in body units: image y flipped so that +y is up, the root (mid-hip) of the
//! window's first frame subtracted (Bailando's "zero start"), divided by the dance's median
//! nose-to-feet height. Only the 13 body joints ([`BODY`]) are used: the face of a Tang2018 dance is
//! derived, not measured. A joint missing (confidence 0) in a frame that a term needs leaves that
//! term out; a vector entry averages over the terms it has (0 when it has none).
//!
//! **Kinetic (3 per joint, 39)**: per joint, the mean squared horizontal and vertical speed and
//! the mean acceleration magnitude, each from velocities averaged over a sliding window of ±2
//! frame differences (fairmotion's `calc_average_velocity_*`, `calc_average_acceleration`). In
//! 2-D, horizontal is image x and vertical image y (there is no depth axis to fold into the
//! horizontal). Time is the dance's real frame time (the published code assumes 1/30 s; a constant
//! factor, which the z-scoring before FID removes).
//!
//! **Geometric (27)**: the fraction of frames where each boolean pose relation holds, from
//! Bailando's `manual_new.py` (32 relations). The 27 that have a 2-D meaning are kept with the same
//! joints and thresholds: planes given by a normal and a point (`f_nplane`) become lines, angles
//! and speeds are measured in the image. Dropped, because they need the body's depth: the two
//! `f_nmove` (hand speed along the torso plane's normal, which points out of the image for a
//! dancer facing the camera) and the three `f_plane` (signed distance from a plane through three
//! joints, e.g. the leg planes). SMPL's chest is the neck–root midpoint and its belly the root;
//! the toes only appear in dropped relations. Bailando's `f_move(j1, j2, j3, j4)` moves `j3` and
//! never reads `j4`; that is kept (relations 2 and 3 measure the chest rising, not the hands). Lengths are SMPL's template humerus (0.256 m),
//! shoulder width (0.391 m) and hip width (0.119 m) over its nose-to-ankle height (≈ 1.52 m), in
//! body heights. The published code divides joint displacements by 1/120 s although AIST++ runs at
//! 60 fps; speeds here are divided by half the real frame time, which is the same at 60 fps.

use crate::pose::normalize::body_height;
use crate::pose::skeleton::BODY;
use crate::pose::{Frame, Sequence};

/// Length of a feature window, seconds: Bailando's 1200 frames at 60 fps.
pub const WINDOW_SECS: f64 = 20.0;
/// Kinetic features per window: 3 per body joint.
pub const KINETIC_DIM: usize = 3 * BODY.len();
/// Geometric features per window.
pub const GEOMETRIC_DIM: usize = 27;

const HL: f64 = 0.256 / 1.52;
const SW: f64 = 0.391 / 1.52;
const HW: f64 = 0.119 / 1.52;

/// A window in body units: `[frame][body joint] = Some([x, y])`, y up.
type Body = Vec<[Option<[f64; 2]>; 13]>;

fn to_body(frames: &[Frame], height: f64) -> Body {
    let root = |f: &Frame| (f[8][2] > 0.0 && f[11][2] > 0.0).then(|| [(f[8][0] + f[11][0]) as f64 / 2.0, (f[8][1] + f[11][1]) as f64 / 2.0]);
    let origin = frames.iter().find_map(root).unwrap_or([0.0, 0.0]);
    frames
        .iter()
        .map(|f| {
            let mut o = [None; 13];
            for (k, &j) in BODY.iter().enumerate() {
                if f[j][2] > 0.0 {
                    o[k] = Some([(f[j][0] as f64 - origin[0]) / height, -(f[j][1] as f64 - origin[1]) / height]);
                }
            }
            o
        })
        .collect()
}

fn sub(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] - b[0], a[1] - b[1]]
}
fn norm(a: [f64; 2]) -> f64 {
    a[0].hypot(a[1])
}
fn dot(a: [f64; 2], b: [f64; 2]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

/// Kinetic features of one window (fairmotion's, ±2 frame differences).
pub fn kinetic(frames: &[Frame], fps: f64, height: f64) -> Vec<f64> {
    let b = to_body(frames, height);
    let ft = 1.0 / fps;
    let n = b.len() as i64;
    let pos = |t: i64, j: usize| -> Option<[f64; 2]> { (t >= 0 && t < n).then(|| b[t as usize][j]).flatten() };
    let mut out = Vec::with_capacity(KINETIC_DIM);
    for j in 0..BODY.len() {
        let (mut h, mut v, mut a) = ((0.0, 0usize), (0.0, 0usize), (0.0, 0usize));
        for i in 1..n {
            let (mut sv, mut cv) = ([0.0; 2], 0usize);
            let (mut sa, mut ca) = ([0.0; 2], 0usize);
            for w in -2..=2i64 {
                if let (Some(p0), Some(p1)) = (pos(i + w - 1, j), pos(i + w, j)) {
                    let d = sub(p1, p0);
                    sv = [sv[0] + d[0], sv[1] + d[1]];
                    cv += 1;
                }
                if let (Some(p0), Some(p1), Some(p2)) = (pos(i + w - 1, j), pos(i + w, j), pos(i + w + 1, j)) {
                    let acc = [(p2[0] - 2.0 * p1[0] + p0[0]) / (ft * ft), (p2[1] - 2.0 * p1[1] + p0[1]) / (ft * ft)];
                    sa = [sa[0] + acc[0], sa[1] + acc[1]];
                    ca += 1;
                }
            }
            if cv > 0 {
                let vel = [sv[0] / (cv as f64 * ft), sv[1] / (cv as f64 * ft)];
                h = (h.0 + vel[0] * vel[0], h.1 + 1);
                v = (v.0 + vel[1] * vel[1], v.1 + 1);
            }
            if ca > 0 {
                a = (a.0 + norm([sa[0] / ca as f64, sa[1] / ca as f64]), a.1 + 1);
            }
        }
        let mean = |(s, c): (f64, usize)| if c == 0 { 0.0 } else { s / c as f64 };
        out.extend([mean(h), mean(v), mean(a)]);
    }
    out
}

// Body joint slots (index into BODY = [neck, rsho, relb, rwri, lsho, lelb, lwri, rhip, rknee, rank, lhip, lknee, lank]).
const NECK: usize = 0;
const RSHO: usize = 1;
const RELB: usize = 2;
const RWRI: usize = 3;
const LSHO: usize = 4;
const LELB: usize = 5;
const LWRI: usize = 6;
const RHIP: usize = 7;
const RKNEE: usize = 8;
const RANK: usize = 9;
const LHIP: usize = 10;
const LKNEE: usize = 11;
const LANK: usize = 12;

/// A point of Bailando's relations: a joint, a derived point, or a constant.
#[derive(Clone, Copy)]
enum P {
    J(usize),
    Root,
    Chest,
    Zero,
    Up,
    Down,
    Floor,
}
use P::*;

enum Rel {
    /// `f_nplane(j1, j2, j3, p, th)`: (p − j3)·(j2 − j1)/|j2 − j1| > th.
    NPlane(P, P, P, P, f64),
    /// `f_move(j1, j2, j3, _, th)`: velocity of j3 relative to j1 along j1→j2 > th (the published
    /// code ignores its fourth joint).
    Move(P, P, P, f64),
    /// `f_angle(j1, j2, j3, j4, [lo, hi])`: angle between j2−j1 and j4−j3 in (lo, hi) degrees.
    Angle(P, P, P, P, f64, f64),
    /// `f_fast(j, th)`: speed of j > th.
    Fast(P, f64),
}

fn relations() -> [Rel; GEOMETRIC_DIM] {
    use Rel::*;
    [
        NPlane(Chest, J(NECK), J(NECK), J(RWRI), 0.2 * HL),
        NPlane(Chest, J(NECK), J(NECK), J(LWRI), 0.2 * HL),
        // `f_move(belly, chest, chest, rwrist)`: the published f_move moves its third point and
        // never reads the fourth, so these two measure the chest rising, as in the code.
        Move(Root, Chest, Chest, 1.8 * HL),
        Move(Root, Chest, Chest, 1.8 * HL),
        Angle(J(RELB), J(RSHO), J(RELB), J(RWRI), 0.0, 110.0),
        Angle(J(LELB), J(LSHO), J(LELB), J(LWRI), 0.0, 110.0),
        NPlane(J(LSHO), J(RSHO), J(LWRI), J(RWRI), 2.5 * SW),
        Move(J(LWRI), J(RWRI), J(RWRI), 1.4 * HL),
        Move(J(RWRI), Root, J(LWRI), 1.4 * HL),
        Move(J(LWRI), Root, J(RWRI), 1.4 * HL),
        Fast(J(RWRI), 2.5 * HL),
        Fast(J(LWRI), 2.5 * HL),
        NPlane(Zero, Up, Floor, J(RANK), 1.2 * HL),
        NPlane(Zero, Up, Floor, J(LANK), 1.2 * HL),
        NPlane(J(LHIP), J(RHIP), J(LANK), J(RANK), 2.1 * HW),
        Angle(J(RKNEE), J(RHIP), J(RKNEE), J(RANK), 0.0, 110.0),
        Angle(J(LKNEE), J(LHIP), J(LKNEE), J(LANK), 0.0, 110.0),
        Fast(J(RANK), 2.5 * HL),
        Fast(J(LANK), 2.5 * HL),
        Angle(J(NECK), Root, J(RSHO), J(RELB), 25.0, 180.0),
        Angle(J(NECK), Root, J(LSHO), J(LELB), 25.0, 180.0),
        Angle(J(NECK), Root, J(RHIP), J(RKNEE), 50.0, 180.0),
        Angle(J(NECK), Root, J(LHIP), J(LKNEE), 50.0, 180.0),
        Angle(J(NECK), Root, Zero, Up, 70.0, 110.0),
        NPlane(Zero, Down, Floor, J(RWRI), -1.2 * HL),
        NPlane(Zero, Down, Floor, J(LWRI), -1.2 * HL),
        Fast(Root, 2.3 * HL),
    ]
}

fn at(f: &[Option<[f64; 2]>; 13], p: P) -> Option<[f64; 2]> {
    let mid = |a: [f64; 2], b: [f64; 2]| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
    match p {
        J(j) => f[j],
        Root => Some(mid(f[RHIP]?, f[LHIP]?)),
        Chest => Some(mid(f[NECK]?, mid(f[RHIP]?, f[LHIP]?))),
        Zero => Some([0.0, 0.0]),
        Up => Some([0.0, 1.0]),
        Down => Some([0.0, -1.0]),
        Floor => f.iter().flatten().map(|q| q[1]).min_by(|a, b| a.total_cmp(b)).map(|y| [0.0, y]),
    }
}

fn holds(r: &Rel, prev: &[Option<[f64; 2]>; 13], cur: &[Option<[f64; 2]>; 13], per_frame: f64) -> Option<bool> {
    Some(match *r {
        Rel::NPlane(j1, j2, j3, p, th) => {
            let n = sub(at(cur, j2)?, at(cur, j1)?);
            let l = norm(n);
            if l == 0.0 {
                return None;
            }
            dot(n, sub(at(cur, p)?, at(cur, j3)?)) / l > th
        }
        Rel::Move(j1, j2, j3, th) => {
            let vel = sub(sub(at(cur, j3)?, at(cur, j1)?), sub(at(prev, j3)?, at(prev, j1)?));
            let dir = sub(at(cur, j2)?, at(cur, j1)?);
            let l = norm(dir);
            if l == 0.0 {
                return None;
            }
            dot(vel, dir) / l / per_frame > th
        }
        Rel::Angle(j1, j2, j3, j4, lo, hi) => {
            let (a, b) = (sub(at(cur, j2)?, at(cur, j1)?), sub(at(cur, j4)?, at(cur, j3)?));
            let l = norm(a) * norm(b);
            if l == 0.0 {
                return None;
            }
            let deg = (dot(a, b) / l).clamp(-1.0, 1.0).acos().to_degrees();
            deg > lo && deg < hi
        }
        Rel::Fast(j, th) => norm(sub(at(cur, j)?, at(prev, j)?)) / per_frame > th,
    })
}

/// Geometric features of one window: per relation, the fraction of frames 1.. where it holds.
pub fn geometric(frames: &[Frame], fps: f64, height: f64) -> Vec<f64> {
    let b = to_body(frames, height);
    // Bailando's code: displacement / (1/120 s) at 60 fps, i.e. twice the real speed.
    let per_frame = 0.5 / fps;
    relations()
        .iter()
        .map(|r| {
            let (mut yes, mut n) = (0usize, 0usize);
            for t in 1..b.len() {
                if let Some(h) = holds(r, &b[t - 1], &b[t], per_frame) {
                    n += 1;
                    yes += h as usize;
                }
            }
            if n == 0 {
                0.0
            } else {
                yes as f64 / n as f64
            }
        })
        .collect()
}

/// Kinetic and geometric vectors of a dance, one per whole [`WINDOW_SECS`] window (a dance
/// shorter than one window gives one vector over all of it, if it has at least 8 frames).
pub fn windows(seq: &Sequence) -> Vec<(Vec<f64>, Vec<f64>)> {
    let Some(h) = body_height(seq) else { return Vec::new() };
    let h = h as f64;
    let len = (WINDOW_SECS * seq.fps).round() as usize;
    let n = seq.len();
    let spans: Vec<(usize, usize)> = if n < len { if n >= 8 { vec![(0, n)] } else { vec![] } } else { (0..n / len).map(|k| (k * len, (k + 1) * len)).collect() };
    spans.into_iter().map(|(a, b)| (kinetic(&seq.frames[a..b], seq.fps, h), geometric(&seq.frames[a..b], seq.fps, h))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::NUM_JOINTS;

    fn standing(dx: f32) -> Frame {
        // An upright figure 200 px from nose (y 100) to ankles (y 300), arms down.
        let mut f = [[0.0f32; 3]; NUM_JOINTS];
        let pts: [(usize, f32, f32); 14] = [
            (0, 200.0, 100.0), (1, 200.0, 130.0), (2, 180.0, 130.0), (3, 175.0, 165.0), (4, 172.0, 200.0),
            (5, 220.0, 130.0), (6, 225.0, 165.0), (7, 228.0, 200.0), (8, 190.0, 200.0), (9, 190.0, 250.0),
            (10, 190.0, 300.0), (11, 210.0, 200.0), (12, 210.0, 250.0), (13, 210.0, 300.0),
        ];
        for (j, x, y) in pts {
            f[j] = [x + dx, y, 1.0];
        }
        f
    }

    #[test]
    fn still_body_has_no_kinetic_energy_and_a_walk_has_horizontal_only() {
        let still: Vec<Frame> = (0..40).map(|_| standing(0.0)).collect();
        let k = kinetic(&still, 24.0, 200.0);
        assert_eq!(k.len(), KINETIC_DIM);
        assert!(k.iter().all(|v| *v == 0.0));
        // 2 px per frame to the right at 24 fps = 48 px/s = 0.24 body heights/s: energy 0.0576.
        let walk: Vec<Frame> = (0..40).map(|t| standing(2.0 * t as f32)).collect();
        let k = kinetic(&walk, 24.0, 200.0);
        for j in 0..BODY.len() {
            assert!((k[3 * j] - 0.0576).abs() < 1e-9 && k[3 * j + 1] == 0.0 && k[3 * j + 2].abs() < 1e-9, "{k:?}");
        }
    }

    #[test]
    fn geometric_relations_read_the_pose() {
        // Upright and still, arms hanging, legs straight: none of the 27 relations holds (hands
        // below the neck, elbows and knees straight, upper arms along the torso, nothing fast).
        let still: Vec<Frame> = (0..10).map(|_| standing(0.0)).collect();
        let g = geometric(&still, 24.0, 200.0);
        assert_eq!(g.len(), GEOMETRIC_DIM);
        assert!(g.iter().all(|v| *v == 0.0), "{g:?}");
        // Arms raised straight up, right knee bent to ~101°.
        let mut f = standing(0.0);
        f[3] = [175.0, 95.0, 1.0];
        f[4] = [172.0, 60.0, 1.0];
        f[6] = [225.0, 95.0, 1.0];
        f[7] = [228.0, 60.0, 1.0];
        f[9] = [150.0, 240.0, 1.0];
        let g = geometric(&[f; 10], 24.0, 200.0);
        // Hands above the neck (0, 1); right knee bent (15), left straight (16); upper arms away
        // from the torso's downward axis (19, 20); elbows straight (4, 5).
        assert_eq!((g[0], g[1], g[15], g[16], g[19], g[20], g[4], g[5]), (1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0), "{g:?}");
        // Walking right at 0.24 body heights/s: fast by Bailando's doubled speed (0.48 > 2.3 hl,
        // 2.5 hl) for the root, wrists and ankles (26, 10, 11, 17, 18).
        let walk: Vec<Frame> = (0..10).map(|t| standing(2.0 * t as f32)).collect();
        let g = geometric(&walk, 24.0, 200.0);
        assert_eq!((g[26], g[10], g[11], g[17], g[18]), (1.0, 1.0, 1.0, 1.0, 1.0), "{g:?}");
    }

    #[test]
    fn long_dances_give_one_vector_per_twenty_seconds() {
        let frames: Vec<Frame> = (0..24 * 45).map(|t| standing((t % 7) as f32)).collect();
        let seq = Sequence::new(24.0, 512, 512, frames);
        assert_eq!(windows(&seq).len(), 2);
        let short = Sequence::new(24.0, 512, 512, (0..5).map(|_| standing(0.0)).collect());
        assert!(windows(&short).is_empty());
    }
}
