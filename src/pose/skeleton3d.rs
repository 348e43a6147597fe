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

#[cfg(test)]
mod tests {
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
}
