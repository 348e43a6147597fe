//! Temporal alignment, DanceIt Eq. 14–16: in a window of ωc frames around each music beat, take
//! a motion event — the frame of largest pose change (DanceIt, [`BeatEvent::Peak`]) or the
//! sudden stop that Lee et al. and the Beat Align Score count as a kinematic beat
//! ([`BeatEvent::Stop`]) — and re-time the frames so that event lands on the beat.
//!
//! The re-timing is a monotone time map from output frames to source time: anchors at the beats
//! (beat frame → event frame), the first and last frames fixed, a monotone cubic (Fritsch–Carlson)
//! between anchors, so the frames before and after each event are stretched or squeezed smoothly.
//! Poses are then read off the source at the mapped times by cubic (Catmull–Rom) interpolation of
//! every joint coordinate. Where a window holds several events, or anchors would conflict, the
//! events are chosen jointly by a small dynamic programme: many beats anchored, each with a
//! salient event, without running the motion backwards or changing its speed by more than
//! `max_stretch` (DanceIt takes the most salient event per window; choosing per window greedily
//! left 44 % of beats unanchored on our test songs). The output has as many frames as
//! the input.
//!
//! The motion event is found on the same speed curve the evaluation uses (mean joint speed,
//! Gaussian-smoothed as Bailando does), so "aligned" means the same thing to both.

use crate::pose::motion::{self, sample};
use crate::pose::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum BeatEvent {
    /// A local maximum of the motion speed (DanceIt's largest pose change).
    Peak,
    /// A local minimum of the motion speed (a kinematic beat: Lee et al., Bailando).
    Stop,
}

/// ωc, the search window around each beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeatWindow {
    /// The song's median beat interval ([`default_wc`]).
    Beat,
    /// A fixed number of frames.
    Frames(usize),
}

impl std::str::FromStr for BeatWindow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "beat" => Ok(BeatWindow::Beat),
            _ => s.parse().map(BeatWindow::Frames).map_err(|_| format!("expected 'beat' or a number of frames, got '{s}'")),
        }
    }
}

impl std::fmt::Display for BeatWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BeatWindow::Beat => write!(f, "beat"),
            BeatWindow::Frames(n) => write!(f, "{n}"),
        }
    }
}

/// What happens to the fragments' stops that fall between beats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OffBeat {
    /// Leave them as the fragments have them.
    Keep,
    /// Re-time through them (see [`carry_through`]); `pulse` is how much the motion swells
    /// between two stops (0 = even speed). Only with [`BeatEvent::Stop`].
    Smooth { pulse: f64 },
}

/// The kind of [`OffBeat`] without its pulse (a setting value: a pulse comes with `Smooth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum OffBeatStops {
    /// Re-time through the fragments' stops that fall between beats (within the largest stretch).
    Smooth,
    /// Leave them as the fragments have them.
    Keep,
}

impl OffBeat {
    /// `stops` with `pulse` (used only when smoothing).
    pub fn new(stops: OffBeatStops, pulse: f64) -> OffBeat {
        match stops {
            OffBeatStops::Smooth => OffBeat::Smooth { pulse },
            OffBeatStops::Keep => OffBeat::Keep,
        }
    }

    /// The pulse when smoothing.
    pub fn pulse(&self) -> Option<f64> {
        match self {
            OffBeat::Smooth { pulse } => Some(*pulse),
            OffBeat::Keep => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OffBeat::Keep => "keep",
            OffBeat::Smooth { .. } => "smooth",
        }
    }
}

