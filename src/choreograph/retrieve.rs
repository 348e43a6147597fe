//! Retrieval (DanceIt step 1): the song is cut into segments — consecutive clips of the index's
//! fragment length ([`Segmentation::Fixed`], DanceIt), or runs of whole beats of about that length
//! ([`Segmentation::Beats`]) — each segment is embedded with the audio encoder, and the index
//! returns its k nearest pose fragments. The encoder must be the one the index was built with.
//!
//! A beat segment of `len` frames is embedded from its MFCC rows resampled to the encoder's
//! fragment length, and the fragment chosen for it is later stretched to `len` frames, so fragment
//! boundaries fall on beats.

use super::ChoreographError;
use crate::audio::{Audio, MfccConfig};
use crate::index::{Hit, Index};
use crate::model::{data, Encoders, ModelCard};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Segmentation {
    /// Consecutive clips of the fragment length from the song's start (DanceIt).
    Fixed,
    /// Boundaries on beats, each segment a whole number of beats close to the fragment length.
    Beats,
}

/// A run of output frames `start..start + len` (at the index's fps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    pub start: usize,
    pub len: usize,
}

/// Segments covering frames `0..total` (whole fragments only for `Fixed`; a remainder shorter
/// than a fragment is left to the stitcher). `beat_frames` are the beats in frames.
pub fn segments(total: usize, frag: usize, how: Segmentation, beat_frames: &[f64]) -> Vec<Segment> {
    let fixed = || (0..total / frag).map(|k| Segment { start: k * frag, len: frag }).collect::<Vec<_>>();
    if how == Segmentation::Fixed || beat_frames.len() < 2 {
        return fixed();
    }
    let mut iv: Vec<f64> = beat_frames.windows(2).map(|w| w[1] - w[0]).collect();
    iv.sort_by(|a, b| a.total_cmp(b));
    let interval = iv[iv.len() / 2].max(1.0);
    let per = ((frag as f64 / interval).round() as usize).max(1);
    // Boundaries: 0, every `per`-th beat, the end; pieces outside [frag/2, 2·frag] are merged or split.
    let mut cuts: Vec<usize> = vec![0];
    for b in beat_frames.iter().step_by(per) {
        let b = b.round() as usize;
        if b > *cuts.last().unwrap() && b < total {
            cuts.push(b);
        }
    }
    cuts.push(total);
    let mut pieces: Vec<Segment> = Vec::new();
    for w in cuts.windows(2) {
        let (mut s, e) = (w[0], w[1]);
        while e - s > 2 * frag {
            pieces.push(Segment { start: s, len: frag });
            s += frag;
        }
        pieces.push(Segment { start: s, len: e - s });
    }
    // Pieces shorter than half a fragment join a neighbour (the previous one; the first, the next).
    let mut out: Vec<Segment> = Vec::new();
    for p in pieces {
        match out.last_mut() {
            Some(last) if p.len < frag / 2 || last.len < frag / 2 => last.len += p.len,
            _ => out.push(p),
        }
    }
    out.retain(|s| s.len >= frag / 2);
    out
}

/// Per segment: its audio embedding and its hits, nearest first.
#[derive(Debug, Clone)]
pub struct Retrieval {
    pub clip_secs: f64,
    pub segments: Vec<Segment>,
    pub embeddings: Vec<Vec<f32>>,
    pub hits: Vec<Vec<Hit>>,
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchConfig {
    pub k: usize,
    pub ef: usize,
    pub exact: bool,
}

/// Fixed-length clips from the song's start (DanceIt's retrieval, what `index search` shows).
pub fn retrieve(index: &Index, enc: &Encoders, card: &ModelCard, song: &Audio, k: usize, ef: usize, exact: bool) -> Result<Retrieval, ChoreographError> {
    let total = (song.duration_secs() * card.fps).floor() as usize;
    let segs = segments(total, enc.cfg.frames, Segmentation::Fixed, &[]);
    retrieve_segments(index, enc, card, song, &segs, &SearchConfig { k, ef, exact })
}

/// Embeds each segment of the song and searches the index with it.
pub fn retrieve_segments(index: &Index, enc: &Encoders, card: &ModelCard, song: &Audio, segs: &[Segment], search: &SearchConfig) -> Result<Retrieval, ChoreographError> {
    index.check_encoder(&card.weights_sha256)?;
    let len = enc.cfg.frames;
    if segs.is_empty() {
        return Err(ChoreographError::TooShort { path: song.path.clone(), secs: song.duration_secs(), fragment_secs: card.fragment_secs });
    }
    let m = crate::audio::mfcc(song, &MfccConfig { fps: card.fps, ..MfccConfig::default() });
    let total = segs.iter().map(|s| s.start + s.len).max().unwrap_or(0);
    let rows = data::aligned_mfcc(&m, card.fps, 0.0, total + 1);
    let nc = m.numcep;
    let mut windows = Vec::with_capacity(segs.len() * len * nc);
    for s in segs {
        for i in 0..len {
            // Row i of the encoder's window reads segment time i·len_s/len (linear between rows).
            let pos = s.start as f64 + i as f64 * s.len as f64 / len as f64;
            let r0 = pos.floor() as usize;
            let w = (pos - r0 as f64) as f32;
            let r1 = (r0 + 1).min(total);
            for c in 0..nc {
                windows.push(rows[r0 * nc + c] * (1.0 - w) + rows[r1 * nc + c] * w);
            }
        }
    }
    let e = enc.embed_audio(&windows, segs.len())?;
    let d = enc.cfg.embed_dim;
    let embeddings: Vec<Vec<f32>> = e.chunks(d).map(|c| c.to_vec()).collect();
    let hits = embeddings.iter().map(|q| if search.exact { index.search_exact(q, search.k) } else { index.search(q, search.k, search.ef) }).collect();
    Ok(Retrieval { clip_secs: len as f64 / card.fps, segments: segs.to_vec(), embeddings, hits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_segments_are_whole_fragments() {
        let s = segments(100, 24, Segmentation::Fixed, &[]);
        assert_eq!(s.len(), 4);
        assert_eq!(s[3], Segment { start: 72, len: 24 });
    }

    #[test]
    fn beat_segments_start_on_beats_and_cover_the_song() {
        // 120 BPM at 24 fps: a beat every 12 frames from frame 5.
        let beats: Vec<f64> = (0..40).map(|k| 5.0 + 12.0 * k as f64).collect();
        let s = segments(480, 24, Segmentation::Beats, &beats);
        assert_eq!(s[0].start, 0);
        for w in s.windows(2) {
            assert_eq!(w[0].start + w[0].len, w[1].start, "contiguous");
        }
        assert_eq!(s.last().map(|x| x.start + x.len), Some(480));
        // Every boundary after the first is a beat, two beats apart (≈ one fragment).
        for x in &s[1..] {
            assert!(beats.iter().any(|b| (*b as usize) == x.start), "{x:?}");
        }
        assert!(s.iter().all(|x| x.len >= 12 && x.len <= 48), "{s:?}");
        // Without beats it falls back to fixed clips.
        assert_eq!(segments(480, 24, Segmentation::Beats, &[]).len(), 20);
    }
}
