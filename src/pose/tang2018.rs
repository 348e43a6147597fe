//! Loader for the Tang et al. 2018 ballroom mocap ("Dance with Melody", ACM MM 2018):
//! `skeletons.json` (23 body-centred 3-D joints + root `center`, 25 fps, cm, y up) → COCO-18 on
//! the 512×512 canvas, seen by a fixed front camera.
//!
//! How the 3-D data becomes a 2-D COCO-18 figure:
//! - **Sides.** Joints 3–11 are one side, 12–20 the other. The foot bones give the facing
//!   direction (heel → toe, both feet, horizontal part) `f`; with y up and a right-handed frame the
//!   body's right is `f × up`. Over the whole dance, the side whose shoulder lies along `f × up`
//!   is taken as anatomical right. On every dance of the corpus that is the 12–20 side, in
//!   ~90 % of frames taken one by one (the rest are feet crossed or turning).
//! - **Head and face.** Joints 0 and 1 lie ~11 cm apart along the shoulder line (not top/bottom as
//!   the authors' drawing code labels them): they are used as the ears, each on the side of the
//!   shoulder it is nearest along that line. The nose sits 9 cm in front of the ears' midpoint and
//!   2 cm below it; the eyes 7 cm in front, 3 cm above and 3.2 cm to either side. "In front" is
//!   `up × (right ear − left ear)`.
//! - **Camera.** A fixed orthographic camera on the floor plane, looking at the dancer from the
//!   direction the dancer faces on average over the dance (the audience side; +z if the dancer has
//!   no dominant facing). It follows the dancer across the floor (horizontal root motion removed),
//!   keeps vertical root motion (rises and falls), 1.75 px per cm, body centre at (256, 266).
//! - **Visibility.** Nose and eyes get confidence 0 when the face points away from the camera;
//!   an ear gets 0 when it points away from the camera by more than 45°. Body joints get 1.
//! - **Frame rate.** Resampled from 25 fps to the working rate by linear interpolation.
//!
//! The 3-D track ([`super::skeleton3d`], humanoid18) is kept beside the projection, with the same
//! side decision (the side taken as right above is `Right*`), in world positions (joint + `center`,
//! so the root path is in it), cm, y up:
//! - **Handedness.** Read as a right-handed frame, the labelled body faces backwards: the knees
//!   bend (knee in front of the hip–ankle line) towards `up × (right − left)` in only 8 % of
//!   bent-knee frames over the corpus (0–7 % in every waltz). So the data are left-handed (the
//!   2-D projection does not care: it is the same picture), and the 3-D track negates x. After that,
//!   knees bend forward in 92 % of those frames and a humanoid rig gets anatomical left and right.
//! - **Joints.** `Hips` = midpoint of the hip joints 7 and 16 (joint 2 sits 0.27–0.34 of the way
//!   from there to the neck and 4–6 cm off that line: a pelvis/lower-back marker, not used);
//!   `Neck` = midpoint of the shoulders 3 and 12; `Spine` (chest) = midway from `Hips` to `Neck`
//!   (the dataset has no chest joint: 21 and 22 lie 40–50 cm off the trunk axis, 21 within 4–8 cm
//!   of one wrist and 81 cm from 22: not body joints, not used); `Head` = midpoint of 0 and 1
//!   (the ears, see above); arms: shoulder 3/12, elbow 4/13, wrist (`*Hand`) 6/15 — the elbow
//!   is 23–25 cm from 6/15 (a forearm) but only 11–15 cm from 5/14, which lies midway along it
//!   (the 2-D projection keeps 5/14 as its wrist, as before); legs 7/16, 8/17, 9/18. `*ToeBase` = 11/20: of the two foot joints, 11 is the toe
//!   (18 cm from the ankle and 3–7 cm lower than 10, which is 11–13 cm away: the heel, raised in
//!   ballroom shoes), and it lies in front of the knee (it is on the knee's side of the leg in ~90 %
//!   of bent-knee frames). The README's drawing-code labels name them the other way round; the
//!   2-D side decision above uses 10 − 11 and is kept as it is.

use std::path::Path;

use serde::Deserialize;

use super::skeleton3d::{Frame3, Joint3, NUM_JOINTS3};
use super::{Frame, PoseError, Sequence, NUM_JOINTS};

/// The dataset's frame rate.
pub const SOURCE_FPS: f64 = 25.0;
/// Pixels per centimetre on the 512 canvas.
pub const PX_PER_CM: f64 = 1.75;
use super::CANVAS;
/// Largest magnitude of a joint or centre coordinate, cm (1 km: far beyond any dance floor).
pub const MAX_CM: f64 = 1.0e5;

