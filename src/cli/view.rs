//! `view`: flags → `ViewConfig` → `render::view` → one line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use choreo::render::{view, ViewConfig};

#[derive(Args)]
pub struct ViewArgs {
    /// The dance: a choreo pose file (.json); its 3-D track when it has one, else the 2-D figure.
    pub dance: PathBuf,
    /// The song the dance was made for (any format ffmpeg reads); the dance's frame 0 plays at its start (or at --start).
    #[arg(long)]
    pub song: PathBuf,
    /// The page to write (.html, self-contained).
    #[arg(long)]
    pub out: PathBuf,
    /// Beat times (one per line, seconds) for the beat tick, instead of the dance's own.
    #[arg(long)]
    pub beats: Option<PathBuf>,
    /// Song time (seconds) of the dance's first frame (0 for `choreo dance` output).
    #[arg(long, default_value_t = 0.0)]
    pub start: f64,
    /// Page title (default: the dance's file name).
    #[arg(long)]
    pub title: Option<String>,
}

pub fn run(a: ViewArgs) -> anyhow::Result<ExitCode> {
    let cfg = ViewConfig { dance: a.dance, song: a.song, beats: a.beats, out: a.out, start: a.start, title: a.title };
    let s = view(&cfg)?;
    eprintln!(
        "{}: {} frames at {} fps ({:.1} s), {} figure ({} joints), {} beats, song {:.1} MB ({}), page {:.1} MB",
        cfg.out.display(),
        s.frames,
        s.fps,
        s.duration_secs(),
        if s.three_d { "3-D" } else { "2-D" },
        s.joints,
        s.beats,
        s.song_bytes as f64 / 1e6,
        if s.song_transcoded { "transcoded to mp3" } else { "as is" },
        s.page_bytes as f64 / 1e6,
    );
    Ok(ExitCode::SUCCESS)
}
