//! `dance`, `align` and `tune`: the product's main job and its knobs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use clap::Args;

use choreo::align::{AlignConfig, OffBeat, OffBeatStops, SpatialSettings, TemporalConfig};
use choreo::audio::{self, BeatConfig};
use choreo::choreograph::{SearchConfig, SelectConfig, Segmentation, Selection};
use choreo::pipeline::{self, DanceConfig, DanceReport, Inputs};
use choreo::pose::Sequence;
use choreo::tune;

use super::flag_error;

/// The alignment flags shared by `dance` and `align`: the spatial settings, and the temporal
/// ones flat (`--no-temporal` is `AlignConfig::temporal: None`, `--off-beat-stops` and `--pulse`
/// make one `OffBeat`).
#[derive(Args, Clone, Debug)]
pub struct AlignFlags {
    #[command(flatten)]
    pub spatial: SpatialSettings,
    #[command(flatten)]
    pub temporal: TemporalConfig,
    /// Spatial smoothing only: no re-timing onto the beats.
    #[arg(long)]
    pub no_temporal: bool,
    /// What happens to the fragments' stops that fall between beats (smooth: measured in
    /// tools/bench/dance.sh).
    #[arg(long, value_enum, default_value = "smooth")]
    pub off_beat_stops: OffBeatStops,
    /// With smoothed off-beat stops: how much the motion swells between two stops (0 = even
    /// speed; 0.3 measured in tools/bench/dance.sh).
    #[arg(long, default_value_t = TemporalConfig::DEFAULT_OFF_BEAT.pulse().unwrap_or(0.0))]
    pub pulse: f64,
}

impl AlignFlags {
    pub fn config(&self) -> anyhow::Result<AlignConfig> {
        let c = AlignConfig {
            spatial: self.spatial,
            temporal: (!self.no_temporal).then_some(TemporalConfig { off_beat: OffBeat::new(self.off_beat_stops, self.pulse), ..self.temporal }),
        };
        c.validate().map_err(flag_error)?;
        Ok(c)
    }
}

/// The song and its beats (shared by `dance`, `align` and `tune`).
#[derive(Args, Clone, Debug)]
pub struct SongFlags {
    /// The song (wav, mp3, ogg, flac; others through ffmpeg).
    #[arg(long)]
    pub song: PathBuf,
    /// The song's beats from a file (one time in seconds per line, or `choreo beats --json`
    /// output) instead of the beat tracker.
    #[arg(long)]
    pub beats: Option<PathBuf>,
}

/// Where the dance comes from: index, model and the choice of fragments.
#[derive(Args, Clone, Debug)]
pub struct SourceFlags {
    #[command(flatten)]
    pub song: SongFlags,
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
    /// How the song is cut into clips.
    #[arg(long, value_enum, default_value = "fixed")]
    pub segment: Segmentation,
    #[command(flatten)]
    pub select: SelectConfig,
    /// Seed of --temperature and of --select random [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
}

impl SourceFlags {
    fn config(&self, inputs: &Inputs, align: Option<AlignConfig>) -> anyhow::Result<DanceConfig> {
        if self.topk == 0 {
            bail!("--topk must be at least 1");
        }
        self.select.validate().map_err(flag_error)?;
        if self.select.temperature == 0.0 && self.seed.is_some() && self.select.selection != Selection::Random {
            bail!("--seed has no effect with --temperature 0 (the single best dance, the same for every seed): drop one of them");
        }
        Ok(DanceConfig {
            search: SearchConfig { k: self.topk, ef: self.ef.unwrap_or(inputs.index.manifest.hnsw.ef_search).max(self.topk), exact: self.exact },
            segmentation: self.segment,
            select: SelectConfig { seed: self.seed.unwrap_or(0), ..self.select },
            align,
            beats: BeatConfig::default(),
            given_beats: self.song.beats.as_deref().map(|p| audio::read_beats_file(p, inputs.song.duration_secs())).transpose()?,
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
    #[command(flatten)]
    pub song: SongFlags,
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
    #[command(flatten)]
    pub grid: tune::Grid,
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

fn load(src: &SourceFlags) -> anyhow::Result<Inputs> {
    Ok(Inputs::load(&src.index, &src.model, &src.song.song)?)
}

/// A library error, with a setting error in the CLI's words.
fn lib_error(e: choreo::Error) -> anyhow::Error {
    match e {
        choreo::Error::Align(e) => flag_error(e),
        e => e.into(),
    }
}

fn write_output(seq: &Sequence, out: &Path, song: &Path) -> anyhow::Result<()> {
    if !pipeline::is_video(out) {
        return Ok(pipeline::write_dance(seq, out, song, &|_, _| {})?);
    }
    let pb = super::bar(seq.len() as u64, "rendering");
    let res = pipeline::write_dance(seq, out, song, &|done, total| {
        pb.set_length(total);
        pb.set_position(done);
    });
    // Cleared on failure too: the error is then the only line left.
    pb.finish_and_clear();
    Ok(res?)
}

pub fn dance(a: DanceArgs) -> anyhow::Result<ExitCode> {
    let align_cfg = if a.no_align { None } else { Some(a.align.config()?) };
    let t0 = Instant::now();
    let inputs = load(&a.src)?;
    let c = inputs.choreograph(&a.src.config(&inputs, align_cfg)?)?;
    let seconds = t0.elapsed().as_secs_f64();
    super::warn(&c.summary.warnings);
    // Everything that can fail runs before the output is written.
    let r = DanceReport { out: a.out.clone(), metrics: c.metrics(align_cfg.as_ref()), summary: c.summary.clone(), seconds, fps: c.dance.fps };
    write_output(&c.dance, &a.out, &a.src.song.song)?;
    if a.json {
        println!("{}", super::json(&r, true)?);
    } else {
        eprintln!("{r}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn align_cmd(a: AlignArgs) -> anyhow::Result<ExitCode> {
    let cfg = a.align.config()?;
    let r = pipeline::realign(&a.poses, &a.song.song, a.song.beats.as_deref(), &cfg, &a.out).map_err(lib_error)?;
    super::warn(&r.warnings);
    // Everything that can fail runs before the output is written.
    write_output(&r.dance, &a.out, &a.song.song)?;
    if a.json {
        println!("{}", super::json(&r.report, true)?);
    } else {
        eprintln!("{}", r.report);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn tune(a: TuneArgs) -> anyhow::Result<ExitCode> {
    let settings = a.grid.settings().map_err(|e| anyhow::anyhow!("grid setting --wa {} --wb {} --wc {}: {}", e.wa, e.wb, e.wc, flag_error(e.source)))?;
    if settings.is_empty() {
        bail!("the grid is empty: give at least one value for each of --wa, --wb, --wc, --pulse");
    }
    let inputs = load(&a.src)?;
    // Retrieval and selection once; alignment per setting.
    let c = inputs.choreograph(&a.src.config(&inputs, None)?)?;
    super::warn(&c.summary.warnings);
    let pb = super::bar(settings.len() as u64, "tuning");
    let mut sweep = tune::sweep(&c.raw, &c.beats, &settings, &|| pb.inc(1)).map_err(flag_error)?;
    pipeline::rigid_3d(&mut sweep.best)?;
    pb.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&sweep.to_json())?);
    } else {
        print!("{sweep}");
    }
    if let Some(p) = &a.plot {
        tune::write_plot(p, &inputs.song, &c.raw, &c.beats, &sweep)?;
        eprintln!("{}: plot written", p.display());
    }
    if let Some(o) = &a.out {
        write_output(&sweep.best, o, &a.src.song.song)?;
    }
    Ok(ExitCode::SUCCESS)
}
