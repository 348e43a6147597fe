//! Evaluation: a dance (pose sequence) and its music's beats in, the figures out — defined once,
//! used by `choreo eval`, `dance`, `tune` and the benches.
//!
//! - Beat figures as published ([`published`]): Bailando's kinematic beats and Beat Align Score,
//!   Lee et al.'s beat coverage and hit rate (±1/12 s).
//! - Realism and diversity as published ([`realism`], [`features`], [`fid`]): FID_k, FID_g,
//!   Div_k, Div_g on AIST++/Bailando's kinetic and geometric features, adapted to 2-D.
//! - **Visible seams** (choreo's): at each provenance change, the frame-to-frame mean joint
//!   displacement against the 99th percentile of the same quantity inside fragments.
//! - **Discontinuous frames** (DanceIt): frames where any joint moves more than `jump_px`.
//! - **Mean speed** (choreo's): the mean kinetic velocity (Bailando's, above) in body heights per
//!   second, to compare a re-timed dance's pace with the real dances'.
//! - [`mean_pose_distance`] is choreo's own spread between dances, not the published diversity.

pub mod corpus;
pub mod features;
pub mod fid;
pub mod plot;
pub mod published;
pub mod realism;
pub mod report;

use serde::Serialize;

use crate::pose::normalize::body_height;
use crate::pose::motion::{displacement, seam_flags, visible_seams};
use crate::pose::{Frame, Sequence};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub frames: usize,
    /// Music beats in the dance's span (Lee et al.'s B_m).
    pub music_beats: usize,
    /// Kinematic beats (B_k).
    pub kinematic_beats: usize,
    /// Kinematic beats within ±1/12 s of a music beat (B_a).
    pub aligned_beats: usize,
    pub beat_coverage: f64,
    pub hit_rate: f64,
    pub beat_align_score: f64,
    /// Mean joint speed, body heights per second (0 without a measurable height).
    pub mean_speed: f64,
    pub seams: usize,
    pub visible_seams: usize,
    pub discontinuous_frames: usize,
}

impl Metrics {
    /// Lee et al.'s counts, to be summed over dances before taking ratios.
    pub fn tally(&self) -> published::BeatTally {
        published::BeatTally { music: self.music_beats, kinematic: self.kinematic_beats, aligned: self.aligned_beats }
    }
}

/// All figures of one dance. `music_beats` are song seconds; `offset` is the song time of frame 0.
pub fn evaluate(seq: &Sequence, music_beats: &[f64], offset: f64, jump_px: f32) -> Metrics {
    let beats: Vec<f64> = music_beats.iter().map(|b| b - offset).collect();
    let bf = published::beat_figures(&seq.frames, seq.fps, &beats);
    let flags = seam_flags(seq);
    let seam_count = flags.iter().filter(|f| **f).count();
    let visible = visible_seams(&seq.frames, &flags).len();
    let discontinuous = (1..seq.len())
        .filter(|&t| {
            seq.frames[t].iter().zip(&seq.frames[t - 1]).any(|(a, b)| a[2] > 0.0 && b[2] > 0.0 && ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt() > jump_px)
        })
        .count();
    let v = published::kinetic_velocity(&seq.frames);
    let mean_speed = match body_height(seq) {
        Some(h) if !v.is_empty() => v.iter().sum::<f64>() / v.len() as f64 * seq.fps / h as f64,
        _ => 0.0,
    };
    Metrics {
        frames: seq.len(),
        music_beats: bf.tally.music,
        kinematic_beats: bf.tally.kinematic,
        aligned_beats: bf.tally.aligned,
        beat_coverage: bf.tally.coverage(),
        hit_rate: bf.tally.hit_rate(),
        beat_align_score: bf.beat_align_score,
        mean_speed,
        seams: seam_count,
        visible_seams: visible,
        discontinuous_frames: discontinuous,
    }
}

/// choreo's own spread between dances (not the published Div_k / Div_g): per pair, the mean over
/// their common frames of the mean joint distance of hip-centred poses in body heights; the mean
/// over pairs.
pub fn mean_pose_distance(dances: &[Sequence]) -> f64 {
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
        // Stops every 12 frames (0.5 s) at frames 6.5, 18.5, ...: the forward difference 6 → 7 is
        // the slowest, so Bailando's detector puts the beats on frames 6, 18, 30, ...; beats there.
        let seq = stopping_at(24.0, 240, 6.5);
        let beats: Vec<f64> = (0..20).map(|k| (6.0 + 12.0 * k as f64) / 24.0).collect();
        let m = evaluate(&seq, &beats, 0.0, 10.0);
        assert!(m.beat_align_score > 0.95, "{m:?}");
        assert!(m.hit_rate > 0.95 && (m.beat_coverage - 1.0).abs() < 0.15, "{m:?}");
        assert_eq!(m.tally().aligned, m.aligned_beats);
        // 40 px amplitude, period 1 s, all joints alike: mean |dx/dt| = 4A/P = 160 px/s (1 % less
        // sampled at 24 fps); the body is 195 px from nose (y 100) to the lower ankle (y 295).
        assert!((m.mean_speed - 160.0 / 195.0).abs() < 0.02, "{m:?}");
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
        assert!(mean_pose_distance(&[seq.clone(), seq]) < 1e-6);
    }
}
