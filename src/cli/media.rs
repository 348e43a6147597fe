//! `beats`, `mfcc`, `poses`, `draw`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use choreo::audio::{self, BeatConfig, MfccConfig};
use choreo::pose::openpose::OpenPoseLayout;
use choreo::pose::{format, normalize, openpose, tang2018};
use choreo::render::{draw_file, DrawConfig};
use choreo::units::DEFAULT_FPS;

#[derive(Args)]
pub struct BeatsArgs {
    /// Song file (wav, mp3, ogg, flac; anything else through ffmpeg).
    pub song: PathBuf,
    /// Print JSON {"bpm": .., "beats": [..], "tempo": [[time, bpm], ..]} instead of one time per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub beats: BeatConfig,
}

pub fn beats(a: BeatsArgs) -> anyhow::Result<ExitCode> {
    let song = audio::decode(&a.song)?;
    let b = audio::detect_beats(&song, &a.beats)?;
    super::warn(&b.warnings);
    if b.beats.is_empty() {
        eprintln!("choreo: warning: {}: no beats found (silent or arrhythmic audio)", a.song.display());
    }
    if a.json {
        println!("{}", serde_json::to_string(&b)?);
    } else {
        for t in &b.beats {
            println!("{t:.3}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct MfccArgs {
    /// Song file.
    pub song: PathBuf,
    /// Frames per second: one MFCC row per video frame (window = step = 1/fps s).
    #[arg(long, default_value_t = DEFAULT_FPS)]
    pub fps: f64,
    /// Output .npy (T×13 float32).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn mfcc(a: MfccArgs) -> anyhow::Result<ExitCode> {
    let fps = super::check_fps(a.fps)?;
    let song = audio::decode(&a.song)?;
    let m = audio::mfcc(&song, &MfccConfig { fps, ..MfccConfig::default() });
    choreo::io::write_atomic(&a.out, &choreo::io::npy_f32(&m.data, m.frames(), m.numcep))?;
    eprintln!("{}: {} frames × {} coefficients", a.out.display(), m.frames(), m.numcep);
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
#[group(id = "input", required = true, multiple = false)]
pub struct PosesInput {
    /// A folder of OpenPose per-frame JSON (`pose_keypoints_2d`, BODY_25 or COCO-18).
    #[arg(long, group = "input")]
    pub openpose_dir: Option<PathBuf>,
    /// A Tang2018 dance folder (skeletons.json + config.json).
    #[arg(long, group = "input")]
    pub tang2018: Option<PathBuf>,
    /// A choreo pose file (to convert to an OpenPose folder or another fps).
    #[arg(long, group = "input")]
    pub poses: Option<PathBuf>,
    /// A video (any format ffmpeg reads): poses detected with MoveNet.
    #[arg(long, group = "input")]
    pub video: Option<PathBuf>,
    /// A BVH file (any humanoid skeleton): its 3-D joints and their projection on the canvas.
    #[arg(long, group = "input")]
    pub bvh: Option<PathBuf>,
}

#[derive(Args)]
pub struct PosesArgs {
    #[command(flatten)]
    pub input: PosesInput,
    /// Frame rate of the OpenPose input.
    #[arg(long, default_value_t = 30.0)]
    pub source_fps: f64,
    /// Image size of the OpenPose input, WIDTHxHEIGHT (default: the extent of the points).
    #[arg(long)]
    pub source_size: Option<choreo::pose::openpose::ImageSize>,
    /// Working frame rate of the output.
    #[arg(long, default_value_t = DEFAULT_FPS)]
    pub fps: f64,
    /// Output: a .json pose file, a .bvh file (needs a 3-D track), or a folder (ending in /) for OpenPose per-frame JSON.
    #[arg(long)]
    pub out: PathBuf,
    /// Layout when writing an OpenPose folder.
    #[arg(long, value_enum, default_value = "coco18")]
    pub layout: OpenPoseLayout,
    /// Pose model for --video: a .onnx path, or `thunder` (default) / `lightning` from models/.
    #[arg(long)]
    pub model: Option<choreo::pose::movenet::ModelChoice>,
    /// Where the pose model runs (--video).
    #[arg(long, value_enum, default_value = "auto")]
    pub device: choreo::runtime::Device,
}

pub fn poses(a: PosesArgs) -> anyhow::Result<ExitCode> {
    let fps = super::check_fps(a.fps)?;
    let seq = if let Some(dir) = &a.input.openpose_dir {
        format::check_fps(dir, a.source_fps).context("--source-fps")?;
        openpose::load_dir(dir, a.source_fps, a.source_size.map(|s| (s.width, s.height)), fps)?
    } else if let Some(dir) = &a.input.tang2018 {
        tang2018::load_dance(dir, fps)?.0
    } else if let Some(p) = &a.input.poses {
        normalize::resample(&format::read(p)?, fps)
    } else if let Some(v) = &a.input.video {
        super::video::poses_from_video(v, a.model.as_ref(), a.device, fps)?
    } else if let Some(p) = &a.input.bvh {
        normalize::resample(&choreo::pose::bvh::load_sequence(p)?, fps)
    } else {
        bail!("give one of --openpose-dir, --tang2018, --poses, --video, --bvh");
    };
    let input = [&a.input.openpose_dir, &a.input.tang2018, &a.input.poses, &a.input.video, &a.input.bvh].into_iter().flatten().next().cloned().unwrap_or_default();
    format::write_any(&seq, &a.out, a.layout, &input)?;
    eprintln!("{}: {} frames at {} fps", a.out.display(), seq.len(), seq.fps);
    Ok(ExitCode::SUCCESS)
}

pub fn draw(cfg: DrawConfig) -> anyhow::Result<ExitCode> {
    cfg.validate().map_err(super::flag_error)?;
    draw_file(&cfg)?;
    Ok(ExitCode::SUCCESS)
}
