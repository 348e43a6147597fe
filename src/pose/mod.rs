//! Pose stage: pose files, corpora and videos ([`video`], MoveNet in [`movenet`]) in, [`Sequence`]
//! (COCO-18 on a 512×512 canvas) out; cleaning, normalising and resampling to the working frame rate.

pub mod bvh;
pub mod clean;
pub mod format;
pub mod movenet;
pub mod motion;
pub mod normalize;
pub mod openpose;
pub mod skeleton;
pub mod skeleton3d;
pub mod tang2018;
pub mod video;

/// Side of the square canvas, in pixels, every dance is brought to (corpora, videos, mocap).
pub const CANVAS: u32 = 512;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use skeleton::{Joint, NUM_JOINTS};

/// One frame: 18 joints `[x, y, confidence]` in canvas pixels, y down. Confidence 0 = missing.
pub type Frame = [[f32; 3]; NUM_JOINTS];

/// Where an output frame came from: the source dance and its frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub dance: String,
    pub frame: usize,
}

/// A pose sequence at a fixed frame rate. The pose file (see [`format`]) is its JSON form.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub frames: Vec<Frame>,
    /// Music beat times in seconds, if known.
    pub beats: Option<Vec<f64>>,
    /// Per frame, where it came from, if known.
    pub provenance: Option<Vec<Provenance>>,
    /// The 3-D track (one [`skeleton3d::Frame3`] per frame), when the source has depth.
    pub joints3d: Option<Vec<skeleton3d::Frame3>>,
}

impl Sequence {
    pub fn new(fps: f64, width: u32, height: u32, frames: Vec<Frame>) -> Self {
        Sequence { fps, width, height, frames, beats: None, provenance: None, joints3d: None }
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn duration_secs(&self) -> f64 {
        self.frames.len() as f64 / self.fps
    }
}

/// Errors of the pose stage. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoseError {
    #[error(transparent)]
    Write(#[from] crate::io::IoError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {reason}", path.display())]
    Parse { path: PathBuf, reason: String },
    #[error("{}: non-finite value (NaN or infinity) at frame {frame}, joint {joint}", path.display())]
    NonFinite { path: PathBuf, frame: usize, joint: usize },
    #[error("{}: expected {expected}, found {found}", path.display())]
    Shape { path: PathBuf, expected: String, found: String },
    #[error("{}: no frames", path.display())]
    Empty { path: PathBuf },
    /// A video ffmpeg cannot open or decode (corrupt, truncated, not a video).
    #[error("{}: not a decodable video ({reason})", path.display())]
    Video { path: PathBuf, reason: String },
    /// A video without an audio track where one is needed (a video corpus).
    #[error("{}: video has no audio track", path.display())]
    NoAudio { path: PathBuf },
    /// The pose estimator found nobody in any frame.
    #[error("{}: no person found in any frame", path.display())]
    NoPerson { path: PathBuf },
    /// `path` is the file being processed; the missing program is named in the message.
    #[error("{}: {program} not found; run tools/setup.sh", path.display())]
    ToolMissing { path: PathBuf, program: String },
    /// ONNX Runtime's shared library could not be found or loaded.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::OrtError),
    /// The pose model could not be loaded or run.
    #[error("{}: pose model: {reason}", path.display())]
    Model { path: PathBuf, reason: String },
}

impl PoseError {
    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        PoseError::Io { path: path.into(), source: e }
    }
    pub(crate) fn parse(path: &std::path::Path, reason: impl Into<String>) -> Self {
        PoseError::Parse { path: path.into(), reason: reason.into() }
    }
}
