//! `train` and `embed`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use choreo::corpus::{self, CorpusConfig};
use choreo::model::{self, data, TrainConfig};
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
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// ε of DanceIt Eq. 10: non-matching pairs are pushed past this distance.
    #[arg(long, default_value_t = 2.0)]
    pub margin: f32,
    #[arg(long, default_value_t = DEFAULT_FPS)]
    pub fps: f64,
    #[arg(long, default_value_t = 1.0)]
    pub fragment_secs: f64,
    /// Evaluate on the test dances every N epochs.
    #[arg(long, default_value_t = 5)]
    pub eval_every: usize,
    /// Rows per single-dance group in a batch (even, dividing --batch); 0 mixes all dances.
    #[arg(long, default_value_t = 0)]
    pub group: usize,
    /// Weight of same-dance in-batch negatives relative to other dances' ones.
    #[arg(long, default_value_t = 1.0)]
    pub same_dance_weight: f32,
    /// Same-dance windows closer than this many frames are not negatives of each other.
    #[arg(long, default_value_t = 0)]
    pub min_negative_gap: usize,
    /// Cosine-decay the learning rate to lr × this over the epochs (1 = constant).
    #[arg(long, default_value_t = 1.0)]
    pub lr_floor: f64,
    /// Pool each encoder's output over time in this many segments (1 = DanceIt's mean).
    #[arg(long, default_value_t = 1)]
    pub time_segments: usize,
    /// Feed the audio encoder MFCC deltas beside the MFCC.
    #[arg(long)]
    pub mfcc_deltas: bool,
    /// Augment: mirror each training pair's poses left↔right with probability ½.
    #[arg(long)]
    pub mirror: bool,
    /// Hold out the last training dance of each genre with ≥ 4 of them and keep the epoch with
    /// the best mean rank of the true pose on them.
    #[arg(long)]
    pub validate: bool,
    /// Write the full report (per-epoch figures, baselines, card) as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

