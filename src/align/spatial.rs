//! Spatial alignment, DanceIt Algorithm 1 (time-series decomposition, TSD).
//!
//! A frame is *discontinuous* when any joint moves more than `jump_px` from the previous frame.
//! Around it, the abnormal window `[t − ωa/2, t + ωa/2]` is rebuilt: its two end frames stay, and
//! each joint coordinate in between becomes
//!
//! ```text
//! p̃(i) = F(i) + M(i) + S(i)      F: the straight line between the window's end points
//! ```
//!
//! where the trend `M` (a cubic) and the periodic term `S` are learnt from the previous ωb frames,
//! cut into windows of the same length every ωa frames. In each reference window the coordinate
//! minus its own end-to-end line is `d = M + S + γ`; the minimum period `T` is the smallest lag at
//! which `d` repeats within the volatility threshold (`period_th` px, mean absolute difference); the
//! trend is the cubic least-squares fit to `d` after a centred moving average over `T` (the
//! difference operation that removes the periodic part), and `S` is the mean of `d − M` at each
//! phase of `T`. The abnormal window takes the mean of the reference trends (`Mt = E(Mn)`) and the
//! periodic term with the longest period (`St = argmax ξ(Sn)`); the random term is left at its
//! expectation, 0. `M + S` is then corrected by its own end-to-end line so the window's end frames
//! are unchanged and the result joins the frames around it.
//!
//! When a jump is too large to spread over ωa frames (the rebuilt window still has a
//! discontinuous frame) and the window holds a seam, the window is widened (doubled, at most four
//! times) and rebuilt again. Jumps inside a fragment's own motion get one pass only: real fast
//! moves are not flattened.
//!
//! The windows are decided on the 2-D track; [`smooth_windows`] returns them in the order they
//! were rebuilt and [`replay`] rebuilds the same windows, in the same order, on another track of
//! the same frames (the 3-D one): the decomposition is per coordinate, for any number of them.
//!
//! [`Smoothing::Linear`] is DanceIt's user-study baseline: the same windows, filled by the straight
//! line alone.

use crate::pose::motion::{Canvas2, Track};
use crate::pose::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Smoothing {
    /// DanceIt Algorithm 1.
    Tsd,
    /// Straight line between the window's end frames.
    Linear,
    /// Leave the frames as they are.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpatialConfig {
    pub smoothing: Smoothing,
    /// ωa: abnormal window length and reference step, frames.
    pub wa: usize,
    /// ωb: reference frames before the window.
    pub wb: usize,
    /// Discontinuity threshold: any joint moving farther in one frame, pixels.
    pub jump_px: f32,
    /// Volatility threshold of the minimum period, pixels.
    pub period_th: f32,
}

/// What the spatial pass did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SpatialReport {
    pub discontinuous_before: usize,
    pub discontinuous_after: usize,
    /// Windows rebuilt (after merging overlaps), over all passes.
    pub windows: usize,
}

/// Frames t ≥ 1 where some joint visible in t−1 and t moves more than `jump_px`.
pub fn discontinuous(frames: &[Frame], jump_px: f32) -> Vec<usize> {
    (1..frames.len()).filter(|&t| max_jump(&frames[t - 1], &frames[t]) > jump_px).collect()
}

/// Largest single-joint displacement between two frames (joints visible in both), pixels.
pub fn max_jump(a: &Frame, b: &Frame) -> f32 {
    a.iter().zip(b).filter(|(p, q)| p[2] > 0.0 && q[2] > 0.0).map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()).fold(0.0, f32::max)
}

