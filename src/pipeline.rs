//! The whole pipeline, song in, dance out: the choreography stage (retrieve, select, stitch) and
//! then the alignment stage (TSD, beats). It sits above every stage, so the stages themselves
//! depend one way. [`choreograph`] keeps the raw stitched dance beside the aligned one, so
//! `choreo tune` can re-run only the alignment.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::align::{self, AlignConfig, AlignReport};
use crate::eval::realism::RealReference;
use crate::eval::report::EvalTable;
use crate::eval::{self, Metrics};
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

/// The index, the encoders it was built with and the song: what a dance is made from.
pub struct Inputs {
    pub index: Index,
    pub enc: Encoders,
    pub card: ModelCard,
    pub song: Audio,
}

impl Inputs {
    pub fn load(index: &Path, model: &Path, song: &Path) -> crate::Result<Inputs> {
        let index = Index::open(index)?;
        let (enc, card) = crate::model::load(model, &candle_core::Device::Cpu)?;
        Ok(Inputs { index, enc, card, song: audio::decode(song)? })
    }

    /// [`choreograph`] on these inputs.
    pub fn choreograph(&self, cfg: &DanceConfig) -> crate::Result<Choreography> {
        choreograph(&self.index, &self.enc, &self.card, &self.song, cfg)
    }
}

impl Choreography {
    /// The dance's figures against its beats, with the jump threshold of `align` (the default
    /// one without alignment).
    pub fn metrics(&self, align: Option<&AlignConfig>) -> Metrics {
        let jump = align.map(|a| a.jump_for(&self.raw)).unwrap_or_else(|| align::default_jump_px(&self.raw));
        eval::evaluate(&self.dance, &self.beats, 0.0, jump)
    }
}

/// What `choreo dance` reports: the file written, the run's summary, the dance's figures and
/// the seconds it took (JSON: these four; text: a summary line, the alignment, the figures).
#[derive(Debug, Clone, Serialize)]
pub struct DanceReport {
    pub out: PathBuf,
    pub summary: Summary,
    pub metrics: Metrics,
    pub seconds: f64,
    #[serde(skip)]
    pub fps: f64,
}

impl fmt::Display for DanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        writeln!(
            f,
            "{}: {:.1} s, {} frames at {} fps, {:.0} BPM; {} clips, {} seams, {} distinct fragments ({} reused), mean audio–pose distance {:.3} ({:.2} s)",
            self.out.display(),
            s.song_secs,
            s.frames,
            self.fps,
            s.bpm,
            s.segments,
            s.seams,
            s.distinct_fragments,
            s.reused,
            s.mean_audio_distance,
            self.seconds
        )?;
        if let Some(r) = &s.align {
            writeln!(f, "{r}")?;
        }
        write!(f, "  {}", self.metrics)
    }
}

/// Writes a dance: a BVH of its 3-D track (`out` ending in `.bvh`), an mp4 (`.mp4`: the skeleton render with `song`, with
/// `progress(done, total)` per frame) or else a pose file.
pub fn write_dance(seq: &Sequence, out: &Path, song: &Path, progress: &dyn Fn(u64, u64)) -> crate::Result<()> {
    if is_video(out) {
        crate::render::video::render_video(seq, song, out, &crate::render::RenderConfig::default(), progress)?;
    } else if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("bvh")) {
        // The 3-D track as BVH; a dance from a 2-D-only index has none (one line naming the output).
        crate::pose::bvh::write_sequence(seq, out, out)?;
    } else {
        crate::pose::format::write(seq, out)?;
    }
    Ok(())
}

/// Whether [`write_dance`] writes a video to `out`.
pub fn is_video(out: &Path) -> bool {
    out.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("mp4"))
}

/// The beats of `song`: read from `file` (seconds, one per line, or `choreo beats --json`
/// output) when given, else found by the tracker.
pub fn song_beats(song: &Audio, file: Option<&Path>, cfg: &BeatConfig) -> crate::Result<audio::Beats> {
    Ok(match file {
        Some(p) => audio::Beats::given(audio::read_beats_file(p, song.duration_secs())?),
        None => audio::detect_beats(song, cfg)?,
    })
}

