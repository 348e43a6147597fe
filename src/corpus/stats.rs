//! `choreo corpus stats`: dances per genre, frames, minutes, fragments.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::fragment::{starts, FragmentConfig};
use super::Corpus;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GenreStats {
    pub dances: usize,
    pub frames: usize,
    pub minutes: f64,
    pub fragments: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorpusStats {
    pub root: String,
    pub format: String,
    pub fps: f64,
    pub fragment_secs: f64,
    pub dances: usize,
    pub frames: usize,
    pub minutes: f64,
    pub fragments: usize,
    pub dropped_frames: usize,
    pub genres: BTreeMap<String, GenreStats>,
}

pub fn stats(corpus: &Corpus, frag: &FragmentConfig) -> CorpusStats {
    let len = frag.frames(corpus.fps);
    let mut genres: BTreeMap<String, GenreStats> = BTreeMap::new();
    let mut dropped = 0;
    for d in &corpus.dances {
        let g = genres.entry(super::Genre::label(d.genre.as_ref()).to_string()).or_default();
        g.dances += 1;
        g.frames += d.poses.len();
        g.minutes += d.duration_secs() / 60.0;
        g.fragments += starts(d, len).len();
        dropped += d.keep.iter().filter(|k| !**k).count();
    }
    CorpusStats {
        root: corpus.root.display().to_string(),
        format: corpus.format.to_string(),
        fps: corpus.fps,
        fragment_secs: frag.fragment_secs,
        dances: corpus.dances.len(),
        frames: genres.values().map(|g| g.frames).sum(),
        minutes: genres.values().map(|g| g.minutes).sum(),
        fragments: genres.values().map(|g| g.fragments).sum(),
        dropped_frames: dropped,
        genres,
    }
}

impl fmt::Display for CorpusStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "corpus {} ({}), {} fps, {} s fragments", self.root, self.format, self.fps, self.fragment_secs)?;
        writeln!(f, "{:<10} {:>6} {:>8} {:>8} {:>9}", "genre", "dances", "frames", "minutes", "fragments")?;
        for (g, s) in &self.genres {
            writeln!(f, "{:<10} {:>6} {:>8} {:>8.1} {:>9}", g, s.dances, s.frames, s.minutes, s.fragments)?;
        }
        writeln!(f, "{:<10} {:>6} {:>8} {:>8.1} {:>9}", "total", self.dances, self.frames, self.minutes, self.fragments)?;
        write!(f, "{} genres; {} frames dropped by cleaning", self.genres.len(), self.dropped_frames)
    }
}
