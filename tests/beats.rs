//! Beat tracking: F-measure on the annotated clips in `../shared/data/beats` (skipped when absent),
//! synthetic click tracks, silence, short input, the aubio tracker, and `f_measure` itself.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use choreo::audio::beats::{f_measure, parse_beat_annotations, AUBIO_ONSETS, F_MEASURE_TOLERANCE};
use choreo::audio::{decode, detect_beats, AubioOnset, Audio, AudioError, BeatConfig, BeatMethod, Beats};

#[path = "common/inputs.rs"]
mod inputs;

fn data_dir() -> Option<PathBuf> {
    inputs::shared("data/beats")
}

fn annotations(wav: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(wav.with_extension("beats")).expect("annotation file");
    parse_beat_annotations(&text)
}

fn dp() -> BeatConfig {
    BeatConfig::with_method(BeatMethod::Dp)
}

fn aubio(onset: AubioOnset) -> BeatConfig {
    BeatConfig::with_method(BeatMethod::Aubio { onset })
}

fn synth(samples: Vec<f32>, sample_rate: u32) -> Audio {
    Audio { samples, sample_rate, path: PathBuf::from("synthetic.wav") }
}

/// Checks what any tracker's output must satisfy.
fn assert_well_formed(b: &Beats, duration: f64) {
    assert!(b.bpm.is_finite() && b.bpm >= 0.0, "bpm {}", b.bpm);
    assert_eq!(b.bpm == 0.0, b.beats.is_empty(), "bpm {} with {} beats", b.bpm, b.beats.len());
    assert!(b.beats.windows(2).all(|w| w[0] < w[1]), "beats not strictly ascending");
    assert!(b.beats.iter().all(|&t| t.is_finite() && t >= 0.0 && t <= duration + 0.1), "beat outside the clip");
}

/// The default tracker on one annotated clip: F must reach `min_f` (measured values are in
/// `src/audio/beats.rs`; the thresholds sit a little under them).
fn check_clip(name: &str, min_f: f64) {
    let Some(dir) = data_dir() else { return };
    let wav = dir.join(name);
    let audio = decode(&wav).expect("decode");
    let beats = detect_beats(&audio, &dp()).expect("detect");
    assert_well_formed(&beats, audio.duration_secs());
    let ann = annotations(&wav);
    let f = f_measure(&beats.beats, &ann, F_MEASURE_TOLERANCE);
    println!("{name}: dp F = {f:.3} ({} beats, {} annotated, {:.1} BPM)", beats.beats.len(), ann.len(), beats.bpm);
    assert!(f >= min_f, "{name}: F = {f:.3} < {min_f}");
    if audio.duration_secs() < 5.0 {
        // Deterministic (checked on the short clip only: debug builds are slow).
        assert_eq!(detect_beats(&audio, &dp()).expect("detect"), beats);
    }
}

#[test]
fn dp_waltz() {
    check_clip("ballroom_waltz_Media-105901.wav", 0.93); // measured 0.975
}

#[test]
fn dp_country() {
    check_clip("gtzan_country.00000.wav", 0.86); // measured 0.907
}

#[test]
fn dp_madmom_sample() {
    // measured 0.667: 2.8 s, 4 beats at 86 BPM; the tracker picks 174 BPM and hits every other
    // beat. Any tempo flip (to ~115 BPM) lands at 0.4, which this catches.
    check_clip("madmom_sample.wav", 0.6);
}

/// A click every `60/bpm` s from 0.25 s on; `kind` 0: 10 ms Hann-windowed 1 kHz sine (narrow
/// band), 1: single-sample impulse, 2: 10 ms decaying noise burst.
fn click_track(bpm: f64, seconds: f64, sr: u32, kind: u32) -> (Vec<f32>, Vec<f64>) {
    let n = (seconds * sr as f64) as usize;
    let mut y = vec![0.0f32; n];
    let len = (0.01 * sr as f64) as usize;
    let mut seed = 0x2545_f491_u32;
    let mut times = vec![];
    let mut t = 0.25;
    while t < seconds - 0.05 {
        let start = (t * sr as f64).round() as usize;
        for i in 0..len {
            let x = match kind {
                0 => {
                    let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / len as f64).cos();
                    0.5 * w * (2.0 * PI * 1000.0 * i as f64 / sr as f64).sin()
                }
                1 => {
                    if i == 0 {
                        0.9
                    } else {
                        0.0
                    }
                }
                _ => {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    let r = seed as f64 / u32::MAX as f64 * 2.0 - 1.0;
                    0.5 * r * (-(i as f64) / (0.002 * sr as f64)).exp()
                }
            };
            if let Some(s) = y.get_mut(start + i) {
                *s += x as f32;
            }
        }
        times.push(t);
        t += 60.0 / bpm;
    }
    (y, times)
}

