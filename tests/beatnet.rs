//! BeatNet tracker parity with its Python originals, on fixtures made by
//! tools/beats/export_beatnet.py from ../shared/data/beats/gtzan_country.00000.wav (22.05 kHz):
//! * features: ours vs madmom 0.17 (BeatNet's LOG_SPECT), max |diff| ≤ 1e-4 (both float32);
//! * network: models/beatnet.onnx under ONNX Runtime vs BeatNet's PyTorch model, max |diff| ≤ 1e-4;
//! * DBN: our decoder vs madmom's DBNBeatTrackingProcessor on the same activation: same beats;
//!   and the fast decoder vs its dense reference twin (same path);
//! * the whole tracker on the clip gives madmom's beats.
//! Bad model files give one-line errors naming the file.
//! Under CI a missing ../shared or ONNX Runtime fails the tests instead of skipping them (tests/common/inputs.rs).

use std::path::{Path, PathBuf};

use choreo::audio::beatnet::{self, BeatNet};
use choreo::audio::dbn::{self, DbnConfig};
use choreo::audio::beats::f_measure;
use choreo::audio::{decode, detect_beats, logspec, AudioError, BeatConfig, BeatMethod};
use choreo::io::read_npy_f32;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/beatnet")
}

#[path = "common/inputs.rs"]
mod inputs;

fn country() -> Option<PathBuf> {
    inputs::shared("data/beats/gtzan_country.00000.wav")
}

