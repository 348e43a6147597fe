//! `index build | info | merge | search`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use choreo::corpus::CorpusConfig;
use choreo::index::{self, Index, IndexBuilder, IndexParams};
use choreo::{model, pipeline};

#[derive(Subcommand)]
pub enum IndexCommand {
    /// Embed every fragment of a corpus and write a searchable index folder (atomically).
    #[command(after_help = "Example:\n  choreo index build --corpus ../shared/data/tang2018 --model models/encoders.safetensors --out index/default\n  choreo index build --dance videos/a.mp4 videos/b.mp4 --from-cache --cache-dir /shared/cache --out shards/s0")]
    Build(BuildArgs),
    /// Verify an index (manifest, fragment store, graph) and print its manifest and counts.
    #[command(after_help = "Example:\n  choreo index info index/default\n  choreo index info index/default --json")]
    Info(InfoArgs),
    /// Combine indexes built with the same encoder (e.g. shards built on several machines).
    #[command(after_help = "Example:\n  choreo index merge index/shard1 index/shard2 --out index/all")]
    Merge(MergeArgs),
    /// Nearest pose fragments for each 1-s clip of a song.
    #[command(after_help = "Example:\n  choreo index search index/default --audio song.mp3 --k 5\n  choreo index search index/default --audio song.mp3 --exact --json")]
    Search(SearchArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// Corpus folder (Tang2018, OpenPose or video layout; detected).
    #[arg(long, required_unless_present = "dance", conflicts_with = "dance")]
    pub corpus: Option<PathBuf>,
    /// Instead of --corpus: dance folders or videos (one format), in this order.
    #[arg(long, num_args = 1..)]
    pub dance: Vec<PathBuf>,
    #[command(flatten)]
    pub video: super::corpus::VideoCacheArgs,
    /// Videos: take the poses only from the pose cache (filled by `choreo corpus cache`); a video not cached fails the build.
    #[arg(long)]
    pub from_cache: bool,
    #[arg(long, default_value = "models/encoders.safetensors")]
    pub model: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Fragment length; must be the encoder's (it was trained on it).
    #[arg(long)]
    pub fragment_secs: Option<f64>,
    #[command(flatten)]
    pub hnsw: IndexParams,
    /// Write into an existing folder that holds other files (they are left in place).
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct InfoArgs {
    pub index: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct MergeArgs {
    /// Index folders (one rewrites it into --out).
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub hnsw: IndexParams,
    /// Write into an existing folder that holds other files (they are left in place).
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct SearchArgs {
    pub index: PathBuf,
    #[arg(long)]
    pub audio: PathBuf,
    #[arg(long, default_value = "models/encoders.safetensors")]
    pub model: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Search width (default: the manifest's).
    #[arg(long)]
    pub ef: Option<usize>,
    /// Brute-force search (the reference).
    #[arg(long)]
    pub exact: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(c: IndexCommand) -> anyhow::Result<ExitCode> {
    match c {
        IndexCommand::Build(a) => build(a),
        IndexCommand::Info(a) => info(a),
        IndexCommand::Merge(a) => merge(a),
        IndexCommand::Search(a) => search(a),
    }
}

fn build(a: BuildArgs) -> anyhow::Result<ExitCode> {
    a.hnsw.validate().map_err(super::flag_error)?;
    index::build::check_output(&a.out, a.force).map_err(|e| force_hint(e.into()))?;
    let t0 = std::time::Instant::now();
    let (enc, card) = model::load(&a.model, &candle_core::Device::Cpu)?;
    if let Some(fs) = a.fragment_secs {
        card.check_fragment_secs(fs, &a.model).map_err(super::flag_error)?;
    }
    let cfg = CorpusConfig { cached_only: a.from_cache, ..a.video.config(card.fps) };
    let (c, _) = super::load_corpus(a.corpus.as_deref(), &a.dance, &cfg)?;
    // A spinner, cleared on success and failure alike: an error is the only line left.
    let pb = indicatif::ProgressBar::new_spinner();
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb.set_message(format!("embedding the fragments of {} dances", c.dances.len()));
    let built = model::embed_corpus(&c, &enc, &card).map_err(anyhow::Error::from).and_then(|emb| {
        pb.set_message(format!("building the graph of {} fragments", emb.fragments.len()));
        IndexBuilder { params: a.hnsw, force: a.force }.build(&emb, &a.model, &a.out).map_err(|e| force_hint(e.into()))
    });
    pb.finish_and_clear();
    let m = built?;
    println!("{}: {} fragments from {} dances in {:.1} s", a.out.display(), m.fragments, m.dances, t0.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Names the flag for the library's "force writing beside them".
fn force_hint(e: anyhow::Error) -> anyhow::Error {
    let s = e.to_string();
    match s.contains("or force writing beside them") {
        true => anyhow::anyhow!("{}", s.replace("or force writing beside them", "or pass --force to write beside them")),
        false => e,
    }
}

fn info(a: InfoArgs) -> anyhow::Result<ExitCode> {
    // Opening verifies the manifest, the store and the graph (hashes, counts, ranges).
    let m = Index::open(&a.index)?.manifest;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        print!("{}", m.describe(&a.index));
    }
    Ok(ExitCode::SUCCESS)
}

fn merge(a: MergeArgs) -> anyhow::Result<ExitCode> {
    a.hnsw.validate().map_err(super::flag_error)?;
    index::build::check_output(&a.out, a.force).map_err(|e| force_hint(e.into()))?;
    let m = index::merge(&a.inputs, &a.out, &a.hnsw, a.force).map_err(|e| force_hint(e.into()))?;
    println!("{}: {} fragments from {} dances", a.out.display(), m.fragments, m.dances);
    Ok(ExitCode::SUCCESS)
}

fn search(a: SearchArgs) -> anyhow::Result<ExitCode> {
    let inputs = pipeline::Inputs::load(&a.index, &a.model, &a.audio)?;
    let clips = pipeline::search_song(&inputs, a.k, a.ef, a.exact)?;
    if a.json {
        println!("{}", super::json(&clips, false)?);
    } else {
        clips.iter().for_each(|c| println!("{c}"));
    }
    Ok(ExitCode::SUCCESS)
}
