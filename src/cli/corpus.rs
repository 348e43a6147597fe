//! `corpus stats`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use choreo::corpus::{self, CorpusConfig, FragmentConfig};
use choreo::units::DEFAULT_FPS;

#[derive(Subcommand)]
pub enum CorpusCommand {
    /// Dances per genre, frames, minutes and fragments of a corpus.
    #[command(after_help = "Example:\n  choreo corpus stats --corpus ../shared/data/tang2018\n  choreo corpus stats --corpus my_videos/ --json")]
    Stats(StatsArgs),
    /// Detect the poses of videos into the pose cache that `index build` reads (skipped when cached); print where they are.
    #[command(after_help = "Example:\n  choreo corpus cache videos/a.mp4 videos/b.mp4\n  choreo corpus cache /shared/videos/a.mp4 --cache-dir /shared/cache --model models/encoders.safetensors --json")]
    Cache(CacheArgs),
    /// List the dances of a corpus folder in the order a build takes them (one path per line).
    #[command(after_help = "Example:\n  choreo corpus list --corpus my_videos/\n  choreo corpus list --corpus my_videos/ --json")]
    List(ListArgs),
}

/// Where and how videos' poses are detected and cached (shared by `corpus cache` and `index build`).
#[derive(Args)]
pub struct VideoCacheArgs {
    /// Video pose cache folder (default: .choreo-cache beside each video).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Pose model for videos: a .onnx path, or `thunder` (default) / `lightning` from models/.
    #[arg(long)]
    pub pose_model: Option<choreo::pose::movenet::ModelChoice>,
}

impl VideoCacheArgs {
    pub fn config(&self, fps: f64) -> CorpusConfig {
        let mut cfg = CorpusConfig { fps, cache_dir: self.cache_dir.clone(), ..CorpusConfig::default() };
        if let Some(m) = &self.pose_model {
            cfg.movenet.model = m.path();
        }
        cfg
    }
}

#[derive(Args)]
pub struct CacheArgs {
    /// Video files.
    #[arg(required = true)]
    pub videos: Vec<PathBuf>,
    /// The encoder the index will be built with (its frame rate is part of the cache key).
    #[arg(long, default_value = "models/encoders.safetensors")]
    pub model: PathBuf,
    #[command(flatten)]
    pub video: VideoCacheArgs,
    /// Where the pose model runs.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: choreo::runtime::Device,
    /// One JSON object per video.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    pub corpus: PathBuf,
    /// Print JSON: {"format": .., "dances": [..]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct StatsArgs {
    /// Corpus folder (Tang2018 or OpenPose layout; detected).
    #[arg(long)]
    pub corpus: PathBuf,
    /// Working frame rate every dance is resampled to.
    #[arg(long, default_value_t = DEFAULT_FPS)]
    pub fps: f64,
    #[command(flatten)]
    pub fragments: FragmentConfig,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(c: CorpusCommand) -> anyhow::Result<ExitCode> {
    match c {
        CorpusCommand::Stats(a) => stats(a),
        CorpusCommand::Cache(a) => cache(a),
        CorpusCommand::List(a) => list(a),
    }
}

fn stats(a: StatsArgs) -> anyhow::Result<ExitCode> {
    let fps = super::check_fps(a.fps)?;
    a.fragments.validate().map_err(super::flag_error)?;
    let (c, failed) = super::load_corpus(Some(&a.corpus), &[], &CorpusConfig { fps, ..CorpusConfig::default() })?;
    let s = corpus::stats(&c, &a.fragments);
    println!("{}", if a.json { serde_json::to_string_pretty(&s)? } else { s.to_string() });
    if failed > 0 {
        // The figures cover the dances that loaded; the exit code says some did not, on one line.
        anyhow::bail!("{}: {failed} of {} dances could not be loaded (named above)", a.corpus.display(), c.dances.len() + failed);
    }
    Ok(ExitCode::SUCCESS)
}

fn cache(a: CacheArgs) -> anyhow::Result<ExitCode> {
    let (_, card) = choreo::model::load(&a.model, &candle_core::Device::Cpu)?;
    let mut cfg = a.video.config(card.fps);
    cfg.movenet.device = a.device;
    for v in &a.videos {
        let t0 = std::time::Instant::now();
        let (e, detected) = corpus::video::fill_cache(v, &cfg)?;
        let secs = t0.elapsed().as_secs_f64();
        if a.json {
            println!("{}", serde_json::json!({"video": e.video, "sha256": e.sha256, "poses": e.poses, "audio": e.audio, "detected": detected, "secs": secs}));
        } else {
            println!("{}: {} ({})", v.display(), e.poses.display(), if detected { format!("detected in {secs:.1} s") } else { "already cached".into() });
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let (format, dances) = corpus::scan(&a.corpus)?;
    if a.json {
        println!("{}", serde_json::json!({"format": format.to_string(), "dances": dances}));
    } else {
        for d in dances {
            println!("{}", d.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
