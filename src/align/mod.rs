//! Alignment stage: a stitched pose sequence and the song's beats in, a smoothed, beat-aligned
//! sequence out. [`spatial`] (DanceIt Algorithm 1) removes the jumps at seams, then [`temporal`]
//! (Eq. 14–16) moves motion events onto the beats.
//!
//! Both passes decide on the 2-D track; a 3-D track (`Sequence::joints3d`) gets the same edits:
//! the same TSD windows rebuilt in the same order ([`spatial::replay`]) and the same time map
//! (each output frame samples the same source time).

pub mod spatial;
pub mod temporal;

use serde::Serialize;

pub use spatial::{Smoothing, SpatialConfig, SpatialReport};
pub use temporal::{BeatEvent, BeatWindow, OffBeat, OffBeatStops, TemporalConfig, TemporalReport};

use crate::pose::normalize::body_height;
use crate::pose::Sequence;

/// The default discontinuity threshold as a fraction of the dance's nose-to-feet height: the 99th
/// percentile of the largest single-joint move per frame in the Tang2018 dances at 24 fps
/// (`cargo test --release --test integration jump_threshold -- --nocapture` prints it). DanceIt's
/// 10 px at 512² flags 20 % of real frames on this corpus; this flags 1 %.
pub const JUMP_BODY_FRACTION: f32 = 0.10;

/// A setting out of range (the alignment's name for the crate's [`SettingError`]).
pub use crate::units::SettingError as AlignError;

/// The spatial pass's settings (DanceIt Algorithm 1); with the `cli` feature, also the spatial
/// flags of `dance` and `align` (the doc comments are their help).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct SpatialSettings {
    /// Spatial smoothing of discontinuous frames.
    #[cfg_attr(feature = "cli", arg(long = "spatial", value_name = "SPATIAL", value_enum, default_value_t = SpatialSettings::default().smoothing))]
    pub smoothing: Smoothing,
    /// ωa: abnormal window and reference step, frames.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = SpatialSettings::default().wa))]
    pub wa: usize,
    /// ωb: reference frames before the window (≥ ωa).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = SpatialSettings::default().wb))]
    pub wb: usize,
    /// Discontinuity threshold in pixels [default: 10 % of the dance's nose-to-feet height, the 99th
    /// percentile of real single-joint moves per frame; DanceIt's 10 px flags 20 % of real frames].
    // None: `JUMP_BODY_FRACTION` × the sequence's body height.
    #[cfg_attr(feature = "cli", arg(long))]
    pub jump_px: Option<f32>,
    /// Volatility threshold of the periodic term, pixels.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = SpatialSettings::default().period_th))]
    pub period_th: f32,
}

impl Default for SpatialSettings {
    fn default() -> Self {
        SpatialSettings { smoothing: Smoothing::Tsd, wa: 8, wb: 24, jump_px: None, period_th: 5.0 }
    }
}

/// Every knob of the alignment: spatial smoothing, and re-timing onto the beats when `temporal`
/// is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignConfig {
    pub spatial: SpatialSettings,
    /// None: spatial smoothing only.
    pub temporal: Option<TemporalConfig>,
}

impl Default for AlignConfig {
    fn default() -> Self {
        AlignConfig { spatial: SpatialSettings::default(), temporal: Some(TemporalConfig::default()) }
    }
}

impl AlignConfig {
    /// Checks every setting; the error names the setting.
    pub fn validate(&self) -> Result<(), AlignError> {
        let bad = |name: &'static str, reason: String| Err(AlignError { name, reason });
        let s = &self.spatial;
        if s.wa < 2 {
            return bad("wa", format!("must be at least 2 frames, got {}", s.wa));
        }
        if s.wa > s.wb {
            return bad("wa", format!("{} is larger than ωb {}: the reference span ωb must hold at least one window of ωa frames", s.wa, s.wb));
        }
        if let Some(j) = s.jump_px {
            if !(j.is_finite() && j > 0.0) {
                return bad("jump_px", format!("must be positive, got {j}"));
            }
        }
        if !(s.period_th.is_finite() && s.period_th > 0.0) {
            return bad("period_th", format!("must be positive, got {}", s.period_th));
        }
        if let Some(t) = &self.temporal {
            t.validate()?;
        }
        Ok(())
    }

