//! Beat decoding with a dynamic Bayesian network: madmom 0.17's `DBNBeatTrackingProcessor`
//! (Krebs, Böck, Widmer, "An efficient state-space model for joint tempo and meter tracking",
//! ISMIR 2015), written from its description and source:
//!
//! * **State space** (`BeatStateSpace`): one chain of `i` states per beat interval `i` (in
//!   frames), for every integer `i` from `round(60·fps/max_bpm)` to `round(60·fps/min_bpm)`;
//!   state `k` of chain `i` is at position `k/i` of the beat.
//! * **Transitions** (`BeatTransitionModel`): inside a chain the pointer moves one state per
//!   frame (probability 1); from the last state of chain `i` to the first state of chain `j`
//!   with probability ∝ `exp(−λ·|j/i − 1|)` (λ = `transition_lambda`), each row normalised,
//!   probabilities ≤ 2.2e-16 (`np.spacing(1)`) dropped before normalising.
//! * **Observations** (`RNNBeatTrackingObservationModel`): states at a position below
//!   `1/observation_lambda` are "beat" states with log-likelihood `ln a`; the others
//!   `ln((1 − a)/(observation_lambda − 1))`, for the frame's beat activation `a`.
//! * **Decoding**: Viterbi from a uniform start; then (`correct`) each run of consecutive
//!   beat states on the path gives one beat, at the frame of the highest activation inside it.
//!
//! * **Tempo prior** (choreo's addition, [`DbnConfig::tempo_prior`]; off in [`DbnConfig::madmom`]):
//!   a second Viterbi pass in which entering chain `j` (a beat at tempo `b_j` BPM) also costs
//!   `weight · ½ · (log2(b_j / b₀) / sigma_octaves)²`, with `b₀` the tempo of the first pass's
//!   median beat interval. A song's opening (where the network, starting from a zero state,
//!   has heard little) can otherwise lock onto a rhythm of the accompaniment at another tempo
//!   before the path settles on the beat. Chosen on the 16 tuning files of beats-dev (see
//!   `tools/beats/tune_dbn.py`): mean F 0.986 → 0.996 there, and 0.933 → 0.936 on those files
//!   played at 0.8–1.25× speed (the 52 versions that stay in 80–180 BPM); within 0.003 of that
//!   for sigma 0.1–0.2 octave and weight 1–10.
//!
//! [`decode`] does this in O(states + intervals²) per frame, using that a state has either one
//! predecessor (the previous state of its chain) or the chains' last states. [`reference`] is
//! its slow twin: a plain Viterbi over the full state space with an explicit dense transition
//! matrix, for the parity test.

/// Settings of the decoder: madmom's defaults for `DBNBeatTrackingProcessor`, and (the default,
/// not madmom's) a second pass with a tempo prior.
#[derive(Debug, Clone, PartialEq)]
pub struct DbnConfig {
    pub min_bpm: f64,
    pub max_bpm: f64,
    pub transition_lambda: f64,
    pub observation_lambda: f64,
    /// Activation frames per second.
    pub fps: f64,
    /// A second pass that favours the first pass's tempo (see the module documentation);
    /// `None`: one pass, as madmom.
    pub tempo_prior: Option<TempoPrior>,
}

/// The second pass's prior: a Gaussian on log2 tempo around the first pass's median tempo,
/// paid at every beat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoPrior {
    /// Standard deviation, in octaves.
    pub sigma_octaves: f64,
    /// Weight of the log prior against the transition and observation log-probabilities.
    pub weight: f64,
}

impl Default for TempoPrior {
    fn default() -> Self {
        TempoPrior { sigma_octaves: 0.1, weight: 3.0 }
    }
}

impl DbnConfig {
    /// madmom's `DBNBeatTrackingProcessor` defaults, one pass (the parity tests use it).
    pub fn madmom() -> Self {
        DbnConfig { min_bpm: 55.0, max_bpm: 215.0, transition_lambda: 100.0, observation_lambda: 16.0, fps: 50.0, tempo_prior: None }
    }
}

