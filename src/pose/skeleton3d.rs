//! The 3-D skeleton choreo carries beside the 2-D COCO-18 view when a corpus has depth
//! (Tang2018 mocap, BVH files): 18 joints named as humanoid retargeters (Blender, Unity, Mixamo
//! style) name them, world positions in centimetres, y up, right-handed, root path included.
//!
//! In a pose file it is the optional block
//! `"joints3d": {"skeleton": "humanoid18", "units": "cm", "up": "y", "frames": [[[x, y, z] × 18] × T]}`,
//! one frame per 2-D frame.
//!
//! Joint positions (what each point is):
//! - `Hips`: pelvis centre (midpoint of the two hip joints); the BVH root.
//! - `Spine`: the chest, on the line from `Hips` to `Neck`.
//! - `Neck`: midpoint of the shoulders. `Head`: midpoint of the ears.
//! - `LeftArm`/`RightArm`: shoulder joints; `*ForeArm`: elbows; `*Hand`: wrists.
//! - `LeftUpLeg`/`RightUpLeg`: hip joints; `*Leg`: knees; `*Foot`: ankles; `*ToeBase`: toes.

/// Number of joints in the 3-D skeleton.
pub const NUM_JOINTS3: usize = 18;

/// Name of the skeleton in pose files.
pub const SKELETON3D_NAME: &str = "humanoid18";

/// One 3-D frame: 18 joints `[x, y, z]`, cm, y up, world coordinates.
pub type Frame3 = [[f32; 3]; NUM_JOINTS3];

/// 3-D joint indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Joint3 {
    Hips = 0,
    Spine = 1,
    Neck = 2,
    Head = 3,
    LeftArm = 4,
    LeftForeArm = 5,
    LeftHand = 6,
    RightArm = 7,
    RightForeArm = 8,
    RightHand = 9,
    LeftUpLeg = 10,
    LeftLeg = 11,
    LeftFoot = 12,
    LeftToeBase = 13,
    RightUpLeg = 14,
    RightLeg = 15,
    RightFoot = 16,
    RightToeBase = 17,
}

/// Joint names, as written in BVH files.
pub const JOINT3_NAMES: [&str; NUM_JOINTS3] = [
    "Hips", "Spine", "Neck", "Head", "LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm", "RightHand",
    "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase",
];

/// Parent of each joint (`None` for the root, `Hips`). Parents come before their children.
pub const PARENT3: [Option<usize>; NUM_JOINTS3] = [
    None,
    Some(0),
    Some(1),
    Some(2),
    Some(2),
    Some(4),
    Some(5),
    Some(2),
    Some(7),
    Some(8),
    Some(0),
    Some(10),
    Some(11),
    Some(12),
    Some(0),
    Some(14),
    Some(15),
    Some(16),
];

/// Mirror image of each joint (left ↔ right).
pub const MIRROR3: [usize; NUM_JOINTS3] = [0, 1, 2, 3, 7, 8, 9, 4, 5, 6, 14, 15, 16, 17, 10, 11, 12, 13];

// ---- track3d: facing, heading and the canvas projection ----

/// Horizontal unit facing direction `[x, z]` of a frame: `up × right`, where right is the sum of
/// the shoulder and hip vectors (left → right). None when the body is seen edge-on from above.
pub fn facing(f: &Frame3) -> Option<[f32; 2]> {
    let r = |a: Joint3, b: Joint3| [f[b as usize][0] - f[a as usize][0], f[b as usize][2] - f[a as usize][2]];
    let (s, h) = (r(Joint3::LeftArm, Joint3::RightArm), r(Joint3::LeftUpLeg, Joint3::RightUpLeg));
    let (rx, rz) = (s[0] + h[0], s[1] + h[1]);
    // up × (rx, 0, rz) = (rz, 0, -rx)
    let n = (rx * rx + rz * rz).sqrt();
    (n > 1e-6).then(|| [rz / n, -rx / n])
}

/// Heading angle (radians, about +y, 0 = facing +z) of a frame's facing.
pub fn heading(f: &Frame3) -> Option<f32> {
    facing(f).map(|d| d[0].atan2(d[1]))
}