/// Windows `[a, b]` (end frames kept) around the given frames, half-width `half`, merged when
/// they overlap, clamped to the sequence.
fn windows(ts: &[usize], half: usize, n: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &t in ts {
        // The jump is between t−1 and t: the window is ωa frames long, centred on the gap.
        let a = t.saturating_sub(half);
        let b = (t + half).min(n - 1);
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out.retain(|(a, b)| b > a && b - a >= 2);
    out
}

/// Runs the spatial alignment. `seams[t]` is true when frame t starts a new fragment (the jump
/// between t−1 and t is a seam). Windows are rebuilt around every discontinuous frame and every
/// visible seam ([`crate::pose::motion::visible_seams`]: a seam moving more than 99 % of the frames inside
/// fragments); seams still discontinuous or visible get wider windows.
pub fn smooth(frames: &[Frame], seams: &[bool], cfg: &SpatialConfig) -> (Vec<Frame>, SpatialReport) {
    let (out, report, _) = smooth_windows(frames, seams, cfg);
    (out, report)
}

/// [`smooth`], also returning the windows `[a, b]` rebuilt, in order (for [`replay`]).
pub fn smooth_windows(frames: &[Frame], seams: &[bool], cfg: &SpatialConfig) -> (Vec<Frame>, SpatialReport, Vec<(usize, usize)>) {
    let before = discontinuous(frames, cfg.jump_px);
    let mut report = SpatialReport { discontinuous_before: before.len(), ..Default::default() };
    let mut out = frames.to_vec();
    if cfg.smoothing == Smoothing::None || frames.len() < 3 {
        report.discontinuous_after = before.len();
        return (out, report, Vec::new());
    }
    let done = passes(&mut out, seams, cfg, true);
    report.windows = done.len();
    report.discontinuous_after = discontinuous(&out, cfg.jump_px).len();
    (out, report, done)
}

/// Rebuilds `windows` (from [`smooth_windows`] or [`touch_up_windows`] on the 2-D track), in
/// order, on another track of the same frames. `cfg.period_th` is in that track's units.
pub fn replay<T: Track>(frames: &mut [Frame], windows: &[(usize, usize)], cfg: &SpatialConfig) {
    if cfg.smoothing == Smoothing::None {
        return;
    }
    for &(a, b) in windows {
        if b < frames.len() && b > a {
            rebuild::<T>(frames, a, b, cfg);
        }
    }
}

/// Only the seams that are visible (after re-timing, say), widening as [`smooth`] does. Returns
/// the windows rebuilt.
pub fn touch_up(frames: &mut [Frame], seams: &[bool], cfg: &SpatialConfig) -> usize {
    touch_up_windows(frames, seams, cfg).len()
}

/// [`touch_up`], returning the windows rebuilt, in order (for [`replay`]).
pub fn touch_up_windows(frames: &mut [Frame], seams: &[bool], cfg: &SpatialConfig) -> Vec<(usize, usize)> {
    if cfg.smoothing == Smoothing::None || frames.len() < 3 {
        return Vec::new();
    }
    passes(frames, seams, cfg, false)
}

fn passes(out: &mut [Frame], seams: &[bool], cfg: &SpatialConfig, jumps: bool) -> Vec<(usize, usize)> {
    let n = out.len();
    let mut half = (cfg.wa / 2).max(1);
    let mut windows_done = Vec::new();
    for pass in 0..5 {
        let seam_near = |t: usize, half: usize| (t.saturating_sub(2 * half)..=(t + 2 * half).min(n - 1)).any(|s| seams.get(s).copied().unwrap_or(false));
        let mut targets: Vec<usize> = if jumps {
            // First pass: every jump; later passes: jumps that a seam left behind.
            discontinuous(out, cfg.jump_px).into_iter().filter(|&t| pass == 0 || seam_near(t, half / 2)).collect()
        } else {
            Vec::new()
        };
        targets.extend(crate::pose::motion::visible_seams(out, seams));
        targets.sort_unstable();
        targets.dedup();
        if targets.is_empty() {
            break;
        }
        let ws = windows(&targets, half, n);
        for &(a, b) in &ws {
            rebuild::<Canvas2>(out, a, b, cfg);
        }
        windows_done.extend_from_slice(&ws);
        half *= 2;
        if 2 * half > n {
            break;
        }
    }
    windows_done
}

/// Rebuilds frames a+1..b in place (joint by joint, coordinate by coordinate), from the
/// reference frames before a.
fn rebuild<T: Track>(frames: &mut [Frame], a: usize, b: usize, cfg: &SpatialConfig) {
    let len = b - a;
    for j in 0..frames[0].len() {
        if !T::present(&frames[a], j) || !T::present(&frames[b], j) {
            continue;
        }
        for c in 0..T::DIMS {
            let y0 = frames[a][j][c];
            let y1 = frames[b][j][c];
            let shape = match cfg.smoothing {
                Smoothing::Tsd => {
                    let refs = reference_windows::<T>(frames, a, len, j, c, cfg);
                    predict(&refs, len, cfg.period_th)
                }
                _ => vec![0.0; len + 1],
            };
            for i in 1..len {
                let line = y0 + (y1 - y0) * i as f32 / len as f32;
                frames[a + i][j][c] = line + shape[i];
                if !T::present(&frames[a + i], j) {
                    // A joint missing inside the window but present at both ends is filled in.
                    frames[a + i][j][2] = frames[a][j][2].min(frames[b][j][2]);
                }
            }
        }
    }
}

/// Reference windows of `len + 1` samples ending at or before frame `a`, stepping back ωa from
/// the last one, within the previous ωb frames (at least one window when the sequence allows).
fn reference_windows<T: Track>(frames: &[Frame], a: usize, len: usize, j: usize, c: usize, cfg: &SpatialConfig) -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    let earliest = a.saturating_sub(cfg.wb.max(len));
    let mut end = a;
    while end >= earliest + len {
        let s = end - len;
        let w: Vec<f32> = (s..=end).map(|t| frames[t][j][c]).collect();
        // A window where the joint goes missing says nothing about it.
        if (s..=end).all(|t| T::present(&frames[t], j)) {
            out.push(w);
        }
        if end < cfg.wa.max(1) {
            break;
        }
        end -= cfg.wa.max(1);
    }
    out
}