impl Default for DbnConfig {
    /// madmom's settings plus the tempo-prior pass ([`TempoPrior::default`]).
    fn default() -> Self {
        DbnConfig { tempo_prior: Some(TempoPrior::default()), ..DbnConfig::madmom() }
    }
}

/// What the decoder found: beat frames (ascending) and the beat interval (in frames) the path was in at each beat.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub beats: Vec<usize>,
    pub intervals: Vec<usize>,
}

/// numpy's round (half to even) for the interval bounds.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

struct Model {
    intervals: Vec<usize>,
    /// log transition probability from chain `a`'s last state to chain `b`'s first state, `[a][b]`.
    log_trans: Vec<Vec<f64>>,
    /// Number of beat states at the start of each chain.
    beat_states: Vec<usize>,
}

impl Model {
    /// The model; with `prior` `Some((center_bpm, prior))`, entering a chain also pays the
    /// tempo prior.
    fn new(cfg: &DbnConfig, prior: Option<(f64, TempoPrior)>) -> Option<Model> {
        if !(cfg.min_bpm > 0.0 && cfg.max_bpm >= cfg.min_bpm && cfg.fps > 0.0 && cfg.observation_lambda > 1.0 && cfg.transition_lambda >= 0.0) {
            return None;
        }
        if let Some((c, p)) = prior {
            if !(c.is_finite() && c > 0.0 && p.sigma_octaves > 0.0 && p.weight.is_finite() && p.weight >= 0.0) {
                return None;
            }
        }
        let lo = round_half_even(60.0 * cfg.fps / cfg.max_bpm).max(1.0) as usize;
        let hi = round_half_even(60.0 * cfg.fps / cfg.min_bpm) as usize;
        if hi < lo || hi > 100_000 {
            return None;
        }
        let intervals: Vec<usize> = (lo..=hi).collect();
        let log_trans = intervals
            .iter()
            .map(|&a| {
                let mut p: Vec<f64> = intervals
                    .iter()
                    .map(|&b| (-cfg.transition_lambda * (b as f64 / a as f64 - 1.0).abs()).exp())
                    .map(|p| if p <= f64::EPSILON { 0.0 } else { p })
                    .collect();
                let s: f64 = p.iter().sum();
                p.iter_mut().for_each(|v| *v = (*v / s).ln());
                if let Some((center, pr)) = prior {
                    for (v, &b) in p.iter_mut().zip(&intervals) {
                        let z = (60.0 * cfg.fps / b as f64 / center).log2() / pr.sigma_octaves;
                        *v -= pr.weight * 0.5 * z * z;
                    }
                }
                p
            })
            .collect();
        let border = 1.0 / cfg.observation_lambda;
        // state k of chain i is a beat state when k / i < border (positions are np.linspace(0, 1, i, endpoint=False))
        let beat_states = intervals.iter().map(|&i| (0..i).filter(|&k| (k as f64 / i as f64) < border).count()).collect();
        Some(Model { intervals, log_trans, beat_states })
    }

    fn log_obs(act: f64, lambda: f64) -> (f64, f64) {
        (act.ln(), ((1.0 - act) / (lambda - 1.0)).ln())
    }
}

/// Beat frames from the path's beat-state runs, each at its highest activation (madmom's `correct`).
fn beats_from_path(is_beat: &[bool], interval: &[usize], act: &[f64]) -> Decoded {
    let mut out = Decoded { beats: Vec::new(), intervals: Vec::new() };
    let mut t = 0;
    while t < is_beat.len() {
        if !is_beat[t] {
            t += 1;
            continue;
        }
        let start = t;
        while t < is_beat.len() && is_beat[t] {
            t += 1;
        }
        // np.argmax: first of equal maxima
        let mut best = start;
        for u in start..t {
            if act[u] > act[best] {
                best = u;
            }
        }
        out.beats.push(best);
        out.intervals.push(interval[best]);
    }
    out
}

