//! `render`, and the `--video` input of `poses`: flags → `RenderConfig` / `VideoPoseConfig`,
//! progress bars with frames/s.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use choreo::pose::movenet::{default_model, Device, MoveNet, MoveNetConfig, Tracker, Variant};
use choreo::pose::video::{self, VideoPoseConfig};
use choreo::pose::{format, Sequence};
use choreo::render::{render_video, RenderConfig, Renderer};

#[derive(Clone, Copy, ValueEnum)]
pub enum DeviceArg {
    /// CUDA when built with the `cuda` feature and a GPU is there, else CPU.
    Auto,
    Cpu,
    /// CUDA (falls back to CPU, saying so, when it cannot be used).
    Cuda,
}

impl From<DeviceArg> for Device {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Auto => Device::Auto,
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Cuda => Device::Cuda,
        }
    }
}

/// `--model`: a path, or `thunder` / `lightning` for the models shipped in models/.
pub fn model_path(arg: Option<&str>) -> PathBuf {
    match arg {
        None | Some("thunder") => default_model(Variant::Thunder),
        Some("lightning") => default_model(Variant::Lightning),
        Some(p) => PathBuf::from(p),
    }
}

/// A frames/s progress bar on stderr (drawn only on a terminal).
fn frame_bar(what: &str) -> ProgressBar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} frames, {per_sec} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}

/// Poses of a video (the `poses --video` input): detected, letterboxed to 512², resampled to `fps`,
/// cleaned.
pub fn poses_from_video(path: &Path, model: Option<&str>, device: DeviceArg, fps: f64) -> anyhow::Result<Sequence> {
    let movenet = MoveNetConfig { model: model_path(model), device: device.into(), ..MoveNetConfig::default() };
    let cfg = VideoPoseConfig { fps, movenet, ..VideoPoseConfig::default() };
    // Probe first: a bad video is reported before the model is loaded.
    let info = video::probe(path)?;
    let net = MoveNet::load(&cfg.movenet)?;
    let ran = format!("{} ({}²) on {}", net.model().file_name().unwrap_or_default().to_string_lossy(), net.input_size(), net.execution());
    let mut tracker = Tracker::new(net, &cfg.movenet);
    let pb = frame_bar("detecting poses");
    let t0 = Instant::now();
    let raw = video::detect(path, &info, &cfg, &mut tracker, &|p| {
        pb.set_length(p.total);
        pb.set_position(p.done);
    })?;
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    let found = raw.frames.iter().filter(|f| f.iter().any(|j| j[2] > 0.0)).count();
    let cleaned = video::finish(&raw, path, &cfg)?;
    let kept = cleaned.keep.iter().filter(|&&k| k).count();
    eprintln!(
        "choreo: {}: pose model {ran}: {} frames at {} fps in {:.1} s ({:.1} frames/s), person in {found}; {} frames at {fps} fps, {kept} kept by cleaning",
        path.display(),
        raw.len(),
        raw.fps,
        secs,
        raw.len() as f64 / secs.max(1e-9),
        cleaned.seq.len(),
    );
    Ok(cleaned.seq)
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RendererArg {
    /// OpenPose-style coloured limb map on black.
    Skeleton,
}

#[derive(Args)]
pub struct RenderArgs {
    /// A choreo pose file (the dance).
    #[arg(long)]
    pub poses: PathBuf,
    /// The song (any format ffmpeg reads); cut to the dance's length.
    #[arg(long)]
    pub song: PathBuf,
    /// Output .mp4 (H.264 + AAC).
    #[arg(long)]
    pub out: PathBuf,
    /// Width and height of the video in pixels (even).
    #[arg(long, default_value_t = 512)]
    pub size: u32,
    /// How frames are drawn.
    #[arg(long, value_enum, default_value = "skeleton")]
    pub renderer: RendererArg,
    /// Song time (seconds) of the first frame.
    #[arg(long, default_value_t = 0.0)]
    pub start: f64,
}

pub fn render(a: RenderArgs) -> anyhow::Result<ExitCode> {
    if a.size < 16 || a.size > 4096 || a.size % 2 != 0 {
        anyhow::bail!("--size must be even and in 16..=4096, got {}", a.size);
    }
    if !(a.start.is_finite() && a.start >= 0.0) {
        anyhow::bail!("--start must be ≥ 0 seconds, got {}", a.start);
    }
    let seq = format::read(&a.poses)?;
    let cfg = RenderConfig {
        size: a.size,
        renderer: match a.renderer {
            RendererArg::Skeleton => Renderer::Skeleton,
        },
        start: a.start,
        ..RenderConfig::default()
    };
    let pb = frame_bar("rendering");
    let t0 = Instant::now();
    let stats = render_video(&seq, &a.song, &a.out, &cfg, &|done, total| {
        pb.set_length(total);
        pb.set_position(done);
    })?;
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{}: {} frames, {:.2} s at {} fps, {}² ({:.0} frames/s)",
        a.out.display(),
        stats.frames,
        stats.duration_secs,
        seq.fps,
        a.size,
        stats.frames as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
