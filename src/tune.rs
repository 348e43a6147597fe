//! `choreo tune`: one stitched dance re-aligned under every setting of a grid, each scored, best
//! first. Retrieval and selection run once ([`crate::pipeline::choreograph`] without alignment);
//! only the alignment runs per setting. It sits above the stages, beside [`crate::pipeline`],
//! since it uses both the alignment and the evaluation stage.

use std::time::Instant;

use serde::Serialize;

use crate::align::{self, AlignConfig, AlignError, BeatEvent, BeatWindow, OffBeat, OffBeatStops, Smoothing, SpatialSettings, TemporalConfig};
use crate::eval::{self, plot, Metrics};
use crate::pose::Sequence;

/// The values to try on each axis; the grid is their product (a pulse only with smoothing). With
/// the `cli` feature, also `choreo tune`'s flags (the doc comments are their help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct Grid {
    /// ωa values to try.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ',', default_value = "4,8,16"))]
    pub wa: Vec<usize>,
    /// ωb values to try.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ',', default_value = "16,24,48"))]
    pub wb: Vec<usize>,
    /// ωc values to try ('beat' or frames).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ',', default_value = "beat"))]
    pub wc: Vec<BeatWindow>,
    /// Jump thresholds to try, pixels (default: the automatic one).
    // Empty: the automatic threshold only.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub jump_px: Vec<f32>,
    /// Period thresholds to try, pixels.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ',', default_value = "5"))]
    pub period_th: Vec<f32>,
    /// Beat events to try.
    #[cfg_attr(feature = "cli", arg(long = "beat-event", value_name = "BEAT_EVENT", value_delimiter = ',', value_enum, default_value = "stop"))]
    pub event: Vec<BeatEvent>,
    /// Spatial smoothings to try.
    #[cfg_attr(feature = "cli", arg(long = "spatial", value_name = "SPATIAL", value_delimiter = ',', value_enum, default_value = "tsd"))]
    pub smoothing: Vec<Smoothing>,
    /// Largest re-timing stretch.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TemporalConfig::default().max_stretch))]
    pub max_stretch: f64,
    /// Off-beat stop handlings to try (smooth, keep).
    // `Smooth` takes each pulse of `pulse`.
    #[cfg_attr(feature = "cli", arg(long = "off-beat-stops", value_name = "OFF_BEAT_STOPS", value_delimiter = ',', value_enum, default_value = "smooth"))]
    pub off_beat: Vec<OffBeatStops>,
    /// Pulses to try (swell between stops when smoothing them).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ',', default_value = "0.3"))]
    pub pulse: Vec<f64>,
}

/// A grid setting that does not validate: the setting's index in the grid and why.
#[derive(Debug, thiserror::Error)]
#[error("grid setting ωa {wa} ωb {wb} ωc {wc}: {source}")]
pub struct GridError {
    pub wa: usize,
    pub wb: usize,
    pub wc: BeatWindow,
    #[source]
    pub source: AlignError,
}

