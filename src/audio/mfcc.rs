//! MFCC as python_speech_features computes it (what DanceIt used), on rustfft.
//!
//! One row per video frame: window = step = 1/fps seconds (rounded half-up to samples, as
//! `sigproc.framesig` does), rectangular window, pre-emphasis 0.97, power spectrum over
//! nfft = next power of two ≥ window, 26 triangular mel filters with python_speech_features' bin
//! flooring, log, orthonormal DCT-II, 13 coefficients, sinusoidal lifter 22, and c0 replaced by
//! the log frame energy. The last frame is zero-padded. Parity with the Python package is
//! checked in `tests/mfcc_parity.rs` against a fixture made by `tools/mfcc_fixture.py`.

use std::sync::Arc;

use rayon::prelude::*;
use realfft::{RealFftPlanner, RealToComplex};

use super::Audio;

/// MFCC settings; defaults are DanceIt's (python_speech_features' with window = step = 1/fps).
#[derive(Debug, Clone, PartialEq)]
pub struct MfccConfig {
    pub fps: f64,
    pub numcep: usize,
    pub nfilt: usize,
    pub preemph: f64,
    pub ceplifter: f64,
    pub append_energy: bool,
    pub lowfreq: f64,
    /// None = half the sample rate.
    pub highfreq: Option<f64>,
}

impl Default for MfccConfig {
    fn default() -> Self {
        MfccConfig {
            fps: crate::units::DEFAULT_FPS,
            numcep: 13,
            nfilt: 26,
            preemph: 0.97,
            ceplifter: 22.0,
            append_energy: true,
            lowfreq: 0.0,
            highfreq: None,
        }
    }
}

/// MFCC rows, one per frame of `step` samples, row-major `frames × numcep`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mfcc {
    pub data: Vec<f32>,
    pub numcep: usize,
    /// Samples between frame starts (python_speech_features' rounded step).
    pub step: usize,
    pub sample_rate: u32,
}

impl Mfcc {
    pub fn frames(&self) -> usize {
        if self.numcep == 0 {
            0
        } else {
            self.data.len() / self.numcep
        }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.numcep..(i + 1) * self.numcep]
    }

    /// Index of the row whose window contains time `t` seconds (may be past the end).
    pub fn row_at(&self, t: f64) -> usize {
        ((t.max(0.0) * self.sample_rate as f64) / self.step as f64).floor() as usize
    }

    /// Rows `[start, start+len)`, repeating the last row where the song ends early.
    pub fn window(&self, start: usize, len: usize) -> Vec<f32> {
        let n = self.frames();
        let mut out = Vec::with_capacity(len * self.numcep);
        for i in start..start + len {
            if n == 0 {
                out.extend(std::iter::repeat(0.0).take(self.numcep));
            } else {
                out.extend_from_slice(self.row(i.min(n - 1)));
            }
        }
        out
    }
}

fn round_half_up(x: f64) -> usize {
    (x + 0.5).floor() as usize
}

fn hz2mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel2hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// Window length in samples and nfft for a sample rate.
pub fn frame_geometry(sample_rate: u32, fps: f64) -> (usize, usize) {
    let win = sample_rate as f64 / fps;
    let mut nfft = 1usize;
    while (nfft as f64) < win {
        nfft *= 2;
    }
    (round_half_up(win), nfft)
}

/// Triangular mel filterbank, `nfilt × (nfft/2+1)`, exactly as python_speech_features builds it.
pub fn filterbank(nfilt: usize, nfft: usize, sample_rate: u32, lowfreq: f64, highfreq: f64) -> Vec<Vec<f64>> {
    let lowmel = hz2mel(lowfreq);
    let highmel = hz2mel(highfreq);
    let bins: Vec<f64> = (0..nfilt + 2)
        .map(|i| {
            let mel = lowmel + (highmel - lowmel) * i as f64 / (nfilt + 1) as f64;
            ((nfft + 1) as f64 * mel2hz(mel) / sample_rate as f64).floor()
        })
        .collect();
    let mut fb = vec![vec![0.0; nfft / 2 + 1]; nfilt];
    for j in 0..nfilt {
        let (a, b, c) = (bins[j], bins[j + 1], bins[j + 2]);
        for i in (a as usize)..(b as usize) {
            fb[j][i] = (i as f64 - a) / (b - a);
        }
        for i in (b as usize)..(c as usize) {
            fb[j][i] = (c - i as f64) / (c - b);
        }
    }
    fb
}

