//! Fragments: each dance cut into pieces of `fragment_secs` (DanceIt: 1 s), only inside runs of
//! frames the cleaner kept, each with the MFCC rows of the music it was danced to (aligned by the
//! dataset's offset, e.g. Tang2018's `start_position`).

use rayon::prelude::*;

use super::{Corpus, CorpusError, Dance};
use crate::audio::{self, MfccConfig};
use crate::pose::{Frame, PoseError};
use crate::units::FrameIdx;

/// How dances are cut; with the `cli` feature, also a flag of `corpus stats` (the doc comment is
/// its help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct FragmentConfig {
    /// Fragment length in seconds.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = FragmentConfig::default().fragment_secs))]
    pub fragment_secs: f64,
}

impl Default for FragmentConfig {
    fn default() -> Self {
        FragmentConfig { fragment_secs: 1.0 }
    }
}

impl FragmentConfig {
    /// Checks the setting; the error names it.
    pub fn validate(&self) -> Result<(), crate::units::SettingError> {
        if !(self.fragment_secs.is_finite() && self.fragment_secs > 0.0) {
            return Err(crate::units::SettingError::new("fragment_secs", format!("must be positive, got {}", self.fragment_secs)));
        }
        Ok(())
    }

    /// Frames per fragment at `fps` (at least 2).
    pub fn frames(&self, fps: f64) -> usize {
        ((self.fragment_secs * fps).round() as usize).max(2)
    }
}

/// A piece of one dance with the music under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    /// Index of the dance in `Corpus::dances`.
    pub dance: usize,
    pub start: FrameIdx,
    pub len: usize,
    /// `len × 13` MFCC rows, row-major.
    pub mfcc: Vec<f32>,
}

impl Fragment {
    pub fn poses<'a>(&self, corpus: &'a Corpus) -> &'a [Frame] {
        &corpus.dances[self.dance].poses.frames[self.start.0..self.start.0 + self.len]
    }
}

/// Start frames of the non-overlapping fragments of a dance.
pub fn starts(dance: &Dance, len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut run_start = None;
    for t in 0..=dance.keep.len() {
        let kept = dance.keep.get(t).copied().unwrap_or(false);
        match (kept, run_start) {
            (true, None) => run_start = Some(t),
            (false, Some(s)) => {
                let mut a = s;
                while a + len <= t {
                    out.push(a);
                    a += len;
                }
                run_start = None;
            }
            _ => {}
        }
    }
    out
}

/// Cuts every dance into fragments and attaches the MFCC windows. Each song is decoded once
/// (in parallel); a dance whose song fails to decode is skipped and returned as an error.
pub fn fragments(corpus: &Corpus, cfg: &FragmentConfig) -> (Vec<Fragment>, Vec<CorpusError>) {
    let len = cfg.frames(corpus.fps);
    let mcfg = MfccConfig { fps: corpus.fps, ..MfccConfig::default() };
    let per_dance: Vec<Result<Vec<Fragment>, CorpusError>> = corpus
        .dances
        .par_iter()
        .enumerate()
        .map(|(di, d)| {
            let song = audio::decode(&d.audio).map_err(|e| CorpusError::Dance(PoseError::parse(&d.audio, e.to_string())))?;
            let m = audio::mfcc(&song, &mcfg);
            Ok(starts(d, len)
                .into_iter()
                .map(|s| {
                    let row = m.row_at(d.audio_offset + s as f64 / corpus.fps);
                    Fragment { dance: di, start: FrameIdx(s), len, mfcc: m.window(row, len) }
                })
                .collect())
        })
        .collect();
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for r in per_dance {
        match r {
            Ok(f) => out.extend(f),
            Err(e) => failed.push(e),
        }
    }
    (out, failed)
}
