//! Encoders: determinism, the split, bad weights, NaN loss, embed. Training runs are tiny.

use std::path::{Path, PathBuf};

use choreo::corpus::{self, CorpusConfig};
use choreo::model::{self, TrainConfig};

use super::util::*;

/// A corpus of three real dances: cha-cha C_2 and C_4 (C_4 is the test dance), rumba R_2.
fn tiny_corpus(dir: &Path) -> Option<PathBuf> {
    let root = dir.join("tiny");
    std::fs::create_dir_all(&root).unwrap();
    for d in ["DANCE_C_2", "DANCE_C_4", "DANCE_R_2"] {
        std::os::unix::fs::symlink(tang(d)?, root.join(d)).unwrap();
    }
    Some(root)
}

fn tiny_config(seed: u64) -> TrainConfig {
    TrainConfig { epochs: 1, batch: 16, seed, eval_every: 1, ..TrainConfig::default() }
}

#[test]
fn same_seed_gives_identical_weights() {
    let d = tempfile::tempdir().unwrap();
    let Some(root) = tiny_corpus(d.path()) else { return };
    let (c, _) = corpus::load(&root, &CorpusConfig::default()).unwrap();
    let run = |seed| {
        let (t, report) = model::train(&c, &tiny_config(seed), &mut |_| {}).unwrap();
        (model::store::to_bytes(&t).unwrap(), report)
    };
    let (a, ra) = run(7);
    let (b, _) = run(7);
    let (other, _) = run(8);
    assert_eq!(a, b, "same seed, same corpus → byte-identical weights");
    assert_ne!(a, other, "another seed → other weights");
    assert_eq!(ra.card.test_dances, ["DANCE_C_4"]);
    assert_eq!(ra.card.train_dances, ["DANCE_C_2", "DANCE_R_2"]);
    assert!(ra.epochs[0].loss.is_finite());
}

#[test]
fn saved_weights_reproduce_the_reported_figures() {
    // The figures in the card must be those of the weights written beside it (an LSTM bias summed
    // once at construction used to stay at its initial value in training while the stored biases
    // moved, so the loaded model was another model).
    let d = tempfile::tempdir().unwrap();
    let Some(root) = tiny_corpus(d.path()) else { return };
    let (c, _) = corpus::load(&root, &CorpusConfig::default()).unwrap();
    let cfg = TrainConfig { epochs: 2, lr: 5e-3, ..tiny_config(3) };
    let (t, report) = model::train(&c, &cfg, &mut |_| {}).unwrap();
    let w = d.path().join("enc.safetensors");
    model::store::save(&w, &t, &report.card).unwrap();
    let (enc, _) = model::load(&w, &candle_core::Device::Cpu).unwrap();
    let names: Vec<(String, Option<choreo::corpus::Genre>)> = c.dances.iter().map(|x| (x.name.clone(), x.genre.clone())).collect();
    let (_, test) = model::data::split(&names).unwrap();
    let dances = model::data::prepare(&c, enc.cfg.frames).unwrap();
    let frags = model::data::eval_fragments(&dances, &test, enc.cfg.frames);
    let f = model::train::evaluate(&enc, &dances, &frags, (48, 96), cfg.seed).unwrap();
    let r = &report.card.test_figures;
    assert!((f.matching_distance - r.matching_distance).abs() < 1e-5, "loaded {} vs reported {}", f.matching_distance, r.matching_distance);
    assert!((f.other_distance - r.other_distance).abs() < 1e-5);
    assert_eq!(f.mean_rank, r.mean_rank);
    // The LSTM biases did train (the case the bug hid).
    let b = t["audio.lstm_fwd.bias_ih_l0"].abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(b > 0.0);
}

#[test]
fn corpus_too_small_to_split_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let Some(src) = tang("DANCE_T_5") else { return };
    let root = d.path().join("one");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(src, root.join("DANCE_T_5")).unwrap();
    let o = choreo(d.path(), &["train", "--corpus", "one", "--out", "m.safetensors", "--epochs", "1"]);
    assert_one_line_error(&o, "corpus too small");
    assert!(!d.path().join("m.safetensors").exists());
}