impl Grid {
    /// Every setting, in axis order. Empty when an axis is empty; a contradictory setting is an
    /// error naming it, not silently skipped.
    pub fn settings(&self) -> Result<Vec<AlignConfig>, GridError> {
        let jumps: Vec<Option<f32>> = if self.jump_px.is_empty() { vec![None] } else { self.jump_px.iter().map(|j| Some(*j)).collect() };
        let mut offs = Vec::new();
        for &stops in &self.off_beat {
            match stops {
                OffBeatStops::Keep => offs.push(OffBeat::Keep),
                OffBeatStops::Smooth => offs.extend(self.pulse.iter().map(|&pulse| OffBeat::Smooth { pulse })),
            }
        }
        let mut out = Vec::new();
        for &smoothing in &self.smoothing {
            for &wa in &self.wa {
                for &wb in &self.wb {
                    for &wc in &self.wc {
                        for &jump_px in &jumps {
                            for &period_th in &self.period_th {
                                for &event in &self.event {
                                    for &off_beat in &offs {
                                        let c = AlignConfig {
                                            spatial: SpatialSettings { smoothing, wa, wb, jump_px, period_th },
                                            temporal: Some(TemporalConfig { wc, event, max_stretch: self.max_stretch, off_beat, ..TemporalConfig::default() }),
                                        };
                                        c.validate().map_err(|source| GridError { wa, wb, wc, source })?;
                                        out.push(c);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// One setting's result.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub spatial: Smoothing,
    pub wa: usize,
    pub wb: usize,
    /// "beat" or frames.
    pub wc: String,
    pub jump_px: f32,
    pub period_th: f32,
    pub beat_event: BeatEvent,
    /// "smooth" or "keep".
    pub off_beat_stops: &'static str,
    /// None when off-beat stops are kept.
    pub pulse: Option<f64>,
    pub metrics: Metrics,
    pub seconds: f64,
}

/// The ranking, in words (printed with the table).
pub const CRITERION: &str = "fewest visible seams, then highest Beat Align Score, then highest hit rate, then fewest discontinuous frames";

/// Best first, by [`CRITERION`].
pub fn better(a: &Metrics, b: &Metrics) -> std::cmp::Ordering {
    a.visible_seams
        .cmp(&b.visible_seams)
        .then(b.beat_align_score.total_cmp(&a.beat_align_score))
        .then(b.hit_rate.total_cmp(&a.hit_rate))
        .then(a.discontinuous_frames.cmp(&b.discontinuous_frames))
}

/// The sweep: rows best first, the unaligned dance's figures, and the best setting's dance.
pub struct Sweep {
    pub rows: Vec<Row>,
    pub unaligned: Metrics,
    pub best: Sequence,
}

/// Aligns `raw` (a stitched dance) to `beats` under every setting and ranks the results.
/// `progress` is called after each setting. Fails on an empty grid.
pub fn sweep(raw: &Sequence, beats: &[f64], settings: &[AlignConfig], progress: &dyn Fn()) -> Result<Sweep, AlignError> {
    if settings.is_empty() {
        return Err(AlignError { name: "grid", reason: "is empty: give at least one value on each axis".into() });
    }
    let mut rows = Vec::with_capacity(settings.len());
    let mut dances = Vec::with_capacity(settings.len());
    for ac in settings {
        let t0 = Instant::now();
        let (dance, rep) = align::align(raw, beats, ac)?;
        let seconds = t0.elapsed().as_secs_f64();
        let metrics = eval::evaluate(&dance, beats, 0.0, rep.jump_px);
        let t = ac.temporal.unwrap_or_default();
        rows.push(Row {
            spatial: ac.spatial.smoothing,
            wa: ac.spatial.wa,
            wb: ac.spatial.wb,
            wc: t.wc.to_string(),
            jump_px: rep.jump_px,
            period_th: ac.spatial.period_th,
            beat_event: t.event,
            off_beat_stops: t.off_beat.name(),
            pulse: t.off_beat.pulse(),
            metrics,
            seconds,
        });
        dances.push(dance);
        progress();
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&i, &j| better(&rows[i].metrics, &rows[j].metrics).then(i.cmp(&j)));
    let unaligned = eval::evaluate(raw, beats, 0.0, rows[order[0]].jump_px);
    let mut best = dances.swap_remove(order[0]);
    best.beats = Some(beats.to_vec());
    let rows = order.into_iter().map(|i| rows[i].clone()).collect();
    Ok(Sweep { rows, unaligned, best })
}

impl Sweep {
    /// JSON: the criterion, the unaligned figures and the settings, best first.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"criterion": CRITERION, "unaligned": self.unaligned, "settings": self.rows})
    }
}

impl std::fmt::Display for Sweep {
    /// The table, best first, ending with the unaligned dance; every line ends in a newline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "best first: {CRITERION}")?;
        writeln!(f, "{:<7} {:>3} {:>3} {:>5} {:>6} {:>6} {:>5} {:>6} {:>5} | {:>7} {:>7} {:>6} {:>6} {:>6} {:>7}", "spatial", "ωa", "ωb", "ωc", "jump", "per.th", "event", "offbt", "pulse", "seams", "discont", "cover", "hit", "BAS", "time")?;
        let mut line = |cells: [String; 10], m: &Metrics| {
            let [sp, wa, wb, wc, j, pt, ev, ob, pu, t] = cells;
            writeln!(
                f,
                "{:<7} {:>3} {:>3} {:>5} {:>6} {:>6} {:>5} {:>6} {:>5} | {:>3}/{:<3} {:>7} {:>6.3} {:>6.3} {:>6.3} {:>7}",
                sp, wa, wb, wc, j, pt, ev, ob, pu, m.visible_seams, m.seams, m.discontinuous_frames, m.beat_coverage, m.hit_rate, m.beat_align_score, t
            )
        };
        for r in &self.rows {
            let cells = [
                format!("{:?}", r.spatial).to_lowercase(),
                r.wa.to_string(),
                r.wb.to_string(),
                r.wc.clone(),
                format!("{:.1}", r.jump_px),
                format!("{:.1}", r.period_th),
                format!("{:?}", r.beat_event).to_lowercase(),
                r.off_beat_stops.to_string(),
                r.pulse.map(|p| format!("{p:.2}")).unwrap_or_else(|| "-".into()),
                format!("{:.3}s", r.seconds),
            ];
            line(cells, &r.metrics)?;
        }
        line(std::array::from_fn(|k| if k == 0 { "none".into() } else { "-".into() }), &self.unaligned)
    }
}

/// Writes [`plot_svg`] for `song` to `path` (atomically).
pub fn write_plot(path: &std::path::Path, song: &crate::audio::Audio, raw: &Sequence, beats: &[f64], sweep: &Sweep) -> Result<(), crate::io::IoError> {
    let (env, rate) = crate::audio::beats::onset_strength(song);
    let name = song.path.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    crate::io::write_atomic(path, plot_svg(&name, &env, rate, raw, beats, sweep).as_bytes())
}

/// The SVG of `choreo tune --plot`: the song's onset envelope (`onset` at `onset_rate` per
/// second) and beats over the dance's speed and stops, before and after the best setting.
pub fn plot_svg(song_name: &str, onset: &[f64], onset_rate: f64, raw: &Sequence, beats: &[f64], sweep: &Sweep) -> String {
    let envf: Vec<f32> = onset.iter().map(|v| *v as f32).collect();
    let (v0, k0) = plot::motion(raw);
    let (v1, k1) = plot::motion(&sweep.best);
    let (r, u) = (&sweep.rows[0], &sweep.unaligned);
    let title = format!(
        "{song_name} — ωa {} ωb {} ωc {} ({:?}, {:?}): BAS {:.3} → {:.3}, hit rate {:.3} → {:.3}",
        r.wa, r.wb, r.wc, r.spatial, r.beat_event, u.beat_align_score, r.metrics.beat_align_score, u.hit_rate, r.metrics.hit_rate
    );
    let tracks = [
        plot::Track { title: "music: onset strength", values: &envf, rate: onset_rate, marks: &[], colour: "#333" },
        plot::Track { title: "dance before alignment: mean joint speed, stops", values: &v0, rate: raw.fps, marks: &k0, colour: "#27c" },
        plot::Track { title: "dance after alignment", values: &v1, rate: raw.fps, marks: &k1, colour: "#2a4" },
    ];
    plot::svg(&title, raw.duration_secs(), beats, &tracks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            smoothing: vec![Smoothing::Tsd],
            wa: vec![4, 8],
            wb: vec![24],
            wc: vec![BeatWindow::Beat],
            jump_px: vec![],
            period_th: vec![5.0],
            event: vec![BeatEvent::Stop],
            off_beat: vec![OffBeatStops::Smooth, OffBeatStops::Keep],
            pulse: vec![0.0, 0.3],
            max_stretch: 1.5,
        }
    }

    #[test]
    fn the_grid_is_the_product_with_a_pulse_only_when_smoothing() {
        let s = grid().settings().unwrap();
        // 2 ωa × (2 pulses + keep).
        assert_eq!(s.len(), 6);
        assert_eq!(s.iter().filter(|c| c.temporal.unwrap().off_beat == OffBeat::Keep).count(), 2);
        let mut g = grid();
        g.wa = vec![32];
        let e = g.settings().unwrap_err();
        assert_eq!(e.source.name, "wa");
        g.wa.clear();
        assert!(g.settings().unwrap().is_empty());
    }

    #[test]
    fn ranking_puts_fewer_visible_seams_first_then_higher_bas() {
        let m = |seams, bas| Metrics { frames: 10, music_beats: 4, kinematic_beats: 4, aligned_beats: 2, mean_speed: 0.5, beat_coverage: 1.0, hit_rate: 0.5, beat_align_score: bas, seams: 3, visible_seams: seams, discontinuous_frames: 0 };
        use std::cmp::Ordering::*;
        assert_eq!(better(&m(0, 0.1), &m(1, 0.9)), Less);
        assert_eq!(better(&m(0, 0.9), &m(0, 0.1)), Less);
        assert_eq!(better(&m(0, 0.5), &m(0, 0.5)), Equal);
    }
}
