//! `eval`: the dance metrics of a pose file against its song, or of every dance of a corpus
//! against its own song.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use rayon::prelude::*;

use choreo::audio::{self, BeatConfig};
use choreo::corpus::{self, CorpusConfig};
use choreo::eval::{self, Metrics};
use choreo::pose::format;
use choreo::units::DEFAULT_FPS;

#[derive(Args)]
pub struct EvalArgs {
    /// Pose files to score (several: diversity is reported too).
    #[arg(long, num_args = 1.., conflicts_with = "corpus")]
    pub poses: Vec<PathBuf>,
    /// The song the poses dance to (required with --poses).
    #[arg(long)]
    pub song: Option<PathBuf>,
    /// Song time (seconds) of pose frame 0.
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    /// Score every dance of a corpus against its own song instead.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Discontinuity threshold, pixels (default: 10 % of each dance's nose-to-feet height, the
    /// 99th percentile of real single-joint moves per frame; DanceIt used 10 px).
    #[arg(long)]
    pub jump_px: Option<f32>,
    #[arg(long)]
    pub json: bool,
}

fn header() {
    println!("{:<28} {:>6} {:>6} {:>6} {:>8} {:>8} {:>6} {:>6} {:>6}", "dance", "frames", "beats", "kin", "coverage", "hit", "BAS", "seams", "discont");
}

fn row(name: &str, m: &Metrics) {
    println!(
        "{:<28} {:>6} {:>6} {:>6} {:>8.3} {:>8.3} {:>6.3} {:>3}/{:<2} {:>6}",
        name, m.frames, m.music_beats, m.kinematic_beats, m.beat_coverage, m.hit_rate, m.beat_align_score, m.visible_seams, m.seams, m.discontinuous_frames
    );
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
        let results: Vec<(String, Result<Metrics, String>)> = c
            .dances
            .par_iter()
            .map(|d| {
                let r = audio::decode(&d.audio).map_err(|e| e.to_string()).and_then(|song| {
                    let b = audio::detect_beats(&song, &BeatConfig::default()).map_err(|e| e.to_string())?;
                    Ok(eval::evaluate(&d.poses, &b.beats, d.audio_offset, jump(&d.poses)))
                });
                (d.name.clone(), r)
            })
            .collect();
        let ok: Vec<(String, Metrics)> = results.into_iter().filter_map(|(n, r)| match r {
            Ok(m) => Some((n, m)),
            Err(e) => {
                eprintln!("choreo: warning: skipped: {e}");
                None
            }
        }).collect();
        if a.json {
            let v: Vec<serde_json::Value> = ok.iter().map(|(n, m)| serde_json::json!({"dance": n, "metrics": m})).collect();
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            header();
            for (n, m) in &ok {
                row(n, m);
            }
            let k = ok.len().max(1) as f64;
            let mean = |f: &dyn Fn(&Metrics) -> f64| ok.iter().map(|(_, m)| f(m)).sum::<f64>() / k;
            println!(
                "mean over {} dances: coverage {:.3}, hit rate {:.3}, Beat Align Score {:.3}",
                ok.len(),
                mean(&|m| m.beat_coverage),
                mean(&|m| m.hit_rate),
                mean(&|m| m.beat_align_score)
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.poses.is_empty() {
        bail!("give --poses FILE... with --song SONG, or --corpus DIR");
    }
    let Some(song_path) = &a.song else { bail!("--song is needed with --poses") };
    let song = audio::decode(song_path)?;
    let b = audio::detect_beats(&song, &BeatConfig::default())?;
    if b.beats.is_empty() {
        eprintln!("choreo: warning: {}: no beats found; beat figures are 0", song_path.display());
    }
    let seqs = a.poses.iter().map(|p| format::read(p)).collect::<Result<Vec<_>, _>>()?;
    let ms: Vec<Metrics> = seqs.iter().map(|s| eval::evaluate(s, &b.beats, a.offset, jump(s))).collect();
    let div = (seqs.len() > 1).then(|| eval::diversity(&seqs));
    if a.json {
        let v: Vec<serde_json::Value> = a.poses.iter().zip(&ms).map(|(p, m)| serde_json::json!({"poses": p, "metrics": m})).collect();
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"dances": v, "diversity": div}))?);
    } else {
        header();
        for (p, m) in a.poses.iter().zip(&ms) {
            row(&p.display().to_string(), m);
        }
        if let Some(d) = div {
            println!("diversity (mean pairwise distance, body heights): {d:.3}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
