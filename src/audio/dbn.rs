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
//! * **Upsampling** (choreo's addition, [`DbnConfig::upsample`], 4 by default; 1 in
//!   [`DbnConfig::madmom`]): both passes run on the activation linearly interpolated to 4 × 50 =
//!   200 frames/s, every sub-frame's log-likelihoods scaled by ¼ (so a second of music weighs
//!   what it weighs at 50 frames/s), and the second pass only has the tempi within
//!   [`TempoPrior::range_octaves`] (0.5) of the first pass's. At 50 frames/s a beat interval is a
//!   whole number of frames: a 186-BPM song's beat is 16.13 frames, its peaks come 16 or 17
//!   frames apart, every change of chain costs λ·|Δ|/16 ≈ 6 nats, and the path keeps every other
//!   beat instead (93 BPM). On 221 new MIDI renders (70–190 BPM, none of beats-dev's pieces; see
//!   `tools/beats/tune_dbn.py --renders`) mean F 0.917 → 0.934, on the tuning files played at
//!   0.8–1.25× speed 0.936 → 0.954 (numbers from the numpy twin; README "Beat tracking").
//!   For speed the default also drops transitions of weight ≤ e^−20 ([`DbnConfig::transition_cut`];
//!   madmom: 2.2e-16), i.e. tempo jumps of 20 % or more at one beat, and the pass runs compiled
//!   for AVX2 where the CPU has it (same sums, same results).
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
    /// Decode on the activation linearly interpolated to `upsample` × `fps` (1: madmom), each
    /// sub-frame's log-likelihoods scaled by 1/`upsample` (see the module documentation).
    pub upsample: usize,
    /// Transitions whose weight `exp(−λ·|j/i − 1|)` is at most this are dropped before each row
    /// is normalised (madmom: `np.spacing(1)` = 2.2e-16, i.e. tempo jumps under 36 % at λ 100;
    /// default e^−20: under 20 %, half the work per frame).
    pub transition_cut: f64,
}

/// The second pass's prior: a Gaussian on log2 tempo around the first pass's median tempo,
/// paid at every beat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoPrior {
    /// Standard deviation, in octaves.
    pub sigma_octaves: f64,
    /// Weight of the log prior against the transition and observation log-probabilities.
    pub weight: f64,
    /// The second pass only has the tempi within this many octaves of the centre (inside the
    /// config's `min_bpm`..`max_bpm`); `f64::INFINITY`: all of them.
    pub range_octaves: f64,
}

impl Default for TempoPrior {
    fn default() -> Self {
        TempoPrior { sigma_octaves: 0.1, weight: 3.0, range_octaves: 0.5 }
    }
}

impl DbnConfig {
    /// madmom's `DBNBeatTrackingProcessor` defaults, one pass (the parity tests use it).
    pub fn madmom() -> Self {
        DbnConfig { min_bpm: 55.0, max_bpm: 215.0, transition_lambda: 100.0, observation_lambda: 16.0, fps: 50.0, tempo_prior: None, upsample: 1, transition_cut: f64::EPSILON }
    }
}

impl Default for DbnConfig {
    /// madmom's settings plus the tempo-prior pass ([`TempoPrior::default`]), on the activation
    /// upsampled 4× ([`DEFAULT_UPSAMPLE`]).
    fn default() -> Self {
        DbnConfig { tempo_prior: Some(TempoPrior::default()), upsample: DEFAULT_UPSAMPLE, transition_cut: DEFAULT_TRANSITION_CUT, ..DbnConfig::madmom() }
    }
}

/// [`DbnConfig::default`]'s upsampling factor.
pub const DEFAULT_UPSAMPLE: usize = 4;

/// [`DbnConfig::default`]'s transition cut: e^−20.
pub const DEFAULT_TRANSITION_CUT: f64 = 2.061_153_622_438_558e-9;

/// Largest accepted [`DbnConfig::upsample`].
pub const MAX_UPSAMPLE: usize = 16;

/// What the decoder found: beat frames (ascending) and the beat interval (in frames) the path
/// was in at each beat, both at `fps` frames per second (the activation's rate × `upsample`).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub beats: Vec<usize>,
    pub intervals: Vec<usize>,
    pub fps: f64,
}

impl Decoded {
    /// Beat times in seconds.
    pub fn times(&self) -> Vec<f64> {
        self.beats.iter().map(|&f| f as f64 / self.fps).collect()
    }
}

