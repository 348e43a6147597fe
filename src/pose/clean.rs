//! Cleaning as DanceIt describes it: linear interpolation over jitter and short gaps, then
//! dropping incomplete frames (hands or feet not detected) and frames that jump too far from the
//! previous kept frame, together with their successors until the pose comes back.
//! Dropped frames are not removed (that would break the timing against the music): they are
//! marked in [`Cleaned::keep`], and fragments are only cut from runs of kept frames.

use std::ops::Range;

use super::normalize::body_height;
use super::skeleton::{BODY, EXTREMITIES};
use super::{Frame, Sequence, NUM_JOINTS};

#[derive(Debug, Clone, PartialEq)]
pub struct CleanConfig {
    /// Longest run of missing frames (per joint) that is filled by interpolation.
    pub max_gap: usize,
    /// A joint that leaves the line between its neighbours by more than this share of the body
    /// height, while the neighbours agree, is a spike and is replaced by their midpoint.
    pub spike_frac: f32,
    /// A frame whose mean body-joint displacement from the previous kept frame exceeds this share
    /// of the body height is dropped, with its successors, until the pose comes back.
    pub jump_frac: f32,
    /// After this many frames dropped in a row for distance, the pose is taken as the new reference
    /// (the person really moved, e.g. a cut in the video).
    pub max_drop_run: usize,
}