type V3 = [f64; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn mid(a: V3, b: V3) -> V3 {
    scale(add(a, b), 0.5)
}
fn horiz_unit(a: V3) -> Option<V3> {
    let n = (a[0] * a[0] + a[2] * a[2]).sqrt();
    (n > 1e-9).then(|| [a[0] / n, 0.0, a[2] / n])
}
/// `f × up` for up = +y: the right-hand direction of a body facing `f`.
fn right_of(f: V3) -> V3 {
    [-f[2], 0.0, f[0]]
}
/// `up × r`: the facing direction of a body whose right is `r`.
fn forward_of(r: V3) -> V3 {
    [r[2], 0.0, -r[0]]
}

#[derive(Deserialize)]
struct RawSkeletons {
    length: Option<usize>,
    center: Vec<[Option<f64>; 3]>,
    skeletons: Vec<Vec<[Option<f64>; 3]>>,
}

#[derive(Deserialize)]
struct RawConfig {
    start_position: f64,
    #[allow(dead_code)]
    end_position: Option<f64>,
}

/// What the loader decided for one dance (reported by `corpus stats --json` and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct Tang2018Meta {
    /// Song time of dance frame 0, seconds (`start_position / 25`).
    pub audio_offset: f64,
    /// True when the 12–20 side is anatomical right (the usual case).
    pub right_is_b: bool,
    /// Share of frames whose own facing agrees with the dance-level side decision.
    pub side_agreement: f64,
    /// Unit vector (x, z) towards the camera.
    pub camera: [f64; 2],
    pub source_frames: usize,
}

/// Reads `config.json` of a Tang2018 dance folder.
pub fn read_config(dir: &Path) -> Result<f64, PoseError> {
    let p = dir.join("config.json");
    let bytes = std::fs::read(&p).map_err(|e| PoseError::io(&p, e))?;
    let c: RawConfig = serde_json::from_slice(&bytes).map_err(|e| PoseError::parse(&p, format!("bad config.json: {e}")))?;
    if !c.start_position.is_finite() || c.start_position < 0.0 {
        return Err(PoseError::parse(&p, "start_position must be a non-negative frame number"));
    }
    Ok(c.start_position / SOURCE_FPS)
}

/// Reads and validates `skeletons.json`: world-free joints `[T][23]` and centres `[T]`.
pub fn read_skeletons(path: &Path) -> Result<(Vec<[V3; 23]>, Vec<V3>), PoseError> {
    let bytes = std::fs::read(path).map_err(|e| PoseError::io(path, e))?;
    if bytes.is_empty() {
        return Err(PoseError::parse(path, "file is empty"));
    }
    let raw: RawSkeletons = serde_json::from_slice(&bytes).map_err(|e| {
        if bytes.windows(3).any(|w| w == b"NaN") || bytes.windows(8).any(|w| w == b"Infinity") {
            PoseError::parse(path, "contains NaN or Infinity (not valid data)")
        } else {
            PoseError::parse(path, format!("not a Tang2018 skeletons.json: {e}"))
        }
    })?;
    if raw.skeletons.is_empty() {
        return Err(PoseError::Empty { path: path.into() });
    }
    if raw.center.len() != raw.skeletons.len() {
        return Err(PoseError::Shape {
            path: path.into(),
            expected: format!("{} centres (one per skeleton)", raw.skeletons.len()),
            found: raw.center.len().to_string(),
        });
    }
    if let Some(l) = raw.length {
        if l != raw.skeletons.len() {
            return Err(PoseError::Shape { path: path.into(), expected: format!("length {l}"), found: format!("{} skeletons", raw.skeletons.len()) });
        }
    }
    let get = |v: &[Option<f64>; 3], t: usize, j: usize| -> Result<V3, PoseError> {
        let mut o = [0.0; 3];
        for k in 0..3 {
            let x = v[k].filter(|x| x.is_finite()).ok_or(PoseError::NonFinite { path: path.into(), frame: t, joint: j })?;
            if x.abs() > MAX_CM {
                return Err(PoseError::parse(path, format!("coordinate {x} cm at frame {t}, joint {j} is out of range (|v| ≤ {MAX_CM} cm)")));
            }
            o[k] = x;
        }
        Ok(o)
    };
    let mut joints = Vec::with_capacity(raw.skeletons.len());
    let mut centers = Vec::with_capacity(raw.skeletons.len());
    for (t, (s, c)) in raw.skeletons.iter().zip(&raw.center).enumerate() {
        if s.len() < 21 {
            return Err(PoseError::Shape { path: path.into(), expected: "23 joints per skeleton".into(), found: format!("{} at frame {t}", s.len()) });
        }
        let mut fr = [[0.0; 3]; 23];
        for (j, v) in s.iter().take(23).enumerate() {
            fr[j] = get(v, t, j)?;
        }
        joints.push(fr);
        centers.push(get(c, t, 23)?);
    }
    Ok((joints, centers))
}