/// The temporal pass's settings; with the `cli` feature, also the temporal flags of `dance` and
/// `align` (the doc comments are their help; `off_beat` is two flags there, `--off-beat-stops`
/// and `--pulse`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct TemporalConfig {
    /// ωc: search window around each beat, frames, or 'beat' for the song's beat interval.
    #[cfg_attr(feature = "cli", arg(long, default_value = "beat"))]
    pub wc: BeatWindow,
    /// Which motion event goes onto each beat.
    #[cfg_attr(feature = "cli", arg(long = "beat-event", value_name = "BEAT_EVENT", value_enum, default_value_t = TemporalConfig::default().event))]
    pub event: BeatEvent,
    /// Largest speed-up or slow-down of the re-timing (1.5 measured best of 1.25–3, tools/bench/dance.sh).
    // Of the time map (≥ 1).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TemporalConfig::default().max_stretch))]
    pub max_stretch: f64,
    #[cfg_attr(feature = "cli", arg(skip = TemporalConfig::DEFAULT_OFF_BEAT))]
    pub off_beat: OffBeat,
    // Above this tempo (beats per minute, from the median beat interval) the dance takes every
    // other beat (half time); `f64::INFINITY`: never.
    #[cfg_attr(feature = "cli", arg(skip = TemporalConfig::default().half_time_above_bpm))]
    pub half_time_above_bpm: f64,
}

impl Default for TemporalConfig {
    fn default() -> Self {
        TemporalConfig { wc: BeatWindow::Beat, event: BeatEvent::Stop, max_stretch: 1.5, off_beat: Self::DEFAULT_OFF_BEAT, half_time_above_bpm: f64::INFINITY }
    }
}

/// The beats a dance is aligned to (frames): all of them, or every other one (from the first)
/// when the median beat interval means a tempo above `above_bpm`.
pub fn dance_beats(beat_frames: &[f64], fps: f64, above_bpm: f64) -> Vec<f64> {
    let mut d: Vec<f64> = beat_frames.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).collect();
    if d.is_empty() {
        return beat_frames.to_vec();
    }
    d.sort_by(|a, b| a.total_cmp(b));
    let bpm = 60.0 * fps / d[d.len() / 2];
    if bpm > above_bpm {
        beat_frames.iter().step_by(2).copied().collect()
    } else {
        beat_frames.to_vec()
    }
}

impl TemporalConfig {
    /// Off-beat stops are smoothed by default, with this pulse.
    pub const DEFAULT_OFF_BEAT: OffBeat = OffBeat::Smooth { pulse: 1.0 };

    pub fn validate(&self) -> Result<(), super::AlignError> {
        let bad = |name: &'static str, reason: String| Err(super::AlignError { name, reason });
        if let BeatWindow::Frames(wc) = self.wc {
            if wc < 2 {
                return bad("wc", format!("must be at least 2 frames (or the beat interval), got {wc}"));
            }
        }
        if let OffBeat::Smooth { pulse } = self.off_beat {
            if !(pulse.is_finite() && (0.0..=2.0).contains(&pulse)) {
                return bad("pulse", format!("must be between 0 and 2, got {pulse}"));
            }
        }
        if !(self.half_time_above_bpm > 0.0) {
            return bad("half_time_above_bpm", format!("must be a positive tempo, got {}", self.half_time_above_bpm));
        }
        if !(self.max_stretch.is_finite() && self.max_stretch >= 1.0) {
            return bad("max_stretch", format!("must be at least 1, got {}", self.max_stretch));
        }
        Ok(())
    }
}

/// What the temporal pass did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TemporalReport {
    pub wc: usize,
    pub beats: usize,
    /// Beats that got an event moved onto them.
    pub anchored: usize,
    /// Mean |event − beat| before alignment over anchored beats, frames.
    pub mean_shift_frames: f64,
    /// Off-beat stops the time map sped through (0 with [`OffBeat::Keep`]).
    pub off_beat_stops_smoothed: usize,
    /// Mean |rate − 1| of the time map over frames: how much the re-timing changed the speed.
    pub mean_rate_change: f64,
}

/// The ωc used for `beat_frames` with [`BeatWindow::Beat`]: the median beat interval, at least 2.
pub fn default_wc(beat_frames: &[f64]) -> usize {
    let mut d: Vec<f64> = beat_frames.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).collect();
    if d.is_empty() {
        return 12;
    }
    d.sort_by(|a, b| a.total_cmp(b));
    (d[d.len() / 2].round() as usize).max(2)
}

