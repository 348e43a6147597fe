//! Index: build, reopen, HNSW vs exact, crashed rebuilds, corrupt files, encoder mismatch, merge.
//! Crafted files, killed builds and the loader fuzz test are in `index_robust`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use choreo::corpus::{self, CorpusConfig};
use choreo::index::{Index, IndexBuilder, IndexParams};
use choreo::model::{self, TrainConfig};

use super::util::*;

/// A scratch folder with two corpora (`a`: C_2, C_4, R_2; `b`: R_3) and a tiny encoder trained
/// once on `a` (1 epoch). None without ../shared.
fn fixture() -> Option<&'static PathBuf> {
    static F: OnceLock<Option<PathBuf>> = OnceLock::new();
    F.get_or_init(|| {
        // A missing ../shared is None (a failure under CI, see `require`); anything else that
        // goes wrong here is a real failure, not a skip.
        let dir = tempfile::tempdir().expect("temp folder").keep();
        for (corpus, dances) in [("a", &["DANCE_C_2", "DANCE_C_4", "DANCE_R_2"][..]), ("b", &["DANCE_R_3"][..])] {
            std::fs::create_dir_all(dir.join(corpus)).expect("corpus folder");
            for d in dances {
                std::os::unix::fs::symlink(tang(d)?, dir.join(corpus).join(d)).expect("symlink");
            }
        }
        let (c, _) = corpus::load(&dir.join("a"), &CorpusConfig::default()).expect("fixture corpus loads");
        let (t, report) = model::train(&c, &TrainConfig { epochs: 1, batch: 16, ..TrainConfig::default() }, &mut |_| {}).expect("fixture encoder trains");
        model::store::save(&dir.join("enc.safetensors"), &t, &report.card).expect("fixture encoder saves");
        Some(dir)
    })
    .as_ref()
}

fn build(dir: &Path, corpus: &str, out: &str) -> choreo::index::Manifest {
    let (enc, card) = model::load(&dir.join("enc.safetensors"), &candle_core::Device::Cpu).unwrap();
    let (c, _) = corpus::load(&dir.join(corpus), &CorpusConfig::default()).unwrap();
    let emb = model::embed_corpus(&c, &enc, &card).unwrap();
    IndexBuilder::new(IndexParams::default()).build(&emb, &dir.join("enc.safetensors"), &dir.join(out)).unwrap()
}

