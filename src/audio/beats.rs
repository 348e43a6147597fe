//! Beat tracking: beat times (seconds) and a tempo (BPM) for a decoded song.
//!
//! Three trackers, picked by [`BeatMethod`]:
//!
//! * [`BeatMethod::BeatNet`] (the default): BeatNet's beat/downbeat networks (Heydari et al.,
//!   ISMIR 2021; CC-BY-4.0 weights from the `BeatNet==1.1.3` wheel, the three published models
//!   averaged in one ONNX graph, `models/beatnet.onnx`, see `models/beatnet.md`) run by ONNX
//!   Runtime ([`super::beatnet`]) on madmom's log-filtered spectrogram ([`super::logspec`], the
//!   song resampled to 22.05 kHz), then decoded by madmom's beat DBN written in Rust
//!   ([`super::dbn`], madmom's settings: 55–215 BPM, λ 100, observation λ 16, plus a second
//!   pass with a tempo prior around the first pass's median tempo, both on the activation
//!   upsampled 4× so that fast beats need not fall on whole 20-ms frames). The beat
//!   activation is P(beat) + P(downbeat). Downbeats and meter come from P(downbeat) at the
//!   decoded beats ([`meter`]); the tempo curve from the DBN's state at each beat. Songs under
//!   [`BEATNET_MIN_S`] fall back to `dp` with a warning. Chosen by measurement on the 16 tuning
//!   files of `beats-dev` (`tools/bench/beats.sh`, figures in the README): mean F 0.986
//!   against dp's 0.715 (0.996 with the tempo-prior pass, `tools/beats/tune_dbn.py`; 0.995
//!   upsampled, which lifts 221 new MIDI renders from 0.917 to 0.934); each network alone gave
//!   0.825 / 0.939 / 0.899 (madmom's DBN in Python).
//!
//! * [`BeatMethod::Dp`]: an offline tracker after Ellis (2007), "Beat tracking by
//!   dynamic programming", written here from scratch in the style of librosa's `beat_track`:
//!   1. **Onset strength.** The song is analysed at its own sample rate on a fixed time grid:
//!      hop = 512/22050 s (23.2 ms, ≈ 43 frames/s), Hann window of 4 hops (92.9 ms), centred
//!      (zero-padded) frames. Power spectrum → 128-band Slaney mel filterbank over the full band
//!      (0 to sr/2) → dB (floor 80 dB under the loudest bin). Spectral flux: per band, the rise in
//!      dB from the previous frame, half-wave rectified; across bands, **median + 0.1 × mean**. The
//!      median (what librosa's tracker uses) ignores tonal changes in a few bands and was by far
//!      the better choice on the country clip (0.81 against 0.46 mean F on crops); the small mean
//!      term keeps a narrow-band onset (a sine click, one instrument) from vanishing. The envelope
//!      is shifted 3 frames late (1 for the difference, 2 for half a window), as librosa does.
//!   2. **Tempo.** Windowed autocorrelation of the envelope (8 s Hann windows, hop 1 frame, each
//!      normalised to its peak), averaged over the song, in log-compressed form (`ln(1 + 10⁶ r)`)
//!      plus a log-normal prior centred on 120 BPM with a standard deviation of one octave;
//!      tempi of 320 BPM and more are excluded. The best lag is refined by a parabola through
//!      its neighbours: that is the BPM reported.
//!   3. **Dynamic programming.** The envelope, divided by its standard deviation and smoothed by
//!      a Gaussian of σ = period/32, is the local score. Each frame's cumulative score is its
//!      local score plus the best predecessor between 2 periods and half a period back, less
//!      `tightness · ln²(interval / period)` with tightness 100. The path is backtracked from the
//!      last interior local maximum of the cumulative score above half their median; leading
//!      frames below 1 % of the peak local score cannot start the path. (librosa also lets the
//!      last frame count as a maximum when the score is still rising there; the path to that
//!      phantom beat pulled the real last beat 112 ms off a click, and excluding it took the
//!      whole waltz and country clips from 0.962 / 0.884 to 0.975 / 0.907.)
//!   4. **Trim.** Leading and trailing beats whose local score (smoothed over 3 beats) is at or
//!      under ¼ of the RMS of the beats' scores are dropped. librosa 0.11 instead drops every
//!      beat before the first (and after the last) *frame* whose score exceeds ½ RMS, which
//!      cuts soft intros and endings that still have beats (the last 8 s of the waltz clip in
//!      some settings); with the settings here it lowered mean F on the crops from 0.88 to 0.83.
//!   5. Each beat is moved to the vertex of a parabola through the local score around it, for
//!      sub-frame times (mean |error| of matched beats 19.6 → 19.0 ms; F unchanged within one
//!      beat).
//!
//! * [`BeatMethod::Aubio`]: aubio's causal tracker (`aubio_tempo`, via `aubio-rs`) with the named
//!   onset function ([`AUBIO_ONSETS`]), window 2048 / hop 512 samples at the song's own rate (aubio
//!   accepts any positive rate, so nothing is resampled; 2048 beat 1024 for the better onset
//!   functions, and scaling the sizes with the rate did not help). aubio's own silence gate is
//!   kept: it drops beats that fall in a hop under -90 dB, so bare clicks in digital silence lose
//!   most of their beats. Its BPM is the median inter-beat interval of what it returns.
//!
//! ## Measured choice between dp and aubio (before BeatNet)
//!
//! F-measure (±70 ms, each annotation used once, [`f_measure`]) on the annotated clips in
//! `shared/data/beats` (waltz 44.1 kHz 32 s, country 22.05 kHz 30 s, madmom sample 44.1 kHz
//! 2.8 s), from `tools/bench/beats.sh`:
//!
//! | file    | dp    | aubio wphase | aubio specdiff | aubio specflux | librosa | librosa @ native rate |
//! |---------|-------|--------------|----------------|----------------|---------|-----------------------|
//! | waltz   | 0.975 | 0.689        | 0.702          | 0.617          | 0.919   | 0.961                 |
//! | country | 0.907 | 0.337        | 0.282          | 0.146          | 0.884   | 0.884                 |
//! | madmom  | 0.667 | 0.500        | 0.500          | 0.500          | 0.286   | 0.444                 |
//! | mean    | 0.850 | 0.509        | 0.495          | 0.421          | 0.696   | 0.763                 |
//!
//! Mean F of the other aubio onset functions: phase 0.383, hfc 0.335, kl 0.335, complex 0.282,
//! mkl 0.227, energy 0.206; so `aubio` alone means `aubio:wphase` ([`DEFAULT_AUBIO_ONSET`]).
//! "librosa" is `beat_track` with its defaults (`librosa.load` resamples to 22.05 kHz).
//!
//! The DP settings (hop 11.6 or 23.2 ms, window 2/4/8 hops, mel top sr/2 or 11.025 kHz, 64/128
//! bands, median/mean/percentile/mixed aggregation, tightness 50–400, trim rule) were chosen on
//! 44 overlapping 8 s and 15 s crops of the waltz and country clips as well as on the whole
//! clips, so that three files do not decide alone; the chosen settings score 0.867 on the crops.
//! Hop 11.6 ms ties there (0.871) but loses on the whole country clip (0.851). The 2.8 s madmom
//! clip (4 beats at 88 BPM, strong quarter-beat subdivisions) is a coin toss between ~115 and
//! ~172 BPM for every setting tried; neither is right, and 172 happens to score 0.667 (every
//! other beat). Synthetic click tracks at 90–137 BPM give the tempo within 0.2 BPM and F ≥ 0.98.
//! On the 43 Tang2018 songs (3–4 min) the tempo is within 4 % of librosa's on 40 and the beats
//! agree with librosa's at F 0.92 on average; a 4-minute mp3 takes ~0.6 s, decoding included
//! (release build).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::Serialize;

