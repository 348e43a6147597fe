//! Render stage: pose frames in, RGB rasters out. `skeleton` draws the OpenPose-style coloured
//! limb map (the raster a learned pose-to-image renderer takes as input); `video` streams those
//! frames through ffmpeg into an H.264 mp4 with the song; `onnx` is the learned renderer (a
//! pix2pixHD-style generator and a face residual model run by ONNX Runtime on those limb maps);
//! `view` writes a dance and its song as one self-contained HTML page (three.js) to watch in a
//! browser.

pub mod onnx;
pub mod skeleton;
pub mod video;
pub mod view;

use std::path::PathBuf;

pub use skeleton::{draw_all, draw_file, draw_frame, Canvas, DrawConfig};
pub use onnx::{Generator, GeneratorConfig};
pub use video::{render_video, render_video_with, RenderConfig, Renderer, X264Preset};
pub use view::{view, Figure, ViewConfig, ViewStats};

/// Errors of the render stage. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// `path` is the file being made; the missing program is named in the message.
    #[error("{}: {program} not found; run tools/setup.sh", path.display())]
    ToolMissing { path: PathBuf, program: String },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    /// ffmpeg failed while encoding `path`.
    #[error("{}: encoding failed ({reason})", path.display())]
    Encode { path: PathBuf, reason: String },
    /// The song cannot be decoded, or a beats file read (each names itself).
    #[error(transparent)]
    Song(crate::audio::AudioError),
    /// The dance cannot be read (it names itself).
    #[error(transparent)]
    Pose(crate::pose::PoseError),
    /// An output could not be written (it names itself).
    #[error(transparent)]
    Write(#[from] crate::io::IoError),
    /// ONNX Runtime could not be loaded (the learned renderer).
    #[error(transparent)]
    Runtime(#[from] crate::runtime::OrtError),
}
