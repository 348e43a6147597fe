//! Alignment on unheard music, scored against TRUE beats with the published metrics (issue 13,
//! part 3). Songs: ../shared/data/beats-dev (MIDI renders with exact beat grids, `NAME.beats`).
//! The report split is positions 3, 6, 9, ... (1-based) of the sorted names; the other 16 are for
//! tuning. Each dance is made as `choreo dance` makes it (the tracker's beats, which is what a user
//! gets), then scored against the true beats: Beat Align Score (Bailando, mean over songs), beat
//! coverage and hit rate (Lee et al., totals over songs), visible seams, FID_k / FID_g against
//! the Tang2018 training dances (one 20-s window per song), mean joint speed against the real
//! dances'. The last row is the real Tang2018 dances (beat figures against the tracker's beats of
//! their own songs, which have no true grid; FID is the test-vs-training floor).
//!
//!   cargo bench --bench align_dev -- [--split report|tune|all] [--only-default] [--no-real]
//!       [--pulse P | --keep-off-beat] [--max-stretch S] [--event stop|peak] [--half-time-above BPM]
//!       [--no-temporal] [--wa ωa] [--rhythm-weight β] [--transition-weight λ] [--reuse-penalty ρ]
//!
//! tools/bench/align_dev.sh runs it on the report split.

use std::path::{Path, PathBuf};

use choreo::align::{AlignConfig, BeatEvent, OffBeat, TemporalConfig};
use choreo::audio::{self, BeatConfig};
use choreo::choreograph::{SelectConfig, Selection};
use choreo::corpus::{self, CorpusConfig};
use choreo::eval::published::BeatTally;
use choreo::eval::realism::RealReference;
use choreo::eval::{self, Metrics};
use choreo::index::Index;
use choreo::model;
use choreo::pipeline::{self, DanceConfig};
use choreo::pose::Sequence;
use rayon::prelude::*;

struct Variant {
    name: String,
    cfg: DanceConfig,
}

#[derive(Default)]
struct Row {
    metrics: Vec<Metrics>,
    dances: Vec<Sequence>,
}

fn read_beats(p: &Path) -> anyhow::Result<Vec<f64>> {
    let s = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    s.lines().filter(|l| !l.trim().is_empty()).map(|l| l.split_whitespace().next().unwrap().parse::<f64>().map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))).collect()
}