/// A stitched dance re-aligned to its song (`choreo align`): the dance (with its beats), the
/// report and the warnings of the beat tracker.
pub struct Realigned {
    pub dance: Sequence,
    pub report: RealignReport,
    pub warnings: Vec<String>,
}

/// JSON: `out`, `align`, `metrics`; text: the frames written, the alignment, the figures.
#[derive(Debug, Clone, Serialize)]
pub struct RealignReport {
    pub out: PathBuf,
    pub align: AlignReport,
    pub metrics: Metrics,
    #[serde(skip)]
    pub frames: usize,
}

impl fmt::Display for RealignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {} frames", self.out.display(), self.frames)?;
        writeln!(f, "{}", self.align)?;
        write!(f, "  {}", self.metrics)
    }
}

/// Aligns the stitched dance in `poses` to the beats of `song` (or those in `beats_file`); `out`
/// is only named in the report.
pub fn realign(poses: &Path, song_path: &Path, beats_file: Option<&Path>, cfg: &AlignConfig, out: &Path) -> crate::Result<Realigned> {
    let raw = crate::pose::format::read(poses)?;
    let song = audio::decode(song_path)?;
    let beats = song_beats(&song, beats_file, &BeatConfig::default())?;
    let mut warnings = beats.warnings.clone();
    if beats.beats.is_empty() {
        warnings.push(format!("{}: no beats found (silent or beatless): spatial alignment only", song_path.display()));
    }
    let (mut dance, align) = align::align(&raw, &beats.beats, cfg)?;
    rigid_3d(&mut dance)?;
    dance.beats = Some(beats.beats.clone());
    let metrics = eval::evaluate(&dance, &beats.beats, 0.0, align.jump_px);
    let report = RealignReport { out: out.into(), align, metrics, frames: dance.len() };
    Ok(Realigned { dance, report, warnings })
}

/// A `choreo eval` run: the table, its JSON and the warnings (skipped dances start `skipped: `).
pub struct Evaluation {
    pub table: EvalTable,
    pub json: serde_json::Value,
    pub warnings: Vec<String>,
}

/// The real reference of the corpus at `root` (its training dances; its test dances give the
/// floor), and the dances that failed to load.
pub fn real_reference(root: &Path) -> crate::Result<(RealReference, Vec<String>)> {
    let (c, failed) = crate::corpus::load(root, &crate::corpus::CorpusConfig::default())?;
    Ok((RealReference::of(&c)?, failed.iter().map(|e| format!("skipped: {e}")).collect()))
}

/// What `choreo eval` scores: pose files against their song, or every dance of a corpus against
/// its own song; with the `cli` feature, also its flags (the doc comments are their help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct EvalConfig {
    /// Pose files to score (several: their realism and diversity with --against).
    #[cfg_attr(feature = "cli", arg(long, num_args = 1.., conflicts_with = "corpus"))]
    pub poses: Vec<PathBuf>,
    /// The song the poses dance to (required with --poses).
    #[cfg_attr(feature = "cli", arg(long))]
    pub song: Option<PathBuf>,
    /// The song's beats from a file (one time in seconds per line, or `choreo beats --json`
    /// output) instead of the beat tracker: e.g. the true beats, to score against them.
    #[cfg_attr(feature = "cli", arg(long, conflicts_with = "corpus"))]
    pub beats: Option<PathBuf>,
    /// Song time (seconds) of pose frame 0.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.0))]
    pub offset: f64,
    /// Score every dance of a corpus against its own song instead.
    #[cfg_attr(feature = "cli", arg(long))]
    pub corpus: Option<PathBuf>,
    /// Real dances to measure realism against (FID_k, FID_g, Div_k, Div_g; the corpus's training
    /// dances are the reference, its test dances against them the floor).
    #[cfg_attr(feature = "cli", arg(long))]
    pub against: Option<PathBuf>,
    /// Discontinuity threshold, pixels (default: 10 % of each dance's nose-to-feet height, the
    /// 99th percentile of real single-joint moves per frame; DanceIt used 10 px).
    #[cfg_attr(feature = "cli", arg(long))]
    pub jump_px: Option<f32>,
}