use std::path::{Path, PathBuf};

use super::beatnet::{self, BeatNet};
use super::dbn::{self, DbnConfig};
use super::logspec;
use super::{Audio, AudioError};

/// Which tracker to run.
#[derive(Debug, Clone, PartialEq)]
pub enum BeatMethod {
    /// BeatNet's network (ONNX) on madmom's features, decoded by a DBN (the default).
    BeatNet,
    /// Offline: onset-strength envelope + tempo estimate + dynamic programming (Ellis 2007).
    Dp,
    /// aubio's real-time tracker with the given onset function.
    Aubio { onset: AubioOnset },
}

/// The onset functions aubio's tracker accepts (aubio's names, lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum AubioOnset {
    Specflux,
    Hfc,
    Complex,
    Energy,
    Phase,
    Wphase,
    Kl,
    Mkl,
    Specdiff,
}

/// Every onset function, in the order the bench reports them.
pub const AUBIO_ONSETS: &[AubioOnset] = &[
    AubioOnset::Specflux,
    AubioOnset::Hfc,
    AubioOnset::Complex,
    AubioOnset::Energy,
    AubioOnset::Phase,
    AubioOnset::Wphase,
    AubioOnset::Kl,
    AubioOnset::Mkl,
    AubioOnset::Specdiff,
];

/// The onset function `aubio` without a name stands for (best mean F of [`AUBIO_ONSETS`]).
pub const DEFAULT_AUBIO_ONSET: AubioOnset = AubioOnset::Wphase;

/// The tolerance of the usual beat F-measure: ±70 ms.
pub const F_MEASURE_TOLERANCE: f64 = 0.07;

impl AubioOnset {
    /// aubio's name for it.
    pub fn name(self) -> &'static str {
        match self {
            AubioOnset::Specflux => "specflux",
            AubioOnset::Hfc => "hfc",
            AubioOnset::Complex => "complex",
            AubioOnset::Energy => "energy",
            AubioOnset::Phase => "phase",
            AubioOnset::Wphase => "wphase",
            AubioOnset::Kl => "kl",
            AubioOnset::Mkl => "mkl",
            AubioOnset::Specdiff => "specdiff",
        }
    }
}

impl fmt::Display for AubioOnset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AubioOnset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        AUBIO_ONSETS.iter().copied().find(|o| o.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let names: Vec<&str> = AUBIO_ONSETS.iter().map(|o| o.name()).collect();
            format!("unknown aubio onset method '{s}': valid ones are {}", names.join(", "))
        })
    }
}

impl FromStr for BeatMethod {
    type Err = String;

    /// `beatnet`, `dp`, `aubio` (with [`DEFAULT_AUBIO_ONSET`]) or `aubio:ONSET`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("dp") {
            return Ok(BeatMethod::Dp);
        }
        if s.eq_ignore_ascii_case("beatnet") {
            return Ok(BeatMethod::BeatNet);
        }
        if s.eq_ignore_ascii_case("aubio") {
            return Ok(BeatMethod::Aubio { onset: DEFAULT_AUBIO_ONSET });
        }
        match s.split_once(':').filter(|(m, _)| m.eq_ignore_ascii_case("aubio")) {
            Some((_, onset)) => Ok(BeatMethod::Aubio { onset: onset.parse()? }),
            None => {
                let names: Vec<&str> = AUBIO_ONSETS.iter().map(|o| o.name()).collect();
                Err(format!("unknown beat method '{s}': expected 'beatnet', 'dp', 'aubio' or 'aubio:ONSET' with ONSET one of {}", names.join(", ")))
            }
        }
    }
}

impl fmt::Display for BeatMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BeatMethod::BeatNet => f.write_str("beatnet"),
            BeatMethod::Dp => f.write_str("dp"),
            BeatMethod::Aubio { onset } => write!(f, "aubio:{onset}"),
        }
    }
}

/// How beats are tracked; with the `cli` feature, also `choreo beats`' `--method` (the doc comment
/// is its help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct BeatConfig {
    /// Tracker: `beatnet` (BeatNet network + DBN, default), `dp` (offline dynamic programming) or
    /// `aubio:ONSET` (e.g. aubio:specflux).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = BeatConfig::default().method))]
    pub method: BeatMethod,
    // BeatNet's ONNX file; `None`: [`beatnet::default_model`].
    #[cfg_attr(feature = "cli", arg(skip))]
    pub model: Option<PathBuf>,
    // The DBN decoder's settings (BeatNet only).
    #[cfg_attr(feature = "cli", arg(skip = DbnConfig::default()))]
    pub dbn: DbnConfig,
}

impl Default for BeatConfig {
    fn default() -> Self {
        BeatConfig { method: BeatMethod::BeatNet, model: None, dbn: DbnConfig::default() }
    }
}