/// Events of the requested kind on the smoothed speed curve: strict local extrema.
pub fn events(speed: &[f32], kind: BeatEvent) -> Vec<usize> {
    (1..speed.len().saturating_sub(1))
        .filter(|&t| match kind {
            BeatEvent::Stop => speed[t] < speed[t - 1] && speed[t] < speed[t + 1],
            BeatEvent::Peak => speed[t] > speed[t - 1] && speed[t] > speed[t + 1],
        })
        .collect()
}

/// Re-times `frames` (at `fps`) so motion events fall on `beats` (seconds from frame 0). Returns
/// the new frames, the source time (in frames) each one was read from, and the report.
pub fn align(frames: &[Frame], fps: f64, beats: &[f64], cfg: &TemporalConfig) -> (Vec<Frame>, Vec<f64>, TemporalReport) {
    let n = frames.len();
    let identity: Vec<f64> = (0..n).map(|t| t as f64).collect();
    let all: Vec<f64> = beats.iter().map(|b| b * fps).filter(|b| *b > 0.0 && *b < (n - 1) as f64).collect();
    let beat_frames = dance_beats(&all, fps, cfg.half_time_above_bpm);
    let wc = match cfg.wc {
        BeatWindow::Beat => default_wc(&beat_frames),
        BeatWindow::Frames(n) => n,
    };
    let mut report = TemporalReport { wc, beats: beat_frames.len(), ..Default::default() };
    if n < 4 || beat_frames.is_empty() {
        return (frames.to_vec(), identity, report);
    }
    let raw_speed = motion::speed(frames);
    let speed = motion::gaussian(&raw_speed, motion::SPEED_SMOOTH_SECS * fps);
    let ev = events(&speed, cfg.event);
    let half = wc as f64 / 2.0;
    // Eq. 14 gives each beat the events in its window [b − ωc/2, b + ωc/2]. Which beats get one is
    // chosen jointly: the most beats anchored such that consecutive anchors (and the first and last
    // frames) keep the time map monotone and within `max_stretch`, then the smallest shifts.
    let cands: Vec<Vec<usize>> = beat_frames.iter().map(|&b| ev.iter().copied().filter(|&e| (e as f64 - b).abs() <= half).collect()).collect();
    let end = ((n - 1) as f64, (n - 1) as f64);
    // Salience of an event in 0..1 against the fastest motion in its window: 1 = a full stop
    // (Stop) or the window's fastest frame (Peak).
    let salience: Vec<Vec<f64>> = beat_frames
        .iter()
        .zip(&cands)
        .map(|(&b, cs)| {
            let lo = (b - half).floor().max(0.0) as usize;
            let hi = ((b + half).ceil() as usize).min(n - 1);
            let vmax = speed[lo..=hi].iter().cloned().fold(0.0f32, f32::max).max(1e-6) as f64;
            cs.iter()
                .map(|&e| match cfg.event {
                    BeatEvent::Stop => 1.0 - speed[e] as f64 / vmax,
                    BeatEvent::Peak => speed[e] as f64 / vmax,
                })
                .collect()
        })
        .collect();
    let anchors = choose_anchors(&beat_frames, &cands, &salience, end, cfg.max_stretch);
    let shift: f64 = anchors.iter().map(|a| (a.1 - a.0).abs()).sum();
    let mut anchors: Vec<(f64, f64)> = std::iter::once((0.0, 0.0)).chain(anchors).collect();
    anchors.push(end);
    report.anchored = anchors.len() - 2;
    report.mean_shift_frames = if report.anchored > 0 { shift / report.anchored as f64 } else { 0.0 };
    let xs: Vec<f64> = anchors.iter().map(|a| a.0).collect();
    let ys: Vec<f64> = anchors.iter().map(|a| a.1).collect();
    let src: Vec<f64> = if let (OffBeat::Smooth { pulse }, BeatEvent::Stop) = (cfg.off_beat, cfg.event) {
        // The fill works on a finer speed curve than the evaluation's (σ = 1 frame, not 2): the
        // evaluation smooths the re-timed motion, and a dip narrower than its kernel survives a
        // fill computed on the wider curve (measured: hit rate 0.71 with σ = 2 frames, 0.79 with 1).
        let fine = motion::gaussian(&raw_speed, 1.0);
        let (src, smoothed) = carry_through(&fine, &xs, &ys, &beat_frames, cfg.max_stretch, pulse);
        report.off_beat_stops_smoothed = smoothed;
        src
    } else {
        (0..n).map(|t| pchip(&xs, &ys, t as f64).clamp(0.0, (n - 1) as f64)).collect()
    };
    report.mean_rate_change = src.windows(2).map(|w| (w[1] - w[0] - 1.0).abs()).sum::<f64>() / (n - 1) as f64;
    let out = src.iter().map(|&s| sample(frames, s)).collect();
    (out, src, report)
}

