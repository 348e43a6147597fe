//! `dance`, `align` and `tune`: the product's main job and its knobs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use clap::{Args, ValueEnum};

use choreo::align::{self, AlignConfig, AlignError, AlignReport, BeatEvent, BeatWindow, OffBeat, Smoothing, SpatialSettings, TemporalConfig};
use choreo::audio::{self, BeatConfig};
use choreo::choreograph::{SearchConfig, SelectConfig, Segmentation, Selection};
use choreo::pipeline::{self, DanceConfig};
use choreo::eval::{self, Metrics};
use choreo::tune;
use choreo::index::Index;
use choreo::model;
use choreo::pose::{format, Sequence};
use choreo::render::video::{render_video, RenderConfig};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum OffBeatArg {
    /// Re-time through the fragments' stops that fall between beats (within --max-stretch).
    Smooth,
    /// Leave them as the fragments have them.
    Keep,
}

/// The alignment flags shared by `dance` and `align`.
#[derive(Args, Clone, Debug)]
pub struct AlignFlags {
    /// Spatial smoothing of discontinuous frames.
    #[arg(long, value_enum, default_value = "tsd")]
    pub spatial: Smoothing,
    /// ωa: abnormal window and reference step, frames.
    #[arg(long, default_value_t = 8)]
    pub wa: usize,
    /// ωb: reference frames before the window (≥ ωa).
    #[arg(long, default_value_t = 24)]
    pub wb: usize,
    /// ωc: search window around each beat, frames, or 'beat' for the song's beat interval.
    #[arg(long, default_value = "beat")]
    pub wc: BeatWindow,
    /// Discontinuity threshold in pixels [default: 10 % of the dance's nose-to-feet height, the 99th
    /// percentile of real single-joint moves per frame; DanceIt's 10 px flags 20 % of real frames].
    #[arg(long)]
    pub jump_px: Option<f32>,
    /// Volatility threshold of the periodic term, pixels.
    #[arg(long, default_value_t = 5.0)]
    pub period_th: f32,
    /// Which motion event goes onto each beat.
    #[arg(long, value_enum, default_value = "stop")]
    pub beat_event: BeatEvent,
    /// Spatial smoothing only: no re-timing onto the beats.
    #[arg(long)]
    pub no_temporal: bool,
    /// Largest speed-up or slow-down of the re-timing (1.5 measured best of 1.25–3, tools/bench/dance.sh).
    #[arg(long, default_value_t = TemporalConfig::default().max_stretch)]
    pub max_stretch: f64,
    /// What happens to the fragments' stops that fall between beats (smooth: measured in
    /// tools/bench/dance.sh).
    #[arg(long, value_enum, default_value = "smooth")]
    pub off_beat_stops: OffBeatArg,
    /// With smoothed off-beat stops: how much the motion swells between two stops (0 = even
    /// speed; 0.3 measured in tools/bench/dance.sh).
    #[arg(long, default_value_t = DEFAULT_PULSE)]
    pub pulse: f64,
}

/// The default pulse, read off the library's default setting.
const DEFAULT_PULSE: f64 = match TemporalConfig::DEFAULT_OFF_BEAT {
    OffBeat::Smooth { pulse } => pulse,
    OffBeat::Keep => 0.0,
};

/// A library setting error in the CLI's words: the setting's flag first.
pub fn flag_error(e: AlignError) -> anyhow::Error {
    anyhow::anyhow!("--{} {}", e.name.replace('_', "-"), e.reason)
}

impl AlignFlags {
    pub fn config(&self) -> anyhow::Result<AlignConfig> {
        let c = AlignConfig {
            spatial: SpatialSettings { smoothing: self.spatial, wa: self.wa, wb: self.wb, jump_px: self.jump_px, period_th: self.period_th },
            temporal: (!self.no_temporal).then_some(TemporalConfig {
                wc: self.wc,
                event: self.beat_event,
                max_stretch: self.max_stretch,
                off_beat: match self.off_beat_stops {
                    OffBeatArg::Smooth => OffBeat::Smooth { pulse: self.pulse },
                    OffBeatArg::Keep => OffBeat::Keep,
                },
                ..TemporalConfig::default()
            }),
        };
        c.validate().map_err(flag_error)?;
        Ok(c)
    }
}