#[test]
fn click_track_120_bpm() {
    for (sr, kind) in [(44100, 0), (44100, 1), (22050, 2), (48000, 0)] {
        let (y, truth) = click_track(120.0, 12.0, sr, kind);
        let beats = detect_beats(&synth(y, sr), &dp()).expect("detect");
        assert_well_formed(&beats, 12.0);
        let f = f_measure(&beats.beats, &truth, F_MEASURE_TOLERANCE);
        println!("click {sr} Hz kind {kind}: {:.2} BPM, F = {f:.3}", beats.bpm);
        assert!((beats.bpm - 120.0).abs() <= 2.0, "tempo {:.2} (rate {sr}, kind {kind})", beats.bpm);
        assert!(f >= 0.95, "F = {f:.3} (rate {sr}, kind {kind})");
    }
}

#[test]
fn click_track_other_tempi() {
    for bpm in [90.0, 100.0, 137.0] {
        let (y, truth) = click_track(bpm, 12.0, 22050, 2);
        let beats = detect_beats(&synth(y, 22050), &dp()).expect("detect");
        let f = f_measure(&beats.beats, &truth, F_MEASURE_TOLERANCE);
        println!("click {bpm} BPM: got {:.2} BPM, F = {f:.3}", beats.bpm);
        assert!((beats.bpm - bpm).abs() <= bpm * 0.02, "tempo {:.2} for {bpm}", beats.bpm);
        assert!(f >= 0.95, "F = {f:.3} at {bpm} BPM");
    }
}

#[test]
fn silence_gives_no_beats() {
    let audio = synth(vec![0.0; 10 * 44100], 44100);
    for cfg in [dp(), aubio(AubioOnset::Specflux)] {
        let b = detect_beats(&audio, &cfg).expect("silence is not an error");
        assert_eq!((b.bpm, b.beats.len()), (0.0, 0));
    }
    // Below the -90 dBFS silence gate too.
    let hiss: Vec<f32> = (0..10 * 22050).map(|i| if i % 2 == 0 { 1e-5 } else { -1e-5 }).collect();
    assert!(detect_beats(&synth(hiss, 22050), &dp()).expect("detect").beats.is_empty());
}

#[test]
fn short_and_degenerate_audio() {
    let (y, _) = click_track(120.0, 0.8, 44100, 1);
    for cfg in [dp(), aubio(AubioOnset::Hfc)] {
        let b = detect_beats(&synth(y.clone(), 44100), &cfg).expect("short is not an error");
        assert!(b.beats.is_empty() && b.bpm == 0.0);
        // A handful of samples, one sample, nothing at all.
        for n in [0, 1, 7] {
            let b = detect_beats(&synth(vec![0.3; n], 44100), &cfg).expect("tiny input");
            assert!(b.beats.is_empty());
        }
    }
    // Just over a second of clicks, odd sample rates, a DC offset and a square wave: no panic,
    // well-formed output.
    for (sr, secs) in [(8000, 1.2), (11025, 3.0), (96000, 2.0), (44100, 1.05)] {
        let (y, _) = click_track(120.0, secs, sr, 2);
        let b = detect_beats(&synth(y, sr), &dp()).expect("detect");
        assert_well_formed(&b, secs);
    }
    // Absurd rates: analysis sizes collapse to a few samples, still no panic.
    for sr in [1u32, 100] {
        let y: Vec<f32> = (0..5 * sr as usize + 7).map(|i| if i % 3 == 0 { 0.8 } else { -0.1 }).collect();
        for cfg in [dp(), aubio(AubioOnset::Specflux)] {
            if let Ok(b) = detect_beats(&synth(y.clone(), sr), &cfg) {
                assert_well_formed(&b, y.len() as f64 / sr as f64);
            }
        }
    }
    let dc = synth(vec![0.5; 5 * 44100], 44100);
    assert_well_formed(&detect_beats(&dc, &dp()).expect("dc"), 5.0);
    let square: Vec<f32> = (0..5 * 44100).map(|i| if (i / 100) % 2 == 0 { 0.5 } else { -0.5 }).collect();
    assert_well_formed(&detect_beats(&synth(square, 44100), &dp()).expect("square"), 5.0);
}

#[test]
fn invalid_input_is_an_error() {
    let audio = synth(vec![0.1; 44100], 0);
    assert!(matches!(detect_beats(&audio, &dp()), Err(AudioError::Invalid { .. })));
    let mut y = vec![0.1f32; 3 * 44100];
    y[100] = f32::NAN;
    assert!(matches!(detect_beats(&synth(y, 44100), &dp()), Err(AudioError::Invalid { .. })));
    // An unknown onset function cannot reach the tracker: it is refused where the name is parsed.
    let msg = "aubio:bogus".parse::<BeatMethod>().unwrap_err();
    for name in AUBIO_ONSETS {
        assert!(msg.contains(name.name()), "{msg} should list {name}");
    }
}

