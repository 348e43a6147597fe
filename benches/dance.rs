//! The choreography bench: every variant of the issue side by side on the same songs (songs not in
//! the corpus), with the baselines (random fragments, no alignment) and the corpus's real dances
//! scored by the same code against their own songs.
//!
//!   cargo bench --bench dance -- [--index index/default] [--model M] [--no-real] SONG...
//!
//! tools/bench/dance.sh fetches Debian game music and runs it, plus the speed and memory figures.

use std::path::PathBuf;
use std::time::Instant;

use choreo::align::{self, AlignConfig, BeatEvent, OffBeat, Smoothing, SpatialSettings, TemporalConfig};
use choreo::audio::{self, BeatConfig};
use choreo::choreograph::{SelectConfig, Selection};
use choreo::pipeline::{self, DanceConfig};
use choreo::corpus::{self, CorpusConfig};
use choreo::eval::{self, Metrics};
use choreo::index::Index;
use choreo::model;
use choreo::pose::Sequence;
use rayon::prelude::*;

struct Variant {
    name: &'static str,
    select: Selection,
    align: Option<AlignConfig>,
}

fn variants() -> Vec<Variant> {
    let full = AlignConfig::default();
    let t = TemporalConfig::default();
    let linear = AlignConfig { spatial: SpatialSettings { smoothing: Smoothing::Linear, ..full.spatial }, temporal: None };
    let danceit = AlignConfig { temporal: Some(TemporalConfig { event: BeatEvent::Peak, ..t }), ..full };
    let with = |off_beat| AlignConfig { temporal: Some(TemporalConfig { off_beat, ..t }), ..full };
    vec![
        Variant { name: "random fragments, no alignment", select: Selection::Random, align: None },
        Variant { name: "random fragments, full alignment", select: Selection::Random, align: Some(full) },
        Variant { name: "DanceIt greedy, no alignment", select: Selection::Nearest, align: None },
        Variant { name: "DanceIt greedy + linear at seams", select: Selection::Nearest, align: Some(linear) },
        Variant { name: "DanceIt greedy + TSD + peak→beat", select: Selection::Nearest, align: Some(danceit) },
        Variant { name: "DanceIt greedy + TSD + stop→beat", select: Selection::Nearest, align: Some(full) },
        Variant { name: "viterbi, no alignment", select: Selection::Viterbi, align: None },
        Variant { name: "viterbi + TSD, no re-timing", select: Selection::Viterbi, align: Some(AlignConfig { temporal: None, ..full }) },
        Variant { name: "viterbi + TSD + peak→beat", select: Selection::Viterbi, align: Some(danceit) },
        Variant { name: "choreo default, off-beat stops kept", select: Selection::Viterbi, align: Some(with(OffBeat::Keep)) },
        Variant { name: "choreo default, --pulse 0", select: Selection::Viterbi, align: Some(with(OffBeat::Smooth { pulse: 0.0 })) },
        Variant { name: "choreo default, --pulse 0.6", select: Selection::Viterbi, align: Some(with(OffBeat::Smooth { pulse: 0.6 })) },
        Variant { name: "choreo default, no rhythm term (β = 0)", select: Selection::Viterbi, align: Some(full) },
        Variant { name: "choreo default (viterbi + TSD + stop→beat)", select: Selection::Viterbi, align: Some(full) },
    ]
}

#[derive(Default, Clone)]
struct Acc {
    n: f64,
    visible: f64,
    seams: f64,
    discont: f64,
    coverage: f64,
    hit: f64,
    bas: f64,
    reused: f64,
    dist: f64,
    secs: f64,
    rate: f64,
}