/// Grid steps per frame of the time map in [`carry_through`].
const SUB: usize = 8;

/// Re-times through the stops that fall between beats. The anchored time map (`xs` → `ys`) puts
/// a stop on each anchored beat, but the fragments also stop where their own music had beats,
/// and those stops now fall between ours (on the bench songs 37 % of kinematic beats missed every
/// music beat, most of them shallow dips of the speed curve). Between two anchors, the output
/// speed as a function of source position, `U(s) = v(s)·ds/dt`, is raised to its unimodal upper
/// envelope `E` (it rises to one peak, then falls), so the only minima left are the anchors, the
/// dips within `HIT_FRAMES` of a free beat and the dips deeper than `fill_limit` (real holds);
/// the new map runs at `ds/dt = k·E/v`, with `k` chosen so the interval still ends at the next
/// anchor, and never faster or slower than `max_stretch` × real time. A filled dip leaves a flat
/// stretch where motion-capture jitter makes new shallow minima, so each piece of `E` is tilted:
/// × (1 + `pulse`) at its peak, falling linearly to × 1 at its ends (the motion swells between
/// stops). Dips that would need more than `max_stretch` to fill are real holds and stay.
/// Returns the source time of each output frame and how many off-beat dips were filled.
fn carry_through(speed: &[f32], xs: &[f64], ys: &[f64], beats: &[f64], max_stretch: f64, pulse: f64) -> (Vec<f64>, usize) {
    let n = speed.len();
    let last = (n - 1) as f64;
    let h = 1.0 / SUB as f64;
    let m = (n - 1) * SUB + 1;
    let v_at = |s: f64| -> f64 {
        let s = s.clamp(0.0, last);
        let i = (s.floor() as usize).min(n - 2);
        let u = s - i as f64;
        (speed[i] as f64 * (1.0 - u) + speed[i + 1] as f64 * u).max(1e-9)
    };
    // The anchored map on the output grid, then its inverse t0(s) on the source grid.
    let s0: Vec<f64> = (0..m).map(|i| pchip(xs, ys, i as f64 * h).clamp(0.0, last)).collect();
    let t_of = invert(&s0, h, (0..m).map(|j| j as f64 * h));
    // Per source step j (s_j → s_j+1): its output duration, and the output speed there.
    let mut dt: Vec<f64> = t_of.windows(2).map(|w| (w[1] - w[0]).max(1e-9)).collect();
    let v: Vec<f64> = (0..m - 1).map(|j| v_at((j as f64 + 0.5) * h)).collect();
    let u: Vec<f64> = (0..m - 1).map(|j| v[j] * h / dt[j]).collect();
    let near_beat = |j: usize| beats.iter().any(|b| (b - t_of[j]).abs() <= motion::ON_BEAT_FRAMES);
    let mut filled = 0usize;
    for w in ys.windows(2) {
        let a = ((w[0] / h).round() as usize).min(m - 1);
        let b = ((w[1] / h).round() as usize).min(m - 1);
        if b <= a + 2 {
            continue;
        }
        let span: f64 = dt[a..b].iter().sum();
        let envelope = |cuts: &[usize]| unimodal_envelope(&u, a, b, cuts);
        let dips: Vec<usize> = (a + 1..b - 1).filter(|&j| u[j] < u[j - 1] && u[j] <= u[j + 1]).collect();
        let mut cuts: Vec<usize> = std::iter::once(a).chain(dips.iter().copied().filter(|&j| near_beat(j))).chain(std::iter::once(b)).collect();
        let mut env = envelope(&cuts);
        // A dip that would need more than `max_stretch` to fill is a real hold: it stays, and
        // splits the envelope.
        let deep: Vec<usize> = dips.iter().copied().filter(|&j| !near_beat(j) && env[j - a] > max_stretch * u[j]).collect();
        if !deep.is_empty() {
            cuts.extend(&deep);
            cuts.sort_unstable();
            env = envelope(&cuts);
        }
        // Dips the fill removes, counting only measurable ones (1 % below the envelope): on a
        // still body every float wobble is a strict minimum.
        let removed = dips.iter().filter(|&&j| !cuts.contains(&j) && env[j - a] > 1.01 * u[j]).count();
        // A filled dip leaves a plateau, and on a plateau any jitter is a new minimum: tilt each
        // piece so it rises strictly to its peak and falls strictly after it (by `pulse`).
        tilt(&mut env, a, &cuts, pulse);
        if fit_durations(&mut dt[a..b], &env, &v[a..b], h, span, max_stretch) {
            filled += removed;
        }
    }
    // New t(s) from the durations, inverted at the output frames.
    let mut t_new = vec![0.0f64; m];
    for j in 1..m {
        t_new[j] = t_new[j - 1] + dt[j - 1];
    }
    let out = invert(&t_new, h, (0..n).map(|t| t as f64)).into_iter().map(|s| s.min(last)).collect();
    (out, filled)
}