/// Beat-tracking F-measure (±70 ms, each annotation matched once).
fn f_measure(det: &[f64], ann: &[f64]) -> f64 {
    if det.is_empty() || ann.is_empty() {
        return 0.0;
    }
    let mut used = vec![false; ann.len()];
    let mut hit = 0usize;
    for d in det {
        if let Some(i) = (0..ann.len()).filter(|&i| !used[i] && (ann[i] - d).abs() <= 0.07).min_by(|&a, &b| (ann[a] - d).abs().total_cmp(&(ann[b] - d).abs())) {
            used[i] = true;
            hit += 1;
        }
    }
    let (p, r) = (hit as f64 / det.len() as f64, hit as f64 / ann.len() as f64);
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut split = "report".to_string();
    let mut only_default = false;
    let mut real = true;
    let mut t = TemporalConfig::default();
    let mut sel = SelectConfig::default();
    let mut no_temporal = false;
    let mut wa: Option<usize> = None;
    let mut it = args.into_iter();
    let num = |it: &mut std::vec::IntoIter<String>, name: &str| -> f64 { it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} needs a number")) };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--split" => split = it.next().expect("--split report|tune|all"),
            "--only-default" => only_default = true,
            "--no-real" => real = false,
            "--pulse" => t.off_beat = OffBeat::Smooth { pulse: num(&mut it, "--pulse") },
            "--keep-off-beat" => t.off_beat = OffBeat::Keep,
            "--max-stretch" => t.max_stretch = num(&mut it, "--max-stretch"),
            "--rhythm-weight" => sel.rhythm_weight = num(&mut it, "--rhythm-weight") as f32,
            "--transition-weight" => sel.transition_weight = num(&mut it, "--transition-weight") as f32,
            "--reuse-penalty" => sel.reuse_penalty = num(&mut it, "--reuse-penalty") as f32,
            "--no-temporal" => no_temporal = true,
            "--wa" => wa = Some(num(&mut it, "--wa") as usize),
            "--half-time-above" => t.half_time_above_bpm = num(&mut it, "--half-time-above"),
            "--event" => {
                t.event = match it.next().as_deref() {
                    Some("peak") => BeatEvent::Peak,
                    _ => BeatEvent::Stop,
                }
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = PathBuf::from("../shared/data/beats-dev");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".flac")).map(String::from))
        .collect();
    names.sort();
    let picked: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| match split.as_str() {
            "report" => (i + 1) % 3 == 0,
            "tune" => (i + 1) % 3 != 0,
            _ => true,
        })
        .map(|(_, n)| n.clone())
        .collect();
    let index = Index::open(Path::new("index/default"))?;
    let (enc, card) = model::load(Path::new("models/encoders.safetensors"), &candle_core::Device::Cpu)?;
    let mut full = AlignConfig { temporal: (!no_temporal).then_some(t), ..AlignConfig::default() };
    if let Some(wa) = wa {
        full.spatial.wa = wa;
    }
    let base = DanceConfig { select: sel, align: Some(full), ..DanceConfig::default() };
    let mut vs = vec![Variant { name: "choreo default".into(), cfg: base.clone() }];
    if !only_default {
        vs.push(Variant { name: "random fragments + alignment".into(), cfg: DanceConfig { select: SelectConfig { selection: Selection::Random, ..sel }, ..base.clone() } });
        vs.push(Variant { name: "DanceIt nearest + alignment".into(), cfg: DanceConfig { select: SelectConfig { selection: Selection::Nearest, ..sel }, ..base.clone() } });
        vs.push(Variant { name: "no alignment (viterbi)".into(), cfg: DanceConfig { align: None, ..base.clone() } });
    }
    println!("beats-dev {split} split, {} songs: {}", picked.len(), picked.join(" "));
    println!("settings: {:?}, β = {}, λ = {}, ρ = {}", full.temporal, sel.rhythm_weight, sel.transition_weight, sel.reuse_penalty);
    // Songs in parallel; per song every variant.
    let per_song: Vec<anyhow::Result<(String, f64, Vec<(Metrics, Sequence)>)>> = picked
        .par_iter()
        .enumerate()
        .map(|(si, n)| {
            let song = audio::decode(&dir.join(format!("{n}.flac")))?;
            let truth = read_beats(&dir.join(format!("{n}.beats")))?;
            let tracked = audio::detect_beats(&song, &BeatConfig::default())?;
            let f = f_measure(&tracked.beats, &truth);
            let mut out = Vec::new();
            for v in &vs {
                let mut cfg = v.cfg.clone();
                cfg.select.seed = si as u64;
                let c = pipeline::choreograph(&index, &enc, &card, &song, &cfg)?;
                let jump = choreo::align::default_jump_px(&c.raw);
                out.push((eval::evaluate(&c.dance, &truth, 0.0, jump), c.dance));
            }
            Ok((n.clone(), f, out))
        })
        .collect();
    let mut rows: Vec<Row> = (0..vs.len()).map(|_| Row::default()).collect();
    println!("{:<24} {:>6} {}", "song", "F", vs.iter().map(|v| format!("{:>22}", format!("{} BAS/hit", &v.name[..v.name.len().min(12)]))).collect::<String>());
    for r in per_song {
        let (n, f, out) = r?;
        print!("{n:<24} {f:>6.3}");
        for (k, (m, d)) in out.into_iter().enumerate() {
            print!(" {:>14.3}/{:<6.3}", m.beat_align_score, m.hit_rate);
            rows[k].metrics.push(m);
            rows[k].dances.push(d);
        }
        println!();
    }
    let (c, _) = corpus::load(Path::new("../shared/data/tang2018"), &CorpusConfig { fps: index.manifest.fps, ..CorpusConfig::default() })?;
    let reference = RealReference::of(&c)?;
    let real_speed = c.dances.iter().map(|d| eval::evaluate(&d.poses, &[], 0.0, 1e9).mean_speed).sum::<f64>() / c.dances.len() as f64;
    println!();
    println!("against the TRUE beats; BAS = mean over songs; coverage, hit = Lee et al.'s totals over songs (±1/12 s); speed = mean joint speed / real dances' ({real_speed:.3} body heights/s)");
    println!("{:<32} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>6}", "variant", "BAS", "hit", "cover", "vis.seam", "FID_k", "FID_g", "speed");
    for (v, r) in vs.iter().zip(&rows) {
        let tally: BeatTally = r.metrics.iter().map(|m| m.tally()).sum();
        let n = r.metrics.len().max(1) as f64;
        let bas = r.metrics.iter().map(|m| m.beat_align_score).sum::<f64>() / n;
        let vis: usize = r.metrics.iter().map(|m| m.visible_seams).sum();
        let speed = r.metrics.iter().map(|m| m.mean_speed).sum::<f64>() / n / real_speed;
        let re = reference.score(&r.dances);
        println!("{:<32} {:>6.3} {:>6.3} {:>6.3} {:>8} {:>8.2} {:>8.2} {:>6.3}", v.name, bas, tally.hit_rate(), tally.coverage(), vis, re.fid_k, re.fid_g, speed);
    }
    if real {
        let ms: Vec<Metrics> = eval::corpus::score_corpus(&c, &BeatConfig::default(), &|s| choreo::align::default_jump_px(s)).into_iter().filter_map(|(_, m)| m.ok()).collect();
        let tally: BeatTally = ms.iter().map(|m| m.tally()).sum();
        let n = ms.len().max(1) as f64;
        let floor = reference.floor();
        println!(
            "{:<32} {:>6.3} {:>6.3} {:>6.3} {:>8} {:>8.2} {:>8.2} {:>6.3}",
            format!("real Tang2018 ({}; floor: test)", ms.len()),
            ms.iter().map(|m| m.beat_align_score).sum::<f64>() / n,
            tally.hit_rate(),
            tally.coverage(),
            "-",
            floor.fid_k,
            floor.fid_g,
            1.0
        );
    }
    Ok(())
}