/// Where the dance comes from: index, model and the choice of fragments.
#[derive(Args, Clone, Debug)]
pub struct SourceFlags {
    /// The song (wav, mp3, ogg, flac; others through ffmpeg).
    #[arg(long)]
    pub song: PathBuf,
    /// The song's beats from a file (one time in seconds per line, or `choreo beats --json`
    /// output) instead of the beat tracker.
    #[arg(long)]
    pub beats: Option<PathBuf>,
    /// Index folder built by `choreo index build`.
    #[arg(long, default_value = "index/default")]
    pub index: PathBuf,
    /// The encoders the index was built with.
    #[arg(long, default_value = "models/encoders.safetensors")]
    pub model: PathBuf,
    /// Candidates per clip.
    #[arg(long, default_value_t = 16)]
    pub topk: usize,
    /// HNSW search width (default: the index's).
    #[arg(long)]
    pub ef: Option<usize>,
    /// Exact (brute-force) search instead of HNSW.
    #[arg(long)]
    pub exact: bool,
    /// How one fragment per clip is chosen.
    #[arg(long, value_enum, default_value = "viterbi")]
    pub select: Selection,
    /// How the song is cut into clips.
    #[arg(long, value_enum, default_value = "fixed")]
    pub segment: Segmentation,
    /// λ: weight of the transition cost (pose distance at the seam, body heights).
    #[arg(long, default_value_t = SelectConfig::default().transition_weight)]
    pub transition_weight: f32,
    /// ρ: cost of reusing a fragment, per earlier use.
    #[arg(long, default_value_t = SelectConfig::default().reuse_penalty)]
    pub reuse_penalty: f32,
    /// β: weight of the rhythm mismatch (fragment's stops against the clip's beats).
    #[arg(long, default_value_t = SelectConfig::default().rhythm_weight)]
    pub rhythm_weight: f32,
    /// Noise on the audio distances: each --seed gives another near-best dance (0: the single
    /// best dance, the same for every seed; the default was measured by tools/bench/temperature.py).
    #[arg(long, default_value_t = SelectConfig::default().temperature)]
    pub temperature: f32,
    /// Seed of --temperature and of --select random [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
}

impl SourceFlags {
    fn config(&self, index: &Index, song: &audio::Audio, align: Option<AlignConfig>) -> anyhow::Result<DanceConfig> {
        if self.topk == 0 {
            bail!("--topk must be at least 1");
        }
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            bail!("--temperature must be ≥ 0, got {}", self.temperature);
        }
        if self.temperature == 0.0 && self.seed.is_some() && self.select != Selection::Random {
            bail!("--seed has no effect with --temperature 0 (the single best dance, the same for every seed): drop one of them");
        }
        if [self.transition_weight, self.reuse_penalty, self.rhythm_weight].iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            bail!("--transition-weight, --reuse-penalty and --rhythm-weight must be ≥ 0");
        }
        Ok(DanceConfig {
            search: SearchConfig { k: self.topk, ef: self.ef.unwrap_or(index.manifest.hnsw.ef_search).max(self.topk), exact: self.exact },
            segmentation: self.segment,
            select: SelectConfig {
                selection: self.select,
                transition_weight: self.transition_weight,
                reuse_penalty: self.reuse_penalty,
                temperature: self.temperature,
                seed: self.seed.unwrap_or(0),
                rhythm_weight: self.rhythm_weight,
            },
            align,
            beats: BeatConfig::default(),
            given_beats: self.beats.as_deref().map(|p| audio::read_beats_file(p, song.duration_secs())).transpose()?,
        })
    }
}