/// Every file under `dir` (relative path, bytes), sorted.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, v: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, v);
            } else {
                v.push((p.strip_prefix(root).unwrap().to_string_lossy().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// A copy of index `from` at `to`.
pub fn copy_index(from: &Path, to: &Path) {
    for (f, b) in snapshot(from) {
        let p = to.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    }
}

#[test]
fn build_reopen_and_hnsw_matches_exact() {
    let Some(dir) = fixture() else { return };
    let m = build(dir, "a", "ia");
    assert_eq!(m.dances, 3);
    assert_eq!(m.fragments, m.sources.iter().map(|s| s.fragments).sum::<usize>());
    let ix = Index::open(&dir.join("ia")).unwrap();
    // Queries: every fragment's own audio embedding.
    let (mut found, mut total) = (0usize, 0usize);
    let mut first = Vec::new();
    for f in &ix.fragments {
        let approx = ix.search(&f.audio_embedding, 10, 64);
        let exact = ix.search_exact(&f.audio_embedding, 10);
        total += exact.len();
        found += exact.iter().filter(|h| approx.iter().any(|a| a.fragment == h.fragment)).count();
        first.push(approx);
    }
    let recall = found as f64 / total as f64;
    println!("recall@10 of HNSW vs exact on {} queries: {recall:.4}", ix.len());
    assert!(recall >= 0.99, "{recall}");
    // Continuations point at the next fragment of the same dance.
    for (i, f) in ix.fragments.iter().enumerate() {
        if let Some(n) = f.next {
            let g = &ix.fragments[n.0 as usize];
            assert_eq!((g.source, g.start), (f.source, f.start + 24), "fragment {i}");
        }
    }
    // Reopen → identical results.
    let again = Index::open(&dir.join("ia")).unwrap();
    for (f, hits) in again.fragments.iter().zip(&first) {
        assert_eq!(&again.search(&f.audio_embedding, 10, 64), hits);
    }
    // The same inputs build a byte-identical index.
    build(dir, "a", "ia2");
    assert_eq!(snapshot(&dir.join("ia")), snapshot(&dir.join("ia2")));
}

/// A build over an existing index, crashed (aborted by a failpoint) before and at the commit,
/// leaves the previous index byte for byte; crashed right after it, the new one. The next build
/// removes what the crashed ones left.
#[test]
fn crashed_rebuild_leaves_the_previous_or_the_new_index() {
    let Some(dir) = fixture() else { return };
    build(dir, "b", "ib");
    let before = snapshot(&dir.join("ib"));
    let run = |point: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_choreo"))
            .args(["index", "build", "--corpus", "a", "--model", "enc.safetensors", "--out", "ib"])
            .env("CHOREO_FAILPOINT", point)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    for point in ["generation-written", "manifest-written"] {
        let o = run(point);
        assert!(!o.status.success() && o.status.code().is_none(), "{point}: the failpoint should abort: {}", stderr(&o));
        let now = snapshot(&dir.join("ib"));
        let visible: Vec<_> = now.iter().filter(|(f, _)| !f.starts_with('.')).cloned().collect();
        assert_eq!(visible.iter().filter(|(f, _)| f == "manifest.json" || f.starts_with("gen-000001/")).count(), before.len(), "{point}");
        assert!(before.iter().all(|x| now.contains(x)), "{point}: the previous index changed");
        assert_eq!(Index::open(&dir.join("ib")).unwrap().manifest.dances, 1, "{point}");
    }
    let o = run("committed");
    assert!(!o.status.success(), "{}", stderr(&o));
    let ix = Index::open(&dir.join("ib")).unwrap();
    assert_eq!(ix.manifest.dances, 3);
    // A normal run cleans up: one generation, the manifest, nothing else.
    let o = choreo(dir, &["index", "build", "--corpus", "b", "--model", "enc.safetensors", "--out", "ib"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let names: Vec<String> = std::fs::read_dir(dir.join("ib")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"manifest.json".to_string()) && names.iter().any(|n| n.starts_with("gen-")), "{names:?}");
    build(dir, "b", "ib_ref_b");
    assert_eq!(Index::open(&dir.join("ib")).unwrap().fragments, Index::open(&dir.join("ib_ref_b")).unwrap().fragments);
}

#[test]
fn damaged_or_foreign_indexes_get_one_line_errors() {
    let Some(dir) = fixture() else { return };
    build(dir, "b", "ic");
    let copy = |name: &str| {
        let to = dir.join(name);
        let _ = std::fs::remove_dir_all(&to);
        copy_index(&dir.join("ic"), &to);
        to
    };
    let song = tang("DANCE_R_3").unwrap().join("audio.mp3");
    let song = song.to_str().unwrap();
    // Truncated fragment store.
    let t = copy("trunc");
    let b = std::fs::read(t.join("gen-000001/fragments.bin")).unwrap();
    std::fs::write(t.join("gen-000001/fragments.bin"), &b[..b.len() / 2]).unwrap();
    let o = choreo(dir, &["index", "search", "trunc", "--audio", song, "--model", "enc.safetensors"]);
    assert_one_line_error(&o, "fragments.bin");
    assert!(stderr(&o).contains("choreo index build"));
    // Truncated graph.
    let g = copy("graph");
    let b = std::fs::read(g.join("gen-000001/graph.bin")).unwrap();
    std::fs::write(g.join("gen-000001/graph.bin"), &b[..b.len() - 100]).unwrap();
    assert_one_line_error(&choreo(dir, &["index", "search", "graph", "--audio", song, "--model", "enc.safetensors"]), "graph.bin");
    assert_one_line_error(&choreo(dir, &["index", "info", "graph"]), "graph.bin");
    // Another format version.
    let v = copy("ver");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(v.join("manifest.json")).unwrap()).unwrap();
    m["format_version"] = serde_json::json!(99);
    std::fs::write(v.join("manifest.json"), m.to_string()).unwrap();
    let o = choreo(dir, &["index", "info", "ver"]);
    assert_one_line_error(&o, "version 99");
    assert!(stderr(&o).contains(&format!("version {}", choreo::index::FORMAT_VERSION)));
    // Built with another encoder.
    let e = copy("enc");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(e.join("manifest.json")).unwrap()).unwrap();
    m["encoder"]["weights_sha256"] = serde_json::json!("0123456789abcdef");
    std::fs::write(e.join("manifest.json"), m.to_string()).unwrap();
    let o = choreo(dir, &["index", "search", "enc", "--audio", song, "--model", "enc.safetensors"]);
    assert_one_line_error(&o, "encoder");
    assert!(stderr(&o).contains("0123456789ab"));
    // No index at all.
    let o = choreo(dir, &["index", "info", "nothing_here"]);
    assert_one_line_error(&o, "nothing_here");
    assert!(stderr(&o).contains("choreo index build"));
}

#[test]
fn merged_shards_hold_both_corpora() {
    let Some(dir) = fixture() else { return };
    let ma = build(dir, "a", "sa");
    let mb = build(dir, "b", "sb");
    let o = choreo(dir, &["index", "merge", "sa", "sb", "--out", "merged"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ix = Index::open(&dir.join("merged")).unwrap();
    assert_eq!(ix.len(), ma.fragments + mb.fragments);
    assert_eq!(ix.manifest.dances, 4);
    // A fragment from shard b is found by its own audio embedding, with its source renumbered.
    let last = ix.fragments.last().unwrap();
    assert_eq!(ix.manifest.sources[last.source as usize].name, "DANCE_R_3");
    let hit = ix.search_exact(&last.pose_embedding, 1)[0];
    assert_eq!(hit.fragment.0 as usize, ix.len() - 1);
    let o = choreo(dir, &["index", "info", "merged", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fragments"].as_u64().unwrap() as usize, ix.len());
}

/// The shipped index (`index/default`, from ../shared/data/tang2018 by tools/setup.sh): our search
/// over the flattened graph against exact search on every fragment's audio embedding, the same
/// results after reopening, and no panic on a query of the wrong dimension.
#[test]
fn default_index_search_matches_exact_and_survives_reopen() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("index/default");
    if require(dir.join("manifest.json"), "build it with tools/setup.sh").is_none() || shared("data/tang2018").is_none() {
        return;
    }
    let ix = Index::open(&dir).unwrap();
    let ef = ix.manifest.hnsw.ef_search;
    let (mut found, mut total) = (0usize, 0usize);
    let mut first = Vec::new();
    for f in &ix.fragments {
        let q = &f.audio_embedding;
        let exact = ix.search_exact(q, 10);
        let ours = ix.search(q, 10, ef);
        assert_eq!(ours.len(), 10);
        assert!(ours.windows(2).all(|w| w[0].distance <= w[1].distance));
        total += exact.len();
        found += exact.iter().filter(|h| ours.iter().any(|a| a.fragment == h.fragment)).count();
        first.push(ours);
    }
    let recall = found as f64 / total as f64;
    println!("default index, {} queries: recall@10 {recall:.4} at ef {ef}", ix.len());
    assert!(recall >= 0.99, "{recall}");
    let again = Index::open(&dir).unwrap();
    for (f, hits) in again.fragments.iter().zip(&first) {
        assert_eq!(&again.search(&f.audio_embedding, 10, ef), hits);
    }
    assert!(again.search(&[0.0; 3], 10, ef).is_empty());
    assert!(again.search_exact(&[0.0; 3], 10).is_empty());
}
