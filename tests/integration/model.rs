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