#[derive(Args)]
pub struct DanceArgs {
    #[command(flatten)]
    pub src: SourceFlags,
    /// Output: a pose file (.json), or a video (.mp4, skeleton render with the song).
    #[arg(long)]
    pub out: PathBuf,
    /// Write the stitched dance without alignment (the input of `choreo align`).
    #[arg(long)]
    pub no_align: bool,
    #[command(flatten)]
    pub align: AlignFlags,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct AlignArgs {
    /// A stitched dance (`choreo dance --no-align --out raw.json`).
    #[arg(long)]
    pub poses: PathBuf,
    /// Its song (for the beats).
    #[arg(long)]
    pub song: PathBuf,
    /// The song's beats from a file (one time in seconds per line, or `choreo beats --json`
    /// output) instead of the beat tracker.
    #[arg(long)]
    pub beats: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub align: AlignFlags,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub src: SourceFlags,
    /// ωa values to try.
    #[arg(long, value_delimiter = ',', default_value = "4,8,16")]
    pub wa: Vec<usize>,
    /// ωb values to try.
    #[arg(long, value_delimiter = ',', default_value = "16,24,48")]
    pub wb: Vec<usize>,
    /// ωc values to try ('beat' or frames).
    #[arg(long, value_delimiter = ',', default_value = "beat")]
    pub wc: Vec<BeatWindow>,
    /// Jump thresholds to try, pixels (default: the automatic one).
    #[arg(long, value_delimiter = ',')]
    pub jump_px: Vec<f32>,
    /// Period thresholds to try, pixels.
    #[arg(long, value_delimiter = ',', default_value = "5")]
    pub period_th: Vec<f32>,
    /// Beat events to try.
    #[arg(long, value_delimiter = ',', value_enum, default_value = "stop")]
    pub beat_event: Vec<BeatEvent>,
    /// Spatial smoothings to try.
    #[arg(long, value_delimiter = ',', value_enum, default_value = "tsd")]
    pub spatial: Vec<Smoothing>,
    /// Largest re-timing stretch.
    #[arg(long, default_value_t = TemporalConfig::default().max_stretch)]
    pub max_stretch: f64,
    /// Off-beat stop handlings to try (smooth, keep).
    #[arg(long, value_delimiter = ',', value_enum, default_value = "smooth")]
    pub off_beat_stops: Vec<OffBeatArg>,
    /// Pulses to try (swell between stops when smoothing them).
    #[arg(long, value_delimiter = ',', default_value = "0.3")]
    pub pulse: Vec<f64>,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
    /// Draw the onset envelope and beats over the dance's speed and kinematic beats, before and
    /// after alignment with the best setting (SVG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write the best setting's dance here (pose file).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn load(src: &SourceFlags) -> anyhow::Result<(Index, model::Encoders, model::ModelCard, audio::Audio)> {
    let index = Index::open(&src.index)?;
    let (enc, card) = model::load(&src.model, &candle_core::Device::Cpu)?;
    let song = audio::decode(&src.song)?;
    Ok((index, enc, card, song))
}

fn metrics(seq: &Sequence, beats: &[f64], jump: f32) -> Metrics {
    eval::evaluate(seq, beats, 0.0, jump)
}

fn print_align(r: &AlignReport) {
    eprintln!(
        "  spatial: jump {:.1} px, discontinuous frames {} → {} ({} windows rebuilt)",
        r.jump_px, r.spatial.discontinuous_before, r.spatial.discontinuous_after, r.spatial.windows
    );
    match &r.temporal {
        Some(t) => eprintln!(
            "  temporal: ωc {} frames, {} of {} beats anchored, mean shift {:.1} frames, {} off-beat stops carried through, speed changed {:.0} % on average",
            t.wc,
            t.anchored,
            t.beats,
            t.mean_shift_frames,
            t.off_beat_stops_smoothed,
            100.0 * t.mean_rate_change
        ),
        None => eprintln!("  temporal: off"),
    }
}

fn print_metrics(m: &Metrics) {
    eprintln!(
        "  metrics: visible seams {}/{}, discontinuous frames {}, kinematic beats {} for {} music beats (coverage {:.3}), hit rate {:.3}, Beat Align Score {:.3}",
        m.visible_seams, m.seams, m.discontinuous_frames, m.kinematic_beats, m.music_beats, m.beat_coverage, m.hit_rate, m.beat_align_score
    );
}

fn write_output(seq: &Sequence, out: &Path, song: &Path) -> anyhow::Result<()> {
    let is_video = out.extension().and_then(|e| e.to_str()).map(|e| e.eq_ignore_ascii_case("mp4")).unwrap_or(false);
    if is_video {
        let pb = super::corpus::bar(seq.len() as u64, "rendering");
        let res = render_video(seq, song, out, &RenderConfig::default(), &|done, total| {
            pb.set_length(total);
            pb.set_position(done);
        });
        // Cleared on failure too: the error is then the only line left.
        pb.finish_and_clear();
        res?;
    } else {
        format::write(seq, out)?;
    }
    Ok(())
}

pub fn dance(a: DanceArgs) -> anyhow::Result<ExitCode> {
    let align_cfg = if a.no_align { None } else { Some(a.align.config()?) };
    let t0 = Instant::now();
    let (index, enc, card, song) = load(&a.src)?;
    let cfg = a.src.config(&index, &song, align_cfg)?;
    let c = pipeline::choreograph(&index, &enc, &card, &song, &cfg)?;
    let secs = t0.elapsed().as_secs_f64();
    for w in &c.summary.warnings {
        eprintln!("choreo: warning: {w}");
    }
    // Everything that can fail runs before the output is written.
    let jump = align_cfg.map(|x| x.jump_for(&c.raw)).unwrap_or_else(|| align::default_jump_px(&c.raw));
    let m = metrics(&c.dance, &c.beats, jump);
    write_output(&c.dance, &a.out, &a.src.song)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"out": a.out, "summary": c.summary, "metrics": m, "seconds": secs}))?);
    } else {
        let s = &c.summary;
        eprintln!(
            "{}: {:.1} s, {} frames at {} fps, {:.0} BPM; {} clips, {} seams, {} distinct fragments ({} reused), mean audio–pose distance {:.3} ({:.2} s)",
            a.out.display(),
            s.song_secs,
            s.frames,
            c.dance.fps,
            s.bpm,
            s.segments,
            s.seams,
            s.distinct_fragments,
            s.reused,
            s.mean_audio_distance,
            secs
        );
        if let Some(r) = &s.align {
            print_align(r);
        }
        print_metrics(&m);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn align_cmd(a: AlignArgs) -> anyhow::Result<ExitCode> {
    let cfg = a.align.config()?;
    let raw = format::read(&a.poses)?;
    let song = audio::decode(&a.song)?;
    let beats = match &a.beats {
        Some(p) => audio::Beats::given(audio::read_beats_file(p, song.duration_secs())?),
        None => audio::detect_beats(&song, &BeatConfig::default())?,
    };
    for w in &beats.warnings {
        eprintln!("choreo: warning: {w}");
    }
    if beats.beats.is_empty() {
        eprintln!("choreo: warning: {}: no beats found (silent or beatless): spatial alignment only", a.song.display());
    }
    let (out, rep) = align::align(&raw, &beats.beats, &cfg).map_err(flag_error)?;
    let mut out = out;
    out.beats = Some(beats.beats.clone());
    // Everything that can fail runs before the output is written.
    let m = metrics(&out, &beats.beats, rep.jump_px);
    write_output(&out, &a.out, &a.song)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"out": a.out, "align": rep, "metrics": m}))?);
    } else {
        eprintln!("{}: {} frames", a.out.display(), out.len());
        print_align(&rep);
        print_metrics(&m);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn tune(a: TuneArgs) -> anyhow::Result<ExitCode> {
    let grid = tune::Grid {
        smoothing: a.spatial.clone(),
        wa: a.wa.clone(),
        wb: a.wb.clone(),
        wc: a.wc.clone(),
        jump_px: a.jump_px.clone(),
        period_th: a.period_th.clone(),
        event: a.beat_event.clone(),
        keep_off_beat: a.off_beat_stops.iter().map(|&x| x == OffBeatArg::Keep).collect(),
        pulse: a.pulse.clone(),
        max_stretch: a.max_stretch,
    };
    let settings = grid.settings().map_err(|e| anyhow::anyhow!("grid setting --wa {} --wb {} --wc {}: {}", e.wa, e.wb, e.wc, flag_error(e.source)))?;
    if settings.is_empty() {
        bail!("the grid is empty: give at least one value for each of --wa, --wb, --wc, --pulse");
    }
    let (index, enc, card, song) = load(&a.src)?;
    let cfg = a.src.config(&index, &song, None)?;
    // Retrieval and selection once; alignment per setting.
    let c = pipeline::choreograph(&index, &enc, &card, &song, &cfg)?;
    for w in &c.summary.warnings {
        eprintln!("choreo: warning: {w}");
    }
    let pb = super::corpus::bar(settings.len() as u64, "tuning");
    let sweep = tune::sweep(&c.raw, &c.beats, &settings, &|| pb.inc(1)).map_err(flag_error)?;
    pb.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"criterion": tune::CRITERION, "unaligned": sweep.unaligned, "settings": sweep.rows}))?);
    } else {
        print_tune_table(&sweep);
    }
    if let Some(p) = &a.plot {
        let (env, rate) = audio::beats::onset_strength(&song);
        let name = a.src.song.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
        choreo::io::write_atomic(p, tune::plot_svg(&name, &env, rate, &c.raw, &c.beats, &sweep).as_bytes())?;
        eprintln!("{}: plot written", p.display());
    }
    if let Some(o) = &a.out {
        write_output(&sweep.best, o, &a.src.song)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_tune_table(sweep: &tune::Sweep) {
    println!("best first: {}", tune::CRITERION);
    println!("{:<7} {:>3} {:>3} {:>5} {:>6} {:>6} {:>5} {:>6} {:>5} | {:>7} {:>7} {:>6} {:>6} {:>6} {:>7}", "spatial", "ωa", "ωb", "ωc", "jump", "per.th", "event", "offbt", "pulse", "seams", "discont", "cover", "hit", "BAS", "time");
    let line = |cells: [String; 10], m: &Metrics| {
        let [sp, wa, wb, wc, j, pt, ev, ob, pu, t] = cells;
        println!(
            "{:<7} {:>3} {:>3} {:>5} {:>6} {:>6} {:>5} {:>6} {:>5} | {:>3}/{:<3} {:>7} {:>6.3} {:>6.3} {:>6.3} {:>7}",
            sp, wa, wb, wc, j, pt, ev, ob, pu, m.visible_seams, m.seams, m.discontinuous_frames, m.beat_coverage, m.hit_rate, m.beat_align_score, t
        );
    };
    for r in &sweep.rows {
        let cells = [
            format!("{:?}", r.spatial).to_lowercase(),
            r.wa.to_string(),
            r.wb.to_string(),
            r.wc.clone(),
            format!("{:.1}", r.jump_px),
            format!("{:.1}", r.period_th),
            format!("{:?}", r.beat_event).to_lowercase(),
            r.off_beat_stops.to_string(),
            r.pulse.map(|p| format!("{p:.2}")).unwrap_or_else(|| "-".into()),
            format!("{:.3}s", r.seconds),
        ];
        line(cells, &r.metrics);
    }
    line(std::array::from_fn(|k| if k == 0 { "none".into() } else { "-".into() }), &sweep.unaligned);
}
