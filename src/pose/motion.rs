//! Motion helpers shared by the stages after `pose` (choreograph, align, eval): frame-to-frame
//! displacement, joint speed, Gaussian smoothing, choreo's stop detector, fragment seams, and
//! sub-frame sampling. They live here, below every stage that uses them, so imports run one way.

use super::skeleton3d::{Frame3, NUM_JOINTS3};
use super::{Frame, Provenance, Sequence, NUM_JOINTS};

/// choreo's smoothing of the speed curve for its own stop detector, in seconds (5 frames at 60 fps).
pub const SPEED_SMOOTH_SECS: f64 = 5.0 / 60.0;
/// Tolerance, in frames, within which a stop counts as on a beat (alignment and selection).
pub const ON_BEAT_FRAMES: f64 = 2.0;

/// Whether frame `b` continues frame `a` in the same source: same dance, source frame 0 to 3
/// ahead (a re-timed dance repeats or skips a source frame where it slows down or speeds up; a
/// new fragment starts at least a fragment away or goes back).
pub fn continues(a: &Provenance, b: &Provenance) -> bool {
    a.dance == b.dance && b.frame >= a.frame && b.frame <= a.frame + 3
}

/// Per frame: true when it starts a new fragment (its provenance does not [`continues`] the
/// previous frame's). All false without provenance.
pub fn seam_flags(seq: &Sequence) -> Vec<bool> {
    match &seq.provenance {
        Some(p) => (0..seq.len()).map(|t| t > 0 && !continues(&p[t - 1], &p[t])).collect(),
        None => vec![false; seq.len()],
    }
}

/// Seam frames whose frame-to-frame mean joint displacement exceeds the 99th percentile of the
/// same quantity inside fragments (the non-seam frames).
pub fn visible_seams(frames: &[Frame], seams: &[bool]) -> Vec<usize> {
    let disp: Vec<f32> = (1..frames.len()).map(|t| displacement(&frames[t - 1], &frames[t])).collect();
    let inside: Vec<f32> = (1..frames.len()).filter(|&t| !seams[t]).map(|t| disp[t - 1]).collect();
    let p99 = percentile(inside, 0.99);
    (1..frames.len()).filter(|&t| seams[t] && disp[t - 1] > p99).collect()
}