/// Over source steps `a..b`, the unimodal envelope of `u` between consecutive `cuts`: on each
/// piece, the running maximum from the left, capped by the running maximum from the right.
fn unimodal_envelope(u: &[f64], a: usize, b: usize, cuts: &[usize]) -> Vec<f64> {
    let mut env = vec![0.0f64; b - a];
    for c in cuts.windows(2) {
        let mut run = 0.0f64;
        for j in c[0]..c[1] {
            run = run.max(u[j]);
            env[j - a] = run;
        }
        run = 0.0;
        for j in (c[0]..c[1]).rev() {
            run = run.max(u[j]);
            env[j - a] = env[j - a].min(run);
        }
    }
    env
}

/// Tilts each piece of `env` (it starts at step `a`) between consecutive `cuts` so it rises
/// strictly to its peak and falls strictly after it, by `pulse` at the peak.
fn tilt(env: &mut [f64], a: usize, cuts: &[usize], pulse: f64) {
    for c in cuts.windows(2) {
        let (p, q) = (c[0], c[1]);
        let peak = (p..q).max_by(|&x, &y| env[x - a].total_cmp(&env[y - a])).unwrap_or(p);
        for j in p..q {
            let tri = if j <= peak { (j - p) as f64 / (peak - p).max(1) as f64 } else { (q - j) as f64 / (q - peak) as f64 };
            env[j - a] *= 1.0 + pulse * tri;
        }
    }
}

/// New durations `dt` of one interval's source steps (each `h` of source) so the output speed
/// follows `ds/dt = k·env/v` within the stretch limits and the steps still add up to `span`.
/// False (and `dt` untouched) when the limits cannot meet the interval.
fn fit_durations(dt: &mut [f64], env: &[f64], v: &[f64], h: f64, span: f64, max_stretch: f64) -> bool {
    // The interval's duration falls as k grows: bisect k on a log scale.
    let step = |j: usize, k: f64| -> f64 { h / (k * env[j] / v[j]).clamp(1.0 / max_stretch, max_stretch) };
    let total = |k: f64| -> f64 { (0..dt.len()).map(|j| step(j, k)).sum() };
    let (mut kl, mut kh) = (1e-6, 1e6);
    if total(kl) < span || total(kh) > span {
        return false;
    }
    for _ in 0..80 {
        let k = (kl * kh).sqrt();
        if total(k) > span {
            kl = k;
        } else {
            kh = k;
        }
    }
    let k = (kl * kh).sqrt();
    let got = total(k);
    for (j, d) in dt.iter_mut().enumerate() {
        *d = step(j, k) * span / got;
    }
    true
}

