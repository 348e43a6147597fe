//! `corpus stats`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

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
    match c {
        CorpusCommand::Stats(a) => stats(a),
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_bar()));
    pb.set_message(what.to_string());
    pb
}

fn stats(a: StatsArgs) -> anyhow::Result<ExitCode> {
    let fps = super::check_fps(a.fps)?;
    if !(a.fragment_secs.is_finite() && a.fragment_secs > 0.0) {
        anyhow::bail!("--fragment-secs must be positive, got {}", a.fragment_secs);
    }
    let cfg = CorpusConfig { fps, ..CorpusConfig::default() };
    let (_, dirs) = corpus::scan(&a.corpus)?;
    let pb = bar(dirs.len() as u64, "loading dances");
    let (c, failed) = corpus::load_with_progress(&a.corpus, &cfg, &|| pb.inc(1))?;
    pb.finish_and_clear();
    for e in &failed {
        eprintln!("choreo: warning: skipped: {e}");
    }
    let s = corpus::stats(&c, &FragmentConfig { fragment_secs: a.fragment_secs });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!("{s}");
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        // The figures cover the dances that loaded; the exit code says some did not, on one line.
        let total = c.dances.len() + failed.len();
        anyhow::bail!("{}: {} of {total} dances could not be loaded (named above)", a.corpus.display(), failed.len())
    }
}
