//! Unit newtypes shared by the stages.

use serde::{Deserialize, Serialize};

/// Index of a frame at the working frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FrameIdx(pub usize);

/// The working frame rate of DanceIt (frames per second).
pub const DEFAULT_FPS: f64 = 24.0;

/// A setting out of range: `name` is the setting (`wa`, `fps`, ...), `reason` says why. The
/// message names the setting, not a command-line flag; the CLI maps one to the other.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub reason: String,
}

impl SettingError {
    pub fn new(name: &'static str, reason: impl Into<String>) -> Self {
        SettingError { name, reason: reason.into() }
    }
}

/// The largest working frame rate a setting may ask for.
pub const MAX_FPS: f64 = 240.0;

/// A working frame rate setting named `name`, in (0, [`MAX_FPS`]].
pub fn check_fps(name: &'static str, fps: f64) -> Result<f64, SettingError> {
    if !(fps.is_finite() && fps > 0.0 && fps <= MAX_FPS) {
        return Err(SettingError::new(name, format!("must be in (0, {MAX_FPS}], got {fps}")));
    }
    Ok(fps)
}