/// The inverse of a non-decreasing function sampled on a grid of step `h` (`values[i]` at `i·h`),
/// at increasing `targets`, linear within a step; targets outside the range clamp to its ends.
fn invert(values: &[f64], h: f64, targets: impl Iterator<Item = f64>) -> Vec<f64> {
    let m = values.len();
    let mut i = 0usize;
    targets
        .map(|y| {
            while i + 2 < m && values[i + 1] < y {
                i += 1;
            }
            let (a, b) = (values[i], values[(i + 1).min(m - 1)]);
            let f = if b > a { ((y - a) / (b - a)).clamp(0.0, 1.0) } else { 0.0 };
            (i as f64 + f) * h
        })
        .collect()
}

fn stretch_ok(a: (f64, f64), b: (f64, f64), max_stretch: f64) -> bool {
    let (dt, ds) = (b.0 - a.0, b.1 - a.1);
    dt > 0.0 && ds > 0.0 && ds / dt <= max_stretch && dt / ds <= max_stretch
}

/// Dynamic programme over beats: state (beat k, its event c); an anchor scores 1 + its salience
/// − 0.01·|shift| (so more anchors first, then the most salient event, as Eq. 14's argmax);
/// its predecessor is the start (0, 0) or an anchor at any earlier beat (beats in between stay
/// free), and every consecutive pair must pass `stretch_ok`, as must the last anchor and `end`.
/// O(beats² · events per window²).
fn choose_anchors(beats: &[f64], cands: &[Vec<usize>], salience: &[Vec<f64>], end: (f64, f64), max_stretch: f64) -> Vec<(f64, f64)> {
    let score = |k: usize, c: usize| 1.0 + salience[k][c] - 0.01 * (cands[k][c] as f64 - beats[k]).abs();
    let pt = |k: usize, c: usize| (beats[k], cands[k][c] as f64);
    // best[k][c] = (total, predecessor (k', c') or None for the start)
    let mut best: Vec<Vec<(f64, Option<(usize, usize)>)>> = Vec::with_capacity(beats.len());
    for k in 0..beats.len() {
        let mut row = Vec::with_capacity(cands[k].len());
        for c in 0..cands[k].len() {
            let p = pt(k, c);
            let mut top: (f64, Option<(usize, usize)>) = (f64::NEG_INFINITY, None);
            if stretch_ok((0.0, 0.0), p, max_stretch) {
                top = (score(k, c), None);
            }
            for k2 in 0..k {
                for (c2, &(v, _)) in best[k2].iter().enumerate() {
                    if v.is_finite() && v + score(k, c) > top.0 && stretch_ok(pt(k2, c2), p, max_stretch) {
                        top = (v + score(k, c), Some((k2, c2)));
                    }
                }
            }
            row.push(top);
        }
        best.push(row);
    }
    let mut last: Option<(usize, usize)> = None;
    let mut top = 0.0;
    for (k, row) in best.iter().enumerate() {
        for (c, &(v, _)) in row.iter().enumerate() {
            if v.is_finite() && v > top && stretch_ok(pt(k, c), end, max_stretch) {
                top = v;
                last = Some((k, c));
            }
        }
    }
    let mut out = Vec::new();
    while let Some((k, c)) = last {
        out.push(pt(k, c));
        last = best[k][c].1;
    }
    out.reverse();
    out
}