impl Acc {
    fn add(&mut self, m: &Metrics, reused: f64, dist: f64, secs: f64, rate: f64) {
        self.rate += rate;
        self.n += 1.0;
        self.visible += m.visible_seams as f64;
        self.seams += m.seams as f64;
        self.discont += m.discontinuous_frames as f64 / m.frames.max(1) as f64;
        self.coverage += m.beat_coverage;
        self.hit += m.hit_rate;
        self.bas += m.beat_align_score;
        self.reused += reused;
        self.dist += dist;
        self.secs += secs;
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut index_dir = PathBuf::from("index/default");
    let mut model_path = PathBuf::from("models/encoders.safetensors");
    let mut real = true;
    let mut songs: Vec<PathBuf> = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--index" => index_dir = it.next().expect("--index DIR").into(),
            "--model" => model_path = it.next().expect("--model M").into(),
            "--no-real" => real = false,
            _ => songs.push(a.into()),
        }
    }
    if songs.is_empty() {
        eprintln!("usage: cargo bench --bench dance -- [--index DIR] [--model M] [--no-real] SONG...");
        std::process::exit(2);
    }
    let index = Index::open(&index_dir)?;
    let (enc, card) = model::load(&model_path, &candle_core::Device::Cpu)?;
    let vs = variants();
    let mut acc = vec![Acc::default(); vs.len()];
    let mut dances: Vec<Vec<Sequence>> = vec![Vec::new(); vs.len()];
    println!("{} songs: ", songs.len());
    for (si, song_path) in songs.iter().enumerate() {
        let song = audio::decode(song_path)?;
        println!("  {} ({:.0} s)", song_path.display(), song.duration_secs());
        for (k, v) in vs.iter().enumerate() {
            let mut sel = SelectConfig { selection: v.select, seed: si as u64, ..SelectConfig::default() };
            if v.name.contains("β = 0") {
                sel.rhythm_weight = 0.0;
            }
            let cfg = DanceConfig { select: sel, align: v.align, ..DanceConfig::default() };
            let t0 = Instant::now();
            let c = pipeline::choreograph(&index, &enc, &card, &song, &cfg)?;
            let secs = t0.elapsed().as_secs_f64();
            let jump = align::default_jump_px(&c.raw);
            let m = eval::evaluate(&c.dance, &c.beats, 0.0, jump);
            let rate = c.summary.align.as_ref().and_then(|a| a.temporal.as_ref()).map_or(0.0, |t| t.mean_rate_change);
            acc[k].add(&m, c.summary.reused as f64 / c.summary.segments.max(1) as f64, c.summary.mean_audio_distance, secs, rate);
            dances[k].push(c.dance);
        }
    }
    println!();
    println!("mean over songs; discont = discontinuous frames / frames (jump = 10 % of body height); reuse = segments reusing a fragment / segments; retime = mean |rate − 1| of the re-timing");
    println!("{:<44} {:>9} {:>8} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}", "variant", "vis.seams", "discont", "cover", "hit", "BAS", "reuse", "a-dist", "divers", "retime", "secs");
    for (k, v) in vs.iter().enumerate() {
        let a = &acc[k];
        let n = a.n.max(1.0);
        let div = if dances[k].len() > 1 { eval::diversity(&dances[k]) } else { f64::NAN };
        println!(
            "{:<44} {:>4.1}/{:<4.0} {:>8.4} {:>7.3} {:>7.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.2}",
            v.name,
            a.visible / n,
            a.seams / n,
            a.discont / n,
            a.coverage / n,
            a.hit / n,
            a.bas / n,
            a.reused / n,
            a.dist / n,
            div,
            a.rate / n,
            a.secs / n
        );
    }
    if real {
        let root = PathBuf::from("../shared/data/tang2018");
        let (c, _) = corpus::load(&root, &CorpusConfig { fps: index.manifest.fps, ..CorpusConfig::default() })?;
        let ms: Vec<Metrics> = c
            .dances
            .par_iter()
            .filter_map(|d| {
                let song = audio::decode(&d.audio).ok()?;
                let b = audio::detect_beats(&song, &BeatConfig::default()).ok()?;
                Some(eval::evaluate(&d.poses, &b.beats, d.audio_offset, align::default_jump_px(&d.poses)))
            })
            .collect();
        let n = ms.len().max(1) as f64;
        let mean = |f: &dyn Fn(&Metrics) -> f64| ms.iter().map(f).sum::<f64>() / n;
        println!(
            "{:<44} {:>9} {:>8.4} {:>7.3} {:>7.3} {:>6.3}",
            format!("real Tang2018 dances ({}), own songs", ms.len()),
            "-",
            mean(&|m| m.discontinuous_frames as f64 / m.frames.max(1) as f64),
            mean(&|m| m.beat_coverage),
            mean(&|m| m.hit_rate),
            mean(&|m| m.beat_align_score)
        );
    }
    Ok(())
}
