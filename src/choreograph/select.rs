//! Sequence choice: one fragment per segment from its candidate list.
//!
//! - [`Selection::Nearest`]: DanceIt — the nearest fragment per segment, nothing else considered.
//! - [`Selection::Viterbi`] (default): the path through the top-k lists minimising
//!   `Σ audio–pose distance + λ · transition + ρ · reuses`, where the transition is the pose
//!   distance between the end of one fragment and the start of the next after matching root
//!   position and scale (mean joint distance in body heights, plus the same for the joints'
//!   velocities), zero when the next fragment continues the same source dance, and a reuse is an
//!   earlier occurrence of the same fragment on the path, plus β · rhythm mismatch (the
//!   fragment's stops against the segment's beats: a fragment that stops more or less often than
//!   the music beats leaves kinematic beats off the beat that re-timing cannot fix). A reuse is an
//!   earlier occurrence of the same fragment on the path (found by walking the back-pointers, so it
//!   is exact for the path kept at each state). `temperature` > 0 perturbs the audio distances
//!   with seeded Gumbel noise before the search (perturb-and-MAP), so one song gives several
//!   near-best dances; the same seed gives the same dance.
//! - [`Selection::Random`]: a uniformly random fragment of the whole index per segment, seeded —
//!   the baseline every figure is compared with.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::index::{FragmentId, FragmentRecord, Hit};
use crate::pose::normalize::frame_height;
use crate::pose::{Frame, NUM_JOINTS};

/// The default temperature: small enough that the dance is as good as the single best one, large
/// enough that another seed gives another dance. Measured on 8 songs of the beats-dev tuning
/// split (`python3 tools/bench/temperature.py`): at 0.05 two seeds share 8 % of their frames'
/// sources, with mean audio–pose distance 0.9487 against 0.9494 at 0, and no more visible seams.
pub const DEFAULT_TEMPERATURE: f32 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Selection {
    /// Viterbi over the top-k lists: audio distance + transition + reuse + rhythm.
    Viterbi,
    /// The nearest fragment per clip (DanceIt).
    Nearest,
    /// A random fragment per clip (baseline).
    Random,
}

/// How one fragment per clip is chosen; with the `cli` feature, also the selection flags of
/// `dance` and `tune` (the doc comments are their help).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct SelectConfig {
    /// How one fragment per clip is chosen.
    #[cfg_attr(feature = "cli", arg(long = "select", value_name = "SELECT", value_enum, default_value_t = SelectConfig::default().selection))]
    pub selection: Selection,
    /// λ: weight of the transition cost (pose distance at the seam, body heights).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = SelectConfig::default().transition_weight))]
    pub transition_weight: f32,
    /// ρ: cost of reusing a fragment, per earlier use.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = SelectConfig::default().reuse_penalty))]
    pub reuse_penalty: f32,
    /// β: weight of the rhythm mismatch (fragment's stops against the clip's beats).
    // |stops − beats| / beats of the segment.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = SelectConfig::default().rhythm_weight))]
    pub rhythm_weight: f32,
    /// Noise on the audio distances: each --seed gives another near-best dance (0: the single
    /// best dance, the same for every seed; the default was measured by tools/bench/temperature.py).
    // Gumbel noise.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = SelectConfig::default().temperature))]
    pub temperature: f32,
    // The CLI's --seed is optional (it refuses one that has no effect), so it sets this itself.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub seed: u64,
}

impl SelectConfig {
    /// Checks every setting; the error names the setting.
    pub fn validate(&self) -> Result<(), crate::units::SettingError> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(crate::units::SettingError::new("temperature", format!("must be ≥ 0, got {}", self.temperature)));
        }
        for (name, w) in [("transition_weight", self.transition_weight), ("reuse_penalty", self.reuse_penalty), ("rhythm_weight", self.rhythm_weight)] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(crate::units::SettingError::new(name, format!("must be ≥ 0, got {w}")));
            }
        }
        Ok(())
    }
}