/// `act` linearly interpolated at `k` points per frame (numpy's `np.interp(np.arange(n·k) / k,
/// np.arange(n), act)`: the last frame's value is held after it).
fn upsample(act: &[f64], k: usize) -> Vec<f64> {
    if k <= 1 {
        return act.to_vec();
    }
    let n = act.len();
    (0..n * k)
        .map(|j| {
            let (i, r) = (j / k, (j % k) as f64 / k as f64);
            if i + 1 >= n {
                act[n - 1]
            } else {
                act[i] + r * (act[i + 1] - act[i])
            }
        })
        .collect()
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
    /// Factor on the observation log-likelihoods (1 / upsample).
    obs_scale: f64,
    /// For each chain `b`, the chains `a` in `lo..hi` hold every finite `log_trans[a][b]`.
    from_range: Vec<(usize, usize)>,
    /// `log_trans` transposed: `[b][a]`.
    log_trans_to: Vec<Vec<f64>>,
}

impl Model {
    /// The model; with `prior` `Some((center_bpm, prior))`, entering a chain also pays the
    /// tempo prior.
    fn new(cfg: &DbnConfig, prior: Option<(f64, TempoPrior)>) -> Option<Model> {
        if !(cfg.min_bpm > 0.0 && cfg.max_bpm >= cfg.min_bpm && cfg.fps > 0.0 && cfg.observation_lambda > 1.0 && cfg.transition_lambda >= 0.0)
            || !(0.0..1.0).contains(&cfg.transition_cut)
        {
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
        let log_trans: Vec<Vec<f64>> = intervals
            .iter()
            .map(|&a| {
                let mut p: Vec<f64> = intervals
                    .iter()
                    .map(|&b| (-cfg.transition_lambda * (b as f64 / a as f64 - 1.0).abs()).exp())
                    .map(|p| if p <= cfg.transition_cut { 0.0 } else { p })
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
        let from_range = (0..intervals.len())
            .map(|b| {
                let ok: Vec<usize> = (0..intervals.len()).filter(|&a| log_trans[a][b] > f64::NEG_INFINITY).collect();
                ok.first().map_or((0, 0), |&lo| (lo, ok[ok.len() - 1] + 1))
            })
            .collect();
        let log_trans_to = (0..intervals.len()).map(|b| log_trans.iter().map(|row| row[b]).collect()).collect();
        Some(Model { intervals, log_trans, beat_states, obs_scale: 1.0, from_range, log_trans_to })
    }

    fn log_obs(&self, act: f64, lambda: f64) -> (f64, f64) {
        (self.obs_scale * act.ln(), self.obs_scale * ((1.0 - act) / (lambda - 1.0)).ln())
    }
}

/// Beat frames from the path's beat-state runs, each at its highest activation (madmom's `correct`).
fn beats_from_path(is_beat: &[bool], interval: &[usize], act: &[f64], fps: f64) -> Decoded {
    let mut out = Decoded { beats: Vec::new(), intervals: Vec::new(), fps };
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
/// kept when it finds fewer than 3 beats); both on the activation upsampled `cfg.upsample` ×.
/// Returns no beats for an empty or all-zero activation or an unusable configuration.
fn passes(act: &[f32], cfg: &DbnConfig, pass: impl Fn(&[f64], &Model, &DbnConfig) -> Decoded) -> Decoded {
    let k = cfg.upsample;
    let none = Decoded { beats: Vec::new(), intervals: Vec::new(), fps: cfg.fps * k as f64 };
    if !(1..=MAX_UPSAMPLE).contains(&k) {
        return none;
    }
    let act: Vec<f64> = act.iter().map(|&a| if a.is_finite() { (a as f64).clamp(0.0, 1.0) } else { 0.0 }).collect();
    let act = upsample(&act, k);
    let cfg = &DbnConfig { fps: cfg.fps * k as f64, upsample: 1, ..cfg.clone() };
    let Some(m) = Model::new(cfg, None).map(|m| Model { obs_scale: 1.0 / k as f64, ..m }) else { return none };
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
    let center = 60.0 / median;
    if !(prior.range_octaves > 0.0) {
        return first;
    }
    let scale = prior.range_octaves.exp2();
    let narrow = DbnConfig { min_bpm: cfg.min_bpm.max(center / scale), max_bpm: cfg.max_bpm.min(center * scale), ..cfg.clone() };
    match Model::new(&narrow, Some((center, prior))).map(|m| Model { obs_scale: 1.0 / k as f64, ..m }) {
        Some(m2) => pass(&act, &m2, &narrow),
        None => first,
    }
}

/// Decodes `act` (beat activation per frame, in [0, 1]). Returns no beats for an empty or
/// all-zero activation or an unusable configuration.
pub fn decode(act: &[f32], cfg: &DbnConfig) -> Decoded {
    passes(act, cfg, decode_pass)
}

/// The largest `from[i] + to[i]` and its first index: the same sums and the same first maximum
/// as a plain scan, in two passes the compiler vectorises (four running maxima, then a search).
#[inline(always)]
fn best_entry(from: &[f64], to: &[f64]) -> (f64, usize) {
    let mut acc = [f64::NEG_INFINITY; 4];
    let (fc, tc) = (from.chunks_exact(4), to.chunks_exact(4));
    let (fr, tr) = (fc.remainder(), tc.remainder());
    for (f, t) in fc.zip(tc) {
        for j in 0..4 {
            let v = f[j] + t[j];
            acc[j] = if v > acc[j] { v } else { acc[j] };
        }
    }
    let mut best = acc.into_iter().fold(f64::NEG_INFINITY, |a, v| if v > a { v } else { a });
    for (f, t) in fr.iter().zip(tr) {
        let v = f + t;
        best = if v > best { v } else { best };
    }
    let arg = from.iter().zip(to).position(|(f, t)| f + t == best).unwrap_or(0);
    (best, arg)
}

fn decode_pass(act: &[f64], m: &Model, cfg: &DbnConfig) -> Decoded {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { decode_pass_avx2(act, m, cfg) };
    }
    decode_pass_body(act, m, cfg)
}

/// [`decode_pass_body`] compiled for AVX2: wider vectors for the same f64 additions and
/// comparisons (no fused multiply-add), so the same results, bit for bit, about twice as fast.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn decode_pass_avx2(act: &[f64], m: &Model, cfg: &DbnConfig) -> Decoded {
    decode_pass_body(act, m, cfg)
}

#[inline(always)]
fn decode_pass_body(act: &[f64], m: &Model, cfg: &DbnConfig) -> Decoded {
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
    let mut last = vec![0f64; n_int]; // each chain's last state at the previous frame
    for (t, &a) in act.iter().enumerate() {
        let (ob, on) = m.log_obs(a, cfg.observation_lambda);
        if t == 0 {
            for (c, &o) in offsets.iter().enumerate() {
                for k in 0..m.intervals[c] {
                    cur[o + k] = init + if k < m.beat_states[c] { ob } else { on };
                }
            }
        } else {
            for (l, (&o, &len)) in last.iter_mut().zip(offsets.iter().zip(&m.intervals)) {
                *l = prev[o + len - 1];
            }
            for (c, &o) in offsets.iter().enumerate() {
                let len = m.intervals[c];
                // first state: best over the chains' last states (strict >: first maximum wins, as
                // madmom); chains whose transition probability is 0 are skipped (−∞ never wins)
                let (lo, hi) = m.from_range[c];
                let (best, arg) = best_entry(&last[lo..hi], &m.log_trans_to[c][lo..hi]);
                let arg = if best == f64::NEG_INFINITY { 0 } else { lo + arg };
                back[t * n_int + c] = arg as u16;
                let nb = m.beat_states[c];
                cur[o] = best + if nb > 0 { ob } else { on };
                // the rest of the chain moves one state on: beat states, then the others
                let split = nb.clamp(1, len);
                for k in 1..split {
                    cur[o + k] = prev[o + k - 1] + ob;
                }
                for (x, y) in cur[o + split..o + len].iter_mut().zip(&prev[o + split - 1..o + len - 1]) {
                    *x = y + on;
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
    beats_from_path(&is_beat, &interval, act, cfg.fps)
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
        let (ob, on) = m.log_obs(a, cfg.observation_lambda);
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
    beats_from_path(&is_beat, &interval, act, cfg.fps)
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

    /// The default decoder at the activation's own frame rate (frames checkable one to one).
    fn at_50() -> DbnConfig {
        DbnConfig { upsample: 1, ..DbnConfig::default() }
    }

    #[test]
    fn finds_a_regular_pulse_and_its_tempo() {
        let act = pulses(1000, 25.0, 7.0, 0.02);
        let up = decode(&act, &DbnConfig::default());
        assert_eq!(up.fps, 200.0);
        let d = decode(&act, &at_50());
        assert_eq!(d.fps, 50.0);
        assert_eq!(up.times(), d.times(), "a clean pulse: same beats at 200 and 50 frames/s");
        assert!(d.beats.len() >= 38 && d.beats.len() <= 40, "{:?}", d.beats);
        for (b, i) in d.beats.iter().zip(&d.intervals) {
            assert_eq!((*b as i64 - 7).rem_euclid(25), 0, "beat at frame {b}");
            assert_eq!(*i, 25);
        }
    }

    #[test]
    fn fast_decoder_equals_the_dense_reference() {
        // narrow tempo range so the dense twin stays fast; tempo change in the middle
        let cfg = DbnConfig { min_bpm: 100.0, max_bpm: 160.0, ..at_50() };
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
        let two = decode(&act, &at_50());
        assert!(ibis(&two).iter().all(|&i| (24..=26).contains(&i)), "the prior keeps the beat: {:?}", ibis(&two));
        assert!(two.intervals.iter().all(|&i| (24..=26).contains(&i)));
        let up = decode(&act, &DbnConfig::default());
        // upsampled (200 frames/s: the beat is 100 frames): the opening's beats sit on its own
        // pulses nearest the beat (within 8 %), not on its 80-frame rhythm
        assert!(ibis(&up).iter().all(|&i| (92..=108).contains(&i)), "and upsampled: {:?}", ibis(&up));
        let steady = ibis(&up);
        assert!(steady[10..steady.len() - 1].iter().all(|&i| i == 100), "{steady:?}");
        // a prior of weight 0 is madmom's decoder
        let w0 = DbnConfig { tempo_prior: Some(TempoPrior { weight: 0.0, ..TempoPrior::default() }), ..DbnConfig::madmom() };
        assert_eq!(decode(&act, &w0), one);
        // an unusable prior is refused like any unusable setting
        let bad = DbnConfig { tempo_prior: Some(TempoPrior { sigma_octaves: 0.0, ..TempoPrior::default() }), ..DbnConfig::madmom() };
        assert_eq!(decode(&act, &bad), one);
    }

    #[test]
    fn vectorised_pass_equals_the_portable_one() {
        // decode() takes the AVX2 build of the pass where the CPU has it; same sums, same path
        let mut act = pulses(3000, 23.3, 4.0, 0.03);
        for (i, a) in act.iter_mut().enumerate() {
            *a = (*a + 0.2 * ((i * 7919 % 17) as f32 / 17.0)).min(1.0);
        }
        for cfg in [DbnConfig::default(), DbnConfig::madmom()] {
            let d = decode(&act, &cfg);
            assert!(d.beats.len() > 100);
            assert_eq!(d, passes(&act, &cfg, decode_pass_body));
        }
    }

    #[test]
    fn upsample_is_numpy_interp() {
        assert_eq!(upsample(&[0.0, 1.0, 0.5], 4), vec![0.0, 0.25, 0.5, 0.75, 1.0, 0.875, 0.75, 0.625, 0.5, 0.5, 0.5, 0.5]);
        assert_eq!(upsample(&[0.3], 2), vec![0.3, 0.3]);
        assert_eq!(upsample(&[0.3, 0.6], 1), vec![0.3, 0.6]);
        assert!(decode(&[0.5; 100], &DbnConfig { upsample: 0, ..DbnConfig::default() }).beats.is_empty());
        assert!(decode(&[0.5; 100], &DbnConfig { upsample: MAX_UPSAMPLE + 1, ..DbnConfig::default() }).beats.is_empty());
    }

    #[test]
    fn upsampled_and_narrowed_decoder_equals_the_dense_reference() {
        // the second pass keeps only the tempi within range_octaves of the first pass's
        let cfg = DbnConfig { min_bpm: 95.0, max_bpm: 125.0, upsample: 2, ..DbnConfig::default() };
        let mut act = pulses(90, 24.0, 3.0, 0.05);
        act.extend(pulses(90, 26.0, 10.0, 0.1));
        for (i, a) in act.iter_mut().enumerate() {
            *a = (*a + 0.15 * ((i * 7919 % 13) as f32 / 13.0)).min(1.0);
        }
        let narrow = TempoPrior { range_octaves: 0.1, ..TempoPrior::default() };
        for cfg in [cfg.clone(), DbnConfig { tempo_prior: Some(narrow), ..cfg.clone() }, DbnConfig { tempo_prior: None, ..cfg }] {
            let fast = decode(&act, &cfg);
            assert!(fast.beats.len() >= 5, "{fast:?}");
            assert_eq!(fast, reference(&act, &cfg));
        }
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
