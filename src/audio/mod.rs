//! Audio stage: a song file in, [`Audio`] (mono f32 at the native rate), MFCC features and beat times out.

pub mod beatnet;
pub mod beats;
pub mod dbn;
pub mod decode;
pub mod logspec;
pub mod mfcc;

use std::path::PathBuf;

pub use beats::{detect_beats, read_beats_file, AubioOnset, BeatConfig, BeatMethod, Beats};
pub use decode::decode;
pub use mfcc::{mfcc, Mfcc, MfccConfig};

/// Decoded audio: mono (channels averaged), f32 in [-1, 1], at the file's own sample rate.
#[derive(Debug, Clone)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// Where it came from, for error messages.
    pub path: PathBuf,
}

impl Audio {
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }

    /// The samples between `start` and `end` seconds (clamped to the signal).
    pub fn slice_secs(&self, start: f64, end: f64) -> &[f32] {
        let sr = self.sample_rate as f64;
        let a = ((start.max(0.0) * sr) as usize).min(self.samples.len());
        let b = ((end.max(0.0) * sr) as usize).clamp(a, self.samples.len());
        &self.samples[a..b]
    }

    /// True when no sample rises above -90 dBFS (digital silence).
    pub fn is_silent(&self) -> bool {
        self.samples.iter().all(|s| s.abs() < 3.2e-5)
    }
}

/// Errors of the audio stage. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("{}: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{}: file is empty", path.display())]
    Empty { path: PathBuf },
    #[error("{}: not a decodable audio file ({reason})", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("{}: audio stream is corrupt or truncated ({reason})", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{}: no audio samples decoded", path.display())]
    NoSamples { path: PathBuf },
    #[error("{}: ffmpeg is needed for this format but was not found; run tools/setup.sh", path.display())]
    FfmpegMissing { path: PathBuf },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    /// The beat model could not be loaded or run (the path is the model's).
    #[error("{}: beat model: {reason}", path.display())]
    Model { path: PathBuf, reason: String },
}
