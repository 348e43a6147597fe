//! `train` and `embed`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use choreo::corpus::CorpusConfig;
use choreo::model::{self, TrainConfig};
use choreo::pose::format;
use choreo::units::DEFAULT_FPS;

#[derive(Args)]
pub struct TrainArgs {
    /// Corpus folder (Tang2018, OpenPose or video layout).
    #[arg(long)]
    pub corpus: PathBuf,
    /// Weights file to write (a sidecar .json is written beside it).
    #[arg(long, default_value = "models/encoders.safetensors")]
    pub out: PathBuf,
    #[arg(long, default_value_t = DEFAULT_FPS)]
    pub fps: f64,
    #[command(flatten)]
    pub train: TrainConfig,
    /// Write the full report (per-epoch figures, baselines, card) as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

pub fn train(a: TrainArgs) -> anyhow::Result<ExitCode> {
    let fps = super::check_fps(a.fps)?;
    let cfg = a.train;
    cfg.validate().map_err(|e| anyhow::anyhow!("--{}", e.to_string().replace('_', "-")))?;
    let (c, _) = super::load_corpus(Some(&a.corpus), &[], &CorpusConfig { fps, ..CorpusConfig::default() })?;
    // Refuse an output that cannot be written (a folder, /dev/full) before training, not after.
    for p in [Some(a.out.clone()), Some(model::store::sidecar(&a.out)), a.report.clone()].iter().flatten() {
        choreo::io::prepare_output(p)?;
    }
    let pb = super::bar(cfg.epochs as u64, "training");
    pb.set_message(format!("training on {} dances ({}), seed {}", c.dances.len(), a.corpus.display(), cfg.seed));
    let trained = model::train(&c, &cfg, &mut |e| {
        pb.inc(1);
        if pb.is_hidden() {
            eprintln!("{e}");
        } else {
            pb.println(e.to_string());
        }
    });
    pb.finish_and_clear();
    let (tensors, report) = trained?;
    model::store::save(&a.out, &tensors, &report.card)?;
    print!("{}", report.summary(&a.out));
    if let Some(r) = &a.report {
        choreo::io::write_atomic(r, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
#[group(id = "embed_input", required = true, multiple = false)]
pub struct EmbedInput {
    /// A song: cut into clips of the model's fragment length, one row per clip.
    #[arg(long, group = "embed_input")]
    pub audio: Option<PathBuf>,
    /// A choreo pose file: cut into fragments, one row per fragment.
    #[arg(long, group = "embed_input")]
    pub poses: Option<PathBuf>,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// Encoder weights (with their .json sidecar).
    #[arg(long, default_value = "models/encoders.safetensors")]
    pub model: PathBuf,
    #[command(flatten)]
    pub input: EmbedInput,
    /// Output .npy, N × 16 float32.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn embed(a: EmbedArgs) -> anyhow::Result<ExitCode> {
    let (enc, card) = model::load(&a.model, &candle_core::Device::Cpu)?;
    let (rows, n) = match (&a.input.audio, &a.input.poses) {
        (Some(song), _) => model::embed::embed_song(&enc, &card, &choreo::audio::decode(song)?)?,
        (_, Some(p)) => model::embed::embed_dance(&enc, &card, &format::read(p)?, p)?,
        _ => bail!("give --audio or --poses"),
    };
    choreo::io::write_atomic(&a.out, &choreo::io::npy_f32(&rows, n, card.config.embed_dim))?;
    eprintln!("{}: {} × {}", a.out.display(), n, card.config.embed_dim);
    Ok(ExitCode::SUCCESS)
}