impl EvalConfig {
    /// Checks every setting and that there is something to score; the error names the setting.
    pub fn validate(&self) -> Result<(), crate::units::SettingError> {
        use crate::units::SettingError;
        if let Some(j) = self.jump_px {
            if !(j.is_finite() && j > 0.0) {
                return Err(SettingError::new("jump_px", format!("must be positive, got {j}")));
            }
        }
        if self.corpus.is_none() && self.poses.is_empty() {
            return Err(SettingError::new("poses", "or corpus: give pose files and their song, or a corpus"));
        }
        if self.corpus.is_none() && self.song.is_none() {
            return Err(SettingError::new("song", "is needed with pose files"));
        }
        Ok(())
    }
}

/// Pose files scored against one song (its beats from `beats_file`, or tracked); `offset` is the
/// song time of pose frame 0; `jump_px` the discontinuity threshold (default: each dance's);
/// with `against` (a corpus), their realism beside the real floor.
pub fn evaluate_files(poses: &[PathBuf], song_path: &Path, beats_file: Option<&Path>, offset: f64, jump_px: Option<f32>, against: Option<&Path>) -> crate::Result<Evaluation> {
    let song = audio::decode(song_path)?;
    let b = song_beats(&song, beats_file, &BeatConfig::default())?;
    let mut warnings = b.warnings.clone();
    if b.beats.is_empty() {
        warnings.push(format!("{}: no beats found; beat figures are 0", song_path.display()));
    }
    let seqs = poses.iter().map(|p| crate::pose::format::read(p)).collect::<Result<Vec<_>, _>>()?;
    let ms: Vec<Metrics> = seqs.iter().map(|s| eval::evaluate(s, &b.beats, offset, jump_px.unwrap_or_else(|| align::default_jump_px(s)))).collect();
    let mut realism = Vec::new();
    if let Some(root) = against {
        let (r, skipped) = real_reference(root)?;
        warnings.extend(skipped);
        realism = vec![("these dances".to_string(), r.score(&seqs)), ("real test dances (the floor)".to_string(), r.floor())];
    }
    let rows: Vec<serde_json::Value> = poses.iter().zip(&ms).map(|(p, m)| json!({"poses": p, "metrics": m})).collect();
    let rj = realism.first().zip(realism.get(1)).map(|((_, d), (_, f))| json!({"dances": d, "floor": f}));
    let json = json!({"dances": rows, "realism": rj});
    let dances = poses.iter().map(|p| p.display().to_string()).zip(ms).collect::<Vec<_>>();
    Ok(Evaluation { table: EvalTable { totals: dances.len() > 1, dances, realism }, json, warnings })
}

/// Every dance of a corpus against its own song, and the realism floor: its test dances against
/// its training dances, or all of its dances against the corpus at `against`.
pub fn evaluate_corpus(c: &crate::corpus::Corpus, jump_px: Option<f32>, against: Option<&Path>) -> crate::Result<Evaluation> {
    let jump = |s: &Sequence| jump_px.unwrap_or_else(|| align::default_jump_px(s));
    let mut warnings = Vec::new();
    let mut dances = Vec::new();
    for (n, r) in eval::corpus::score_corpus(c, &BeatConfig::default(), &jump) {
        match r {
            Ok(m) => dances.push((n, m)),
            Err(e) => warnings.push(format!("skipped: {e}")),
        }
    }
    let floor = match against {
        Some(root) => {
            let (r, skipped) = real_reference(root)?;
            warnings.extend(skipped);
            Some(("these dances", r.score(&c.dances.iter().map(|d| d.poses.clone()).collect::<Vec<_>>())))
        }
        None => RealReference::of(c).ok().map(|r| ("real test dances (the floor)", r.floor())),
    };
    let rows: Vec<serde_json::Value> = dances.iter().map(|(n, m)| json!({"dance": n, "metrics": m})).collect();
    let json = json!({"dances": rows, "realism": floor.as_ref().map(|(_, f)| f)});
    let realism = floor.into_iter().map(|(n, f)| (n.to_string(), f)).collect();
    Ok(Evaluation { table: EvalTable { dances, totals: true, realism }, json, warnings })
}

/// The nearest fragments of each clip of a song (`choreo index search`).
#[derive(Debug, Clone, Serialize)]
pub struct ClipHits {
    pub clip: usize,
    pub time: f64,
    pub hits: Vec<HitRow>,
}

