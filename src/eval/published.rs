//! The beat figures of the literature, transcribed from the authors' code rather than from the
//! papers' prose (the two differ; each difference is noted where it matters):
//!
//! - **Kinematic beats**, Bailando's `calc_db` (Li et al. 2022, `utils/metrics_new.py` and
//!   `utils/beat_align_score.py`): the kinetic velocity `v[i]` = mean over joints of
//!   ‖p[i+1] − p[i]‖ (forward differences, so `v` has T − 1 entries and `v[i]` belongs to frame
//!   `i`), smoothed by `scipy.ndimage.gaussian_filter` with σ = 5 frames at AIST++'s 60 fps
//!   (scaled here to the dance's fps: σ = fps / 12 frames), minima by
//!   `scipy.signal.argrelextrema(v, np.less)` (strict, interior). Kinematic beat `i` is at
//!   `i / fps` seconds.
//!   2-D adaptation: a joint counts in `v[i]` only when it is present (confidence > 0) in both
//!   frames; where no joint is, `v[i]` repeats `v[i − 1]` (0 at the start), so a gap in the
//!   tracking makes no beat.
//! - **Beat Align Score**, Bailando's `BA`: the mean **over music beats** of
//!   exp(−d² / 2σ²), d = distance from the music beat to the nearest kinematic beat, σ = 3 frames
//!   at 60 fps = 50 ms. (The paper's formula averages over kinematic beats; the code, which made
//!   the published numbers, averages over music beats, and so does this.) Music beats count when
//!   they fall in the span of `v`: [0, (T − 1) / fps). Bailando quantises music beats to frames;
//!   here they stay in seconds. A dance without kinematic beats scores 0 (the code would fail).
//! - **Beat coverage** B_k / B_m and **hit rate** B_a / B_k (Lee et al. 2019, Sec. 4.2), with
//!   B_m music beats, B_k kinematic beats and B_a kinematic beats aligned with a music beat,
//!   **summed over all dances** before dividing ([`BeatTally`]). The paper does not state when a
//!   kinematic beat is "aligned"; here: within ±[`HIT_TOLERANCE_SECS`] (1/12 s, two frames at
//!   choreo's 24 fps) of a music beat. Music beats count over the same span as for the BAS.

use serde::Serialize;

use crate::pose::Frame;

/// σ of Bailando's kinematic-beat smoothing: 5 frames at 60 fps.
pub const DB_SIGMA_SECS: f64 = 5.0 / 60.0;
/// σ of the Beat Align Score: 3 frames at 60 fps (`/ 2 / 9` in Bailando's `BA`).
pub const BAS_SIGMA_SECS: f64 = 3.0 / 60.0;
/// When a kinematic beat is "aligned" with a music beat (Lee et al. leave it unstated): ±1/12 s,
/// two frames at 24 fps.
pub const HIT_TOLERANCE_SECS: f64 = 2.0 / 24.0;

/// Bailando's kinetic velocity: per frame pair, the mean over joints present in both frames of
/// the joint's displacement (forward difference). T − 1 values for T frames.
pub fn kinetic_velocity(frames: &[Frame]) -> Vec<f64> {
    let mut out = Vec::with_capacity(frames.len().saturating_sub(1));
    let mut last = 0.0;
    for w in frames.windows(2) {
        let (mut s, mut n) = (0.0f64, 0usize);
        for (p, q) in w[0].iter().zip(&w[1]) {
            if p[2] > 0.0 && q[2] > 0.0 {
                let (dx, dy) = ((q[0] - p[0]) as f64, (q[1] - p[1]) as f64);
                s += (dx * dx + dy * dy).sqrt();
                n += 1;
            }
        }
        if n > 0 {
            last = s / n as f64;
        }
        out.push(last);
    }
    out
}

