//! Unit newtypes shared by the stages.

use serde::{Deserialize, Serialize};

/// Index of a frame at the working frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FrameIdx(pub usize);

/// The working frame rate of DanceIt (frames per second).
pub const DEFAULT_FPS: f64 = 24.0;