impl BeatConfig {
    /// The default settings with another method.
    pub fn with_method(method: BeatMethod) -> Self {
        BeatConfig { method, ..BeatConfig::default() }
    }
}

/// Beat times in seconds, ascending, and the tempo in beats per minute (0 when no beats).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Beats {
    pub bpm: f64,
    pub beats: Vec<f64>,
    /// The tempo curve where the tracker has one (BeatNet's DBN): `[time s, BPM]` at each beat,
    /// the tempo of the decoder's state there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tempo: Vec<[f64; 2]>,
    /// The first beat of each bar, where the tracker tells them (BeatNet; see [`meter`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub downbeats: Vec<f64>,
    /// Beats per bar (the meter) with `downbeats`; 0 when unknown.
    #[serde(skip_serializing_if = "is_zero")]
    pub beats_per_bar: usize,
    /// Which tracker produced the beats (`beatnet`, or `dp` where BeatNet fell back to it).
    #[serde(skip)]
    pub method: String,
    /// Things the caller should tell the user (e.g. a fallback to another tracker).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Beats {
    /// The user's own beat times (seconds, increasing), with the tempo of their median interval.
    pub fn given(beats: Vec<f64>) -> Self {
        let mut d: Vec<f64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
        d.sort_by(f64::total_cmp);
        let bpm = d.get(d.len() / 2).map(|i| 60.0 / i).unwrap_or(0.0);
        Beats { method: "file".into(), ..Beats::plain(bpm, beats) }
    }

    fn none() -> Self {
        Beats::plain(0.0, vec![])
    }

    fn plain(bpm: f64, beats: Vec<f64>) -> Self {
        Beats { bpm, beats, tempo: vec![], downbeats: vec![], beats_per_bar: 0, method: String::new(), warnings: vec![] }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Songs shorter than this are too short for the beat network and the DBN (under two beats
/// at its slowest tempo, 55 BPM: 2 × 60/55 = 2.18 s): BeatNet falls back to the dp tracker with
/// a warning. (It was 3 s, which did not follow this rule; every beats-dev excerpt is 30 s, so
/// only shorter songs see the change.)
pub const BEATNET_MIN_S: f64 = 2.2;

/// Audio shorter than this gives no beats.
const MIN_DURATION_S: f64 = 1.0;

/// Finds the beats of `audio`. Silent or very short (< 1 s) audio gives `bpm == 0` and no beats.
pub fn detect_beats(audio: &Audio, cfg: &BeatConfig) -> Result<Beats, AudioError> {
    let invalid = |reason: String| AudioError::Invalid { path: audio.path.clone(), reason };
    if audio.sample_rate == 0 {
        return Err(invalid("sample rate is 0".into()));
    }
    if audio.samples.iter().any(|s| !s.is_finite()) {
        return Err(invalid("non-finite samples".into()));
    }
    if audio.is_silent() || audio.duration_secs() < MIN_DURATION_S {
        return Ok(Beats::none());
    }
    let mut b = match &cfg.method {
        BeatMethod::BeatNet if audio.duration_secs() < BEATNET_MIN_S => {
            let mut b = dp::track(&audio.samples, audio.sample_rate);
            b.warnings.push(format!(
                "{}: {:.1} s is too short for the beat network (needs {BEATNET_MIN_S} s): used the dp tracker",
                audio.path.display(),
                audio.duration_secs()
            ));
            b.method = "dp".into();
            return Ok(b);
        }
        BeatMethod::BeatNet => {
            let (lo, hi) = (super::decode::SAMPLE_RATE_MIN, super::decode::SAMPLE_RATE_MAX);
            if !(lo..=hi).contains(&audio.sample_rate) {
                return Err(invalid(format!("sample rate {} Hz is out of range ({lo}..={hi} Hz)", audio.sample_rate)));
            }
            let model = cfg.model.clone().unwrap_or_else(beatnet::default_model);
            // Loaded networks are kept for the next song (eval runs the tracker per song); one in
            // use is taken out of the pool, so calls on several threads do not wait for each other.
            static POOL: std::sync::Mutex<Vec<BeatNet>> = std::sync::Mutex::new(Vec::new());
            let taken = {
                let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
                pool.iter().position(|n| n.model() == model).map(|i| pool.swap_remove(i))
            };
            let mut net = match taken {
                Some(n) => n,
                None => BeatNet::load(&model)?,
            };
            let b = beatnet_track(audio, &mut net, &cfg.dbn);
            POOL.lock().unwrap_or_else(|e| e.into_inner()).push(net);
            b?
        }
        BeatMethod::Dp => dp::track(&audio.samples, audio.sample_rate),
        BeatMethod::Aubio { onset } => aubio_track(&audio.samples, audio.sample_rate, *onset).map_err(invalid)?,
    };
    b.method = cfg.method.to_string();
    Ok(b)
}

/// The beat activation (beat + downbeat probability, 50 frames/s) BeatNet gives `audio`.
pub fn beatnet_activation(audio: &Audio, net: &mut BeatNet) -> Result<Vec<f32>, AudioError> {
    Ok(beatnet_activations(audio, net)?.iter().map(|r| r[0] + r[1]).collect())
}

/// BeatNet's per-frame (beat, downbeat, no beat) probabilities for `audio`, 50 frames/s.
pub fn beatnet_activations(audio: &Audio, net: &mut BeatNet) -> Result<Vec<[f32; 3]>, AudioError> {
    let x = logspec::resample(&audio.samples, audio.sample_rate, logspec::SAMPLE_RATE);
    let feats = logspec::features(&x);
    let frames = feats.len() / logspec::DIM;
    net.activations(&feats, frames)
}

/// BeatNet + DBN on `audio` with an already loaded network.
pub fn beatnet_track(audio: &Audio, net: &mut BeatNet, dbn_cfg: &DbnConfig) -> Result<Beats, AudioError> {
    let rows = beatnet_activations(audio, net)?;
    let act: Vec<f32> = rows.iter().map(|r| r[0] + r[1]).collect();
    let d = dbn::decode(&act, dbn_cfg);
    let beats = d.times();
    let tempo: Vec<[f64; 2]> = beats.iter().zip(&d.intervals).map(|(&t, &i)| [t, 60.0 * d.fps / i as f64]).collect();
    let bpm = median_interval(&beats).map(|p| 60.0 / p).unwrap_or(0.0);
    let down: Vec<f32> = rows.iter().map(|r| r[1]).collect();
    let frames: Vec<usize> = beats.iter().map(|&t| (t * dbn_cfg.fps).round() as usize).collect();
    let (beats_per_bar, downbeats) = match meter(&frames, &down) {
        Some((m, phase)) => (m, beats.iter().skip(phase).step_by(m).copied().collect()),
        None => (0, vec![]),
    };
    Ok(Beats { bpm, beats, tempo, downbeats, beats_per_bar, method: String::new(), warnings: vec![] })
}

/// Meters [`meter`] chooses between (beats per bar).
pub const METERS: [usize; 3] = [2, 3, 4];

/// Beats per bar and the index of the first downbeat, from the network's downbeat probability
/// at the beats (its maximum within ±2 frames of each beat frame): for each meter `m` of
/// [`METERS`] and phase `p < m`, the mean probability at beats `p, p+m, p+2m, ...` less the
/// mean at the other beats; the best contrast wins (ties: the smaller meter). A beat-synchronous
/// choice over the decoded beats, not madmom's bar-pointer DBN. `None` with fewer than two bars
/// of the largest meter or no contrast above 0.1.
pub fn meter(beat_frames: &[usize], down: &[f32]) -> Option<(usize, usize)> {
    let m_max = *METERS.iter().max()?;
    if beat_frames.len() < 2 * m_max || down.is_empty() {
        return None;
    }
    let at: Vec<f64> = beat_frames
        .iter()
        .map(|&f| {
            let lo = f.saturating_sub(2);
            let hi = (f + 2).min(down.len() - 1);
            down[lo.min(hi)..=hi].iter().copied().filter(|v| v.is_finite()).fold(0f32, f32::max) as f64
        })
        .collect();
    let mut best: Option<(f64, usize, usize)> = None;
    for &m in &METERS {
        for p in 0..m {
            let (mut on, mut n_on, mut off, mut n_off) = (0.0, 0usize, 0.0, 0usize);
            for (k, v) in at.iter().enumerate() {
                if k % m == p {
                    on += v;
                    n_on += 1;
                } else {
                    off += v;
                    n_off += 1;
                }
            }
            let c = on / n_on as f64 - off / n_off.max(1) as f64;
            if best.is_none_or(|(bc, _, _)| c > bc + 1e-12) {
                best = Some((c, m, p));
            }
        }
    }
    best.filter(|(c, _, _)| *c > 0.1).map(|(_, m, p)| (m, p))
}

/// The onset-strength envelope the dp tracker follows, and its frame rate (envelope values per
/// second). Empty for silent or empty audio.
pub fn onset_strength(audio: &Audio) -> (Vec<f64>, f64) {
    let sr = audio.sample_rate as f64;
    if sr <= 0.0 || audio.samples.is_empty() {
        return (Vec::new(), 1.0);
    }
    let hop = ((sr * dp::HOP_S).round() as usize).max(1);
    (dp::onset_envelope(&audio.samples, hop, dp::WIN_HOPS * hop, sr), sr / hop as f64)
}

// ------------------------------------------------------------------------------------------------
// Evaluation

/// Beat F-measure: a detection and an annotation match when at most `tol` seconds apart, each
/// used at most once (a maximum matching; greedy in time order is optimal for a fixed window);
/// F = 2PR/(P+R). 0 when either list is empty (as mir_eval). Order of the inputs does not
/// matter; non-finite times are ignored.
pub fn f_measure(detected: &[f64], annotated: &[f64], tol: f64) -> f64 {
    let sorted = |v: &[f64]| {
        let mut v: Vec<f64> = v.iter().copied().filter(|t| t.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (d, a) = (sorted(detected), sorted(annotated));
    if d.is_empty() || a.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut hits) = (0, 0, 0usize);
    while i < d.len() && j < a.len() {
        if (d[i] - a[j]).abs() <= tol {
            hits += 1;
            i += 1;
            j += 1;
        } else if d[i] < a[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    if hits == 0 {
        return 0.0;
    }
    let p = hits as f64 / d.len() as f64;
    let r = hits as f64 / a.len() as f64;
    2.0 * p * r / (p + r)
}

/// Reads a user's beat file for a song of `song_secs` seconds: either one time (seconds) per line
/// (anything after the first whitespace-separated field is ignored; blank lines and `#` comments
/// are allowed) or the JSON that `choreo beats --json` prints (`{"beats": [..], ..}`). Rejects,
/// with a one-line error naming the file: an unreadable or empty file, a line that does not
/// start with a number, NaN or infinite times, negative times, times that do not strictly
/// increase, no beats at all, and beats past the song's end.
pub fn read_beats_file(path: &Path, song_secs: f64) -> Result<Vec<f64>, AudioError> {
    let bad = |reason: String| AudioError::Invalid { path: path.to_path_buf(), reason: format!("beat file: {reason}") };
    let bytes = std::fs::read(path).map_err(|source| AudioError::Open { path: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
    let trimmed = text.trim_start();
    // (line number or 0 for JSON, time)
    let times: Vec<(usize, f64)> = if trimmed.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct BeatsJson {
            beats: Vec<Option<f64>>,
        }
        let j: BeatsJson = serde_json::from_str(trimmed).map_err(|e| bad(format!("not valid beats JSON ({e})")))?;
        j.beats
            .into_iter()
            .enumerate()
            .map(|(i, t)| t.map(|t| (i + 1, t)).ok_or_else(|| bad(format!("beat {} is null (NaN?)", i + 1))))
            .collect::<Result<_, _>>()?
    } else {
        let mut v = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.split('#').next().unwrap_or("").trim();
            let Some(first) = l.split_whitespace().next() else { continue };
            let t: f64 = first.parse().map_err(|_| bad(format!("line {}: '{}' is not a time in seconds", i + 1, first.chars().take(40).collect::<String>())))?;
            v.push((i + 1, t));
        }
        v
    };
    let what = if trimmed.starts_with('{') { "beat" } else { "line" };
    if times.is_empty() {
        return Err(bad("no beat times in it".into()));
    }
    let mut prev = f64::NEG_INFINITY;
    for &(n, t) in &times {
        if !t.is_finite() {
            return Err(bad(format!("{what} {n}: {t} is not a finite time")));
        }
        if t < 0.0 {
            return Err(bad(format!("{what} {n}: negative time {t}")));
        }
        if t <= prev {
            return Err(bad(format!("{what} {n}: {t} s does not come after the previous beat ({prev} s): times must increase")));
        }
        if song_secs.is_finite() && t > song_secs {
            return Err(bad(format!("{what} {n}: {t} s is past the song's end ({song_secs:.3} s)")));
        }
        prev = t;
    }
    Ok(times.into_iter().map(|(_, t)| t).collect())
}

/// Reads a beat annotation file's text: the first number of each line; blank lines, `#`
/// comments and lines that do not start with a number are skipped. Handles "time", "time
/// bar-position" and "time beat-in-bar" formats.
pub fn parse_beat_annotations(text: &str) -> Vec<f64> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .filter(|t| t.is_finite())
        .collect()
}

// ------------------------------------------------------------------------------------------------
// aubio

/// aubio's analysis window and hop, in samples.
const AUBIO_BUF: usize = 2048;
const AUBIO_HOP: usize = 512;

fn aubio_track(samples: &[f32], sr: u32, onset: AubioOnset) -> Result<Beats, String> {
    use aubio_rs::{OnsetMode, Tempo};
    let mode: OnsetMode = onset.name().parse().map_err(|_| format!("aubio does not know onset method '{onset}'"))?;
    let mut tempo = Tempo::new(mode, AUBIO_BUF, AUBIO_HOP, sr)
        .map_err(|e| format!("aubio tempo tracker ({onset}, rate {sr}): {e}"))?;
    let mut beats = Vec::new();
    // aubio-rs does not check sizes without its `check-size` feature: always hand it exactly one hop.
    let mut block = [0.0f32; AUBIO_HOP];
    for chunk in samples.chunks(AUBIO_HOP) {
        block[..chunk.len()].copy_from_slice(chunk);
        block[chunk.len()..].fill(0.0);
        let out = tempo.do_result(&block[..]).map_err(|e| format!("aubio tempo tracker: {e}"))?;
        if out > 0.0 {
            let t = tempo.get_last_s() as f64;
            if t.is_finite() && t >= 0.0 && beats.last().is_none_or(|&l| t > l) {
                beats.push(t);
            }
        }
    }
    let bpm = match median_interval(&beats) {
        Some(ibi) if ibi > 0.0 => 60.0 / ibi,
        _ if !beats.is_empty() => tempo.get_bpm() as f64,
        _ => 0.0,
    };
    Ok(Beats::plain(if bpm.is_finite() { bpm } else { 0.0 }, beats))
}

fn median_interval(beats: &[f64]) -> Option<f64> {
    let mut d: Vec<f64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    if d.is_empty() {
        return None;
    }
    d.sort_by(f64::total_cmp);
    Some(median_sorted(&d))
}

/// Median of a sorted, non-empty slice (mean of the middle two for even lengths, as numpy).
fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

// ------------------------------------------------------------------------------------------------
// Dynamic-programming tracker

mod dp {
    use super::*;

    /// Hop of the analysis, in seconds (librosa's 512 samples at 22.05 kHz).
    pub const HOP_S: f64 = 512.0 / 22050.0;
    /// Analysis window, in hops.
    pub const WIN_HOPS: usize = 4;
    pub const N_MELS: usize = 128;
    /// dB floor under the loudest bin.
    pub const TOP_DB: f64 = 80.0;
    /// Weight of the mean across bands added to the median, in the flux.
    pub const MEAN_WEIGHT: f64 = 0.1;
    /// Autocorrelation window for the tempo, seconds.
    pub const AC_SIZE_S: f64 = 8.0;
    pub const START_BPM: f64 = 120.0;
    /// Standard deviation of the log-normal tempo prior, octaves.
    pub const STD_BPM_OCT: f64 = 1.0;
    pub const MAX_BPM: f64 = 320.0;
    pub const TIGHTNESS: f64 = 100.0;
    /// Leading/trailing beats at or under this fraction of the RMS beat score are trimmed.
    pub const TRIM_FRACTION: f64 = 0.25;

    pub fn track(samples: &[f32], sr: u32) -> Beats {
        let sr = sr as f64;
        let hop = ((sr * HOP_S).round() as usize).max(1);
        let frame_rate = sr / hop as f64;
        let env = onset_envelope(samples, hop, WIN_HOPS * hop, sr);
        if env.len() < 4 || !env.iter().any(|&x| x > 0.0) {
            return Beats::none();
        }
        let Some(period) = estimate_period(&env, frame_rate) else {
            return Beats::none();
        };
        let bpm = 60.0 * frame_rate / period;
        let frames = beat_frames(&env, period.round_ties_even().max(1.0));
        if frames.is_empty() || !bpm.is_finite() {
            return Beats::none();
        }
        Beats::plain(bpm, frames.into_iter().map(|f| f / frame_rate).collect())
    }

    /// Periodic Hann window (scipy `get_window('hann', n, fftbins=True)`).
    fn hann_periodic(n: usize) -> Vec<f64> {
        (0..n).map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()).collect()
    }

    fn hz_to_mel(f: f64) -> f64 {
        // Slaney: linear under 1 kHz, logarithmic above.
        const F_SP: f64 = 200.0 / 3.0;
        let logstep = 6.4f64.ln() / 27.0;
        if f < 1000.0 {
            f / F_SP
        } else {
            1000.0 / F_SP + (f / 1000.0).ln() / logstep
        }
    }

    fn mel_to_hz(m: f64) -> f64 {
        const F_SP: f64 = 200.0 / 3.0;
        let logstep = 6.4f64.ln() / 27.0;
        let min_log_mel = 1000.0 / F_SP;
        if m < min_log_mel {
            m * F_SP
        } else {
            1000.0 * (logstep * (m - min_log_mel)).exp()
        }
    }

    /// Slaney-normalised triangular mel filters (librosa `filters.mel`, htk=False, norm='slaney'),
    /// each as (first bin, weights).
    fn mel_filters(sr: f64, n_fft: usize, n_mels: usize) -> Vec<(usize, Vec<f64>)> {
        let n_bins = n_fft / 2 + 1;
        let fft_freqs: Vec<f64> = (0..n_bins).map(|k| k as f64 * sr / n_fft as f64).collect();
        let (mlo, mhi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
        let mel_f: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(mlo + (mhi - mlo) * i as f64 / (n_mels + 1) as f64))
            .collect();
        (0..n_mels)
            .map(|m| {
                let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
                let enorm = 2.0 / (f2 - f0);
                let w: Vec<f64> = fft_freqs
                    .iter()
                    .map(|&f| {
                        let lower = (f - f0) / (f1 - f0);
                        let upper = (f2 - f) / (f2 - f1);
                        lower.min(upper).max(0.0) * enorm
                    })
                    .collect();
                let first = w.iter().position(|&x| x > 0.0).unwrap_or(0);
                let last = w.iter().rposition(|&x| x > 0.0).map_or(first, |l| l + 1);
                (first, w[first..last.max(first)].to_vec())
            })
            .collect()
    }

    /// Onset-strength envelope, one value per hop (frame `t` centred on sample `t * hop`).
    pub fn onset_envelope(samples: &[f32], hop: usize, n_fft: usize, sr: f64) -> Vec<f64> {
        let n_frames = 1 + samples.len() / hop;
        let pad = n_fft / 2;
        let window = hann_periodic(n_fft);
        let filters = mel_filters(sr, n_fft, N_MELS);
        let fft = FftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
        let mut scratch = vec![Complex::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        let n_bins = n_fft / 2 + 1;
        let mut power = [vec![0.0f64; n_bins], vec![0.0f64; n_bins]];
        let sample = |idx: isize| -> f64 {
            if idx >= 0 && (idx as usize) < samples.len() {
                samples[idx as usize] as f64
            } else {
                0.0
            }
        };
        // Mel power, frame-major. Two real frames per complex FFT (t in the real part, t + 1 in
        // the imaginary part), split by conjugate symmetry.
        let mut mel = vec![0.0f64; n_frames * N_MELS];
        for t in (0..n_frames).step_by(2) {
            let a = (t * hop) as isize - pad as isize;
            let b = a + hop as isize;
            let second = t + 1 < n_frames;
            for (i, z) in buf.iter_mut().enumerate() {
                let im = if second { sample(b + i as isize) * window[i] } else { 0.0 };
                *z = Complex::new(sample(a + i as isize) * window[i], im);
            }
            fft.process_with_scratch(&mut buf, &mut scratch);
            split_power(&buf, &mut power, n_bins);
            for (f, p) in power.iter().enumerate().take(if second { 2 } else { 1 }) {
                for (m, (first, w)) in filters.iter().enumerate() {
                    mel[(t + f) * N_MELS + m] = w.iter().zip(&p[*first..]).map(|(a, b)| a * b).sum();
                }
            }
        }
        // power_to_db with ref 1, amin 1e-10, top_db 80.
        for v in mel.iter_mut() {
            *v = 10.0 * v.max(1e-10).log10();
        }
        let peak = mel.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for v in mel.iter_mut() {
            *v = v.max(peak - TOP_DB);
        }
        // Rectified flux, median + w * mean across bands, delayed by 1 + n_fft/(2 hop) frames.
        let delay = 1 + n_fft / (2 * hop);
        let mut env = vec![0.0f64; n_frames];
        let mut diff = vec![0.0f64; N_MELS];
        for t in 1..n_frames {
            if t - 1 + delay >= n_frames {
                break;
            }
            for m in 0..N_MELS {
                diff[m] = (mel[t * N_MELS + m] - mel[(t - 1) * N_MELS + m]).max(0.0);
            }
            let mean = diff.iter().sum::<f64>() / N_MELS as f64;
            diff.sort_by(f64::total_cmp);
            env[t - 1 + delay] = median_sorted(&diff) + MEAN_WEIGHT * mean;
        }
        env
    }

    /// `z` is the FFT of `x + i y` for real `x`, `y`; writes `|X|²` and `|Y|²` for the first
    /// `len` bins into `power[0]` and `power[1]`.
    fn split_power(z: &[Complex<f64>], power: &mut [Vec<f64>; 2], len: usize) {
        let n = z.len();
        for k in 0..len {
            let zk = z[k];
            let zn = z[(n - k) % n].conj();
            power[0][k] = 0.25 * (zk + zn).norm_sqr();
            power[1][k] = 0.25 * (zk - zn).norm_sqr();
        }
    }

    /// The tempo as a beat period in frames (fractional), or None when nothing periodic is found.
    pub fn estimate_period(env: &[f64], frame_rate: f64) -> Option<f64> {
        let win = ((AC_SIZE_S * frame_rate).round() as usize).max(4);
        let tg = mean_tempogram(env, win);
        let score: Vec<f64> = (0..win)
            .map(|lag| {
                if lag == 0 {
                    return f64::NEG_INFINITY;
                }
                let bpm = 60.0 * frame_rate / lag as f64;
                if bpm >= MAX_BPM {
                    return f64::NEG_INFINITY;
                }
                let z = (bpm.log2() - START_BPM.log2()) / STD_BPM_OCT;
                (1e6 * tg[lag].max(0.0)).ln_1p() - 0.5 * z * z
            })
            .collect();
        let mut best = None::<usize>;
        for (k, &s) in score.iter().enumerate() {
            if s.is_finite() && best.is_none_or(|b| s > score[b]) {
                best = Some(k);
            }
        }
        let k = best?;
        let mut lag = k as f64;
        if k >= 1 && k + 1 < win && score[k - 1].is_finite() && score[k + 1].is_finite() {
            let (l, c, r) = (score[k - 1], score[k], score[k + 1]);
            let den = l - 2.0 * c + r;
            if den < 0.0 {
                let d = 0.5 * (l - r) / den;
                if d.abs() <= 0.5 {
                    lag += d;
                }
            }
        }
        (lag > 0.0).then_some(lag)
    }

    /// librosa `tempogram` (Hann-windowed autocorrelation per frame, centred with linear-ramp
    /// padding, each frame normalised to its maximum), averaged over frames.
    fn mean_tempogram(env: &[f64], win: usize) -> Vec<f64> {
        let n = env.len();
        let half = win / 2;
        // Linear ramps from 0 to the edge values, as numpy's `linear_ramp` padding.
        let mut padded = Vec::with_capacity(n + 2 * half);
        for i in 0..half {
            padded.push(env[0] * i as f64 / half as f64);
        }
        padded.extend_from_slice(env);
        for i in 0..half {
            padded.push(env[n - 1] * (half - i) as f64 / half as f64);
        }
        let window = hann_periodic(win);
        let n_fft = (2 * win - 1).next_power_of_two();
        let mut planner = FftPlanner::<f64>::new();
        let fwd: Arc<dyn Fft<f64>> = planner.plan_fft_forward(n_fft);
        let inv: Arc<dyn Fft<f64>> = planner.plan_fft_inverse(n_fft);
        let mut scratch = vec![Complex::new(0.0, 0.0); fwd.get_inplace_scratch_len().max(inv.get_inplace_scratch_len())];
        let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
        let mut power = [vec![0.0f64; n_fft], vec![0.0f64; n_fft]];
        let mut acc = vec![0.0f64; win];
        // Two frames per complex FFT (real and imaginary parts); the power spectra are real and
        // even, so one inverse FFT of `P_t + i P_{t+1}` gives both autocorrelations.
        for t in (0..n).step_by(2) {
            let frames = [padded.get(t..t + win), if t + 1 < n { padded.get(t + 1..t + 1 + win) } else { None }];
            let live = |f: &Option<&[f64]>| f.is_some_and(|f| f.iter().any(|&x| x != 0.0));
            if !live(&frames[0]) && !live(&frames[1]) {
                continue; // all-zero columns stay zero after normalisation
            }
            for (i, z) in buf.iter_mut().enumerate() {
                let at = |f: &Option<&[f64]>| match f {
                    Some(f) if i < win => f[i] * window[i],
                    _ => 0.0,
                };
                *z = Complex::new(at(&frames[0]), at(&frames[1]));
            }
            fwd.process_with_scratch(&mut buf, &mut scratch);
            split_power(&buf, &mut power, n_fft);
            for (z, (p, q)) in buf.iter_mut().zip(power[0].iter().zip(&power[1])) {
                *z = Complex::new(*p, *q);
            }
            inv.process_with_scratch(&mut buf, &mut scratch);
            for (f, frame) in frames.iter().enumerate() {
                if !live(frame) {
                    continue;
                }
                let part = |c: &Complex<f64>| if f == 0 { c.re } else { c.im };
                let peak = buf[..win].iter().map(|c| part(c).abs()).fold(0.0, f64::max);
                if peak > f64::MIN_POSITIVE {
                    for (a, c) in acc.iter_mut().zip(&buf[..win]) {
                        *a += part(c) / peak;
                    }
                }
            }
        }
        for a in acc.iter_mut() {
            *a /= n as f64;
        }
        acc
    }

    /// Beat positions in (fractional) frames: Ellis's DP, backtrack, trim, sub-frame refinement.
    pub fn beat_frames(env: &[f64], period: f64) -> Vec<f64> {
        let local = local_score(env, period);
        let (cum, back) = forward(&local, period);
        let beats = backtrack(&cum, &back);
        let (a, b) = trim_weak(&beats, &local);
        beats[a..b].iter().map(|&f| refine(&local, f)).collect()
    }

    /// The onset envelope over its standard deviation (ddof 1), convolved ('same') with a
    /// Gaussian of σ = period / 32.
    fn local_score(env: &[f64], period: f64) -> Vec<f64> {
        let n = env.len();
        // Normalise by the standard deviation (ddof 1).
        let mean = env.iter().sum::<f64>() / n as f64;
        let var = env.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0).max(1.0);
        let norm = var.sqrt() + f64::MIN_POSITIVE;
        let onset: Vec<f64> = env.iter().map(|x| x / norm).collect();

        // Local score: 'same' convolution with a Gaussian of σ = period / 32.
        let k = period as usize;
        let kernel: Vec<f64> =
            (0..=2 * k).map(|i| (-0.5 * ((i as f64 - period) * 32.0 / period).powi(2)).exp()).collect();
        (0..n)
            .map(|i| {
                let mut s = 0.0;
                for (j, w) in kernel.iter().enumerate() {
                    let idx = i as isize + k as isize - j as isize;
                    if idx >= 0 && (idx as usize) < n {
                        s += w * onset[idx as usize];
                    }
                }
                s
            })
            .collect()
    }

    /// Ellis' forward pass: the cumulative score of a beat at each frame, and its best
    /// predecessor (-1 before the first strong onset).
    fn forward(local: &[f64], period: f64) -> (Vec<f64>, Vec<isize>) {
        let n = local.len();
        let max_local = local.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let start_thresh = 0.01 * max_local;
        let near = (period / 2.0).round_ties_even() as isize;
        let far = (2.0 * period) as isize;
        let ln_period = period.ln();
        let mut cum = vec![0.0f64; n];
        let mut back = vec![-1isize; n];
        let mut first = true;
        for i in 0..n {
            let mut best = f64::NEG_INFINITY;
            let mut best_loc = -1isize;
            let mut loc = i as isize - near;
            while loc >= i as isize - far && loc >= 0 {
                let d = ((i as isize - loc) as f64).ln() - ln_period;
                let s = cum[loc as usize] - TIGHTNESS * d * d;
                if s > best {
                    best = s;
                    best_loc = loc;
                }
                loc -= 1;
            }
            cum[i] = local[i] + if best_loc >= 0 { best } else { 0.0 };
            if first && local[i] < start_thresh {
                back[i] = -1;
            } else {
                back[i] = best_loc;
                first = false;
            }
        }

        (cum, back)
    }

    /// Last beat: the last local maximum of the cumulative score above half their median; then
    /// back along the predecessors.
    fn backtrack(cum: &[f64], back: &[isize]) -> Vec<usize> {
        let n = cum.len();
        // Interior frames only: librosa also counts the last frame when the score is still
        // rising there, and the path to that phantom beat pulls the real last beat off its onset.
        let is_max = |i: usize| i > 0 && i + 1 < n && cum[i] > cum[i - 1] && cum[i] >= cum[i + 1];
        let mut maxima: Vec<f64> = (0..n).filter(|&i| is_max(i)).map(|i| cum[i]).collect();
        let mut tail = n - 1;
        if !maxima.is_empty() {
            maxima.sort_by(f64::total_cmp);
            let thresh = 0.5 * median_sorted(&maxima);
            if let Some(i) = (0..n).rev().find(|&i| is_max(i) && cum[i] >= thresh) {
                tail = i;
            }
        }
        let mut beats = Vec::new();
        let mut i = tail as isize;
        while i >= 0 {
            beats.push(i as usize);
            let prev = back[i as usize];
            if prev >= i {
                break; // cannot happen; guards against a loop
            }
            i = prev;
        }
        beats.reverse();

        beats
    }

    /// The range of beats left after trimming weak leading and trailing ones.
    fn trim_weak(beats: &[usize], local: &[f64]) -> (usize, usize) {
        let nb = beats.len();
        let score: Vec<f64> = beats.iter().map(|&b| local[b]).collect();
        let smooth: Vec<f64> = (0..nb)
            .map(|j| {
                let l = if j > 0 { score[j - 1] } else { 0.0 };
                let r = if j + 1 < nb { score[j + 1] } else { 0.0 };
                0.5 * l + score[j] + 0.5 * r
            })
            .collect();
        let rms = (smooth.iter().map(|x| x * x).sum::<f64>() / nb.max(1) as f64).sqrt();
        let thresh = TRIM_FRACTION * rms;
        let (mut a, mut b) = (0, nb);
        while a < b && smooth[a] <= thresh {
            a += 1;
        }
        while b > a && smooth[b - 1] <= thresh {
            b -= 1;
        }

        (a, b)
    }

    /// Sub-frame position of beat frame `f`: the vertex of the parabola through the local score.
    fn refine(local: &[f64], f: usize) -> f64 {
        let n = local.len();
        if f >= 1 && f + 1 < n {
            let (l, c, r) = (local[f - 1], local[f], local[f + 1]);
            let den = l - 2.0 * c + r;
            if den < 0.0 {
                let d = 0.5 * (l - r) / den;
                if d.abs() <= 1.0 {
                    return f as f64 + d;
                }
            }
        }
        f as f64
    }
}

#[cfg(test)]
mod meter_tests {
    use super::*;

    #[test]
    fn picks_the_bar_length_and_phase_of_the_strong_beats() {
        let frames: Vec<usize> = (0..24).map(|k| 10 + 25 * k).collect();
        for (m, p) in [(3, 1), (4, 2), (2, 0)] {
            let mut down = vec![0.05f32; 700];
            for (k, &f) in frames.iter().enumerate() {
                if k % m == p {
                    down[f + 1] = 0.8;
                }
            }
            assert_eq!(meter(&frames, &down), Some((m, p)));
        }
        // no contrast, too few beats
        assert_eq!(meter(&frames, &[0.3; 700]), None);
        assert_eq!(meter(&frames[..7], &[0.3; 700]), None);
        assert_eq!(meter(&frames, &[]), None);
    }
}

#[cfg(test)]
mod read_beats_file_tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("song.beats");
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    fn err(text: &str, song: f64) -> String {
        let (_d, p) = write(text);
        let e = read_beats_file(&p, song).expect_err(text).to_string();
        assert!(e.contains(&p.display().to_string()) && !e.contains('\n'), "{e}");
        e
    }

    #[test]
    fn reads_plain_lines_with_comments_and_extra_columns() {
        let (_d, p) = write("# beats\n0.5 1\n\n1.0\t2 extra\n1.5   # third\n");
        assert_eq!(read_beats_file(&p, 10.0).unwrap(), vec![0.5, 1.0, 1.5]);
    }

    #[test]
    fn reads_choreo_beats_json() {
        let (_d, p) = write(r#"{"bpm":120.0,"beats":[0.5,1.0,1.5],"tempo":[[0.5,120.0]]}"#);
        assert_eq!(read_beats_file(&p, 2.0).unwrap(), vec![0.5, 1.0, 1.5]);
    }

    #[test]
    fn rejects_bad_files() {
        assert!(err("", 10.0).contains("no beat times"));
        assert!(err("# only a comment\n\n", 10.0).contains("no beat times"));
        assert!(err(r#"{"beats":[]}"#, 10.0).contains("no beat times"));
        assert!(err("1.0\n0.5\n", 10.0).contains("line 2") );
        assert!(err("1.0\n1.0\n", 10.0).contains("must increase"));
        assert!(err("-0.5\n1.0\n", 10.0).contains("negative"));
        assert!(err("0.5\nNaN\n", 10.0).contains("not a finite time"));
        assert!(err("0.5\ninf\n", 10.0).contains("not a finite time"));
        assert!(err(r#"{"beats":[0.5,null]}"#, 10.0).contains("null"));
        assert!(err("0.5\n11.0\n", 10.0).contains("past the song's end"));
        assert!(err("0.5\nabc\n", 10.0).contains("line 2: 'abc'"));
        assert!(err(r#"{"beats":"x"}"#, 10.0).contains("JSON"));
        assert!(err(r#"{"beats":[2.0,1.0]}"#, 10.0).contains("beat 2"));
    }

    #[test]
    fn missing_file_names_it() {
        let e = read_beats_file(Path::new("/nonexistent/x.beats"), 10.0).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/x.beats") && !e.contains('\n'), "{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_parsing() {
        assert_eq!("dp".parse::<BeatMethod>(), Ok(BeatMethod::Dp));
        assert_eq!("aubio:hfc".parse::<BeatMethod>(), Ok(BeatMethod::Aubio { onset: AubioOnset::Hfc }));
        assert_eq!("AUBIO:SpecDiff".parse::<BeatMethod>(), Ok(BeatMethod::Aubio { onset: AubioOnset::Specdiff }));
        assert_eq!(
            "aubio".parse::<BeatMethod>(),
            Ok(BeatMethod::Aubio { onset: DEFAULT_AUBIO_ONSET })
        );
        let err = "aubio:nope".parse::<BeatMethod>().unwrap_err();
        assert!(err.contains("specflux") && err.contains("mkl"), "{err}");
        assert!("xyz".parse::<BeatMethod>().is_err());
        for m in [BeatMethod::Dp, BeatMethod::BeatNet].into_iter().chain(AUBIO_ONSETS.iter().map(|&onset| BeatMethod::Aubio { onset })) {
            assert_eq!(m.to_string().parse::<BeatMethod>(), Ok(m));
        }
        // The names are aubio's: each one is an onset mode aubio knows.
        for o in AUBIO_ONSETS {
            assert!(o.name().parse::<aubio_rs::OnsetMode>().is_ok(), "{o}");
        }
    }

    #[test]
    fn annotations_parse() {
        let t = parse_beat_annotations("# c\n0.5\t1\n\n1.0 2\nbad\n1.5\n");
        assert_eq!(t, vec![0.5, 1.0, 1.5]);
    }
}