/// Decomposition of one reference window.
struct Decomposition {
    /// Cubic trend coefficients over u = i / len.
    alpha: [f64; 4],
    /// Minimum period (frames), 0 when aperiodic.
    period: usize,
    /// Periodic term per phase (length `period`).
    seasonal: Vec<f64>,
}

/// `d = y − line(y[0], y[len])`.
fn detrend(y: &[f32]) -> Vec<f64> {
    let len = y.len() - 1;
    let (y0, y1) = (y[0] as f64, y[len] as f64);
    y.iter().enumerate().map(|(i, &v)| v as f64 - (y0 + (y1 - y0) * i as f64 / len as f64)).collect()
}

/// Smallest lag T in 2..=len/2 at which `d` repeats: mean |d[i+T] − d[i]| below `th`. Only a
/// window that actually moves (some |d| above `th`) can be periodic.
pub fn minimum_period(d: &[f64], th: f32) -> usize {
    let th = th as f64;
    if d.iter().all(|v| v.abs() <= th) {
        return 0;
    }
    for t in 2..=d.len() / 2 {
        let m = (0..d.len() - t).map(|i| (d[i + t] - d[i]).abs()).sum::<f64>() / (d.len() - t) as f64;
        if m < th {
            return t;
        }
    }
    0
}

fn decompose(y: &[f32], th: f32) -> Decomposition {
    let d = detrend(y);
    let n = d.len();
    let len = (n - 1) as f64;
    let period = minimum_period(&d, th);
    // The difference operation: a centred moving average over one period removes the periodic part.
    let trend_input: Vec<f64> = if period >= 2 {
        (0..n)
            .map(|i| {
                let lo = i.saturating_sub(period / 2);
                let hi = (lo + period).min(n);
                let lo = hi.saturating_sub(period);
                d[lo..hi].iter().sum::<f64>() / (hi - lo) as f64
            })
            .collect()
    } else {
        d.clone()
    };
    let us: Vec<f64> = (0..n).map(|i| i as f64 / len).collect();
    let alpha = cubic_fit(&us, &trend_input);
    let seasonal = if period >= 2 {
        let mut s = vec![0.0; period];
        let mut cnt = vec![0usize; period];
        for i in 0..n {
            s[i % period] += d[i] - cubic(&alpha, us[i]);
            cnt[i % period] += 1;
        }
        for (v, c) in s.iter_mut().zip(&cnt) {
            *v /= (*c).max(1) as f64;
        }
        let mean = s.iter().sum::<f64>() / period as f64;
        s.iter_mut().for_each(|v| *v -= mean);
        s
    } else {
        Vec::new()
    };
    Decomposition { alpha, period, seasonal }
}

/// The abnormal window's `M + S` (length `len + 1`), zero at both ends.
fn predict(refs: &[Vec<f32>], len: usize, th: f32) -> Vec<f32> {
    if refs.is_empty() {
        return vec![0.0; len + 1];
    }
    let decs: Vec<Decomposition> = refs.iter().map(|y| decompose(y, th)).collect();
    let mut alpha = [0.0f64; 4];
    for d in &decs {
        for k in 0..4 {
            alpha[k] += d.alpha[k] / decs.len() as f64;
        }
    }
    // St: the periodic term with the longest period (the most recent on ties).
    let best = decs.iter().filter(|d| d.period >= 2).max_by_key(|d| d.period);
    let raw: Vec<f64> = (0..=len)
        .map(|i| {
            let m = cubic(&alpha, i as f64 / len as f64);
            let s = best.map(|d| d.seasonal[i % d.period]).unwrap_or(0.0);
            m + s
        })
        .collect();
    let (e0, e1) = (raw[0], raw[len]);
    raw.iter().enumerate().map(|(i, v)| (v - (e0 + (e1 - e0) * i as f64 / len as f64)) as f32).collect()
}