/// Runs `pass` (a Viterbi decoder of one model) once, as madmom, or, with a tempo prior, a
/// second time with the prior centred on the first pass's median beat interval (first pass
/// kept when it finds fewer than 3 beats). Returns no beats for an empty or all-zero activation
/// or an unusable configuration.
fn passes(act: &[f32], cfg: &DbnConfig, pass: impl Fn(&[f64], &Model, &DbnConfig) -> Decoded) -> Decoded {
    let act: Vec<f64> = act.iter().map(|&a| if a.is_finite() { (a as f64).clamp(0.0, 1.0) } else { 0.0 }).collect();
    let none = Decoded { beats: Vec::new(), intervals: Vec::new() };
    let Some(m) = Model::new(cfg, None) else { return none };
    if act.is_empty() || act.iter().all(|&a| a == 0.0) {
        return none;
    }
    let first = pass(&act, &m, cfg);
    let Some(prior) = cfg.tempo_prior else { return first };
    if first.beats.len() < 3 {
        return first;
    }
    let mut d: Vec<f64> = first.beats.windows(2).map(|w| (w[1] - w[0]) as f64 / cfg.fps).collect();
    d.sort_by(f64::total_cmp);
    let median = if d.len() % 2 == 1 { d[d.len() / 2] } else { 0.5 * (d[d.len() / 2 - 1] + d[d.len() / 2]) };
    match Model::new(cfg, Some((60.0 / median, prior))) {
        Some(m2) => pass(&act, &m2, cfg),
        None => first,
    }
}

/// Decodes `act` (beat activation per frame, in [0, 1]). Returns no beats for an empty or
/// all-zero activation or an unusable configuration.
pub fn decode(act: &[f32], cfg: &DbnConfig) -> Decoded {
    passes(act, cfg, decode_pass)
}

fn decode_pass(act: &[f64], m: &Model, cfg: &DbnConfig) -> Decoded {
    let n_int = m.intervals.len();
    let offsets: Vec<usize> = m.intervals.iter().scan(0, |acc, &i| {
        let o = *acc;
        *acc += i;
        Some(o)
    }).collect();
    let n_states: usize = m.intervals.iter().sum();
    let init = -(n_states as f64).ln();
    let mut cur = vec![0f64; n_states];
    let mut prev = vec![init; n_states];
    // back[t][j]: the chain whose last state led into chain j's first state at frame t
    let mut back: Vec<u16> = vec![0; act.len() * n_int];
    for (t, &a) in act.iter().enumerate() {
        let (ob, on) = Model::log_obs(a, cfg.observation_lambda);
        if t == 0 {
            for (c, &o) in offsets.iter().enumerate() {
                for k in 0..m.intervals[c] {
                    cur[o + k] = init + if k < m.beat_states[c] { ob } else { on };
                }
            }
        } else {
            for (c, &o) in offsets.iter().enumerate() {
                let len = m.intervals[c];
                // first state: best over the chains' last states (strict >: first maximum wins, as madmom)
                let mut best = f64::NEG_INFINITY;
                let mut arg = 0usize;
                for (from, &fo) in offsets.iter().enumerate() {
                    let v = prev[fo + m.intervals[from] - 1] + m.log_trans[from][c];
                    if v > best {
                        best = v;
                        arg = from;
                    }
                }
                back[t * n_int + c] = arg as u16;
                cur[o] = best + if m.beat_states[c] > 0 { ob } else { on };
                for k in 1..len {
                    cur[o + k] = prev[o + k - 1] + if k < m.beat_states[c] { ob } else { on };
                }
            }
        }
        std::mem::swap(&mut cur, &mut prev);
    }
    // best final state (first maximum), then backtrack
    let mut state = 0;
    for s in 0..n_states {
        if prev[s] > prev[state] {
            state = s;
        }
    }
    let chain_of = |s: usize| offsets.partition_point(|&o| o <= s) - 1;
    let mut c = chain_of(state);
    let mut k = state - offsets[c];
    let mut is_beat = vec![false; act.len()];
    let mut interval = vec![0usize; act.len()];
    for t in (0..act.len()).rev() {
        is_beat[t] = k < m.beat_states[c];
        interval[t] = m.intervals[c];
        if t == 0 {
            break;
        }
        if k == 0 {
            c = back[t * n_int + c] as usize;
            k = m.intervals[c] - 1;
        } else {
            k -= 1;
        }
    }
    beats_from_path(&is_beat, &interval, act)
}