/// Loads a Tang2018 dance folder as a COCO-18 sequence at `fps`.
pub fn load_dance(dir: &Path, fps: f64) -> Result<(Sequence, Tang2018Meta), PoseError> {
    let audio_offset = read_config(dir)?;
    let (joints, centers) = read_skeletons(&dir.join("skeletons.json"))?;
    let (frames, mut meta) = project(&joints, &centers);
    let joints3d = humanoid(&joints, &centers, meta.right_is_b);
    // Coordinates are bounded on load, so the projection is finite; checked anyway so that nothing
    // non-finite is ever written (a pose file refuses it).
    if let Some((t, j)) = frames.iter().enumerate().find_map(|(t, f)| f.iter().position(|v| v.iter().any(|x| !x.is_finite())).map(|j| (t, j))) {
        return Err(PoseError::NonFinite { path: dir.join("skeletons.json"), frame: t, joint: j });
    }
    meta.audio_offset = audio_offset;
    let mut seq = Sequence::new(SOURCE_FPS, CANVAS, CANVAS, frames);
    seq.joints3d = Some(joints3d);
    Ok((super::normalize::resample(&seq, fps), meta))
}

/// The humanoid18 track of Tang2018 frames (world positions, x negated; see the module doc).
/// `right_is_b`: the side decision of [`project`].
pub fn humanoid(joints: &[[V3; 23]], centers: &[V3], right_is_b: bool) -> Vec<Frame3> {
    // (shoulder, elbow, wrist, hip, knee, ankle, toe) of each side.
    let side_a = [3usize, 4, 6, 7, 8, 9, 11];
    let side_b = [12usize, 13, 15, 16, 17, 18, 20];
    let (r, l) = if right_is_b { (side_b, side_a) } else { (side_a, side_b) };
    joints
        .iter()
        .zip(centers)
        .map(|(s, c)| {
            let w = |p: V3| -> [f32; 3] {
                let p = add(p, *c);
                [-p[0] as f32, p[1] as f32, p[2] as f32]
            };
            let hips = mid(s[r[3]], s[l[3]]);
            let neck = mid(s[r[0]], s[l[0]]);
            let mut o: Frame3 = [[0.0; 3]; NUM_JOINTS3];
            o[Joint3::Hips as usize] = w(hips);
            o[Joint3::Spine as usize] = w(mid(hips, neck));
            o[Joint3::Neck as usize] = w(neck);
            o[Joint3::Head as usize] = w(mid(s[0], s[1]));
            for (k, j) in [Joint3::RightArm, Joint3::RightForeArm, Joint3::RightHand].into_iter().enumerate() {
                o[j as usize] = w(s[r[k]]);
            }
            for (k, j) in [Joint3::LeftArm, Joint3::LeftForeArm, Joint3::LeftHand].into_iter().enumerate() {
                o[j as usize] = w(s[l[k]]);
            }
            for (k, j) in [Joint3::RightUpLeg, Joint3::RightLeg, Joint3::RightFoot, Joint3::RightToeBase].into_iter().enumerate() {
                o[j as usize] = w(s[r[3 + k]]);
            }
            for (k, j) in [Joint3::LeftUpLeg, Joint3::LeftLeg, Joint3::LeftFoot, Joint3::LeftToeBase].into_iter().enumerate() {
                o[j as usize] = w(s[l[3 + k]]);
            }
            o
        })
        .collect()
}

/// Which side of the skeleton is the anatomical right: side B (joints 12–20) when, facing the
/// way the feet point (heel → toe), B lies to the right of A in most frames. Returns that and the
/// fraction of frames that agree.
fn body_sides(joints: &[[V3; 23]]) -> (bool, f64) {
    let foot_forward = |s: &[V3; 23]| horiz_unit(add(sub(s[10], s[11]), sub(s[19], s[20])));
    let (mut agree, mut votes, mut score) = (0usize, 0usize, 0.0);
    for s in joints {
        if let Some(f) = foot_forward(s) {
            let d = dot(sub(s[12], s[3]), right_of(f));
            score += d.signum();
            votes += 1;
            if d > 0.0 {
                agree += 1;
            }
        }
    }
    let right_is_b = score >= 0.0;
    let side_agreement = if votes == 0 { 0.0 } else if right_is_b { agree as f64 / votes as f64 } else { 1.0 - agree as f64 / votes as f64 };
    (right_is_b, side_agreement)
}