/// Computes MFCC rows for the whole signal.
pub fn mfcc(audio: &Audio, cfg: &MfccConfig) -> Mfcc {
    mfcc_samples(&audio.samples, audio.sample_rate, cfg)
}

/// Computes MFCC rows for raw mono samples.
pub fn mfcc_samples(samples: &[f32], sample_rate: u32, cfg: &MfccConfig) -> Mfcc {
    let (frame_len, nfft) = frame_geometry(sample_rate, cfg.fps);
    let step = frame_len.max(1);
    let frame_len = frame_len.max(1);
    let slen = samples.len();
    let numframes = if slen <= frame_len { 1 } else { 1 + (slen - frame_len).div_ceil(step) };
    let highfreq = cfg.highfreq.unwrap_or(sample_rate as f64 / 2.0);
    let fb32 = sparse_filters(&filterbank(cfg.nfilt, nfft, sample_rate, cfg.lowfreq, highfreq));
    let dct = dct_matrix(cfg.nfilt, cfg.numcep);
    let lift = lifter(cfg.numcep, cfg.ceplifter);
    // A real FFT in f32 (SIMD, half the work of a complex one); power spectrum and filterbank in
    // f32 with several accumulators so they vectorise; logs, DCT and lifter in f64.
    let fft: Arc<dyn RealToComplex<f32>> = RealFftPlanner::<f32>::new().plan_fft_forward(nfft);
    // Pre-emphasis as python_speech_features: y[0] = x[0], y[n] = x[n] - a x[n-1].
    let preemph = cfg.preemph as f32;
    let inv_nfft = 1.0 / nfft as f32;
    let numcep = cfg.numcep;
    let rows: Vec<Vec<f32>> = (0..numframes)
        .into_par_iter()
        .with_min_len(64)
        .map_init(
            || (fft.make_input_vec(), fft.make_output_vec(), fft.make_scratch_vec(), vec![0.0f32; nfft / 2 + 1]),
            |(input, spec, scratch, pspec), f| {
                let start = f * step;
                let end = (start + frame_len).min(slen);
                preemphasize(samples, start, end, preemph, input);
                // Lengths are fixed by the plan, so this cannot fail.
                let _ = fft.process_with_scratch(input, spec, scratch);
                for (p, c) in pspec.iter_mut().zip(spec.iter()) {
                    *p = (c.re * c.re + c.im * c.im) * inv_nfft;
                }
                let mut energy = sum8(pspec) as f64;
                if energy == 0.0 {
                    energy = f64::EPSILON;
                }
                let logfb: Vec<f64> = fb32
                    .iter()
                    .map(|(first, w)| {
                        let e = dot8(w, &pspec[*first..*first + w.len()]) as f64;
                        if e == 0.0 { f64::EPSILON } else { e }.ln()
                    })
                    .collect();
                let mut row: Vec<f32> = (0..numcep)
                    .map(|k| (dct[k].iter().zip(&logfb).map(|(a, b)| a * b).sum::<f64>() * lift[k]) as f32)
                    .collect();
                if cfg.append_energy && numcep > 0 {
                    row[0] = energy.ln() as f32;
                }
                row
            },
        )
        .collect();
    Mfcc { data: rows.concat(), numcep, step, sample_rate }
}

/// Each filter's nonzero span: (first bin, weights in f32).
fn sparse_filters(fb: &[Vec<f64>]) -> Vec<(usize, Vec<f32>)> {
    fb.iter()
        .map(|row| {
            let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
            let last = row.iter().rposition(|&w| w != 0.0).map(|p| p + 1).unwrap_or(first);
            (first, row[first..last].iter().map(|&x| x as f32).collect())
        })
        .collect()
}

/// The sinusoidal lifter of python_speech_features (all ones when `ceplifter` ≤ 0).
fn lifter(numcep: usize, ceplifter: f64) -> Vec<f64> {
    (0..numcep)
        .map(|n| if ceplifter > 0.0 { 1.0 + ceplifter / 2.0 * (std::f64::consts::PI * n as f64 / ceplifter).sin() } else { 1.0 })
        .collect()
}

/// Frame `samples[start..end]` pre-emphasised into `input` (as python_speech_features: y[0] =
/// x[0], y[n] = x[n] - a x[n-1]), zero-padded to its length.
fn preemphasize(samples: &[f32], start: usize, end: usize, preemph: f32, input: &mut [f32]) {
    let len = end - start;
    if start == 0 {
        input[0] = samples[0];
        for i in 1..len {
            input[i] = samples[i] - preemph * samples[i - 1];
        }
    } else {
        let (cur, prev) = (&samples[start..end], &samples[start - 1..end - 1]);
        for ((o, c), p) in input[..len].iter_mut().zip(cur).zip(prev) {
            *o = c - preemph * p;
        }
    }
    input[len..].fill(0.0);
}