/// Mean over joints visible in both frames of the displacement, pixels.
pub fn displacement(a: &Frame, b: &Frame) -> f32 {
    let (mut s, mut n) = (0.0f32, 0usize);
    for (p, q) in a.iter().zip(b) {
        if p[2] > 0.0 && q[2] > 0.0 {
            s += ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        s / n as f32
    }
}

/// Mean joint speed per frame, pixels/frame: the central difference (t-1 → t+1, halved), so a
/// stop at frame t is a minimum at t; one-sided at the ends.
pub fn speed(frames: &[Frame]) -> Vec<f32> {
    let n = frames.len();
    if n < 2 {
        return vec![0.0; n];
    }
    (0..n)
        .map(|t| match t {
            0 => displacement(&frames[0], &frames[1]),
            t if t == n - 1 => displacement(&frames[n - 2], &frames[n - 1]),
            t => displacement(&frames[t - 1], &frames[t + 1]) / 2.0,
        })
        .collect()
}

/// Gaussian smoothing with σ in samples (edges reflected, as scipy's `gaussian_filter1d`).
pub fn gaussian(x: &[f32], sigma: f64) -> Vec<f32> {
    if sigma <= 0.0 || x.is_empty() {
        return x.to_vec();
    }
    let r = (4.0 * sigma).ceil() as i64;
    let w: Vec<f64> = (-r..=r).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f64 = w.iter().sum();
    let n = x.len() as i64;
    let at = |i: i64| x[reflect(i, n)] as f64;
    (0..n).map(|t| (w.iter().enumerate().map(|(k, wk)| wk * at(t + k as i64 - r)).sum::<f64>() / sum) as f32).collect()
}

/// Index `i` of a signal of length `n` (> 0) extended by mirroring, as scipy's `reflect` mode:
/// (d c b a | a b c d | d c b a).
pub fn reflect(mut i: i64, n: i64) -> usize {
    loop {
        if i < 0 {
            i = -i - 1;
        } else if i >= n {
            i = 2 * n - i - 1;
        } else {
            return i as usize;
        }
    }
}

/// choreo's stop detector: frames that are strict local minima of the Gaussian-smoothed
/// central-difference speed. Used by selection and alignment; the published kinematic beats
/// (Bailando's `calc_db`) are in `eval`.
pub fn stops(frames: &[Frame], fps: f64) -> Vec<usize> {
    let v = gaussian(&speed(frames), SPEED_SMOOTH_SECS * fps);
    (1..v.len().saturating_sub(1)).filter(|&t| v[t] < v[t - 1] && v[t] < v[t + 1]).collect()
}

pub(crate) fn percentile(mut v: Vec<f32>, p: f64) -> f32 {
    if v.is_empty() {
        return f32::INFINITY;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

/// How a track's 18 × 3 numbers per frame are read by the per-coordinate operations (sub-frame
/// sampling, TSD rebuilding): the 2-D COCO-18 [`Frame`] is x, y and a confidence that can mark a
/// joint missing ([`Canvas2`]); the 3-D [`Frame3`] is x, y, z, always present ([`World3`]). Both
/// frame types are `[[f32; 3]; 18]`, so the layout is a type parameter. One code path serves both
/// tracks, so the 3-D track gets exactly the edits the 2-D one gets.
pub trait Track {
    /// Coordinates per joint.
    const DIMS: usize;
    /// Whether slot 2 is a confidence (0 or below: missing).
    const CONF: bool;
    fn present(f: &Frame, j: usize) -> bool {
        !Self::CONF || f[j][2] > 0.0
    }
}

/// The 2-D track: x, y, confidence.
pub struct Canvas2;
impl Track for Canvas2 {
    const DIMS: usize = 2;
    const CONF: bool = true;
}

/// The 3-D track: x, y, z.
pub struct World3;
impl Track for World3 {
    const DIMS: usize = 3;
    const CONF: bool = false;
}

// Frame and Frame3 are the same array type; the layout types above tell them apart.
const _: () = assert!(NUM_JOINTS == NUM_JOINTS3);

/// A frame at fractional time `s`: Catmull–Rom over the four frames around it, per joint
/// coordinate; a joint missing in any of them is taken from the nearest frame.
pub fn sample(frames: &[Frame], s: f64) -> Frame {
    sample_track::<Canvas2>(frames, s)
}

/// [`sample`] of a 3-D track.
pub fn sample3(frames: &[Frame3], s: f64) -> Frame3 {
    sample_track::<World3>(frames, s)
}

/// [`sample`] for the layout `T`.
pub fn sample_track<T: Track>(frames: &[Frame], s: f64) -> Frame {
    let n = frames.len();
    let i1 = (s.floor() as usize).min(n - 1);
    let u = (s - i1 as f64) as f32;
    if u <= 1e-6 {
        return frames[i1];
    }
    let i0 = i1.saturating_sub(1);
    let i2 = (i1 + 1).min(n - 1);
    let i3 = (i1 + 2).min(n - 1);
    let mut out = [[0.0f32; 3]; NUM_JOINTS];
    for j in 0..NUM_JOINTS {
        let pts = [frames[i0][j], frames[i1][j], frames[i2][j], frames[i3][j]];
        if T::CONF && pts.iter().any(|p| p[2] <= 0.0) {
            out[j] = if u < 0.5 { frames[i1][j] } else { frames[i2][j] };
            continue;
        }
        for c in 0..T::DIMS {
            let (p0, p1, p2, p3) = (pts[0][c], pts[1][c], pts[2][c], pts[3][c]);
            out[j][c] = 0.5 * ((2.0 * p1) + (-p0 + p2) * u + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * u * u + (-p0 + 3.0 * p1 - 3.0 * p2 + p3) * u * u * u);
        }
        if T::CONF {
            out[j][2] = pts[1][2] + (pts[2][2] - pts[1][2]) * u;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_matches_scipy_reflect() {
        // scipy.ndimage.gaussian_filter1d([0,0,1,0,0], 1.0) = [0.05842299, 0.24210528, 0.39894347, 0.24210528, 0.05842299]
        let g = gaussian(&[0.0, 0.0, 1.0, 0.0, 0.0], 1.0);
        for (a, b) in g.iter().zip([0.05842299, 0.24210528, 0.39894347, 0.24210528, 0.05842299]) {
            assert!((a - b).abs() < 1e-6, "{g:?}");
        }
    }
}
