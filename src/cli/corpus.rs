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
}

#[derive(Args)]
pub struct StatsArgs {
    /// Corpus folder (Tang2018 or OpenPose layout; detected).
    #[arg(long)]
    pub corpus: PathBuf,
    /// Working frame rate every dance is resampled to.
    #[arg(long, default_value_t = DEFAULT_FPS)]
    pub fps: f64,
    /// Fragment length in seconds.
    #[arg(long, default_value_t = 1.0)]
    pub fragment_secs: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(c: CorpusCommand) -> anyhow::Result<ExitCode> {
    let CorpusCommand::Stats(a) = c;
    let fps = super::check_fps(a.fps)?;
    if !(a.fragment_secs.is_finite() && a.fragment_secs > 0.0) {
        anyhow::bail!("--fragment-secs must be positive, got {}", a.fragment_secs);
    }
    let (c, failed) = super::load_corpus(&a.corpus, &CorpusConfig { fps, ..CorpusConfig::default() })?;
    let s = corpus::stats(&c, &FragmentConfig { fragment_secs: a.fragment_secs });
    println!("{}", if a.json { serde_json::to_string_pretty(&s)? } else { s.to_string() });
    if failed > 0 {
        // The figures cover the dances that loaded; the exit code says some did not, on one line.
        anyhow::bail!("{}: {failed} of {} dances could not be loaded (named above)", a.corpus.display(), c.dances.len() + failed);
    }
    Ok(ExitCode::SUCCESS)
}