#[test]
fn aubio_on_the_waltz() {
    let Some(dir) = data_dir() else { return };
    let wav = dir.join("ballroom_waltz_Media-105901.wav");
    let audio = decode(&wav).expect("decode");
    let ann = annotations(&wav);
    for &onset in AUBIO_ONSETS {
        let b = detect_beats(&audio, &aubio(onset)).expect("aubio");
        assert_well_formed(&b, audio.duration_secs());
        let f = f_measure(&b.beats, &ann, F_MEASURE_TOLERANCE);
        println!("waltz aubio:{onset}: {:.1} BPM, {} beats, F = {f:.3}", b.bpm, b.beats.len());
        // Plausible: a dance tempo and roughly that many beats over the 32 s clip.
        assert!((40.0..=240.0).contains(&b.bpm), "aubio:{onset} bpm {}", b.bpm);
        let expected = audio.duration_secs() * b.bpm / 60.0;
        assert!(b.beats.len() as f64 >= 0.6 * expected && b.beats.len() as f64 <= 1.2 * expected);
    }
    // The default onset function does better than chance.
    let b = detect_beats(&audio, &BeatConfig::with_method("aubio".parse().expect("parse"))).expect("aubio");
    assert!(f_measure(&b.beats, &ann, F_MEASURE_TOLERANCE) >= 0.5);
}

#[test]
fn aubio_click_track() {
    // aubio drops beats that fall in a hop under -90 dB, so between bare clicks in digital
    // silence it loses most of them: give it a -50 dB noise floor, as a recording would have.
    let (mut y, truth) = click_track(120.0, 20.0, 44100, 2);
    let mut seed = 12345u32;
    for s in y.iter_mut() {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *s += 0.003 * ((seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0);
    }
    let b = detect_beats(&synth(y, 44100), &aubio(AubioOnset::Specflux)).expect("aubio");
    let f = f_measure(&b.beats, &truth, F_MEASURE_TOLERANCE);
    println!("aubio click: {:.2} BPM, F = {f:.3}", b.bpm);
    assert!((b.bpm - 120.0).abs() <= 2.0 && f >= 0.8);
}

#[test]
fn f_measure_checks() {
    let ann = [1.0, 2.0, 3.0, 4.0];
    let tol = F_MEASURE_TOLERANCE;
    assert_eq!(f_measure(&ann, &ann, tol), 1.0);
    // Within ±70 ms counts, further does not.
    assert_eq!(f_measure(&[1.06, 1.94, 3.05, 3.93], &ann, tol), 1.0);
    assert_eq!(f_measure(&[1.08, 2.08, 3.08, 4.08], &ann, tol), 0.0);
    // Half the beats: P = 1, R = 0.5, F = 2/3.
    assert!((f_measure(&[1.0, 3.0], &ann, tol) - 2.0 / 3.0).abs() < 1e-12);
    // Double tempo: P = 0.5, R = 1.
    let double: Vec<f64> = (0..8).map(|i| 1.0 + 0.5 * i as f64).collect();
    assert!((f_measure(&double, &ann, tol) - 2.0 / 3.0).abs() < 1e-12);
    // Each annotation used once: two detections around one annotation make one hit.
    assert!((f_measure(&[0.97, 1.03], &[1.0], tol) - 2.0 / 3.0).abs() < 1e-12);
    // ... and each detection once.
    assert!((f_measure(&[1.0], &[0.97, 1.03], tol) - 2.0 / 3.0).abs() < 1e-12);
    // Greedy order still finds the maximum matching: 0.95 can only pair with 1.0, 1.06 with 1.1.
    assert_eq!(f_measure(&[0.95, 1.06], &[1.0, 1.1], tol), 1.0);
    // Unsorted input, non-finite values ignored, empty lists.
    assert_eq!(f_measure(&[4.0, 2.0, f64::NAN, 3.0, 1.0], &[3.0, 1.0, 4.0, 2.0], tol), 1.0);
    assert_eq!(f_measure(&[], &ann, tol), 0.0);
    assert_eq!(f_measure(&ann, &[], tol), 0.0);
    assert_eq!(f_measure(&[], &[], tol), 0.0);
}

#[test]
fn annotation_formats() {
    assert_eq!(parse_beat_annotations("1.86 1\n2.627 2\n"), vec![1.86, 2.627]);
    assert_eq!(parse_beat_annotations("# comment\n0.0913\t1\n0.7997\t2\n\n"), vec![0.0913, 0.7997]);
    assert_eq!(parse_beat_annotations("0.113139\n0.828717\n"), vec![0.113139, 0.828717]);
}

#[test]
fn method_strings() {
    assert_eq!("dp".parse::<BeatMethod>(), Ok(BeatMethod::Dp));
    assert_eq!("aubio:complex".parse::<BeatMethod>(), Ok(BeatMethod::Aubio { onset: AubioOnset::Complex }));
    let err = "aubio:nope".parse::<BeatMethod>().unwrap_err();
    assert!(AUBIO_ONSETS.iter().all(|o| err.contains(o.name())), "{err}");
}