pub fn train(a: TrainArgs) -> anyhow::Result<ExitCode> {
    let fps = super::check_fps(a.fps)?;
    let cfg = TrainConfig {
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        seed: a.seed,
        margin: a.margin,
        fragment_secs: a.fragment_secs,
        eval_every: a.eval_every,
        group: a.group,
        same_dance_weight: a.same_dance_weight,
        min_negative_gap: a.min_negative_gap,
        lr_floor: a.lr_floor,
        validate: a.validate,
        mirror: a.mirror,
        encoder: model::EncoderConfig { time_segments: a.time_segments, mfcc_deltas: a.mfcc_deltas, ..model::EncoderConfig::default() },
        ..TrainConfig::default()
    };
    cfg.validate().map_err(|e| anyhow::anyhow!("--{}", e.to_string().replace('_', "-")))?;
    let (c, failed) = corpus::load(&a.corpus, &CorpusConfig { fps, ..CorpusConfig::default() })?;
    for e in &failed {
        eprintln!("choreo: warning: skipped: {e}");
    }
    // Refuse an output that cannot be written (a folder, /dev/full) before training, not after.
    choreo::io::prepare_output(&a.out)?;
    choreo::io::prepare_output(&model::store::sidecar(&a.out))?;
    if let Some(r) = &a.report {
        choreo::io::prepare_output(r)?;
    }
    let pb = super::corpus::bar(a.epochs as u64, "training");
    pb.set_message(format!("training on {} dances ({}), seed {}", c.dances.len(), a.corpus.display(), a.seed));
    let (tensors, report) = model::train(&c, &cfg, &mut |e| {
        pb.inc(1);
        if pb.is_hidden() {
            eprintln!("{}", epoch_line(e));
        } else {
            pb.println(epoch_line(e));
        }
    })?;
    pb.finish_and_clear();
    model::store::save(&a.out, &tensors, &report.card)?;
    print_report(&report, &a.out);
    if let Some(r) = &a.report {
        choreo::io::write_atomic(r, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn epoch_line(e: &model::train::EpochFigures) -> String {
    let mut line = match &e.test {
        Some(t) => format!(
            "epoch {:>3}  loss {:.4}  test: match {:.2} delayed {:.2} other {:.2} acc {:.3} R@1 {:.3} R@10 {:.3} genreP@10 {:.3} rank {:.3}  ({:.1} s)",
            e.epoch, e.loss, t.matching_distance, t.delayed_distance, t.other_distance, t.correlation_accuracy, t.recall_at_1, t.recall_at_10, t.genre_precision_at_10, t.mean_rank, e.seconds
        ),
        None => format!("epoch {:>3}  loss {:.4}  ({:.1} s)", e.epoch, e.loss, e.seconds),
    };
    if let Some(v) = &e.val {
        line += &format!("  val: R@10 {:.3} rank {:.3}", v.recall_at_10, v.mean_rank);
    }
    line
}

fn print_report(report: &model::TrainReport, out: &std::path::Path) {
    let t = &report.card.test_figures;
    let b = &report.baselines;
    println!("test dances: {}", report.card.test_dances.join(", "));
    if !report.card.val_dances.is_empty() {
        println!("validation dances: {}; kept epoch {}", report.card.val_dances.join(", "), report.card.kept_epoch);
    }
    println!("{:<22} {:>8} {:>8} {:>8} {:>8} {:>12} {:>7} {:>7} {:>10} {:>6}", "test figures", "match", "delayed", "other", "acc(d<1)", "acc(best t)", "R@1", "R@10", "genreP@10", "rank");
    let row = |name: &str, f: &model::eval::Figures| {
        println!(
            "{:<22} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>6.3}@{:<5.2} {:>7.3} {:>7.3} {:>10.3} {:>6.3}",
            name, f.matching_distance, f.delayed_distance, f.other_distance, f.correlation_accuracy, f.best_threshold_accuracy, f.best_threshold, f.recall_at_1, f.recall_at_10, f.genre_precision_at_10, f.mean_rank
        )
    };
    row("trained", t);
    row("untrained (same seed)", &b.untrained);
    println!("{:<22} {:>8} {:>8} {:>8} {:>8} {:>12} {:>7.3} {:>7.3} {:>10.3}", "random ranking", "", "", "", "", "", b.random_recall_at_1, b.random_recall_at_10, b.random_genre_precision_at_10);
    row("trained (train set)", &report.card.train_figures);
    if let Some(v) = &report.card.val_figures {
        row("trained (validation)", v);
    }
    println!("{} fragments in the test set; trained in {:.0} s; wrote {}", t.fragments, report.card.train_seconds, out.display());
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
    let len = enc.cfg.frames;
    let (rows, n) = if let Some(song) = &a.input.audio {
        let audio = choreo::audio::decode(song)?;
        let (mf, n) = data::song_windows(&audio, card.fps, len);
        if n == 0 {
            bail!("{}: shorter than one fragment ({} s)", song.display(), card.fragment_secs);
        }
        (enc.embed_audio(&mf, n)?, n)
    } else if let Some(p) = &a.input.poses {
        let seq = choreo::pose::normalize::resample(&format::read(p)?, card.fps);
        let starts: Vec<usize> = (0..seq.len() / len).map(|i| i * len).collect();
        if starts.is_empty() {
            bail!("{}: shorter than one fragment ({} frames)", p.display(), len);
        }
        let w = data::sequence_windows(&seq, &starts, len);
        (enc.embed_poses(&w, starts.len())?, starts.len())
    } else {
        bail!("give --audio or --poses");
    };
    choreo::io::write_atomic(&a.out, &choreo::io::npy_f32(&rows, n, card.config.embed_dim))?;
    eprintln!("{}: {} × {}", a.out.display(), n, card.config.embed_dim);
    Ok(ExitCode::SUCCESS)
}
