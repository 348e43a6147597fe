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

// ---- projection onto the 2-D canvas (bvh helper's section) ----

/// Projects a 3-D dance onto COCO-18 on the 512 canvas with the rules of the Tang2018 loader
/// ([`super::tang2018`]): a fixed orthographic camera on the floor plane looking at the dancer
/// from the direction it faces on average (the facing is `up × (right shoulder − left shoulder)`,
/// horizontal; +z when there is no dominant one), following the dancer across the floor (the
/// `Hips`' horizontal motion removed, its rises and falls kept about their median height),
/// 1.75 px per cm, `Hips` at (256, 266). COCO joints are the humanoid18 joints of the same name;
/// the face is synthesised from `Head` (the ears' midpoint): ears 5.5 cm to either side along the
/// facing's right, nose 9 cm in front and 2 cm below, eyes 7 cm in front, 3 cm above, 3.2 cm to
/// either side. Nose and eyes get confidence 0 when the face points away from the camera, an ear
/// when it points away by more than 45°; body joints get 1.
pub fn project_coco18(joints: &[Frame3]) -> Vec<super::Frame> {
    type V = [f64; 3];
    let g = |f: &Frame3, j: Joint3| -> V { f[j as usize].map(f64::from) };
    let add = |a: V, b: V| -> V { [a[0] + b[0], a[1] + b[1], a[2] + b[2]] };
    let sc = |a: V, s: f64| -> V { [a[0] * s, a[1] * s, a[2] * s] };
    let dot = |a: V, b: V| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let horiz_unit = |a: V| -> Option<V> {
        let n = (a[0] * a[0] + a[2] * a[2]).sqrt();
        (n > 1e-9).then(|| [a[0] / n, 0.0, a[2] / n])
    };
    let up: V = [0.0, 1.0, 0.0];
    let facing: Vec<V> = joints
        .iter()
        .map(|f| {
            let r = {
                let (a, b) = (g(f, Joint3::RightArm), g(f, Joint3::LeftArm));
                [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
            };
            horiz_unit([r[2], 0.0, -r[0]]).unwrap_or([0.0, 0.0, 1.0])
        })
        .collect();
    let mean = facing.iter().fold([0.0; 3], |a, f| add(a, *f));
    let cam = match horiz_unit(mean) {
        Some(v) if (mean[0].powi(2) + mean[2].powi(2)).sqrt() / facing.len().max(1) as f64 > 0.1 => v,
        _ => [0.0, 0.0, 1.0],
    };
    let cam_right = [cam[2], 0.0, -cam[0]];
    let mut hy: Vec<f64> = joints.iter().map(|f| f[0][1] as f64).collect();
    hy.sort_by(|a, b| a.total_cmp(b));
    let hy_med = hy.get(hy.len() / 2).copied().unwrap_or(0.0);
    let canvas = super::CANVAS as f64;
    let (cx0, cy0) = (canvas / 2.0, canvas * 0.52);
    let px = super::tang2018::PX_PER_CM;
    joints
        .iter()
        .zip(&facing)
        .map(|(f, fw)| {
            let hips = g(f, Joint3::Hips);
            let origin = [hips[0], hy_med, hips[2]];
            let to_px = |p: V, conf: f32| -> [f32; 3] {
                let p = [p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]];
                [(cx0 + px * dot(p, cam_right)) as f32, (cy0 - px * p[1]) as f32, conf]
            };
            let rdir: V = [-fw[2], 0.0, fw[0]];
            let hc = g(f, Joint3::Head);
            let face_vis = if dot(*fw, cam) > 0.0 { 1.0 } else { 0.0 };
            let ear_vis = |out: V| if dot(out, cam) > -std::f64::consts::FRAC_1_SQRT_2 { 1.0 } else { 0.0 };
            let eye = |side: f64| add(add(hc, sc(*fw, 7.0)), add(sc(up, 3.0), sc(rdir, 3.2 * side)));
            let mut o: super::Frame = [[0.0; 3]; super::NUM_JOINTS];
            o[0] = to_px(add(hc, add(sc(*fw, 9.0), sc(up, -2.0))), face_vis);
            o[1] = to_px(g(f, Joint3::Neck), 1.0);
            let body = [
                (2, Joint3::RightArm),
                (3, Joint3::RightForeArm),
                (4, Joint3::RightHand),
                (5, Joint3::LeftArm),
                (6, Joint3::LeftForeArm),
                (7, Joint3::LeftHand),
                (8, Joint3::RightUpLeg),
                (9, Joint3::RightLeg),
                (10, Joint3::RightFoot),
                (11, Joint3::LeftUpLeg),
                (12, Joint3::LeftLeg),
                (13, Joint3::LeftFoot),
            ];
            for (k, j) in body {
                o[k] = to_px(g(f, j), 1.0);
            }
            o[14] = to_px(eye(1.0), face_vis);
            o[15] = to_px(eye(-1.0), face_vis);
            o[16] = to_px(add(hc, sc(rdir, 5.5)), ear_vis(rdir));
            o[17] = to_px(add(hc, sc(rdir, -5.5)), ear_vis(sc(rdir, -1.0)));
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
        let out = project_coco18(&frames);
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
        assert_eq!(out[0], out[1], "horizontal motion removed");
        // Turned away from the camera (most frames face +z): the face is hidden.
        let mut back = standing([0.0, 0.0]);
        for v in back.iter_mut() {
            v[0] = -v[0];
            v[2] = -v[2];
        }
        let out = project_coco18(&[standing([0.0, 0.0]), standing([0.0, 0.0]), back]);
        assert_eq!(out[2][0][2], 0.0);
        assert_eq!(out[2][14][2], 0.0);
    }
}