/// Rotates `p` about the vertical axis through `pivot` by `angle` radians (the heading convention
/// of [`heading`]: a body facing +z turned by `a` faces `(sin a, cos a)`).
pub fn rotate_y(p: [f32; 3], pivot: [f32; 3], angle: f32) -> [f32; 3] {
    let (s, c) = angle.sin_cos();
    let (x, z) = (p[0] - pivot[0], p[2] - pivot[2]);
    [pivot[0] + c * x + s * z, p[1], pivot[2] - s * x + c * z]
}

/// Projects a 3-D track onto COCO-18 on a `canvas` × `canvas` image, with the camera of the
/// Tang2018 loader: orthographic, on the floor plane, looking at the dancer from the direction the
/// dancer faces on average (from −z when there is no dominant facing: the loader's fallback, the
/// dataset's +z, which is −z after its handedness flip), following the dancer across the
/// floor (horizontal `Hips` motion removed) and keeping vertical motion (about the median `Hips`
/// height), `px_per_cm` pixels per cm, the body centre at (canvas/2, 0.52·canvas). The face has no
/// joints here: ears sit 5.5 cm either side of `Head` along the body's right, nose and eyes in
/// front of it, with the loader's visibility rules (face hidden when turned away from the camera,
/// an ear when turned away by more than 45°). `Hand` is drawn as the wrist.
pub fn project_coco18(frames: &[Frame3], canvas: u32, px_per_cm: f32) -> Vec<[[f32; 3]; 18]> {
    let fac: Vec<[f32; 2]> = {
        let mut last = [0.0, 1.0];
        frames
            .iter()
            .map(|f| {
                last = facing(f).unwrap_or(last);
                last
            })
            .collect()
    };
    let (mx, mz) = fac.iter().fold((0.0f64, 0.0f64), |a, d| (a.0 + d[0] as f64, a.1 + d[1] as f64));
    let n = (mx * mx + mz * mz).sqrt();
    let cam: [f32; 2] = if !frames.is_empty() && n / frames.len() as f64 > 0.1 { [(mx / n) as f32, (mz / n) as f32] } else { [0.0, -1.0] };
    // Image x axis: up × cam = (cam.z, 0, -cam.x).
    let cam_right = [cam[1], -cam[0]];
    let mut hy: Vec<f32> = frames.iter().map(|f| f[Joint3::Hips as usize][1]).collect();
    hy.sort_by(|a, b| a.total_cmp(b));
    let y_med = hy.get(hy.len() / 2).copied().unwrap_or(0.0);
    let (cx0, cy0) = (canvas as f32 / 2.0, canvas as f32 * 0.52);
    frames
        .iter()
        .zip(&fac)
        .map(|(f, d)| {
            let hips = f[Joint3::Hips as usize];
            let to_px = |p: [f32; 3], conf: f32| -> [f32; 3] {
                let (x, z) = (p[0] - hips[0], p[2] - hips[2]);
                [cx0 + px_per_cm * (x * cam_right[0] + z * cam_right[1]), cy0 - px_per_cm * (p[1] - y_med), conf]
            };
            let right = [-d[1], d[0]]; // facing × up
            let hc = f[Joint3::Head as usize];
            let at = |fw: f32, up: f32, side: f32| [hc[0] + d[0] * fw + right[0] * side, hc[1] + up, hc[2] + d[1] * fw + right[1] * side];
            let dot_cam = |v: [f32; 2]| v[0] * cam[0] + v[1] * cam[1];
            let face_vis = if dot_cam(*d) > 0.0 { 1.0 } else { 0.0 };
            let ear_vis = |out: [f32; 2]| if dot_cam(out) > -std::f32::consts::FRAC_1_SQRT_2 { 1.0 } else { 0.0 };
            let j = |k: Joint3| f[k as usize];
            let mut o = [[0.0f32; 3]; 18];
            o[0] = to_px(at(9.0, -2.0, 0.0), face_vis);
            o[1] = to_px(j(Joint3::Neck), 1.0);
            for (k, q) in [Joint3::RightArm, Joint3::RightForeArm, Joint3::RightHand, Joint3::LeftArm, Joint3::LeftForeArm, Joint3::LeftHand].into_iter().enumerate() {
                o[2 + k] = to_px(j(q), 1.0);
            }
            for (k, q) in [Joint3::RightUpLeg, Joint3::RightLeg, Joint3::RightFoot, Joint3::LeftUpLeg, Joint3::LeftLeg, Joint3::LeftFoot].into_iter().enumerate() {
                o[8 + k] = to_px(j(q), 1.0);
            }
            o[14] = to_px(at(7.0, 3.0, 3.2), face_vis);
            o[15] = to_px(at(7.0, 3.0, -3.2), face_vis);
            o[16] = to_px(at(0.0, 0.0, 5.5), ear_vis(right));
            o[17] = to_px(at(0.0, 0.0, -5.5), ear_vis([-right[0], -right[1]]));
            o
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn parents_precede_children_and_mirror_is_an_involution() {
        for (j, p) in PARENT3.iter().enumerate() {
            if let Some(p) = p {
                assert!(*p < j, "{} before its parent", JOINT3_NAMES[j]);
            }
        }
        for j in 0..NUM_JOINTS3 {
            assert_eq!(MIRROR3[MIRROR3[j]], j);
            let (a, b) = (JOINT3_NAMES[j], JOINT3_NAMES[MIRROR3[j]]);
            assert_eq!(a.replace("Left", "Right"), b.replace("Left", "Right"));
        }
        assert_eq!(PARENT3.iter().filter(|p| p.is_none()).count(), 1);
    }

    /// A standing figure facing +z, 170 cm, hips at 95 cm, somewhere on the floor.
    pub(crate) fn standing(at: [f32; 2]) -> Frame3 {
        let p: [[f32; 3]; NUM_JOINTS3] = [
            [0.0, 95.0, 0.0],
            [0.0, 118.0, 0.0],
            [0.0, 140.0, 0.0],
            [0.0, 158.0, 0.0],
            [17.0, 140.0, 0.0],
            [45.0, 140.0, 0.0],
            [70.0, 140.0, 0.0],
            [-17.0, 140.0, 0.0],
            [-45.0, 140.0, 0.0],
            [-70.0, 140.0, 0.0],
            [10.0, 95.0, 0.0],
            [10.0, 50.0, 0.0],
            [10.0, 8.0, 0.0],
            [10.0, 0.0, 14.0],
            [-10.0, 95.0, 0.0],
            [-10.0, 50.0, 0.0],
            [-10.0, 8.0, 0.0],
            [-10.0, 0.0, 14.0],
        ];
        p.map(|v| [v[0] + at[0], v[1], v[2] + at[1]])
    }

    #[test]
    fn projection_faces_the_camera_and_removes_floor_motion() {
        let frames = vec![standing([0.0, 0.0]), standing([300.0, -120.0])];
        let out = project_coco18(&frames, crate::pose::CANVAS, crate::pose::tang2018::PX_PER_CM as f32);
        assert_eq!(out.len(), 2);
        for f in &out {
            // Hips midway between the COCO hips, at (256, 266); the dancer's right (−x) is image left.
            let hx = (f[8][0] + f[11][0]) / 2.0;
            assert!((hx - 256.0).abs() < 1e-3 && (f[8][1] - 266.24).abs() < 1e-3, "{:?}", f[8]);
            assert!(f[4][0] < f[7][0], "right wrist on image left");
            assert!((f[7][0] - f[4][0] - 140.0 * 1.75).abs() < 1e-3);
            // Head above neck above hips; face visible (facing the camera).
            assert!(f[0][1] < f[1][1] && f[1][1] < f[8][1]);
            assert_eq!([f[0][2], f[14][2], f[15][2], f[16][2], f[17][2]], [1.0; 5]);
            assert!(f[16][0] < f[17][0], "right ear on image left");
        }
        let far = out[0].iter().flatten().zip(out[1].iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(far < 1e-3, "horizontal motion removed: {far} px apart");
        // Turned away from the camera (most frames face +z): the face is hidden.
        let mut back = standing([0.0, 0.0]);
        for v in back.iter_mut() {
            v[0] = -v[0];
            v[2] = -v[2];
        }
        let out = project_coco18(&[standing([0.0, 0.0]), standing([0.0, 0.0]), back], crate::pose::CANVAS, crate::pose::tang2018::PX_PER_CM as f32);
        assert_eq!(out[2][0][2], 0.0);
        assert_eq!(out[2][14][2], 0.0);
    }
}