/// Monotone cubic (Fritsch–Carlson) interpolation through strictly increasing `xs`.
pub fn pchip(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let n = xs.len();
    if n == 1 {
        return ys[0];
    }
    let k = match xs.iter().position(|&v| v > x) {
        Some(0) => 0,
        Some(i) => i - 1,
        None => n - 2,
    };
    let slope = |i: usize| (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]);
    let tangent = |i: usize| -> f64 {
        if i == 0 {
            return slope(0);
        }
        if i == n - 1 {
            return slope(n - 2);
        }
        let (d0, d1) = (slope(i - 1), slope(i));
        if d0 * d1 <= 0.0 {
            return 0.0;
        }
        let (h0, h1) = (xs[i] - xs[i - 1], xs[i + 1] - xs[i]);
        let (w1, w2) = (2.0 * h1 + h0, h1 + 2.0 * h0);
        (w1 + w2) / (w1 / d0 + w2 / d1)
    };
    let h = xs[k + 1] - xs[k];
    let t = ((x - xs[k]) / h).clamp(0.0, 1.0);
    let (m0, m1) = (tangent(k) * h, tangent(k + 1) * h);
    let (t2, t3) = (t * t, t * t * t);
    (2.0 * t3 - 3.0 * t2 + 1.0) * ys[k] + (t3 - 2.0 * t2 + t) * m0 + (-2.0 * t3 + 3.0 * t2) * ys[k + 1] + (t3 - t2) * m1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_time_takes_every_other_beat_above_the_tempo_only() {
        // 180 BPM at 24 fps: a beat every 8 frames.
        let fast: Vec<f64> = (0..10).map(|k| 4.0 + 8.0 * k as f64).collect();
        assert_eq!(dance_beats(&fast, 24.0, 150.0), vec![4.0, 20.0, 36.0, 52.0, 68.0]);
        assert_eq!(dance_beats(&fast, 24.0, 200.0), fast);
        assert_eq!(dance_beats(&fast, 24.0, f64::INFINITY), fast);
        assert_eq!(dance_beats(&[3.0], 24.0, 1.0), vec![3.0]);
        let bad = TemporalConfig { half_time_above_bpm: f64::NAN, ..TemporalConfig::default() };
        assert_eq!(bad.validate().unwrap_err().name, "half_time_above_bpm");
    }
    use crate::pose::NUM_JOINTS;

    /// A body whose every joint moves along x with the given speed profile (px/frame).
    fn moving(speeds: &[f32]) -> Vec<Frame> {
        let mut x = 0.0f32;
        speeds
            .iter()
            .map(|v| {
                x += v;
                let mut f = [[0.0f32; 3]; NUM_JOINTS];
                for (j, p) in f.iter_mut().enumerate() {
                    *p = [x + j as f32, 10.0 * j as f32, 1.0];
                }
                f
            })
            .collect()
    }

    #[test]
    fn pchip_interpolates_and_stays_monotone() {
        let xs = [0.0, 10.0, 20.0, 30.0];
        let ys = [0.0, 14.0, 17.0, 30.0];
        assert!((pchip(&xs, &ys, 10.0) - 14.0).abs() < 1e-9);
        let mut prev = -1.0;
        for i in 0..=300 {
            let v = pchip(&xs, &ys, i as f64 / 10.0);
            assert!(v >= prev - 1e-12);
            prev = v;
        }
    }

    #[test]
    fn catmull_rom_hits_frames_and_follows_a_line() {
        let f = moving(&[3.0; 10]);
        assert_eq!(sample(&f, 4.0), f[4]);
        let m = sample(&f, 4.5);
        assert!((m[0][0] - (f[4][0][0] + f[5][0][0]) / 2.0).abs() < 1e-4);
    }

    #[test]
    fn stops_move_onto_the_beats() {
        // Speed dips (stops) every 12 frames starting at frame 8; beats every 12 frames from 12.
        let fps = 24.0;
        let speeds: Vec<f32> = (0..120).map(|t| if (t as i32 - 8).rem_euclid(12) == 0 { 0.5 } else { 6.0 + ((t % 5) as f32) * 0.01 }).collect();
        let f = moving(&speeds);
        let beats: Vec<f64> = (1..9).map(|k| (12 * k) as f64 / fps).collect();
        let before = motion::stops(&f, fps);
        let cfg = TemporalConfig { wc: BeatWindow::Beat, event: BeatEvent::Stop, max_stretch: 2.0, off_beat: OffBeat::Keep, ..TemporalConfig::default() };
        let (out, src, rep) = align(&f, fps, &beats, &cfg);
        assert_eq!(out.len(), f.len());
        assert_eq!(rep.wc, 12);
        assert!(rep.anchored >= 6, "{rep:?}");
        assert!(src.windows(2).all(|w| w[1] >= w[0]), "time map is monotone");
        let after = motion::stops(&out, fps);
        let near = |ks: &[usize]| beats.iter().filter(|b| ks.iter().any(|&k| (k as f64 - *b * fps).abs() <= 1.0)).count();
        assert!(near(&after) > near(&before), "before {before:?} after {after:?}");
        assert!(near(&after) >= 6, "{after:?}");
    }

    #[test]
    fn off_beat_dips_are_carried_through_within_the_stretch_limit() {
        // Full stops (3 frames) every 24 frames from frame 20, and a shallow dip (speed × 0.75 for
        // 3 frames) halfway between them, which no beat wants; beats every 24 frames from 24.
        let fps = 24.0;
        let speeds: Vec<f32> = (0..240)
            .map(|t| {
                let base = match (t as i32 - 20).rem_euclid(24) {
                    0 | 1 | 23 => 0.5,
                    11..=13 => 4.5,
                    _ => 6.0,
                };
                base + (t % 7) as f32 * 0.01
            })
            .collect();
        let f = moving(&speeds);
        let beats: Vec<f64> = (1..10).map(|k| (24 * k) as f64 / fps).collect();
        let off_beat = |out: &[Frame]| motion::stops(out, fps).into_iter().filter(|&k| !beats.iter().any(|b| (k as f64 - b * fps).abs() <= 2.0)).count();
        let keep = TemporalConfig { wc: BeatWindow::Beat, event: BeatEvent::Stop, max_stretch: 1.5, off_beat: OffBeat::Keep, ..TemporalConfig::default() };
        let (kept, _, rk) = align(&f, fps, &beats, &keep);
        let (smoothed, src, rs) = align(&f, fps, &beats, &TemporalConfig { off_beat: OffBeat::Smooth { pulse: 0.3 }, ..keep });
        assert_eq!(rk.anchored, rs.anchored);
        assert!(rs.off_beat_stops_smoothed >= 6, "{rs:?}");
        assert!(off_beat(&kept) >= 8, "the dips survive plain re-timing: {}", off_beat(&kept));
        assert!(off_beat(&smoothed) <= 1, "{} off-beat stops left", off_beat(&smoothed));
        for w in src.windows(2) {
            let d = w[1] - w[0];
            assert!(d > 1.0 / 1.5 - 0.02 && d < 1.5 + 0.02, "stretch {d}");
        }
        // The stops still land on the beats.
        let on = motion::stops(&smoothed, fps).into_iter().filter(|&k| beats.iter().any(|b| (k as f64 - b * fps).abs() <= 2.0)).count();
        assert!(on >= 8, "{on}");
    }

    #[test]
    fn a_still_body_survives_the_fill() {
        // No motion at all (a frozen or lost dancer): no events, no stops to carry, no panic.
        let f = moving(&[0.0; 60]);
        let beats: Vec<f64> = (1..5).map(|k| k as f64 * 0.5).collect();
        let cfg = TemporalConfig { wc: BeatWindow::Beat, event: BeatEvent::Stop, max_stretch: 1.5, off_beat: OffBeat::Smooth { pulse: 0.3 }, ..TemporalConfig::default() };
        let (out, src, rep) = align(&f, 24.0, &beats, &cfg);
        assert_eq!(out.len(), 60);
        assert!(src.iter().all(|s| s.is_finite()));
        assert_eq!(rep.off_beat_stops_smoothed, 0);
    }

    #[test]
    fn no_beats_changes_nothing() {
        let f = moving(&[2.0; 30]);
        let cfg = TemporalConfig { wc: BeatWindow::Frames(8), event: BeatEvent::Peak, max_stretch: 2.0, off_beat: OffBeat::Keep, ..TemporalConfig::default() };
        let (out, _, rep) = align(&f, 24.0, &[], &cfg);
        assert_eq!(out, f);
        assert_eq!(rep.anchored, 0);
    }
}