impl Default for SelectConfig {
    fn default() -> Self {
        SelectConfig { selection: Selection::Viterbi, transition_weight: 4.0, reuse_penalty: 1.0, temperature: DEFAULT_TEMPERATURE, seed: 0, rhythm_weight: 6.0 }
    }
}

/// One chosen fragment and its audio–pose distance (NaN for random picks outside the top-k).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub fragment: FragmentId,
    pub distance: f32,
}

/// Root-centred, height-normalised end and start of a fragment, for transition costs.
#[derive(Debug, Clone)]
pub struct Ends {
    pub first: Frame,
    pub first_vel: Frame,
    pub last: Frame,
    pub last_vel: Frame,
}

/// Hip midpoint (neck when the hips are missing), or None.
pub fn root(f: &Frame) -> Option<[f32; 2]> {
    if f[8][2] > 0.0 && f[11][2] > 0.0 {
        Some([(f[8][0] + f[11][0]) / 2.0, (f[8][1] + f[11][1]) / 2.0])
    } else if f[1][2] > 0.0 {
        Some([f[1][0], f[1][1]])
    } else {
        None
    }
}

fn centred(f: &Frame, h: f32) -> Frame {
    let r = root(f).unwrap_or([0.0, 0.0]);
    let mut o = *f;
    for j in o.iter_mut() {
        j[0] = (j[0] - r[0]) / h;
        j[1] = (j[1] - r[1]) / h;
    }
    o
}

fn diff(a: &Frame, b: &Frame) -> Frame {
    let mut o = *b;
    for j in 0..NUM_JOINTS {
        o[j][0] = b[j][0] - a[j][0];
        o[j][1] = b[j][1] - a[j][1];
        o[j][2] = a[j][2].min(b[j][2]);
    }
    o
}

impl Ends {
    /// `h`: the source dance's body height, pixels.
    pub fn of(poses: &[Frame], h: f32) -> Ends {
        let n = poses.len();
        let c: Vec<Frame> = [0, 1.min(n - 1), n.saturating_sub(2), n - 1].iter().map(|&i| centred(&poses[i], h)).collect();
        Ends { first: c[0], first_vel: diff(&c[0], &c[1]), last: c[3], last_vel: diff(&c[2], &c[3]) }
    }
}

/// Mean distance over joints visible in both, in the frames' units; 1 (a body height: far) when
/// they share no visible joint.
fn mean_dist(a: &Frame, b: &Frame) -> f32 {
    if a.iter().zip(b).any(|(p, q)| p[2] > 0.0 && q[2] > 0.0) {
        crate::pose::motion::displacement(a, b)
    } else {
        1.0
    }
}

/// Weight of the velocity mismatch against the pose mismatch: a frame's worth of velocity.
const VELOCITY_WEIGHT: f32 = 4.0;

/// Transition cost from fragment `a` to fragment `b` (body heights), 0 when `b` continues `a`.
pub fn transition(a: FragmentId, b: FragmentId, records: &[FragmentRecord], ends: &[Ends]) -> f32 {
    if records[a.0 as usize].next == Some(b) {
        return 0.0;
    }
    let (ea, eb) = (&ends[a.0 as usize], &ends[b.0 as usize]);
    mean_dist(&ea.last, &eb.first) + VELOCITY_WEIGHT * mean_dist(&ea.last_vel, &eb.first_vel)
}

/// Median nose-to-feet height of each source's frames in the index (300 px when unknown).
pub fn source_heights(records: &[FragmentRecord], sources: usize) -> Vec<f32> {
    let mut hs: Vec<Vec<f32>> = vec![Vec::new(); sources];
    for r in records {
        hs[r.source as usize].extend(r.poses.iter().filter_map(frame_height));
    }
    hs.into_iter()
        .map(|mut v| {
            if v.is_empty() {
                return 300.0;
            }
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        })
        .collect()
}

