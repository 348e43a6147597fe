//! `view`: flags → `ViewConfig` → `render::view` → one line.

use std::process::ExitCode;

use choreo::render::{view, ViewConfig};

pub fn run(cfg: ViewConfig) -> anyhow::Result<ExitCode> {
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
