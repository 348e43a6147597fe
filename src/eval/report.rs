//! The tables of `choreo eval`: one row of beat figures per dance, their totals, then the realism
//! rows (FID and diversity against real training dances); and the one-line summary of a dance's
//! figures that `choreo dance` and `align` print.

use std::fmt;

use super::published::BeatTally;
use super::realism::Realism;
use super::Metrics;

impl fmt::Display for Metrics {
    /// One line: seams, discontinuities and the beat figures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "metrics: visible seams {}/{}, discontinuous frames {}, kinematic beats {} for {} music beats (coverage {:.3}), hit rate {:.3}, Beat Align Score {:.3}",
            self.visible_seams, self.seams, self.discontinuous_frames, self.kinematic_beats, self.music_beats, self.beat_coverage, self.hit_rate, self.beat_align_score
        )
    }
}

/// Scored dances as a table: a row per dance, the totals when `totals`, then the realism rows
/// (named sets against the real training dances).
#[derive(Debug, Clone)]
pub struct EvalTable {
    pub dances: Vec<(String, Metrics)>,
    pub totals: bool,
    pub realism: Vec<(String, Realism)>,
}

impl fmt::Display for EvalTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<28} {:>6} {:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>6} {:>8}", "dance", "frames", "beats", "kin", "hits", "coverage", "hit", "BAS", "speed", "seams")?;
        for (name, m) in &self.dances {
            writeln!(
                f,
                "{:<28} {:>6} {:>6} {:>6} {:>6} {:>8.3} {:>6.3} {:>6.3} {:>6.3} {:>4}/{:<3}",
                name, m.frames, m.music_beats, m.kinematic_beats, m.aligned_beats, m.beat_coverage, m.hit_rate, m.beat_align_score, m.mean_speed, m.visible_seams, m.seams
            )?;
        }
        if self.totals {
            totals(f, &self.dances.iter().map(|(_, m)| m).collect::<Vec<_>>())?;
        }
        if let Some((_, first)) = self.realism.first() {
            writeln!(f, "{:<36} {:>7} {:>8} {:>8} {:>7} {:>7}", "realism (vs real training dances)", "windows", "FID_k", "FID_g", "Div_k", "Div_g")?;
            for (name, r) in &self.realism {
                writeln!(f, "{:<36} {:>7} {:>8.3} {:>8.3} {:>7.3} {:>7.3}", name, r.windows, r.fid_k, r.fid_g, r.div_k, r.div_g)?;
            }
            writeln!(f, "{:<36} {:>7} {:>8} {:>8} {:>7.3} {:>7.3}", "real training dances", first.reference_windows, "-", "-", first.reference_div_k, first.reference_div_g)?;
        }
        Ok(())
    }
}

/// Lee et al.'s ratios of the summed counts, Bailando's mean BAS, the mean speed.
fn totals(f: &mut fmt::Formatter<'_>, ms: &[&Metrics]) -> fmt::Result {
    let t: BeatTally = ms.iter().map(|m| m.tally()).sum();
    let k = ms.len().max(1) as f64;
    writeln!(
        f,
        "over {} dances: beat coverage {:.3} and hit rate {:.3} (Lee et al.: totals {} kinematic / {} music beats, {} within ±1/12 s), Beat Align Score {:.3} (Bailando: mean over dances), mean speed {:.3} body heights/s",
        ms.len(),
        t.coverage(),
        t.hit_rate(),
        t.kinematic,
        t.music,
        t.aligned,
        ms.iter().map(|m| m.beat_align_score).sum::<f64>() / k,
        ms.iter().map(|m| m.mean_speed).sum::<f64>() / k
    )
}