/// `scipy.ndimage.gaussian_filter1d(x, sigma)` with its defaults: truncate 4.0 (radius
/// `int(4σ + 0.5)`), mode `reflect` (d c b a | a b c d | d c b a), in f64.
pub fn gaussian_filter1d(x: &[f64], sigma: f64) -> Vec<f64> {
    if x.is_empty() || !(sigma > 0.0) {
        return x.to_vec();
    }
    let r = (4.0 * sigma + 0.5) as i64;
    let w: Vec<f64> = (-r..=r).map(|i| (-0.5 / (sigma * sigma) * (i * i) as f64).exp()).collect();
    let sum: f64 = w.iter().sum();
    let w: Vec<f64> = w.iter().map(|v| v / sum).collect();
    let n = x.len() as i64;
    let at = |i: i64| x[crate::pose::motion::reflect(i, n)];
    (0..n).map(|t| w.iter().enumerate().map(|(k, wk)| wk * at(t + k as i64 - r)).sum()).collect()
}

/// `scipy.signal.argrelextrema(v, np.less)`: indices of strict interior local minima.
pub fn strict_minima(v: &[f64]) -> Vec<usize> {
    (1..v.len().saturating_sub(1)).filter(|&t| v[t] < v[t - 1] && v[t] < v[t + 1]).collect()
}

/// Kinematic beats (Bailando's `calc_db`) as frame indices.
pub fn kinematic_beats(frames: &[Frame], fps: f64) -> Vec<usize> {
    strict_minima(&gaussian_filter1d(&kinetic_velocity(frames), DB_SIGMA_SECS * fps))
}

/// Bailando's `BA`: mean over `music` beats of exp(−d²/2σ²), d to the nearest `kinematic` beat
/// (both in seconds). 0 without music or kinematic beats.
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

/// Lee et al.'s counts for one dance or summed over several: music beats B_m, kinematic beats B_k,
/// kinematic beats aligned with a music beat B_a.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BeatTally {
    pub music: usize,
    pub kinematic: usize,
    pub aligned: usize,
}

impl BeatTally {
    /// B_k / B_m (0 without music beats).
    pub fn coverage(&self) -> f64 {
        if self.music == 0 {
            0.0
        } else {
            self.kinematic as f64 / self.music as f64
        }
    }
    /// B_a / B_k (0 without kinematic beats).
    pub fn hit_rate(&self) -> f64 {
        if self.kinematic == 0 {
            0.0
        } else {
            self.aligned as f64 / self.kinematic as f64
        }
    }
}

impl std::ops::Add for BeatTally {
    type Output = BeatTally;
    fn add(self, o: BeatTally) -> BeatTally {
        BeatTally { music: self.music + o.music, kinematic: self.kinematic + o.kinematic, aligned: self.aligned + o.aligned }
    }
}

impl std::iter::Sum for BeatTally {
    fn sum<I: Iterator<Item = BeatTally>>(it: I) -> BeatTally {
        it.fold(BeatTally::default(), |a, b| a + b)
    }
}

/// The beat figures of one dance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BeatFigures {
    /// Kinematic beats, seconds from frame 0.
    pub kinematic: Vec<f64>,
    /// Music beats in the dance's span, seconds from frame 0.
    pub music: Vec<f64>,
    pub tally: BeatTally,
    pub beat_align_score: f64,
}