fn cubic(a: &[f64; 4], u: f64) -> f64 {
    a[0] + u * (a[1] + u * (a[2] + u * a[3]))
}

/// Least-squares cubic through (u, y): normal equations solved by Gaussian elimination with
/// partial pivoting; fewer than four points fit a lower degree.
pub fn cubic_fit(u: &[f64], y: &[f64]) -> [f64; 4] {
    let deg = (u.len().min(4)).saturating_sub(1);
    let k = deg + 1;
    let mut m = [[0.0f64; 5]; 4];
    for (&ui, &yi) in u.iter().zip(y) {
        let mut p = [1.0f64; 4];
        for e in 1..4 {
            p[e] = p[e - 1] * ui;
        }
        for r in 0..k {
            for c in 0..k {
                m[r][c] += p[r] * p[c];
            }
            m[r][4] += p[r] * yi;
        }
    }
    let mut out = [0.0f64; 4];
    if k == 0 {
        return out;
    }
    for col in 0..k {
        let piv = (col..k).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs())).unwrap();
        m.swap(col, piv);
        if m[col][col].abs() < 1e-12 {
            return out;
        }
        for r in 0..k {
            if r != col {
                let f = m[r][col] / m[col][col];
                for c in col..5 {
                    m[r][c] -= f * m[col][c];
                }
            }
        }
    }
    for r in 0..k {
        out[r] = m[r][4] / m[r][r];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::NUM_JOINTS;

    fn frames_from(xs: &[f32]) -> Vec<Frame> {
        xs.iter()
            .map(|&x| {
                let mut f = [[0.0f32; 3]; NUM_JOINTS];
                for (j, p) in f.iter_mut().enumerate() {
                    *p = [x + j as f32, 100.0 + 5.0 * j as f32, 1.0];
                }
                f
            })
            .collect()
    }

    fn cfg(s: Smoothing) -> SpatialConfig {
        SpatialConfig { smoothing: s, wa: 8, wb: 24, jump_px: 10.0, period_th: 5.0 }
    }

    #[test]
    fn cubic_fit_recovers_a_cubic() {
        let u: Vec<f64> = (0..9).map(|i| i as f64 / 8.0).collect();
        let y: Vec<f64> = u.iter().map(|u| 1.0 - 2.0 * u + 0.5 * u * u + 3.0 * u * u * u).collect();
        let a = cubic_fit(&u, &y);
        for (got, want) in a.iter().zip([1.0, -2.0, 0.5, 3.0]) {
            assert!((got - want).abs() < 1e-8, "{a:?}");
        }
    }

    #[test]
    fn minimum_period_of_a_sine_and_none_for_a_ramp() {
        let d: Vec<f64> = (0..25).map(|i| 20.0 * (2.0 * std::f64::consts::PI * i as f64 / 6.0).sin()).collect();
        assert_eq!(minimum_period(&d, 5.0), 6);
        let r: Vec<f64> = (0..25).map(|i| i as f64 * 3.0).collect();
        assert_eq!(minimum_period(&r, 5.0), 0);
        assert_eq!(minimum_period(&[1.0; 10], 5.0), 0, "a still window has no period");
    }

    #[test]
    fn a_seam_jump_is_spread_and_the_window_ends_kept() {
        // A steady walk, then a 60 px jump at frame 40 (a seam), then a steady walk again.
        let xs: Vec<f32> = (0..80).map(|t| if t < 40 { 2.0 * t as f32 } else { 60.0 + 2.0 * t as f32 }).collect();
        let f = frames_from(&xs);
        let mut seams = vec![false; 80];
        seams[40] = true;
        for s in [Smoothing::Tsd, Smoothing::Linear] {
            let (out, rep) = smooth(&f, &seams, &cfg(s));
            assert_eq!(rep.discontinuous_before, 1);
            assert_eq!(rep.discontinuous_after, 0, "{s:?}: {rep:?}");
            assert_eq!(discontinuous(&out, 10.0), Vec::<usize>::new());
            // Far from the seam nothing moves.
            assert_eq!(out[..20], f[..20]);
            assert_eq!(out[70..], f[70..]);
        }
    }

    #[test]
    fn tsd_keeps_the_periodic_motion_that_linear_flattens() {
        // A joint swinging with period 6 (amplitude 8 px), with a 30 px jump at frame 60.
        let xs: Vec<f32> = (0..90).map(|t| 8.0 * (2.0 * std::f32::consts::PI * t as f32 / 6.0).sin() + if t >= 60 { 30.0 } else { 0.0 }).collect();
        let f = frames_from(&xs);
        // Not marked as a seam, so the one window [54, 66] is rebuilt and not widened.
        let seams = vec![false; 90];
        let mut c = cfg(Smoothing::Tsd);
        c.wa = 12;
        c.jump_px = 20.0;
        let (tsd, _) = smooth(&f, &seams, &c);
        c.smoothing = Smoothing::Linear;
        let (lin, _) = smooth(&f, &seams, &c);
        // Amplitude of the swing inside the rebuilt window, around the straight line.
        let swing = |fr: &[Frame]| {
            let (a, b) = (54usize, 66usize);
            (a + 1..b).map(|t| (fr[t][0][0] - (fr[a][0][0] + (fr[b][0][0] - fr[a][0][0]) * (t - a) as f32 / (b - a) as f32)).abs()).fold(0.0f32, f32::max)
        };
        assert!(swing(&lin) < 1e-3, "linear leaves no swing");
        assert!(swing(&tsd) > 4.0, "tsd keeps the swing: {}", swing(&tsd));
        assert!(discontinuous(&tsd, 20.0).is_empty());
    }

    #[test]
    fn real_fast_moves_inside_a_fragment_get_one_pass_only() {
        // A 40 px jump that is not a seam: one window, not widened.
        let xs: Vec<f32> = (0..60).map(|t| if t < 30 { 0.0 } else { 200.0 }).collect();
        let f = frames_from(&xs);
        let (_, rep) = smooth(&f, &vec![false; 60], &cfg(Smoothing::Linear));
        assert_eq!(rep.windows, 1);
        let mut seams = vec![false; 60];
        seams[30] = true;
        let (out, rep) = smooth(&f, &seams, &cfg(Smoothing::Linear));
        assert!(rep.windows > 1);
        assert!(rep.discontinuous_after < discontinuous(&f, 10.0).len() + 8);
        assert!(max_jump(&out[29], &out[30]) < 200.0);
    }

    #[test]
    fn replayed_windows_rebuild_the_same_frames_on_any_number_of_coordinates() {
        use crate::pose::motion::World3;
        let xs: Vec<f32> = (0..80).map(|t| if t < 40 { 2.0 * t as f32 } else { 60.0 + 2.0 * t as f32 }).collect();
        let f = frames_from(&xs);
        let mut seams = vec![false; 80];
        seams[40] = true;
        let (out, rep, ws) = smooth_windows(&f, &seams, &cfg(Smoothing::Tsd));
        assert_eq!(ws.len(), rep.windows);
        assert!(!ws.is_empty());
        let mut again = f.clone();
        replay::<Canvas2>(&mut again, &ws, &cfg(Smoothing::Tsd));
        assert_eq!(again, out, "the 2-D track replayed is the 2-D result");
        // A 3-D track (slot 2 a coordinate, not a confidence) with the same jump in z: spread too.
        let mut f3: Vec<Frame> = f.iter().map(|fr| std::array::from_fn(|j| [fr[j][0], fr[j][1], 0.5 * fr[j][0]])).collect();
        let before = f3.clone();
        replay::<World3>(&mut f3, &ws, &cfg(Smoothing::Tsd));
        let max_dz = (1..80).map(|t| (f3[t][0][2] - f3[t - 1][0][2]).abs()).fold(0.0f32, f32::max);
        assert!(max_dz < 10.0, "z jump spread: {max_dz}");
        assert_eq!(f3[..20], before[..20]);
        assert_eq!(f3[70..], before[70..]);
        for t in 0..80 {
            assert!((f3[t][0][0] - out[t][0][0]).abs() < 1e-3, "x follows the 2-D edit at {t}");
        }
    }

    #[test]
    fn none_changes_nothing() {
        let xs: Vec<f32> = (0..30).map(|t| if t < 15 { 0.0 } else { 50.0 }).collect();
        let f = frames_from(&xs);
        let (out, rep) = smooth(&f, &vec![false; 30], &cfg(Smoothing::None));
        assert_eq!(out, f);
        assert_eq!(rep.discontinuous_after, 1);
    }
}
