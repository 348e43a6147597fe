//! The canonical skeleton: OpenPose COCO-18.

/// Number of joints in the COCO-18 skeleton.
pub const NUM_JOINTS: usize = 18;

/// COCO-18 joint indices (OpenPose order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Joint {
    Nose = 0,
    Neck = 1,
    RShoulder = 2,
    RElbow = 3,
    RWrist = 4,
    LShoulder = 5,
    LElbow = 6,
    LWrist = 7,
    RHip = 8,
    RKnee = 9,
    RAnkle = 10,
    LHip = 11,
    LKnee = 12,
    LAnkle = 13,
    REye = 14,
    LEye = 15,
    REar = 16,
    LEar = 17,
}

pub const JOINT_NAMES: [&str; NUM_JOINTS] = [
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "r_hip", "r_knee",
    "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
];

/// The limbs OpenPose draws for COCO-18 (pairs of joint indices), in its drawing order.
pub const LIMBS: [(usize, usize); 17] = [
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
];

/// Mirror image of each joint (left ↔ right).
pub const MIRROR: [usize; NUM_JOINTS] = [0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16];

/// Hands and feet: a frame missing any of these is incomplete (DanceIt's cleaning rule).
pub const EXTREMITIES: [usize; 4] = [4, 7, 10, 13];

/// Joints that carry the body (everything but the face).
pub const BODY: [usize; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