    /// The threshold in pixels for `seq`.
    pub fn jump_for(&self, seq: &Sequence) -> f32 {
        self.spatial.jump_px.unwrap_or_else(|| default_jump_px(seq))
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

impl std::fmt::Display for AlignReport {
    /// Two lines, spatial and temporal, each indented by two spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.spatial;
        writeln!(f, "  spatial: jump {:.1} px, discontinuous frames {} → {} ({} windows rebuilt)", self.jump_px, s.discontinuous_before, s.discontinuous_after, s.windows)?;
        match &self.temporal {
            Some(t) => write!(
                f,
                "  temporal: ωc {} frames, {} of {} beats anchored, mean shift {:.1} frames, {} off-beat stops carried through, speed changed {:.0} % on average",
                t.wc,
                t.anchored,
                t.beats,
                t.mean_shift_frames,
                t.off_beat_stops_smoothed,
                100.0 * t.mean_rate_change
            ),
            None => f.write_str("  temporal: off"),
        }
    }
}

pub use crate::pose::motion::seam_flags;

/// Spatial then temporal alignment. `beats` are seconds from frame 0; with none, the temporal
/// pass is skipped (the caller warns).
pub fn align(seq: &Sequence, beats: &[f64], cfg: &AlignConfig) -> Result<(Sequence, AlignReport), AlignError> {
    cfg.validate()?;
    let jump_px = cfg.jump_for(seq);
    let seams = seam_flags(seq);
    let sp = &cfg.spatial;
    let scfg = SpatialConfig { smoothing: sp.smoothing, wa: sp.wa, wb: sp.wb, jump_px, period_th: sp.period_th };
    let (frames, spatial, windows) = spatial::smooth_windows(&seq.frames, &seams, &scfg);
    let mut out = Sequence { frames, ..seq.clone() };
    // The 3-D track, when it matches the frames, follows every edit; its TSD threshold in cm.
    out.joints3d = seq.joints3d.clone().filter(|j| j.len() == seq.frames.len());
    let scfg3 = SpatialConfig { period_th: sp.period_th / px_per_cm(seq).unwrap_or(1.0), ..scfg };
    if let Some(j3) = out.joints3d.as_mut() {
        spatial::replay::<crate::pose::motion::World3>(j3, &windows, &scfg3);
    }
    let mut report = AlignReport { jump_px, spatial, temporal: None };
    if let (Some(tcfg), false) = (&cfg.temporal, beats.is_empty()) {
        let (frames, src, rep) = temporal::align(&out.frames, seq.fps, beats, tcfg);
        out.frames = frames;
        if let Some(p) = &seq.provenance {
            out.provenance = Some(src.iter().map(|&s| p[(s.round() as usize).min(p.len() - 1)].clone()).collect());
        }
        if let Some(j3) = out.joints3d.as_mut() {
            *j3 = src.iter().map(|&s| crate::pose::motion::sample3(j3, s)).collect();
        }
        // Re-timing can speed a smoothed seam up past the motion around it: touch those up.
        let seams = seam_flags(&out);
        let touched = spatial::touch_up_windows(&mut out.frames, &seams, &scfg);
        if let Some(j3) = out.joints3d.as_mut() {
            spatial::replay::<crate::pose::motion::World3>(j3, &touched, &scfg3);
        }
        report.spatial.windows += touched.len();
        report.temporal = Some(rep);
    }
    Ok((out, report))
}

/// Canvas pixels per centimetre of a sequence with a 3-D track: the median over frames of the
/// 2-D trunk (neck to hip midpoint) over the 3-D one (`Neck` to `Hips`). None without a 3-D
/// track or a measurable trunk.
pub fn px_per_cm(seq: &Sequence) -> Option<f32> {
    use crate::pose::skeleton3d::Joint3;
    let j3 = seq.joints3d.as_ref()?;
    let mut r: Vec<f32> = seq
        .frames
        .iter()
        .zip(j3)
        .filter_map(|(f, g)| {
            if f[1][2] <= 0.0 || f[8][2] <= 0.0 || f[11][2] <= 0.0 {
                return None;
            }
            let (hx, hy) = ((f[8][0] + f[11][0]) / 2.0, (f[8][1] + f[11][1]) / 2.0);
            let d2 = ((f[1][0] - hx).powi(2) + (f[1][1] - hy).powi(2)).sqrt();
            let (n, h) = (g[Joint3::Neck as usize], g[Joint3::Hips as usize]);
            let d3 = ((n[0] - h[0]).powi(2) + (n[1] - h[1]).powi(2) + (n[2] - h[2]).powi(2)).sqrt();
            (d3 > 1.0 && d2 > 0.0).then_some(d2 / d3)
        })
        .collect();
    if r.is_empty() {
        return None;
    }
    r.sort_by(|a, b| a.total_cmp(b));
    Some(r[r.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contradictory_settings_name_the_setting_not_a_flag() {
        let e = |c: AlignConfig| c.validate().unwrap_err();
        let sp = |f: fn(&mut SpatialSettings)| {
            let mut c = AlignConfig::default();
            f(&mut c.spatial);
            c
        };
        let tp = |f: fn(&mut TemporalConfig)| {
            let mut c = AlignConfig::default();
            f(c.temporal.as_mut().unwrap());
            c
        };
        let w = e(sp(|s| s.wa = 32));
        assert_eq!(w.name, "wa");
        assert!(w.to_string().contains("32 is larger than ωb 24") && !w.to_string().contains("--"), "{w}");
        assert_eq!(e(tp(|t| t.wc = BeatWindow::Frames(1))).name, "wc");
        assert_eq!(e(sp(|s| s.jump_px = Some(f32::NAN))).name, "jump_px");
        assert_eq!(e(sp(|s| s.period_th = 0.0)).name, "period_th");
        assert_eq!(e(tp(|t| t.off_beat = OffBeat::Smooth { pulse: -0.1 })).name, "pulse");
        assert_eq!(e(tp(|t| t.max_stretch = 0.5)).name, "max_stretch");
        assert!(AlignConfig::default().validate().is_ok());
        // A pulse is only a setting of smoothing: keeping the stops has none to check.
        assert!(tp(|t| t.off_beat = OffBeat::Keep).validate().is_ok());
    }
}
