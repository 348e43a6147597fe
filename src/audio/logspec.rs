//! BeatNet's input features, computed as madmom 0.17 computes them for BeatNet's `LOG_SPECT`
//! (offline mode, `n_bands=[24]`): audio at 22.05 kHz → frames of 1411 samples (64 ms) every 441
//! samples (20 ms, 50 frames/s), centred on sample `i·441` and zero-padded at the edges, as
//! many frames as `ceil(len / 441)` → symmetric Hann window (`np.hanning`) → |FFT| of the
//! frame's own length, bins 0..705 → a logarithmic triangular filterbank (24 bands per octave,
//! 30 Hz to 17 kHz, A4 = 440 Hz reference, each filter normalised to area 1, centres snapped to
//! unique FFT bins: 136 bands at 22.05 kHz) → `log10(1 + x)` → stacked with its positive
//! first difference (one frame back; the first frame's difference is 0): 272 values per frame.
//!
//! Audio at another rate is first resampled to 22.05 kHz by [`resample`] (windowed sinc);
//! BeatNet itself resamples with `librosa.load` (soxr), which gives slightly different samples,
//! so the parity test (`tests/beatnet.rs`) uses a clip that is already at 22.05 kHz.

use std::f64::consts::PI;

use rayon::prelude::*;
use realfft::RealFftPlanner;

/// Sample rate the features are computed at.
pub const SAMPLE_RATE: u32 = 22050;
/// Hop between frames in samples (20 ms).
pub const HOP: usize = 441;
/// Frame (window and FFT) length in samples (64 ms).
pub const FRAME: usize = 1411;
/// Frames per second of the features (and of everything downstream).
pub const FPS: f64 = SAMPLE_RATE as f64 / HOP as f64;
/// Values per feature frame: the log-filtered spectrogram's bands and their positive differences.
pub const DIM: usize = 272;

const BANDS_PER_OCTAVE: f64 = 24.0;
const FMIN: f64 = 30.0;
const FMAX: f64 = 17000.0;
const FREF: f64 = 440.0;

/// Features of `samples` (mono, at [`SAMPLE_RATE`]): row-major `[frames × DIM]`, `frames =
/// ceil(len / HOP)`. Empty input gives no frames.
pub fn features(samples: &[f32]) -> Vec<f32> {
    let n = samples.len();
    let frames = n.div_ceil(HOP);
    let bins = FRAME >> 1;
    let fb = filterbank(bins, SAMPLE_RATE as f64);
    let bands = fb.len();
    debug_assert_eq!(2 * bands, DIM);
    let window: Vec<f64> = (0..FRAME).map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / (FRAME - 1) as f64).cos()).collect();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(FRAME);
    let mut out = vec![0f32; frames * DIM];
    // The log-filtered spectrum of each frame (independent: in parallel), then the differences.
    out.par_chunks_mut(DIM).enumerate().for_each_init(
        || (fft.make_input_vec(), fft.make_output_vec(), fft.make_scratch_vec(), vec![0f32; bins]),
        |(buf, spec, scratch, mag), (f, row)| {
            let start = (f * HOP) as isize - (FRAME / 2) as isize;
            for (j, b) in buf.iter_mut().enumerate() {
                let s = start + j as isize;
                let x = if s >= 0 && (s as usize) < n { samples[s as usize] as f64 } else { 0.0 };
                *b = x * window[j];
            }
            fft.process_with_scratch(buf, spec, scratch).expect("FFT sizes are fixed");
            for (m, c) in mag.iter_mut().zip(spec.iter()) {
                // madmom keeps the STFT as complex64
                let (re, im) = (c.re as f32, c.im as f32);
                *m = re.hypot(im);
            }
            for (k, (start, w)) in fb.iter().enumerate() {
                let s: f32 = w.iter().zip(&mag[*start..]).map(|(a, b)| a * b).sum();
                row[k] = (s + 1.0).log10();
            }
        },
    );
    for f in (1..frames).rev() {
        let (before, this) = out.split_at_mut(f * DIM);
        let prev = &before[(f - 1) * DIM..(f - 1) * DIM + bands];
        for k in 0..bands {
            this[bands + k] = (this[k] - prev[k]).max(0.0);
        }
    }
    out
}

/// madmom's `LogarithmicFilterbank` for `bins` FFT bins at `sr`: one (first bin, weights) per band.
fn filterbank(bins: usize, sr: f64) -> Vec<(usize, Vec<f32>)> {
    // fft_frequencies: np.fft.fftfreq(2·bins, 1/sr)[:bins]
    let bin_freqs: Vec<f64> = (0..bins).map(|k| k as f64 * sr / (2 * bins) as f64).collect();
    // log_frequencies
    let left = ((FMIN / FREF).log2() * BANDS_PER_OCTAVE).floor() as i64;
    let right = ((FMAX / FREF).log2() * BANDS_PER_OCTAVE).ceil() as i64;
    let freqs: Vec<f64> = (left..right)
        .map(|i| FREF * 2f64.powf(i as f64 / BANDS_PER_OCTAVE))
        .filter(|&f| f >= FMIN && f <= FMAX)
        .collect();
    // frequencies2bins(unique_bins=True)
    let mut idx: Vec<usize> = freqs
        .iter()
        .map(|&f| {
            let i = bin_freqs.partition_point(|&b| b < f).clamp(1, bins - 1);
            let (l, r) = (bin_freqs[i - 1], bin_freqs[i]);
            if f - l < r - f {
                i - 1
            } else {
                i
            }
        })
        .collect();
    idx.dedup();
    // TriangularFilter.filters(bins, norm=True, overlap=True)
    idx.windows(3)
        .map(|w| {
            let (start, mut center, mut stop) = (w[0], w[1], w[2]);
            if stop - start < 2 {
                center = start;
                stop = start + 1;
            }
            let c = center - start;
            let len = stop - start;
            let mut data: Vec<f64> = (0..c).map(|j| j as f64 / c as f64).collect();
            let down = len - c;
            data.extend((0..down).map(|j| 1.0 - j as f64 / down as f64));
            let sum: f64 = data.iter().sum();
            (start, data.iter().map(|v| (v / sum) as f32).collect())
        })
        .collect()
}

