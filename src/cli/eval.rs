//! `eval`: the dance metrics of pose files against their song, or of every dance of a corpus
//! against its own song; with `--against CORPUS`, realism and diversity (FID_k, FID_g, Div_k,
//! Div_g) against that corpus's real dances and the real-versus-real floor.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use choreo::audio::{self, BeatConfig};
use choreo::corpus::{self, CorpusConfig};
use choreo::eval::published::BeatTally;
use choreo::eval::realism::{RealReference, Realism};
use choreo::eval::{self, Metrics};
use choreo::pose::format;
use choreo::units::DEFAULT_FPS;

#[derive(Args)]
pub struct EvalArgs {
    /// Pose files to score (several: their realism and diversity with --against).
    #[arg(long, num_args = 1.., conflicts_with = "corpus")]
    pub poses: Vec<PathBuf>,
    /// The song the poses dance to (required with --poses).
    #[arg(long)]
    pub song: Option<PathBuf>,
    /// The song's beats from a file (one time in seconds per line, or `choreo beats --json`
    /// output) instead of the beat tracker: e.g. the true beats, to score against them.
    #[arg(long, conflicts_with = "corpus")]
    pub beats: Option<PathBuf>,
    /// Song time (seconds) of pose frame 0.
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    /// Score every dance of a corpus against its own song instead.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Real dances to measure realism against (FID_k, FID_g, Div_k, Div_g; the corpus's training
    /// dances are the reference, its test dances against them the floor).
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// Discontinuity threshold, pixels (default: 10 % of each dance's nose-to-feet height, the
    /// 99th percentile of real single-joint moves per frame; DanceIt used 10 px).
    #[arg(long)]
    pub jump_px: Option<f32>,
    #[arg(long)]
    pub json: bool,
}

fn header() {
    println!("{:<28} {:>6} {:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>6} {:>8}", "dance", "frames", "beats", "kin", "hits", "coverage", "hit", "BAS", "speed", "seams");
}

fn row(name: &str, m: &Metrics) {
    println!(
        "{:<28} {:>6} {:>6} {:>6} {:>6} {:>8.3} {:>6.3} {:>6.3} {:>6.3} {:>4}/{:<3}",
        name, m.frames, m.music_beats, m.kinematic_beats, m.aligned_beats, m.beat_coverage, m.hit_rate, m.beat_align_score, m.mean_speed, m.visible_seams, m.seams
    );
}

fn totals(ms: &[&Metrics]) {
    let t: BeatTally = ms.iter().map(|m| m.tally()).sum();
    let k = ms.len().max(1) as f64;
    println!(
        "over {} dances: beat coverage {:.3} and hit rate {:.3} (Lee et al.: totals {} kinematic / {} music beats, {} within ±1/12 s), Beat Align Score {:.3} (Bailando: mean over dances), mean speed {:.3} body heights/s",
        ms.len(),
        t.coverage(),
        t.hit_rate(),
        t.kinematic,
        t.music,
        t.aligned,
        ms.iter().map(|m| m.beat_align_score).sum::<f64>() / k,
        ms.iter().map(|m| m.mean_speed).sum::<f64>() / k
    );
}

fn realism_rows(rows: &[(String, &Realism)]) {
    println!("{:<36} {:>7} {:>8} {:>8} {:>7} {:>7}", "realism (vs real training dances)", "windows", "FID_k", "FID_g", "Div_k", "Div_g");
    for (name, r) in rows {
        println!("{:<36} {:>7} {:>8.3} {:>8.3} {:>7.3} {:>7.3}", name, r.windows, r.fid_k, r.fid_g, r.div_k, r.div_g);
    }
    if let Some((_, r)) = rows.first() {
        println!("{:<36} {:>7} {:>8} {:>8} {:>7.3} {:>7.3}", "real training dances", r.reference_windows, "-", "-", r.reference_div_k, r.reference_div_g);
    }
}

