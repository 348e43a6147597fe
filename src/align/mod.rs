//! Alignment stage: a stitched pose sequence and the song's beats in, a smoothed, beat-aligned
//! sequence out. [`spatial`] (DanceIt Algorithm 1) removes the jumps at seams, then [`temporal`]
//! (Eq. 14–16) moves motion events onto the beats.

pub mod spatial;
pub mod temporal;

use serde::Serialize;

pub use spatial::{Smoothing, SpatialConfig, SpatialReport};
pub use temporal::{BeatEvent, TemporalConfig, TemporalReport};

use crate::pose::normalize::body_height;
use crate::pose::Sequence;

/// The default discontinuity threshold as a fraction of the dance's nose-to-feet height: the 99th
/// percentile of the largest single-joint move per frame in the Tang2018 dances at 24 fps
/// (`cargo test --release --test integration jump_threshold -- --nocapture` prints it). DanceIt's
/// 10 px at 512² flags 20 % of real frames on this corpus; this flags 1 %.
pub const JUMP_BODY_FRACTION: f32 = 0.10;

/// Every knob of `choreo align` (and of the alignment inside `choreo dance`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignConfig {
    pub smoothing: Smoothing,
    pub wa: usize,
    pub wb: usize,
    /// None: `JUMP_BODY_FRACTION` × the sequence's body height.
    pub jump_px: Option<f32>,
    pub period_th: f32,
    /// Temporal alignment on or off.
    pub temporal: bool,
    pub wc: Option<usize>,
    pub event: BeatEvent,
    pub max_stretch: f64,
    /// Re-time through stops that fall between beats (`--off-beat-stops smooth`).
    pub smooth_off_beat: bool,
    /// Swell of the motion between stops when smoothing them (`--pulse`).
    pub pulse: f64,
}

impl Default for AlignConfig {
    fn default() -> Self {
        AlignConfig { smoothing: Smoothing::Tsd, wa: 8, wb: 24, jump_px: None, period_th: 5.0, temporal: true, wc: None, event: BeatEvent::Stop, max_stretch: 1.5, smooth_off_beat: true, pulse: 0.3 }
    }
}

impl AlignConfig {
    /// Checks the windows; the error names the flag.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |m: String| Err(crate::Error::Invalid(m));
        if self.wa < 2 {
            return bad(format!("--wa must be at least 2 frames, got {}", self.wa));
        }
        if self.wa > self.wb {
            return bad(format!("--wa {} is larger than --wb {}: the reference span ωb must hold at least one window of ωa frames", self.wa, self.wb));
        }
        if let Some(wc) = self.wc {
            if wc < 2 {
                return bad(format!("--wc must be at least 2 frames (or 'beat'), got {wc}"));
            }
        }
        if let Some(j) = self.jump_px {
            if !(j.is_finite() && j > 0.0) {
                return bad(format!("--jump-px must be positive, got {j}"));
            }
        }
        if !(self.period_th.is_finite() && self.period_th > 0.0) {
            return bad(format!("--period-th must be positive, got {}", self.period_th));
        }
        if !(self.pulse.is_finite() && (0.0..=2.0).contains(&self.pulse)) {
            return bad(format!("--pulse must be between 0 and 2, got {}", self.pulse));
        }
        if !(self.max_stretch.is_finite() && self.max_stretch >= 1.0) {
            return bad(format!("--max-stretch must be at least 1, got {}", self.max_stretch));
        }
        Ok(())
    }

    /// The threshold in pixels for `seq`.
    pub fn jump_for(&self, seq: &Sequence) -> f32 {
        self.jump_px.unwrap_or_else(|| default_jump_px(seq))
    }
}

/// `JUMP_BODY_FRACTION` × the median nose-to-feet height (300 px when unknown).
pub fn default_jump_px(seq: &Sequence) -> f32 {
    JUMP_BODY_FRACTION * body_height(seq).unwrap_or(300.0)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlignReport {
    pub jump_px: f32,
    pub spatial: SpatialReport,
    pub temporal: Option<TemporalReport>,
}

pub use crate::eval::seam_flags;

/// Spatial then temporal alignment. `beats` are seconds from frame 0; with none, the temporal
/// pass is skipped (the caller warns).
pub fn align(seq: &Sequence, beats: &[f64], cfg: &AlignConfig) -> crate::Result<(Sequence, AlignReport)> {
    cfg.validate()?;
    let jump_px = cfg.jump_for(seq);
    let seams = seam_flags(seq);
    let scfg = SpatialConfig { smoothing: cfg.smoothing, wa: cfg.wa, wb: cfg.wb, jump_px, period_th: cfg.period_th };
    let (frames, spatial) = spatial::smooth(&seq.frames, &seams, &scfg);
    let mut out = Sequence { frames, ..seq.clone() };
    let mut report = AlignReport { jump_px, spatial, temporal: None };
    if cfg.temporal && !beats.is_empty() {
        let tcfg = TemporalConfig { wc: cfg.wc, event: cfg.event, max_stretch: cfg.max_stretch, smooth_off_beat: cfg.smooth_off_beat, pulse: cfg.pulse };
        let (frames, src, rep) = temporal::align(&out.frames, seq.fps, beats, &tcfg);
        out.frames = frames;
        if let Some(p) = &seq.provenance {
            out.provenance = Some(src.iter().map(|&s| p[(s.round() as usize).min(p.len() - 1)].clone()).collect());
        }
        // Re-timing can speed a smoothed seam up past the motion around it: touch those up.
        let seams = seam_flags(&out);
        report.spatial.windows += spatial::touch_up(&mut out.frames, &seams, &scfg);
        report.temporal = Some(rep);
    }
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contradictory_windows_name_the_flag() {
        let e = |c: AlignConfig| c.validate().unwrap_err().to_string();
        assert!(e(AlignConfig { wa: 32, wb: 24, ..Default::default() }).contains("--wa 32 is larger than --wb 24"));
        assert!(e(AlignConfig { wc: Some(1), ..Default::default() }).contains("--wc"));
        assert!(e(AlignConfig { jump_px: Some(f32::NAN), ..Default::default() }).contains("--jump-px"));
        assert!(e(AlignConfig { period_th: 0.0, ..Default::default() }).contains("--period-th"));
        assert!(e(AlignConfig { pulse: -0.1, ..Default::default() }).contains("--pulse"));
        assert!(AlignConfig::default().validate().is_ok());
    }
}