/// The slow twin of [`decode`]: the same model(s) as an explicit state space with a dense
/// `states × states` transition matrix and a textbook Viterbi. Only for tests on short inputs.
pub fn reference(act: &[f32], cfg: &DbnConfig) -> Decoded {
    passes(act, cfg, reference_pass)
}

fn reference_pass(act: &[f64], m: &Model, cfg: &DbnConfig) -> Decoded {
    // enumerate the states: (chain, position)
    let mut states: Vec<(usize, usize)> = Vec::new();
    for (c, &i) in m.intervals.iter().enumerate() {
        for k in 0..i {
            states.push((c, k));
        }
    }
    let n = states.len();
    let mut trans = vec![f64::NEG_INFINITY; n * n]; // trans[from * n + to], log probabilities
    for (from, &(cf, kf)) in states.iter().enumerate() {
        for (to, &(ct, kt)) in states.iter().enumerate() {
            if cf == ct && kt == kf + 1 {
                trans[from * n + to] = 0.0;
            } else if kf == m.intervals[cf] - 1 && kt == 0 {
                trans[from * n + to] = m.log_trans[cf][ct];
            }
        }
    }
    let is_beat_state = |s: usize| states[s].1 < m.beat_states[states[s].0];
    let mut delta: Vec<f64> = vec![(1.0 / n as f64).ln(); n];
    let mut psi: Vec<Vec<usize>> = Vec::with_capacity(act.len());
    for (t, &a) in act.iter().enumerate() {
        let (ob, on) = Model::log_obs(a, cfg.observation_lambda);
        let mut next = vec![f64::NEG_INFINITY; n];
        let mut arg = vec![0usize; n];
        for to in 0..n {
            if t == 0 {
                next[to] = delta[to];
            } else {
                for from in 0..n {
                    let v = delta[from] + trans[from * n + to];
                    if v > next[to] {
                        next[to] = v;
                        arg[to] = from;
                    }
                }
            }
            next[to] += if is_beat_state(to) { ob } else { on };
        }
        psi.push(arg);
        delta = next;
    }
    let mut s = 0;
    for i in 0..n {
        if delta[i] > delta[s] {
            s = i;
        }
    }
    let mut path = vec![0usize; act.len()];
    for t in (0..act.len()).rev() {
        path[t] = s;
        s = psi[t][s];
    }
    let is_beat: Vec<bool> = path.iter().map(|&s| is_beat_state(s)).collect();
    let interval: Vec<usize> = path.iter().map(|&s| m.intervals[states[s].0]).collect();
    beats_from_path(&is_beat, &interval, act)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulses(n: usize, period: f64, phase: f64, floor: f32) -> Vec<f32> {
        (0..n)
            .map(|t| {
                let x = ((t as f64 - phase) / period).rem_euclid(1.0);
                let d = x.min(1.0 - x) * period;
                floor + (0.9 - floor) * (-d * d / 2.0).exp() as f32
            })
            .collect()
    }

    #[test]
    fn madmom_interval_range() {
        let m = Model::new(&DbnConfig::default(), None).unwrap();
        // round(60·50/215) = round(13.95) = 14; round(60·50/55) = round(54.55) = 55
        assert_eq!(*m.intervals.first().unwrap(), 14);
        assert_eq!(*m.intervals.last().unwrap(), 55);
        assert_eq!(round_half_even(54.5), 54.0);
        assert_eq!(round_half_even(55.5), 56.0);
        for row in &m.log_trans {
            let s: f64 = row.iter().map(|v| v.exp()).sum();
            assert!((s - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn finds_a_regular_pulse_and_its_tempo() {
        let act = pulses(1000, 25.0, 7.0, 0.02);
        let d = decode(&act, &DbnConfig::default());
        assert!(d.beats.len() >= 38 && d.beats.len() <= 40, "{:?}", d.beats);
        for (b, i) in d.beats.iter().zip(&d.intervals) {
            assert_eq!((*b as i64 - 7).rem_euclid(25), 0, "beat at frame {b}");
            assert_eq!(*i, 25);
        }
    }

    #[test]
    fn fast_decoder_equals_the_dense_reference() {
        // narrow tempo range so the dense twin stays fast; tempo change in the middle
        let cfg = DbnConfig { min_bpm: 100.0, max_bpm: 160.0, ..DbnConfig::default() };
        let mut act = pulses(150, 24.0, 3.0, 0.05);
        act.extend(pulses(150, 21.0, 10.0, 0.1));
        for (i, a) in act.iter_mut().enumerate() {
            *a = (*a + 0.15 * ((i * 7919 % 13) as f32 / 13.0)).min(1.0); // deterministic noise
        }
        for cfg in [cfg.clone(), DbnConfig { tempo_prior: None, ..cfg }] {
            let fast = decode(&act, &cfg);
            let slow = reference(&act, &cfg);
            assert!(!fast.beats.is_empty());
            assert_eq!(fast, slow);
        }
    }

    #[test]
    fn tempo_prior_keeps_an_opening_at_another_tempo_off_the_beat_grid() {
        // 5 s of a faster rhythm (period 20 frames), then 25 s of the beat (period 25)
        let mut act: Vec<f32> = pulses(250, 20.0, 0.0, 0.02).iter().map(|a| a * 0.7).collect();
        act.extend(pulses(1250, 25.0, 0.0, 0.02));
        let ibis = |d: &Decoded| d.beats.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
        let one = decode(&act, &DbnConfig::madmom());
        assert!(ibis(&one)[..10].iter().all(|&i| i == 20), "madmom follows the opening: {:?}", ibis(&one));
        let two = decode(&act, &DbnConfig::default());
        assert!(ibis(&two).iter().all(|&i| (24..=26).contains(&i)), "the prior keeps the beat: {:?}", ibis(&two));
        assert!(two.intervals.iter().all(|&i| (24..=26).contains(&i)));
        // a prior of weight 0 is madmom's decoder
        let w0 = DbnConfig { tempo_prior: Some(TempoPrior { weight: 0.0, ..TempoPrior::default() }), ..DbnConfig::madmom() };
        assert_eq!(decode(&act, &w0), one);
        // an unusable prior is refused like any unusable setting
        let bad = DbnConfig { tempo_prior: Some(TempoPrior { sigma_octaves: 0.0, weight: 3.0 }), ..DbnConfig::madmom() };
        assert_eq!(decode(&act, &bad), one);
    }

    #[test]
    fn empty_and_degenerate_inputs() {
        assert!(decode(&[], &DbnConfig::default()).beats.is_empty());
        assert!(decode(&[0.0; 100], &DbnConfig::default()).beats.is_empty());
        let bad = DbnConfig { min_bpm: 0.0, ..DbnConfig::default() };
        assert!(decode(&[0.5; 100], &bad).beats.is_empty());
        // all-ones and NaN-free extremes do not panic
        let d = decode(&[1.0; 300], &DbnConfig::default());
        assert!(d.beats.windows(2).all(|w| w[0] < w[1]));
    }
}
