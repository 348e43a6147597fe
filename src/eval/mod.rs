//! Evaluation: a dance (pose sequence) and its music's beats in, the figures out — defined once,
//! used by `choreo eval` and the benches.
//!
//! - **Kinematic beats** (Lee et al.; Bailando's `calc_db`): local minima of the mean joint speed,
//!   smoothed by a Gaussian of σ = 5/60 s (Bailando's 5 frames at 60 fps).
//! - **Beat coverage** = kinematic beats / music beats; **hit rate** = kinematic beats within ±2
//!   frames of a music beat / kinematic beats (Lee et al.).
//! - **Beat Align Score** (Bailando): mean over music beats of exp(−d²/(2σ²)), d the distance to the
//!   nearest kinematic beat, σ = 50 ms.
//! - **Visible seams**: at each provenance change (see [`continues`]), the frame-to-frame mean joint displacement against
//!   the 99th percentile of the same quantity inside fragments.
//! - **Discontinuous frames** (DanceIt): frames where any joint moves more than `jump_px`.
//! - **Diversity**: mean pairwise distance between dances (hip-centred poses in body heights).

pub mod plot;

use serde::Serialize;

use crate::pose::normalize::body_height;
use crate::pose::motion::{self, displacement, seam_flags, visible_seams};
use crate::pose::{Frame, Sequence};

/// σ of the Beat Align Score, seconds.
pub const BAS_SIGMA_SECS: f64 = 0.05;
/// Tolerance of the hit rate, frames.
pub const HIT_FRAMES: f64 = 2.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub frames: usize,
    pub music_beats: usize,
    pub kinematic_beats: usize,
    pub beat_coverage: f64,
    pub hit_rate: f64,
    pub beat_align_score: f64,
    pub seams: usize,
    pub visible_seams: usize,
    pub discontinuous_frames: usize,
}

/// Beat Align Score of music beats (seconds) against kinematic beats (seconds).
pub fn beat_align_score(music: &[f64], kinematic: &[f64]) -> f64 {
    if music.is_empty() || kinematic.is_empty() {
        return 0.0;
    }
    let s2 = 2.0 * BAS_SIGMA_SECS * BAS_SIGMA_SECS;
    music
        .iter()
        .map(|b| {
            let d = kinematic.iter().map(|k| (k - b).abs()).fold(f64::INFINITY, f64::min);
            (-d * d / s2).exp()
        })
        .sum::<f64>()
        / music.len() as f64
}


/// All figures of one dance. `music_beats` are song seconds; `offset` is the song time of frame 0.
pub fn evaluate(seq: &Sequence, music_beats: &[f64], offset: f64, jump_px: f32) -> Metrics {
    let fps = seq.fps;
    let dur = seq.duration_secs();
    let beats: Vec<f64> = music_beats.iter().map(|b| b - offset).filter(|b| *b >= 0.0 && *b <= dur).collect();
    let kin = motion::stops(&seq.frames, fps);
    let kin_s: Vec<f64> = kin.iter().map(|&k| k as f64 / fps).collect();
    let hits = kin_s.iter().filter(|k| beats.iter().any(|b| (b - *k).abs() * fps <= HIT_FRAMES + 1e-9)).count();
    let flags = seam_flags(seq);
    let seam_count = flags.iter().filter(|f| **f).count();
    let visible = visible_seams(&seq.frames, &flags).len();
    let discontinuous = (1..seq.len())
        .filter(|&t| {
            seq.frames[t].iter().zip(&seq.frames[t - 1]).any(|(a, b)| a[2] > 0.0 && b[2] > 0.0 && ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt() > jump_px)
        })
        .count();
    Metrics {
        frames: seq.len(),
        music_beats: beats.len(),
        kinematic_beats: kin.len(),
        beat_coverage: if beats.is_empty() { 0.0 } else { kin.len() as f64 / beats.len() as f64 },
        hit_rate: if kin.is_empty() { 0.0 } else { hits as f64 / kin.len() as f64 },
        beat_align_score: beat_align_score(&beats, &kin_s),
        seams: seam_count,
        visible_seams: visible,
        discontinuous_frames: discontinuous,
    }
}