#[test]
fn weights_round_trip_and_bad_weights_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let Some(root) = tiny_corpus(d.path()) else { return };
    let p = d.path();
    let o = choreo(p, &["train", "--corpus", "tiny", "--out", "m/enc.safetensors", "--epochs", "1", "--batch", "16", "--report", "r.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let _ = root;
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(p.join("r.json")).unwrap()).unwrap();
    assert!(report["baselines"]["random_recall_at_10"].as_f64().is_some());
    let (enc, card) = model::load(&p.join("m/enc.safetensors"), &candle_core::Device::Cpu).unwrap();
    assert_eq!(card.config.embed_dim, 16);
    assert_eq!(enc.cfg.frames, 24);

    // embed: one 16-d row per 1-s clip of the song, per fragment of a pose file.
    let song = tang("DANCE_C_2").unwrap().join("audio.mp3");
    let o = choreo(p, &["embed", "--model", "m/enc.safetensors", "--audio", song.to_str().unwrap(), "--out", "a.npy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, rows, cols) = choreo::io::read_npy_f32(&p.join("a.npy")).unwrap();
    let secs = choreo::audio::decode(&song).unwrap().duration_secs();
    assert_eq!((rows, cols), ((secs).floor() as usize, 16));
    assert!(a.iter().all(|v| v.is_finite()));

    // A truncated weights file.
    let bytes = std::fs::read(p.join("m/enc.safetensors")).unwrap();
    std::fs::create_dir_all(p.join("cut")).unwrap();
    std::fs::write(p.join("cut/enc.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::copy(p.join("m/enc.json"), p.join("cut/enc.json")).unwrap();
    assert_one_line_error(&choreo(p, &["embed", "--model", "cut/enc.safetensors", "--audio", song.to_str().unwrap(), "--out", "b.npy"]), "cut/enc.safetensors");
    // Weights whose config says another shape than the tensors hold.
    std::fs::create_dir_all(p.join("shape")).unwrap();
    std::fs::copy(p.join("m/enc.safetensors"), p.join("shape/enc.safetensors")).unwrap();
    let mut side: serde_json::Value = serde_json::from_slice(&std::fs::read(p.join("m/enc.json")).unwrap()).unwrap();
    side["config"]["lstm_hidden"] = serde_json::json!(64);
    side["weights_sha256"] = serde_json::json!("");
    std::fs::write(p.join("shape/enc.json"), side.to_string()).unwrap();
    let o = choreo(p, &["embed", "--model", "shape/enc.safetensors", "--audio", song.to_str().unwrap(), "--out", "b.npy"]);
    assert_one_line_error(&o, "shape/enc.safetensors");
    assert!(stderr(&o).contains("expected shape"), "{}", stderr(&o));
    // A v1 card whose config asks for the v2 options (time segments): refused by name.
    side["config"]["lstm_hidden"] = serde_json::json!(100);
    side["config"]["time_segments"] = serde_json::json!(3);
    std::fs::write(p.join("shape/enc.json"), side.to_string()).unwrap();
    let o = choreo(p, &["embed", "--model", "shape/enc.safetensors", "--audio", song.to_str().unwrap(), "--out", "b.npy"]);
    assert_one_line_error(&o, "shape/enc.json");
    assert!(stderr(&o).contains("danceit-bilstm-stgcn-v2"), "{}", stderr(&o));
    // Another architecture.
    side["architecture"] = serde_json::json!("something-else");
    std::fs::write(p.join("shape/enc.json"), side.to_string()).unwrap();
    assert_one_line_error(&choreo(p, &["embed", "--model", "shape/enc.safetensors", "--audio", song.to_str().unwrap(), "--out", "b.npy"]), "architecture");
    assert!(!p.join("b.npy").exists());
}

#[test]
fn nan_loss_stops_training_and_keeps_previous_weights() {
    let d = tempfile::tempdir().unwrap();
    let Some(_) = tiny_corpus(d.path()) else { return };
    let p = d.path();
    std::fs::write(p.join("enc.safetensors"), b"previous weights").unwrap();
    std::fs::write(p.join("enc.json"), b"previous card").unwrap();
    let o = choreo(p, &["train", "--corpus", "tiny", "--out", "enc.safetensors", "--epochs", "3", "--batch", "16", "--lr", "1e30"]);
    assert_one_line_error(&o, "training stopped");
    assert_eq!(std::fs::read(p.join("enc.safetensors")).unwrap(), b"previous weights");
    assert_eq!(std::fs::read(p.join("enc.json")).unwrap(), b"previous card");
}