/// Adds to each segment's candidates the continuations (`next`) of the previous segment's
/// candidates, with their true audio–pose distance, so the Viterbi can follow a source dance on
/// when the music allows. Candidates stay sorted by distance.
pub fn with_continuations(hits: &[Vec<Hit>], embeddings: &[Vec<f32>], records: &[FragmentRecord]) -> Vec<Vec<Hit>> {
    let mut out: Vec<Vec<Hit>> = hits.to_vec();
    for t in 1..hits.len() {
        let mut extra: Vec<Hit> = Vec::new();
        for h in &hits[t - 1] {
            if let Some(n) = records[h.fragment.0 as usize].next {
                if !out[t].iter().any(|x| x.fragment == n) && !extra.iter().any(|x| x.fragment == n) {
                    extra.push(Hit { fragment: n, distance: crate::index::search::l2(&records[n.0 as usize].pose_embedding, &embeddings[t]) });
                }
            }
        }
        out[t].extend(extra);
        out[t].sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.fragment.cmp(&b.fragment)));
    }
    out
}

/// Chooses one fragment per segment.
/// Rhythm mismatch of each candidate: |its stops (kinematic beats) − the segment's music beats|
/// over the segment's beats (0 when the segment has none). `stops[f]` counts fragment f's.
pub fn rhythm_costs(hits: &[Vec<Hit>], stops: &[u32], beats_per_segment: &[usize]) -> Vec<Vec<f32>> {
    hits.iter()
        .zip(beats_per_segment)
        .map(|(h, &nb)| h.iter().map(|x| if nb == 0 { 0.0 } else { (stops[x.fragment.0 as usize] as f32 - nb as f32).abs() / nb as f32 }).collect())
        .collect()
}

/// Chooses one fragment per segment. `rhythm[t][i]` (same shape as `hits`) is added to the audio
/// distance with weight β by the Viterbi.
pub fn select(hits: &[Vec<Hit>], rhythm: &[Vec<f32>], records: &[FragmentRecord], ends: &[Ends], cfg: &SelectConfig) -> Vec<Choice> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    match cfg.selection {
        Selection::Nearest => hits.iter().map(|h| Choice { fragment: h[0].fragment, distance: h[0].distance }).collect(),
        Selection::Random => hits
            .iter()
            .map(|_| {
                let f = FragmentId(rng.gen_range(0..records.len()) as u32);
                Choice { fragment: f, distance: f32::NAN }
            })
            .collect(),
        Selection::Viterbi => {
            let unary: Vec<Vec<f32>> = hits
                .iter()
                .enumerate()
                .map(|(t, h)| {
                    h.iter()
                        .enumerate()
                        .map(|(i, x)| {
                            let r = cfg.rhythm_weight * rhythm.get(t).and_then(|r| r.get(i)).copied().unwrap_or(0.0);
                            if cfg.temperature > 0.0 {
                                // Gumbel(0, 1): −ln(−ln U).
                                let u: f64 = rng.gen_range(1e-12..1.0);
                                x.distance + r - cfg.temperature * (-(-u.ln()).ln()) as f32
                            } else {
                                x.distance + r
                            }
                        })
                        .collect()
                })
                .collect();
            let ids: Vec<Vec<u32>> = hits.iter().map(|h| h.iter().map(|x| x.fragment.0).collect()).collect();
            let pair = |t: usize, i: usize, j: usize| cfg.transition_weight * transition(hits[t - 1][i].fragment, hits[t][j].fragment, records, ends);
            let (path, _) = super::viterbi::best_path_reuse(&unary, pair, &ids, cfg.reuse_penalty);
            path.iter().enumerate().map(|(t, &i)| Choice { fragment: hits[t][i].fragment, distance: hits[t][i].distance }).collect()
        }
    }
}

/// Total cost of a choice sequence under `cfg` (without noise): what the Viterbi minimises.
pub fn path_cost(choices: &[Choice], records: &[FragmentRecord], ends: &[Ends], cfg: &SelectConfig) -> f32 {
    let mut c = 0.0;
    for (t, ch) in choices.iter().enumerate() {
        c += ch.distance;
        if t > 0 {
            c += cfg.transition_weight * transition(choices[t - 1].fragment, ch.fragment, records, ends);
            c += cfg.reuse_penalty * choices[..t].iter().filter(|p| p.fragment == ch.fragment).count() as f32;
        }
    }
    c
}
