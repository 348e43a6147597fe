//! The whole pipeline, song in, dance out: the choreography stage (retrieve, select, stitch) and
//! then the alignment stage (TSD, beats). It sits above every stage, so the stages themselves
//! depend one way. [`choreograph`] keeps the raw stitched dance beside the aligned one, so
//! `choreo tune` can re-run only the alignment.

use serde::Serialize;

use crate::align::{self, AlignConfig, AlignReport};
use crate::audio::{self, Audio, BeatConfig};
use crate::choreograph::{retrieve, retrieve_segments, select, stitch, Choice, Prepared, Retrieval, SearchConfig, Segment, Segmentation, SelectConfig, Selection};
use crate::index::Index;
use crate::model::{Encoders, ModelCard};
use crate::pose::Sequence;

#[derive(Debug, Clone, PartialEq)]
pub struct DanceConfig {
    pub search: SearchConfig,
    pub segmentation: Segmentation,
    pub select: SelectConfig,
    /// None: no alignment (`--no-align`).
    pub align: Option<AlignConfig>,
    pub beats: BeatConfig,
    /// The user's own beat times (seconds from the song's start): they replace the tracker.
    pub given_beats: Option<Vec<f64>>,
}

impl Default for DanceConfig {
    fn default() -> Self {
        DanceConfig {
            search: SearchConfig { k: 16, ef: 64, exact: false },
            segmentation: Segmentation::Fixed,
            select: SelectConfig::default(),
            align: Some(AlignConfig::default()),
            beats: BeatConfig::default(),
            given_beats: None,
        }
    }
}

/// What a run chose and did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub song_secs: f64,
    pub frames: usize,
    pub bpm: f64,
    pub segments: usize,
    /// Segments whose fragment does not continue the previous one in its source.
    pub seams: usize,
    /// Distinct fragments used, and how many segments reuse an earlier one.
    pub distinct_fragments: usize,
    pub reused: usize,
    pub mean_audio_distance: f64,
    pub align: Option<AlignReport>,
    pub warnings: Vec<String>,
}

pub struct Choreography {
    /// Stitched, before alignment.
    pub raw: Sequence,
    /// After alignment (same as `raw` when alignment is off).
    pub dance: Sequence,
    pub beats: Vec<f64>,
    pub retrieval: Retrieval,
    pub choices: Vec<Choice>,
    pub summary: Summary,
}

/// Song → dance. Fails on a song shorter than one fragment; a song without beats (silence) gives a
/// dance without temporal alignment and a warning in the summary.
pub fn choreograph(index: &Index, enc: &Encoders, card: &ModelCard, song: &Audio, cfg: &DanceConfig) -> crate::Result<Choreography> {
    if let Some(a) = &cfg.align {
        a.validate()?;
    }
    let mut warnings = Vec::new();
    let fps = index.manifest.fps;
    let frag = index.manifest.fragment_frames;
    let beats = match &cfg.given_beats {
        Some(b) => audio::Beats::given(b.clone()),
        None => audio::detect_beats(song, &cfg.beats)?,
    };
    warnings.extend(beats.warnings.iter().cloned());
    if beats.beats.is_empty() {
        warnings.push(format!("{}: no beats found (silent or beatless): the dance is not aligned to the music in time", song.path.display()));
    }
    let total = (song.duration_secs() * fps).floor() as usize;
    let beat_frames: Vec<f64> = beats.beats.iter().map(|b| b * fps).collect();
    let segs = retrieve::segments(total, frag, cfg.segmentation, &beat_frames);
    let retrieval = retrieve_segments(index, enc, card, song, &segs, &cfg.search)?;
    let prep = Prepared::new(index);
    let candidates = match cfg.select.selection {
        Selection::Viterbi => select::with_continuations(&retrieval.hits, &retrieval.embeddings, &index.fragments),
        _ => retrieval.hits.clone(),
    };
    let seg_beats: Vec<usize> = retrieval.segments.iter().map(|s| beat_frames.iter().filter(|&&b| b >= s.start as f64 && b < (s.start + s.len) as f64).count()).collect();
    let rhythm = select::rhythm_costs(&candidates, &prep.stops, &seg_beats);
    let choices = select::select(&candidates, &rhythm, &index.fragments, &prep.ends, &cfg.select);
    let (raw, dance, align_report) = finish(index, &prep, &retrieval.segments, &choices, total, &beats.beats, cfg.align.as_ref())?;
    let ids: Vec<u32> = choices.iter().map(|c| c.fragment.0).collect();
    let distinct = {
        let mut v = ids.clone();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let seams = choices.windows(2).filter(|w| index.fragments[w[0].fragment.0 as usize].next != Some(w[1].fragment)).count();
    let dists: Vec<f64> = choices.iter().filter(|c| c.distance.is_finite()).map(|c| c.distance as f64).collect();
    let summary = Summary {
        song_secs: song.duration_secs(),
        frames: dance.len(),
        bpm: beats.bpm,
        segments: choices.len(),
        seams,
        distinct_fragments: distinct,
        reused: ids.len() - distinct,
        mean_audio_distance: if dists.is_empty() { f64::NAN } else { dists.iter().sum::<f64>() / dists.len() as f64 },
        align: align_report,
        warnings,
    };
    Ok(Choreography { raw, dance, beats: beats.beats, retrieval, choices, summary })
}

/// Stitch and align chosen fragments.
pub fn finish(
    index: &Index,
    prep: &Prepared,
    segs: &[Segment],
    choices: &[Choice],
    total: usize,
    beats: &[f64],
    align_cfg: Option<&AlignConfig>,
) -> crate::Result<(Sequence, Sequence, Option<AlignReport>)> {
    let inp = stitch::StitchInput {
        records: &index.fragments,
        source_names: &prep.names,
        source_heights: &prep.heights,
        fps: index.manifest.fps,
        canvas: crate::corpus::CANVAS,
    };
    let ids: Vec<_> = choices.iter().map(|c| c.fragment).collect();
    let mut raw = stitch::stitch(segs, &ids, total, &inp);
    // Align what `--no-align` would write, so `choreo align` on that file gives the same dance
    // (the anchoring is a global choice: a 0.001-px difference can move every anchor).
    crate::pose::format::quantize(&mut raw);
    raw.beats = Some(beats.to_vec());
    match align_cfg {
        Some(a) => {
            let (dance, rep) = align::align(&raw, beats, a)?;
            Ok((raw, dance, Some(rep)))
        }
        None => Ok((raw.clone(), raw, None)),
    }
}