/// Resamples `x` from `from` Hz to `to` Hz with a Kaiser-windowed sinc (16 zero crossings each
/// side at the lower of the two rates, β = 8.6, cutoff 0.95 of the lower Nyquist frequency).
/// Returns a copy when the rates are equal.
pub fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || x.is_empty() || from == 0 || to == 0 {
        return x.to_vec();
    }
    const ZEROS: usize = 16;
    const OVERSAMPLE: usize = 512;
    const BETA: f64 = 8.6;
    let ratio = to as f64 / from as f64;
    let cutoff = 0.95 * ratio.min(1.0); // in cycles per input sample × 2
    // Kernel table in input-sample units: h(t) = cutoff·sinc(cutoff·t)·kaiser(t / half), |t| ≤ half.
    let half = ZEROS as f64 / cutoff;
    let steps = (half * OVERSAMPLE as f64).ceil() as usize + 2;
    let i0 = |v: f64| {
        let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
        while term > 1e-12 * sum {
            term *= (v / (2.0 * k)).powi(2);
            sum += term;
            k += 1.0;
        }
        sum
    };
    let i0b = i0(BETA);
    let table: Vec<f64> = (0..steps)
        .map(|s| {
            let t = s as f64 / OVERSAMPLE as f64;
            if t > half {
                return 0.0;
            }
            let a = PI * cutoff * t;
            let sinc = if a.abs() < 1e-12 { 1.0 } else { a.sin() / a };
            let r = t / half;
            cutoff * sinc * i0(BETA * (1.0 - r * r).max(0.0).sqrt()) / i0b
        })
        .collect();
    let kernel = |t: f64| {
        let p = t.abs() * OVERSAMPLE as f64;
        let i = p as usize;
        if i + 1 >= table.len() {
            return 0.0;
        }
        let fr = p - i as f64;
        table[i] * (1.0 - fr) + table[i + 1] * fr
    };
    let n_out = ((x.len() as f64) * ratio).ceil() as usize;
    let reach = half.ceil() as isize;
    let taps = (2 * reach + 1) as usize;
    // Output j sits at input position j·m/l = c + p/l: one weight vector per phase p.
    let g = gcd(from as u64, to as u64);
    let (l, m) = ((to as u64 / g) as usize, (from as u64 / g) as usize);
    let phases: Vec<Vec<f32>> = if l <= 4096 {
        (0..l).map(|p| (0..taps).map(|k| kernel(p as f64 / l as f64 - (k as isize - reach) as f64) as f32).collect()).collect()
    } else {
        Vec::new()
    };
    let mut padded = vec![0f32; reach as usize];
    padded.extend_from_slice(x);
    padded.extend(std::iter::repeat_n(0f32, taps + 1));
    (0..n_out)
        .map(|j| {
            if phases.is_empty() {
                let t = j as f64 / ratio;
                let c = t.floor() as isize;
                let w: Vec<f32> = (0..taps).map(|k| kernel(t - (c + k as isize - reach) as f64) as f32).collect();
                return w.iter().zip(&padded[c as usize..]).map(|(a, b)| a * b).sum();
            }
            let pos = j * m;
            let (c, p) = (pos / l, pos % l);
            super::mfcc::dot8(&phases[p], &padded[c..c + taps])
        })
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filterbank_has_beatnets_136_bands_of_unit_area() {
        let fb = filterbank(FRAME >> 1, SAMPLE_RATE as f64);
        assert_eq!(fb.len() * 2, DIM);
        for (start, w) in &fb {
            assert!(start + w.len() <= FRAME >> 1);
            let s: f32 = w.iter().sum();
            assert!((s - 1.0).abs() < 1e-5, "area {s}");
        }
    }

    #[test]
    fn frame_count_and_first_difference() {
        let x: Vec<f32> = (0..HOP * 10 + 1).map(|i| (i as f32 * 0.05).sin() * ((i / HOP) % 2) as f32).collect();
        let f = features(&x);
        assert_eq!(f.len(), 11 * DIM);
        assert!(f[DIM / 2..DIM].iter().all(|&v| v == 0.0), "first frame has no difference");
        assert!(f.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(features(&[]).is_empty());
    }

    #[test]
    fn resampling_keeps_a_tone_and_removes_what_is_above_nyquist() {
        let sr = 44100;
        let tone = |f: f64, n: usize, sr: u32| -> Vec<f32> { (0..n).map(|i| (2.0 * PI * f * i as f64 / sr as f64).sin() as f32).collect() };
        let x = tone(1000.0, 44100, sr);
        let y = resample(&x, sr, 22050);
        assert_eq!(y.len(), 22050);
        let want = tone(1000.0, 22050, 22050);
        let err = y[200..21800].iter().zip(&want[200..21800]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 2e-3, "max error {err}");
        let hi = resample(&tone(15000.0, 44100, sr), sr, 22050);
        let rms = (hi[200..21800].iter().map(|v| v * v).sum::<f32>() / 21600.0).sqrt();
        assert!(rms < 1e-3, "alias rms {rms}");
        let up = resample(&tone(440.0, 16000, 16000), 16000, 22050);
        let want = tone(440.0, 22050, 22050);
        let err = up[200..21800].iter().zip(&want[200..21800]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 2e-3, "upsampling max error {err}");
    }
}