/// Sum with eight independent accumulators (vectorises; f32 error ~1e-6 relative here).
fn sum8(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// Dot product with eight independent accumulators (vectorised; also the resampler's,
/// [`super::logspec::resample`]).
pub(crate) fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let rest: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// Orthonormal DCT-II basis rows (scipy's `dct(type=2, norm='ortho')`), first `numcep` of `n`.
fn dct_matrix(n: usize, numcep: usize) -> Vec<Vec<f64>> {
    (0..numcep)
        .map(|k| {
            let scale = if k == 0 { (1.0 / n as f64).sqrt() } else { (2.0 / n as f64).sqrt() };
            (0..n)
                .map(|i| scale * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2 * n) as f64).cos())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious version: a naive DFT per frame, no sparsity, no planner.
    fn mfcc_naive(x: &[f32], sr: u32, cfg: &MfccConfig) -> Vec<Vec<f64>> {
        let (flen, nfft) = frame_geometry(sr, cfg.fps);
        let n = if x.len() <= flen { 1 } else { 1 + (x.len() - flen).div_ceil(flen) };
        let mut pre: Vec<f64> = x.iter().enumerate().map(|(i, &v)| if i == 0 { v as f64 } else { v as f64 - cfg.preemph * x[i - 1] as f64 }).collect();
        pre.resize(n * flen, 0.0);
        let fb = filterbank(cfg.nfilt, nfft, sr, 0.0, sr as f64 / 2.0);
        (0..n)
            .map(|f| {
                let fr = &pre[f * flen..f * flen + flen];
                let ps: Vec<f64> = (0..=nfft / 2)
                    .map(|k| {
                        let (mut re, mut im) = (0.0, 0.0);
                        for (t, v) in fr.iter().enumerate() {
                            let a = -2.0 * std::f64::consts::PI * (k * t) as f64 / nfft as f64;
                            re += v * a.cos();
                            im += v * a.sin();
                        }
                        (re * re + im * im) / nfft as f64
                    })
                    .collect();
                let lf: Vec<f64> = fb.iter().map(|r| r.iter().zip(&ps).map(|(a, b)| a * b).sum::<f64>().max(f64::EPSILON).ln()).collect();
                let mut c: Vec<f64> = (0..cfg.numcep)
                    .map(|k| {
                        let s = if k == 0 { (1.0 / 26.0f64).sqrt() } else { (2.0 / 26.0f64).sqrt() };
                        let v: f64 = lf.iter().enumerate().map(|(i, l)| l * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / 52.0).cos()).sum();
                        s * v * (1.0 + 11.0 * (std::f64::consts::PI * k as f64 / 22.0).sin())
                    })
                    .collect();
                c[0] = ps.iter().sum::<f64>().ln();
                c
            })
            .collect()
    }

    #[test]
    fn fast_matches_naive() {
        let sr = 8000;
        let x: Vec<f32> = (0..sr as usize / 2)
            .map(|i| ((i as f32 * 0.07).sin() * 0.5 + (i as f32 * 0.31).cos() * 0.2) * (1.0 + (i % 97) as f32 / 97.0))
            .collect();
        let cfg = MfccConfig::default();
        let fast = mfcc_samples(&x, sr, &cfg);
        let slow = mfcc_naive(&x, sr, &cfg);
        assert_eq!(fast.frames(), slow.len());
        for (f, row) in slow.iter().enumerate() {
            for (k, v) in row.iter().enumerate() {
                let d = (fast.row(f)[k] as f64 - v).abs() / v.abs().max(1.0);
                assert!(d < 1e-4, "frame {f} coef {k}: {} vs {v}", fast.row(f)[k]);
            }
        }
    }

    #[test]
    fn geometry_follows_python_speech_features() {
        assert_eq!(frame_geometry(44100, 24.0), (1838, 2048));
        assert_eq!(frame_geometry(22050, 24.0), (919, 1024));
        assert_eq!(frame_geometry(16000, 25.0), (640, 1024));
    }

    #[test]
    fn silence_gives_finite_values() {
        let m = mfcc_samples(&vec![0.0; 4000], 16000, &MfccConfig::default());
        assert!(m.data.iter().all(|v| v.is_finite()));
        assert_eq!(m.frames(), 6); // 1 + ceil((4000 - 667) / 667)
    }
}