impl Default for CleanConfig {
    fn default() -> Self {
        // At 24 fps: gaps up to 0.25 s; spikes > 8 % of height (~24 px on a 300 px body);
        // jumps > 20 % of height in one frame (faster than any dance move in Tang2018, whose largest
        // mean per-frame displacement is well under 5 %); give up after 2 s.
        CleanConfig { max_gap: 6, spike_frac: 0.08, jump_frac: 0.2, max_drop_run: 48 }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanStats {
    pub interpolated: usize,
    pub despiked: usize,
    pub dropped_incomplete: usize,
    pub dropped_jump: usize,
}

#[derive(Debug, Clone)]
pub struct Cleaned {
    pub seq: Sequence,
    pub keep: Vec<bool>,
    pub stats: CleanStats,
}

impl Cleaned {
    /// Runs of kept frames.
    pub fn segments(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = None;
        for (t, &k) in self.keep.iter().enumerate() {
            match (k, start) {
                (true, None) => start = Some(t),
                (false, Some(s)) => {
                    out.push(s..t);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            out.push(s..self.keep.len());
        }
        out
    }
}

pub fn clean(seq: &Sequence, cfg: &CleanConfig) -> Cleaned {
    let mut s = seq.clone();
    let mut stats = CleanStats::default();
    // 1. Short gaps: linear interpolation between the present ends.
    stats.interpolated = fill_gaps(&mut s.frames, cfg.max_gap);
    let height = body_height(&s).unwrap_or(s.height as f32 * 0.6);
    // 2. Jitter: single-frame spikes.
    stats.despiked = despike(&mut s.frames, cfg.spike_frac * height);
    // 3. Incomplete and far frames.
    let keep = keep_frames(&s.frames, cfg.jump_frac * height, cfg.max_drop_run, &mut stats);
    Cleaned { seq: s, keep, stats }
}

/// Fills each joint's gaps of at most `max_gap` frames between two present ends linearly;
/// returns the points filled.
fn fill_gaps(frames: &mut [Frame], max_gap: usize) -> usize {
    let n = frames.len();
    let mut filled = 0;
    for j in 0..NUM_JOINTS {
        let mut t = 0;
        while t < n {
            if frames[t][j][2] > 0.0 {
                t += 1;
                continue;
            }
            let start = t;
            while t < n && frames[t][j][2] <= 0.0 {
                t += 1;
            }
            let len = t - start;
            if start == 0 || t == n || len > max_gap {
                continue;
            }
            let (a, b) = (frames[start - 1][j], frames[t][j]);
            for (k, u) in (start..t).enumerate() {
                let w = (k + 1) as f32 / (len + 1) as f32;
                frames[u][j] = [a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2].min(b[2])];
                filled += 1;
            }
        }
    }
    filled
}

/// Moves single-frame spikes (off the neighbours' midpoint by more than `spike` while the
/// neighbours are within `spike` of each other) to the midpoint; returns the points moved.
fn despike(frames: &mut [Frame], spike: f32) -> usize {
    let n = frames.len();
    let mut moved = 0;
    for t in 1..n.saturating_sub(1) {
        for j in 0..NUM_JOINTS {
            let (p, c, q) = (frames[t - 1][j], frames[t][j], frames[t + 1][j]);
            if p[2] <= 0.0 || c[2] <= 0.0 || q[2] <= 0.0 {
                continue;
            }
            let (mx, my) = ((p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0);
            let off = ((c[0] - mx).powi(2) + (c[1] - my).powi(2)).sqrt();
            let span = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
            if off > spike && span < spike {
                frames[t][j] = [mx, my, c[2].min(p[2]).min(q[2])];
                moved += 1;
            }
        }
    }
    moved
}

/// Frames to keep: not those missing an extremity, nor those farther than `jump` per frame from
/// the last kept one (at most `max_drop_run` in a row); counts the drops into `stats`.
fn keep_frames(frames: &[Frame], jump: f32, max_drop_run: usize, stats: &mut CleanStats) -> Vec<bool> {
    let n = frames.len();
    let mut keep = vec![true; n];
    let mut last: Option<usize> = None;
    let mut run = 0usize;
    for t in 0..n {
        let f = &frames[t];
        if EXTREMITIES.iter().any(|&j| f[j][2] <= 0.0) {
            keep[t] = false;
            stats.dropped_incomplete += 1;
            continue;
        }
        if let Some(l) = last {
            let g = &frames[l];
            let (mut sum, mut cnt) = (0.0f32, 0usize);
            for &j in BODY.iter() {
                if f[j][2] > 0.0 && g[j][2] > 0.0 {
                    sum += ((f[j][0] - g[j][0]).powi(2) + (f[j][1] - g[j][1]).powi(2)).sqrt();
                    cnt += 1;
                }
            }
            // Allow the motion of the frames skipped since the last kept one.
            let allowed = jump * (t - l) as f32;
            if cnt > 0 && sum / cnt as f32 > allowed && run < max_drop_run {
                keep[t] = false;
                stats.dropped_jump += 1;
                run += 1;
                continue;
            }
        }
        run = 0;
        last = Some(t);
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::Frame;

    fn walker(n: usize) -> Vec<Frame> {
        (0..n)
            .map(|t| {
                let mut f = [[0.0; 3]; NUM_JOINTS];
                for (j, v) in f.iter_mut().enumerate() {
                    *v = [200.0 + j as f32 * 5.0 + t as f32, 100.0 + j as f32 * 17.0, 1.0];
                }
                f
            })
            .collect()
    }

    #[test]
    fn fills_short_gap_and_removes_spike() {
        let mut fr = walker(20);
        for t in 5..8 {
            fr[t][4][2] = 0.0;
        }
        fr[12][9][1] += 80.0;
        let c = clean(&Sequence::new(24.0, 512, 512, fr.clone()), &CleanConfig::default());
        assert_eq!(c.stats.interpolated, 3);
        assert!((c.seq.frames[6][4][0] - fr[6][4][0]).abs() < 1e-3, "interpolated x follows the line");
        assert_eq!(c.stats.despiked, 1);
        assert!((c.seq.frames[12][9][1] - (100.0 + 9.0 * 17.0)).abs() < 1e-3);
        assert!(c.keep.iter().all(|&k| k));
    }

    #[test]
    fn drops_incomplete_and_jumping_frames() {
        let mut fr = walker(30);
        for t in 3..12 {
            fr[t][10][2] = 0.0; // ankle gone for longer than max_gap
        }
        for t in 20..23 {
            for j in 0..NUM_JOINTS {
                fr[t][j][0] += 200.0; // whole body teleports for 3 frames
            }
        }
        let c = clean(&Sequence::new(24.0, 512, 512, fr), &CleanConfig::default());
        assert_eq!(c.stats.dropped_incomplete, 9);
        assert_eq!(c.stats.dropped_jump, 3);
        assert_eq!(c.segments(), vec![0..3, 12..20, 23..30]);
    }
}