/// Projects 3-D Tang2018 frames to COCO-18 on the canvas (at the source frame rate).
pub fn project(joints: &[[V3; 23]], centers: &[V3]) -> (Vec<Frame>, Tang2018Meta) {
    let up: V3 = [0.0, 1.0, 0.0];
    let (right_is_b, side_agreement) = body_sides(joints);
    // Indices of (shoulder, elbow, wrist, hip, knee, ankle) for right and left.
    let side_a = [3usize, 4, 5, 7, 8, 9];
    let side_b = [12usize, 13, 14, 16, 17, 18];
    let (r, l) = if right_is_b { (side_b, side_a) } else { (side_a, side_b) };

    // Ears: joint 0 or 1, whichever lies towards the right shoulder along the shoulder line.
    let mut ear_vote = 0.0;
    for s in joints {
        ear_vote += dot(sub(s[1], s[0]), sub(s[r[0]], s[l[0]])).signum();
    }
    let (r_ear, l_ear) = if ear_vote >= 0.0 { (1usize, 0usize) } else { (0, 1) };

    // Per-frame facing from the head, and the camera direction as the mean facing.
    let facing: Vec<V3> = joints
        .iter()
        .map(|s| {
            let head_right = sub(s[r_ear], s[l_ear]);
            let shoulder_right = sub(s[r[0]], s[l[0]]);
            horiz_unit(forward_of(add(head_right, shoulder_right))).unwrap_or([0.0, 0.0, 1.0])
        })
        .collect();
    let mean = facing.iter().fold([0.0; 3], |a, f| add(a, *f));
    let cam = match horiz_unit(mean) {
        Some(v) if (mean[0].powi(2) + mean[2].powi(2)).sqrt() / facing.len().max(1) as f64 > 0.1 => v,
        _ => [0.0, 0.0, 1.0],
    };
    let cam_right = [cam[2], 0.0, -cam[0]]; // up × cam: image x axis
    let mut cy: Vec<f64> = centers.iter().map(|c| c[1]).collect();
    cy.sort_by(|a, b| a.total_cmp(b));
    let cy_med = cy.get(cy.len() / 2).copied().unwrap_or(0.0);
    let (cx0, cy0) = (CANVAS as f64 / 2.0, CANVAS as f64 * 0.52);

    let frames = joints
        .iter()
        .zip(centers)
        .zip(&facing)
        .map(|((s, c), f)| {
            let lift = [0.0, c[1] - cy_med, 0.0];
            let to_px = |p: V3, conf: f32| -> [f32; 3] {
                let p = add(p, lift);
                [(cx0 + PX_PER_CM * dot(p, cam_right)) as f32, (cy0 - PX_PER_CM * p[1]) as f32, conf]
            };
            let rdir = right_of(*f);
            let hc = mid(s[r_ear], s[l_ear]);
            let face_vis = if dot(*f, cam) > 0.0 { 1.0 } else { 0.0 };
            let ear_vis = |out: V3| if dot(out, cam) > -std::f64::consts::FRAC_1_SQRT_2 { 1.0 } else { 0.0 };
            let eye = |side: f64| add(add(hc, scale(*f, 7.0)), add(scale(up, 3.0), scale(rdir, 3.2 * side)));
            let mut o: Frame = [[0.0; 3]; NUM_JOINTS];
            o[0] = to_px(add(hc, add(scale(*f, 9.0), scale(up, -2.0))), face_vis);
            o[1] = to_px(mid(s[r[0]], s[l[0]]), 1.0);
            for (k, &src) in [r[0], r[1], r[2]].iter().enumerate() {
                o[2 + k] = to_px(s[src], 1.0);
            }
            for (k, &src) in [l[0], l[1], l[2]].iter().enumerate() {
                o[5 + k] = to_px(s[src], 1.0);
            }
            for (k, &src) in [r[3], r[4], r[5]].iter().enumerate() {
                o[8 + k] = to_px(s[src], 1.0);
            }
            for (k, &src) in [l[3], l[4], l[5]].iter().enumerate() {
                o[11 + k] = to_px(s[src], 1.0);
            }
            o[14] = to_px(eye(1.0), face_vis);
            o[15] = to_px(eye(-1.0), face_vis);
            o[16] = to_px(s[r_ear], ear_vis(rdir));
            o[17] = to_px(s[l_ear], ear_vis(scale(rdir, -1.0)));
            o
        })
        .collect();
    let meta = Tang2018Meta { audio_offset: 0.0, right_is_b, side_agreement, camera: [cam[0], cam[2]], source_frames: joints.len() };
    (frames, meta)
}
