//! Every dance of a corpus scored against its own song (the real dances' beat figures, the
//! baseline that generated dances are compared with).

use rayon::prelude::*;

use super::{evaluate, Metrics};
use crate::audio::{self, AudioError, BeatConfig};
use crate::corpus::Corpus;
use crate::pose::Sequence;

/// Per dance, in corpus order: its name and its metrics against the beats `beats` finds in its
/// song, or the error that stopped it (an unreadable song; callers may skip and count it).
/// `jump_px` gives each dance's discontinuity threshold.
pub fn score_corpus(corpus: &Corpus, beats: &BeatConfig, jump_px: &(dyn Fn(&Sequence) -> f32 + Sync)) -> Vec<(String, Result<Metrics, AudioError>)> {
    corpus
        .dances
        .par_iter()
        .map(|d| {
            let r = audio::decode(&d.audio).and_then(|song| audio::detect_beats(&song, beats)).map(|b| evaluate(&d.poses, &b.beats, d.audio_offset, jump_px(&d.poses)));
            (d.name.clone(), r)
        })
        .collect()
}