/// ONNX Runtime's library (vendor/onnxruntime from tools/setup.sh): as a missing input.
fn runtime() -> Option<()> {
    let lib = choreo::runtime::onnxruntime_library()
        .unwrap_or_else(|| root().join(format!("vendor/onnxruntime/libonnxruntime.so.{}", choreo::runtime::ORT_VERSION)));
    inputs::require(lib, "run tools/setup.sh").map(|_| ())
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn features_match_madmom() {
    let Some(wav) = country() else { return };
    let audio = decode(&wav).unwrap();
    assert_eq!(audio.sample_rate, logspec::SAMPLE_RATE);
    let (want, rows, cols) = read_npy_f32(&fixtures().join("feats.npy")).unwrap();
    assert_eq!(cols, logspec::DIM);
    let ours = logspec::features(&audio.samples[..6 * logspec::SAMPLE_RATE as usize]);
    assert_eq!(ours.len() / logspec::DIM, rows, "frame count");
    let d = max_diff(&ours, &want);
    println!("features: {rows} x {cols}, max |diff| {d:.2e}");
    assert!(d <= 1e-4, "max |diff| {d}");
}

#[test]
fn onnx_network_matches_pytorch() {
    let Some(()) = runtime() else { return };
    let (feats, rows, _) = read_npy_f32(&fixtures().join("feats.npy")).unwrap();
    let (want, wr, wc) = read_npy_f32(&fixtures().join("act.npy")).unwrap();
    assert_eq!((wr, wc), (rows, 3));
    let mut net = BeatNet::load(&beatnet::default_model()).expect("model");
    let act: Vec<f32> = net.activations(&feats, rows).unwrap().into_iter().flatten().collect();
    let d = max_diff(&act, &want);
    println!("activations: {rows} frames, max |diff| {d:.2e}");
    assert!(d <= 1e-4, "max |diff| {d}");
    // the activations are probabilities, and the clip has beats in it
    assert!(act.chunks(3).all(|r| (r.iter().sum::<f32>() - 1.0).abs() < 1e-4));
    assert!(act.chunks(3).any(|r| r[0] + r[1] > 0.5));
}

fn madmom_beats() -> Vec<f64> {
    std::fs::read_to_string(fixtures().join("dbn_beats.txt")).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect()
}

#[test]
fn dbn_matches_madmom() {
    let (act, rows, _) = read_npy_f32(&fixtures().join("dbn_act.npy")).unwrap();
    let d = dbn::decode(&act, &DbnConfig::madmom());
    let ours: Vec<f64> = d.beats.iter().map(|&f| f as f64 / 50.0).collect();
    let want = madmom_beats();
    println!("{rows} frames: {} beats, madmom {}", ours.len(), want.len());
    assert_eq!(ours.len(), want.len());
    for (a, b) in ours.iter().zip(&want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn dbn_with_tempo_prior_matches_its_numpy_twin() {
    // tools/beats/tune_dbn.py --fixture: the numpy twin (equal to madmom's decoder on madmom's
    // settings) with the default tempo-prior pass, on the same activation
    let (act, _, _) = read_npy_f32(&fixtures().join("dbn_act.npy")).unwrap();
    let d = dbn::decode(&act, &DbnConfig::default());
    assert!(DbnConfig::default().tempo_prior.is_some());
    assert_eq!(d.fps, 50.0 * dbn::DEFAULT_UPSAMPLE as f64);
    let ours = d.times();
    let text = std::fs::read_to_string(fixtures().join("dbn_prior_beats.txt")).unwrap();
    let want: Vec<f64> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(ours.len(), want.len());
    for (a, b) in ours.iter().zip(&want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn upsampled_dbn_keeps_a_fast_song_at_its_tempo() {
    // tools/beats/tune_dbn.py --fixture --renders: BeatNet's activation on a MIDI render at 186 BPM
    // (freedoom's D_E1M1, not in beats-dev) with its true beats. Every beat has a clear peak, but
    // at 50 frames/s a beat is 16.13 frames, so the peaks fall 16 or 17 frames apart and
    // madmom's whole-frame decoder keeps every other one; upsampled 4x it follows them.
    let (act, rows, _) = read_npy_f32(&fixtures().join("fast_act.npy")).unwrap();
    let truth: Vec<f64> = std::fs::read_to_string(fixtures().join("fast_beats.txt")).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!((rows, truth.len()), (1500, 93));
    let f = |cfg: &DbnConfig| f_measure(&dbn::decode(&act, cfg).times(), &truth, 0.07);
    let (madmom, whole, up) = (f(&DbnConfig::madmom()), f(&DbnConfig { upsample: 1, ..DbnConfig::default() }), f(&DbnConfig::default()));
    println!("F: madmom {madmom:.3}, default at 50 frames/s {whole:.3}, default (upsampled) {up:.3}");
    assert!(madmom < 0.7 && whole < 0.7, "{madmom} {whole}");
    assert!(up > 0.98, "{up}");
}

#[test]
fn fast_dbn_equals_dense_reference_on_real_activation() {
    let (act, _, _) = read_npy_f32(&fixtures().join("dbn_act.npy")).unwrap();
    // the dense twin is O(states²) per frame: a narrower tempo range (the clip is at 86 BPM) and 8 s
    let cfg = DbnConfig { min_bpm: 70.0, max_bpm: 110.0, upsample: 1, ..DbnConfig::default() };
    let act = &act[..400];
    for cfg in [cfg.clone(), DbnConfig { tempo_prior: None, ..cfg }] {
        let fast = dbn::decode(act, &cfg);
        assert!(fast.beats.len() >= 8);
        assert_eq!(fast, dbn::reference(act, &cfg));
    }
}

// (the default decoder adds the tempo-prior pass and decodes at 200 frames/s; on this clip it
// finds madmom's beats, each within one 50-frames/s frame: a beat is the activation's maximum
// inside its run of beat states, which at 4x can end between two of the network's frames)
#[test]
fn whole_tracker_gives_madmoms_beats() {
    let (Some(wav), Some(())) = (country(), runtime()) else { return };
    let b = detect_beats(&decode(&wav).unwrap(), &BeatConfig::default()).unwrap();
    assert_eq!(b.method, "beatnet");
    let want = madmom_beats();
    assert_eq!(b.beats.len(), want.len());
    let mut exact = 0;
    for (a, w) in b.beats.iter().zip(&want) {
        assert!((a - w).abs() <= 0.02 + 1e-9, "{a} vs {w}");
        exact += usize::from((a - w).abs() < 1e-6);
    }
    println!("{exact} of {} beats at madmom's frame exactly", want.len());
    assert!(exact * 4 >= want.len() * 3, "{exact} of {}", want.len());
    assert_eq!(b.tempo.len(), b.beats.len());
    assert!(b.tempo.iter().all(|[_, bpm]| (80.0..95.0).contains(bpm)), "{:?}", b.tempo);
    // byte-identical on a second run
    let again = detect_beats(&decode(&wav).unwrap(), &BeatConfig::default()).unwrap();
    assert_eq!(b, again);
}

fn model_error(path: &Path) -> String {
    let cfg = BeatConfig { model: Some(path.to_path_buf()), ..BeatConfig::with_method(BeatMethod::BeatNet) };
    let audio = choreo::audio::Audio {
        samples: (0..22050 * 5).map(|i| if i % 11025 < 200 { 0.5 } else { 0.0 }).collect(),
        sample_rate: 22050,
        path: "clicks.wav".into(),
    };
    let e = detect_beats(&audio, &cfg).expect_err("bad model must fail");
    assert!(matches!(e, AudioError::Model { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn missing_model_is_a_one_line_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.onnx");
    let msg = model_error(&p);
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains(&p.display().to_string()) && msg.contains("not found") && msg.contains("export_beatnet.py"), "{msg}");
}

#[test]
fn wrong_model_is_a_one_line_error_naming_it() {
    let Some(()) = runtime() else { return };
    let dir = tempfile::tempdir().unwrap();
    // garbage bytes
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"not a model").unwrap();
    let msg = model_error(&junk);
    assert!(!msg.contains('\n') && msg.contains(&junk.display().to_string()), "{msg}");
    // a real ONNX model of the wrong shape (MoveNet)
    let movenet = root().join("models/movenet_lightning.onnx");
    let msg = model_error(&movenet);
    assert!(!msg.contains('\n') && msg.contains("movenet_lightning.onnx") && msg.contains("wrong shape"), "{msg}");
}

#[test]
fn doctor_checks_the_beat_model() {
    use choreo::audio::beatnet::{default_model, BeatNet};
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.onnx");
    let e = BeatNet::check(&missing).expect_err("missing");
    assert!(!e.contains('\n') && e.contains(&missing.display().to_string()) && e.contains("not found") && e.contains("export_beatnet.py"), "{e}");
    let Some(()) = runtime() else { return };
    let e = BeatNet::check(&root().join("models/movenet_lightning.onnx")).expect_err("wrong shape");
    assert!(!e.contains('\n') && e.contains("movenet_lightning.onnx") && e.contains("wrong shape"), "{e}");
    let ok = BeatNet::check(&default_model()).unwrap();
    assert!(ok.contains("beatnet.onnx") && ok.contains("[1, T, 272]"), "{ok}");
    // the CLI prints it as one of its lines
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_choreo")).arg("doctor").output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l.starts_with("beat model: ") && l.contains("beatnet.onnx")), "{out}");
}

#[test]
fn short_song_falls_back_to_dp_with_a_warning() {
    let audio = choreo::audio::Audio {
        samples: (0..44100 * 2).map(|i| if i % 22050 < 300 { 0.5 } else { 0.0 }).collect(),
        sample_rate: 44100,
        path: "short.wav".into(),
    };
    // works even with no model at all: the network is not needed
    let cfg = BeatConfig { model: Some("/nonexistent/beatnet.onnx".into()), ..BeatConfig::default() };
    let b = detect_beats(&audio, &cfg).unwrap();
    assert_eq!(b.method, "dp");
    assert_eq!(b.warnings.len(), 1);
    assert!(b.warnings[0].contains("short.wav") && b.warnings[0].contains("dp"), "{:?}", b.warnings);
}

#[test]
fn a_song_of_two_slow_beats_runs_the_network() {
    // 2.5 s of clicks at 120 BPM: above BEATNET_MIN_S (two beats at 55 BPM), so no fallback.
    assert!(choreo::audio::beats::BEATNET_MIN_S < 2.5);
    let audio = choreo::audio::Audio {
        samples: (0..(44100.0 * 2.5) as usize).map(|i| if i % 22050 < 300 { 0.5 } else { 0.0 }).collect(),
        sample_rate: 44100,
        path: "clicks.wav".into(),
    };
    let Some(_) = inputs::require(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/beatnet.onnx"), "the committed beat model") else { return };
    let b = detect_beats(&audio, &BeatConfig::default()).unwrap();
    assert_eq!(b.method, "beatnet", "{:?}", b.warnings);
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    assert!(b.beats.iter().all(|t| t.is_finite() && *t >= 0.0 && *t <= 2.5), "{:?}", b.beats);
}

#[test]
fn silence_gives_no_beats_and_no_error() {
    let audio = choreo::audio::Audio { samples: vec![0.0; 22050 * 10], sample_rate: 22050, path: "silence.wav".into() };
    let b = detect_beats(&audio, &BeatConfig::default()).unwrap();
    assert!(b.beats.is_empty() && b.bpm == 0.0);
}

#[test]
fn waltz_is_in_three_with_its_downbeats() {
    let Some(()) = runtime() else { return };
    let Some(wav) = inputs::shared("data/beats/ballroom_waltz_Media-105901.wav") else { return };
    let b = detect_beats(&decode(&wav).unwrap(), &BeatConfig::default()).unwrap();
    assert_eq!(b.beats_per_bar, 3);
    let text = std::fs::read_to_string(wav.with_extension("beats")).unwrap();
    let want: Vec<f64> = text
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let t: f64 = it.next()?.parse().ok()?;
            (it.next()? == "1").then_some(t)
        })
        .collect();
    let f = choreo::audio::beats::f_measure(&b.downbeats, &want, 0.07);
    let fb = choreo::audio::beats::f_measure(&b.beats, &choreo::audio::beats::parse_beat_annotations(&text), 0.07);
    println!("waltz: beats F {fb:.3}, downbeats F {f:.3} ({} found, {} annotated)", b.downbeats.len(), want.len());
    assert!(fb >= 0.9 && f >= 0.9, "beats F {fb}, downbeats F {f}");
}

#[test]
fn cli_json_has_beats_tempo_downbeats_and_meter() {
    let (Some(wav), Some(())) = (country(), runtime()) else { return };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_choreo")).arg("beats").arg(&wav).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let beats = j["beats"].as_array().unwrap();
    assert_eq!(beats.len(), madmom_beats().len());
    assert_eq!(j["tempo"].as_array().unwrap().len(), beats.len());
    assert!(j["beats_per_bar"].as_u64().unwrap() >= 2);
    assert!(!j["downbeats"].as_array().unwrap().is_empty());
    // dp is still there, without a tempo curve
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_choreo")).arg("beats").arg(&wav).args(["--json", "--method", "dp"]).output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(j["beats"].as_array().unwrap().len() > 20 && j.get("tempo").is_none());
}

#[test]
fn crafted_sample_rates_are_refused_not_resampled() {
    for rate in [1u32, 3_999, 1_000_000] {
        let audio = choreo::audio::Audio { samples: vec![0.1; 4 * rate as usize], sample_rate: rate, path: "odd.wav".into() };
        let e = detect_beats(&audio, &BeatConfig::default()).expect_err("rate").to_string();
        assert!(e.contains("odd.wav") && e.contains("sample rate"), "{e}");
    }
}