fn reference(root: &std::path::Path) -> anyhow::Result<RealReference> {
    let (c, failed) = corpus::load(root, &CorpusConfig { fps: DEFAULT_FPS, ..CorpusConfig::default() })?;
    for e in &failed {
        eprintln!("choreo: warning: skipped: {e}");
    }
    Ok(RealReference::of(&c)?)
}

pub fn run(a: EvalArgs) -> anyhow::Result<ExitCode> {
    if let Some(j) = a.jump_px {
        if !(j.is_finite() && j > 0.0) {
            bail!("--jump-px must be positive, got {j}");
        }
    }
    let jump = |s: &choreo::pose::Sequence| a.jump_px.unwrap_or_else(|| choreo::align::default_jump_px(s));
    if let Some(root) = &a.corpus {
        let (c, failed) = corpus::load(root, &CorpusConfig { fps: DEFAULT_FPS, ..CorpusConfig::default() })?;
        for e in &failed {
            eprintln!("choreo: warning: skipped: {e}");
        }
        let results = eval::corpus::score_corpus(&c, &BeatConfig::default(), &jump);
        let ok: Vec<(String, Metrics)> = results
            .into_iter()
            .filter_map(|(n, r)| match r {
                Ok(m) => Some((n, m)),
                Err(e) => {
                    eprintln!("choreo: warning: skipped: {e}");
                    None
                }
            })
            .collect();
        // The floor: this corpus's test dances against its training dances (or against another
        // corpus with --against).
        let floor = match &a.against {
            Some(other) => {
                let r = reference(other)?;
                Some(r.score(&c.dances.iter().map(|d| d.poses.clone()).collect::<Vec<_>>()))
            }
            None => RealReference::of(&c).ok().map(|r| r.floor()),
        };
        if a.json {
            let v: Vec<serde_json::Value> = ok.iter().map(|(n, m)| serde_json::json!({"dance": n, "metrics": m})).collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({"dances": v, "realism": floor}))?);
        } else {
            header();
            for (n, m) in &ok {
                row(n, m);
            }
            totals(&ok.iter().map(|(_, m)| m).collect::<Vec<_>>());
            if let Some(f) = &floor {
                let name = if a.against.is_some() { "these dances" } else { "real test dances (the floor)" };
                realism_rows(&[(name.to_string(), f)]);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.poses.is_empty() {
        bail!("give --poses FILE... with --song SONG, or --corpus DIR");
    }
    let Some(song_path) = &a.song else { bail!("--song is needed with --poses") };
    let song = audio::decode(song_path)?;
    let b = match &a.beats {
        Some(p) => audio::Beats::given(audio::read_beats_file(p, song.duration_secs())?),
        None => audio::detect_beats(&song, &BeatConfig::default())?,
    };
    for w in &b.warnings {
        eprintln!("choreo: warning: {w}");
    }
    if b.beats.is_empty() {
        eprintln!("choreo: warning: {}: no beats found; beat figures are 0", song_path.display());
    }
    let seqs = a.poses.iter().map(|p| format::read(p)).collect::<Result<Vec<_>, _>>()?;
    let ms: Vec<Metrics> = seqs.iter().map(|s| eval::evaluate(s, &b.beats, a.offset, jump(s))).collect();
    let realism = match &a.against {
        Some(root) => {
            let r = reference(root)?;
            Some((r.score(&seqs), r.floor()))
        }
        None => None,
    };
    if a.json {
        let v: Vec<serde_json::Value> = a.poses.iter().zip(&ms).map(|(p, m)| serde_json::json!({"poses": p, "metrics": m})).collect();
        let rj = realism.as_ref().map(|(d, f)| serde_json::json!({"dances": d, "floor": f}));
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"dances": v, "realism": rj}))?);
    } else {
        header();
        for (p, m) in a.poses.iter().zip(&ms) {
            row(&p.display().to_string(), m);
        }
        if ms.len() > 1 {
            totals(&ms.iter().collect::<Vec<_>>());
        }
        if let Some((d, f)) = &realism {
            realism_rows(&[("these dances".to_string(), d), ("real test dances (the floor)".to_string(), f)]);
        }
    }
    Ok(ExitCode::SUCCESS)
}
