//! Beat tracking. (Being written: see the beats helper.)

use serde::Serialize;

use super::{Audio, AudioError};

/// Which tracker to run.
#[derive(Debug, Clone, PartialEq)]
pub enum BeatMethod {
    /// Offline: onset-strength envelope + tempo estimate + dynamic programming (Ellis 2007).
    Dp,
    /// aubio's real-time tracker with the named onset function ("specflux", "hfc", "complex", ...).
    Aubio { onset: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BeatConfig {
    pub method: BeatMethod,
}

impl Default for BeatConfig {
    fn default() -> Self {
        BeatConfig { method: BeatMethod::Dp }
    }
}

/// Beat times in seconds, ascending, and the tempo in beats per minute (0 when no beats).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Beats {
    pub bpm: f64,
    pub beats: Vec<f64>,
}

pub fn detect_beats(audio: &Audio, cfg: &BeatConfig) -> Result<Beats, AudioError> {
    let _ = (audio, cfg);
    Ok(Beats { bpm: 0.0, beats: vec![] })
}