/// Scores a dance (`frames` at `fps`) against music beats given in seconds from frame 0.
pub fn beat_figures(frames: &[Frame], fps: f64, music_beats: &[f64]) -> BeatFigures {
    let span = frames.len().saturating_sub(1) as f64 / fps;
    let music: Vec<f64> = music_beats.iter().copied().filter(|b| *b >= 0.0 && *b < span).collect();
    let kinematic: Vec<f64> = kinematic_beats(frames, fps).into_iter().map(|k| k as f64 / fps).collect();
    let aligned = kinematic.iter().filter(|k| music.iter().any(|b| (b - *k).abs() <= HIT_TOLERANCE_SECS + 1e-9)).count();
    let beat_align_score = beat_align_score(&music, &kinematic);
    BeatFigures { tally: BeatTally { music: music.len(), kinematic: kinematic.len(), aligned }, kinematic, music, beat_align_score }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::NUM_JOINTS;

    fn pose(x: f32) -> Frame {
        let mut f = [[0.0f32; 3]; NUM_JOINTS];
        for (j, p) in f.iter_mut().enumerate() {
            *p = [x, 10.0 * j as f32, 1.0];
        }
        f
    }

    #[test]
    fn gaussian_is_scipys() {
        // scipy.ndimage.gaussian_filter1d([0,0,1,0,0], 1.0)
        let g = gaussian_filter1d(&[0.0, 0.0, 1.0, 0.0, 0.0], 1.0);
        for (a, b) in g.iter().zip([0.05842299, 0.24210528, 0.39894347, 0.24210528, 0.05842299]) {
            assert!((a - b).abs() < 1e-7, "{g:?}");
        }
        // Radius int(4σ + 0.5) = 8 for σ = 25/12 (not ceil(4σ) = 9): an impulse 9 samples away
        // leaves nothing.
        let mut x = vec![0.0; 30];
        x[20] = 1.0;
        let g = gaussian_filter1d(&x, 25.0 / 12.0);
        assert_eq!(g[11], 0.0);
        assert!(g[12] > 0.0);
    }

    #[test]
    fn forward_differences_put_the_beat_on_the_frame_before_the_stop() {
        // Moves 10 px/frame, frames 19–22 identical: v[19..=21] = 0, the beat at 20.
        let frames = still_at_20();
        let v = kinetic_velocity(&frames);
        assert_eq!(v.len(), 59);
        assert_eq!((v[18], v[19], v[21], v[22]), (10.0, 0.0, 0.0, 10.0));
        let kb = kinematic_beats(&frames, 24.0);
        assert_eq!(kb, vec![20]);
    }

    /// 60 frames moving 10 px/frame, still over frames 19–22: one kinematic beat, at frame 20.
    fn still_at_20() -> Vec<Frame> {
        let mut x = 0.0;
        (0..60)
            .map(|t| {
                if !(20..=22).contains(&t) {
                    x += 10.0;
                }
                pose(x)
            })
            .collect()
    }

    #[test]
    fn missing_joints_are_left_out_and_gaps_repeat() {
        let mut a = pose(0.0);
        let mut b = pose(3.0);
        b[0] = [1000.0, 1000.0, 1.0];
        a[0][2] = 0.0; // nose missing in a: its jump does not count
        let v = kinetic_velocity(&[a, b]);
        assert!((v[0] - 3.0).abs() < 1e-9, "{v:?}");
        let empty = [[0.0f32; 3]; NUM_JOINTS];
        let v = kinetic_velocity(&[pose(0.0), pose(2.0), empty, pose(9.0)]);
        assert_eq!(v, vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn bas_averages_over_music_beats_and_tallies_sum() {
        // One kinematic beat on the first of two music beats, the other 1 s away.
        let s = beat_align_score(&[1.0, 2.0], &[1.0]);
        assert!((s - (1.0 + (-1.0f64 / (2.0 * 0.05 * 0.05)).exp()) / 2.0).abs() < 1e-12);
        assert_eq!(beat_align_score(&[1.0], &[]), 0.0);
        // 50 ms off: exp(-1/2).
        assert!((beat_align_score(&[1.0], &[1.05]) - (-0.5f64).exp()).abs() < 1e-12);
        let t = BeatTally { music: 4, kinematic: 2, aligned: 1 } + BeatTally { music: 6, kinematic: 8, aligned: 7 };
        assert_eq!((t.coverage(), t.hit_rate()), (1.0, 0.8));
    }

    #[test]
    fn hit_tolerance_is_inclusive_at_one_twelfth_second() {
        // A dance whose only kinematic beat is frame 20 at 24 fps.
        let frames = still_at_20();
        let near = beat_figures(&frames, 24.0, &[22.0 / 24.0, 5.0]);
        assert_eq!(near.tally, BeatTally { music: 1, kinematic: 1, aligned: 1 });
        let far = beat_figures(&frames, 24.0, &[22.5 / 24.0]);
        assert_eq!(far.tally.aligned, 0);
    }
}