/// One hit: the fragment, its dance and genre, its first frame there, the distance.
#[derive(Debug, Clone, Serialize)]
pub struct HitRow {
    pub fragment: u32,
    pub dance: String,
    pub genre: String,
    pub start: u32,
    pub distance: f32,
}

impl fmt::Display for ClipHits {
    /// One line: the clip's time, then `dance@start (distance)` per hit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hits: Vec<String> = self.hits.iter().map(|h| format!("{}@{} ({:.3})", h.dance, h.start, h.distance as f64)).collect();
        write!(f, "{:>6.1}s  {}", self.time, hits.join("  "))
    }
}

/// The `k` nearest fragments of each 1-fragment clip of the song (search width `ef`, default the
/// index's; `exact`: brute force).
pub fn search_song(inputs: &Inputs, k: usize, ef: Option<usize>, exact: bool) -> crate::Result<Vec<ClipHits>> {
    let ix = &inputs.index;
    let ef = ef.unwrap_or(ix.manifest.hnsw.ef_search);
    let r = retrieve(ix, &inputs.enc, &inputs.card, &inputs.song, k, ef, exact)?;
    let clip = |(i, hits): (usize, &Vec<crate::index::Hit>)| {
        let hits = hits
            .iter()
            .map(|h| {
                let f = &ix.fragments[h.fragment.0 as usize];
                let s = &ix.manifest.sources[f.source as usize];
                HitRow { fragment: h.fragment.0, dance: s.name.clone(), genre: crate::corpus::Genre::label(s.genre.as_ref()).into(), start: f.start, distance: h.distance }
            })
            .collect();
        ClipHits { clip: i, time: i as f64 * r.clip_secs, hits }
    };
    Ok(r.hits.iter().enumerate().map(clip).collect())
}

/// Makes a dance's 3-D track rigid ([`crate::pose::bvh::rigid`]: each bone at the dance's median
/// length, joints where the BVH's forward kinematics puts them), so that the pose file's
/// `joints3d` and the BVH of the same dance carry the same joints. The mocap's bones stretch and
/// the seams' blending (TSD windows, the time map) shortens them; a BVH's bones cannot. Every
/// dance choreo writes (`dance`, `align`, `tune`) goes through it; `poses --out x.bvh` writes the
/// user's joints as they are. The 2-D frames are untouched. Each rigid frame is then lifted or
/// lowered so that its lowest foot is as high as in the track it replaces (a translation keeps the
/// bones' lengths; the BVH's root carries it): bones at their median length would otherwise put
/// the feet through the floor or above it wherever the legs were shorter or longer, and move the
/// floor contact at seams.
pub fn rigid_3d(seq: &mut Sequence) -> crate::Result<()> {
    use crate::choreograph::stitch::lowest_foot;
    if let Some(j) = seq.joints3d.as_mut().filter(|j| !j.is_empty()) {
        let mut r = crate::pose::bvh::rigid(j)?;
        for (f, before) in r.iter_mut().zip(j.iter()) {
            let dy = lowest_foot(before) - lowest_foot(f);
            f.iter_mut().for_each(|p| p[1] += dy);
        }
        *j = r;
    }
    Ok(())
}

/// Stitch and align chosen fragments; the 3-D track, if any, is made rigid ([`rigid_3d`]) after
/// stitching and again after alignment.
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
    rigid_3d(&mut raw)?;
    // Align what `--no-align` would write, so `choreo align` on that file gives the same dance
    // (the anchoring is a global choice: a 0.001-px difference can move every anchor).
    crate::pose::format::quantize(&mut raw);
    raw.beats = Some(beats.to_vec());
    match align_cfg {
        Some(a) => {
            let (mut dance, rep) = align::align(&raw, beats, a)?;
            rigid_3d(&mut dance)?;
            Ok((raw, dance, Some(rep)))
        }
        None => Ok((raw.clone(), raw, None)),
    }
}

/// What `choreo doctor` prints, and whether everything was found: ffmpeg and ONNX Runtime
/// ([`crate::runtime::doctor`]) and the beat model.
pub fn doctor() -> (String, bool) {
    let (mut text, ok) = crate::runtime::doctor();
    let beat = audio::beatnet::BeatNet::check(&audio::beatnet::default_model());
    text.push_str(&format!("\nbeat model: {}", beat.as_ref().unwrap_or_else(|e| e)));
    (text, ok && beat.is_ok())
}