/// Mean pairwise distance between dances: per pair, the mean over their common frames of the
/// mean joint distance of hip-centred poses in body heights.
pub fn diversity(dances: &[Sequence]) -> f64 {
    let norm: Vec<Vec<Frame>> = dances
        .iter()
        .map(|s| {
            let h = body_height(s).unwrap_or(300.0);
            s.frames
                .iter()
                .map(|f| {
                    let (cx, cy) = ((f[8][0] + f[11][0]) / 2.0, (f[8][1] + f[11][1]) / 2.0);
                    let mut o = *f;
                    for j in o.iter_mut() {
                        j[0] = (j[0] - cx) / h;
                        j[1] = (j[1] - cy) / h;
                    }
                    o
                })
                .collect()
        })
        .collect();
    let (mut sum, mut n) = (0.0f64, 0usize);
    for i in 0..norm.len() {
        for j in i + 1..norm.len() {
            let m = norm[i].len().min(norm[j].len());
            if m == 0 {
                continue;
            }
            let d: f64 = (0..m).map(|t| displacement(&norm[i][t], &norm[j][t]) as f64).sum::<f64>() / m as f64;
            sum += d;
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::{Provenance, NUM_JOINTS};

    /// A body whose x oscillates so that it stops (speed minimum) at the given times.
    fn stopping_at(period_frames: f64, n: usize, phase: f64) -> Sequence {
        let frames = (0..n)
            .map(|t| {
                // x(t) = A cos(2π(t - phase)/P): speed |sin| is zero at t = phase + kP/2.
                let x = 40.0 * (std::f64::consts::TAU * (t as f64 - phase) / period_frames).cos() as f32;
                let mut f = [[0.0f32; 3]; NUM_JOINTS];
                for (j, p) in f.iter_mut().enumerate() {
                    *p = [256.0 + x, 100.0 + 15.0 * j as f32, 1.0];
                }
                f
            })
            .collect();
        Sequence::new(24.0, 512, 512, frames)
    }

    #[test]
    fn stops_on_the_beat_score_high_and_off_beat_low() {
        // Stops every 12 frames (0.5 s) at frames 6, 18, 30, ...; beats at those times.
        let seq = stopping_at(24.0, 240, 6.0);
        let beats: Vec<f64> = (0..20).map(|k| (6.0 + 12.0 * k as f64) / 24.0).collect();
        let m = evaluate(&seq, &beats, 0.0, 10.0);
        assert!(m.beat_align_score > 0.95, "{m:?}");
        assert!(m.hit_rate > 0.95 && (m.beat_coverage - 1.0).abs() < 0.15, "{m:?}");
        // Beats a quarter period late: 3 frames = 125 ms off every stop.
        let late: Vec<f64> = beats.iter().map(|b| b + 3.0 / 24.0).collect();
        let m2 = evaluate(&seq, &late, 0.0, 10.0);
        assert!(m2.beat_align_score < 0.1 && m2.hit_rate < 0.1, "{m2:?}");
    }

    #[test]
    fn seams_are_counted_and_judged_against_inside_motion() {
        let mut seq = stopping_at(48.0, 48, 0.0);
        // Two fragments; the second is shifted 100 px: a visible seam at frame 24.
        for f in seq.frames[24..].iter_mut() {
            for j in f.iter_mut() {
                j[0] += 100.0;
            }
        }
        seq.provenance = Some((0..48).map(|t| Provenance { dance: if t < 24 { "A".into() } else { "B".into() }, frame: t % 24 }).collect());
        let m = evaluate(&seq, &[], 0.0, 10.0);
        assert_eq!((m.seams, m.visible_seams), (1, 1));
        assert!(m.discontinuous_frames >= 1);
        assert!(diversity(&[seq.clone(), seq]) < 1e-6);
    }
}
