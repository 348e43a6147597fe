//! `eval`: the dance metrics of pose files against their song, or of every dance of a corpus
//! against its own song; with `--against CORPUS`, realism and diversity (FID_k, FID_g, Div_k,
//! Div_g) against that corpus's real dances and the real-versus-real floor.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use choreo::corpus::CorpusConfig;
use choreo::pipeline;

#[derive(Args)]
pub struct EvalArgs {
    /// Pose files to score (several: their realism and diversity with --against).
    #[arg(long, num_args = 1.., conflicts_with = "corpus")]
    pub poses: Vec<PathBuf>,
    /// The song the poses dance to (required with --poses).
    #[arg(long)]
    pub song: Option<PathBuf>,
    /// The song's beats from a file (one time in seconds per line, or `choreo beats --json`
    /// output) instead of the beat tracker: e.g. the true beats, to score against them.
    #[arg(long, conflicts_with = "corpus")]
    pub beats: Option<PathBuf>,
    /// Song time (seconds) of pose frame 0.
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    /// Score every dance of a corpus against its own song instead.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Real dances to measure realism against (FID_k, FID_g, Div_k, Div_g; the corpus's training
    /// dances are the reference, its test dances against them the floor).
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// Discontinuity threshold, pixels (default: 10 % of each dance's nose-to-feet height, the
    /// 99th percentile of real single-joint moves per frame; DanceIt used 10 px).
    #[arg(long)]
    pub jump_px: Option<f32>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: EvalArgs) -> anyhow::Result<ExitCode> {
    if let Some(j) = a.jump_px {
        if !(j.is_finite() && j > 0.0) {
            bail!("--jump-px must be positive, got {j}");
        }
    }
    let e = if let Some(root) = &a.corpus {
        let (c, _) = super::load_corpus(root, &CorpusConfig::default())?;
        pipeline::evaluate_corpus(&c, a.jump_px, a.against.as_deref())?
    } else {
        if a.poses.is_empty() {
            bail!("give --poses FILE... with --song SONG, or --corpus DIR");
        }
        let Some(song) = &a.song else { bail!("--song is needed with --poses") };
        pipeline::evaluate_files(&a.poses, song, a.beats.as_deref(), a.offset, a.jump_px, a.against.as_deref())?
    };
    super::warn(&e.warnings);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&e.json)?);
    } else {
        print!("{}", e.table);
    }
    Ok(ExitCode::SUCCESS)
}
