//! `render`, and the `--video` input of `poses`: flags → `RenderConfig` / `VideoPoseConfig`,
//! progress bars with frames/s.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use choreo::pose::movenet::{default_model, ModelChoice, MoveNetConfig, Variant};
use choreo::runtime::Device;
use choreo::pose::video::{self, VideoPoseConfig};
use choreo::pose::{format, Sequence};
use choreo::render::{render_video_with, Generator, GeneratorConfig, RenderConfig};

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

/// Poses of a video (the `poses --video` input): detected, letterboxed, resampled to `fps`,
/// cleaned; one report line.
pub fn poses_from_video(path: &Path, model: Option<&ModelChoice>, device: Device, fps: f64) -> anyhow::Result<Sequence> {
    let model = model.map(ModelChoice::path).unwrap_or_else(|| default_model(Variant::Thunder));
    let cfg = VideoPoseConfig { fps, movenet: MoveNetConfig { model, device, ..MoveNetConfig::default() }, ..VideoPoseConfig::default() };
    let pb = frame_bar("detecting poses");
    let x = video::extract(path, &cfg, &|p| {
        pb.set_length(p.total);
        pb.set_position(p.done);
    });
    pb.finish_and_clear();
    let x = x?;
    eprintln!("choreo: {}", x.summary(path, fps));
    Ok(x.cleaned.seq)
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RendererArg {
    /// OpenPose-style coloured limb map on black.
    Skeleton,
    /// The limb maps turned into the target person by a learned ONNX generator (--generator).
    Onnx,
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
    #[command(flatten)]
    pub video: RenderConfig,
    /// How frames are drawn.
    #[arg(long, value_enum, default_value = "skeleton")]
    pub renderer: RendererArg,
    /// With --renderer onnx: the generator (pose map [N,3,H,W] in [-1,1] -> RGB [N,3,H,W] in [-1,1]), made by tools/renderer/train.py.
    #[arg(long)]
    pub generator: Option<PathBuf>,
    #[command(flatten)]
    pub gen: GeneratorConfig,
}

pub fn render(a: RenderArgs) -> anyhow::Result<ExitCode> {
    let cfg = a.video;
    cfg.validate().map_err(|e| anyhow::anyhow!("--{e}"))?;
    let onnx = matches!(a.renderer, RendererArg::Onnx);
    if onnx && a.generator.is_none() {
        anyhow::bail!("--renderer onnx needs --generator MODEL.onnx (made by tools/renderer/train.py)");
    }
    if !onnx && (a.generator.is_some() || a.gen.face.is_some()) {
        anyhow::bail!("--generator and --face need --renderer onnx");
    }
    a.gen.validate().map_err(super::flag_error)?;
    let seq = format::read(&a.poses)?;
    let mut generator = match (&a.generator, onnx) {
        (Some(g), true) => {
            let gen = Generator::load(&GeneratorConfig { generator: g.clone(), ..a.gen })?;
            if let Some(w) = gen.warning() {
                eprintln!("choreo: warning: --device cuda: {w}");
            }
            eprintln!("{}", gen.describe(cfg.size));
            Some(gen)
        }
        _ => None,
    };
    let pb = frame_bar("rendering");
    let t0 = Instant::now();
    let stats = render_video_with(&seq, &a.song, &a.out, &cfg, generator.as_mut(), &|done, total| {
        pb.set_length(total);
        pb.set_position(done);
    });
    // Cleared on failure too: the error is then the only line left.
    pb.finish_and_clear();
    eprintln!("{}", stats?.summary(&a.out, seq.fps, cfg.size, t0.elapsed().as_secs_f64(), generator.as_ref()));
    Ok(ExitCode::SUCCESS)
}
