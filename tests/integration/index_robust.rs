//! The index against crafted and damaged files, killed writers and careless `--out` folders.
//! Synthetic indexes (seeded random fragments and embeddings, no ../shared needed) keep these fast.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use choreo::index::{Index, IndexBuilder, IndexParams};
use choreo::model::embed::{EmbeddedCorpus, EmbeddedFragment, EmbeddedSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::index::{copy_index, snapshot};
use super::util::*;

/// `sources` dances of `per` consecutive fragments of `frames` frames, random poses and 16-d
/// embeddings from `seed`.
fn synthetic(sources: usize, per: usize, frames: usize, seed: u64) -> EmbeddedCorpus {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fragments = Vec::new();
    for s in 0..sources {
        for i in 0..per {
            fragments.push(EmbeddedFragment {
                source: s,
                start: i * frames,
                poses: (0..frames).map(|_| std::array::from_fn(|_| [rng.gen_range(0.0..400.0), rng.gen_range(0.0..400.0), 1.0])).collect(),
                // Source 0 has a 3-D track (a mocap dance), the others are 2-D only.
                joints3d: (s == 0).then(|| (0..frames).map(|_| std::array::from_fn(|_| [rng.gen_range(-300.0..300.0), rng.gen_range(0.0..180.0), rng.gen_range(-300.0..300.0)])).collect()),
                pose_embedding: (0..16).map(|_| rng.gen_range(-1.0..1.0)).collect(),
                audio_embedding: (0..16).map(|_| rng.gen_range(-1.0..1.0)).collect(),
            });
        }
    }
    EmbeddedCorpus {
        sources: (0..sources).map(|s| EmbeddedSource { name: format!("S{seed}_{s}"), genre: choreo::corpus::Genre::parse("waltz"), frames: per * frames }).collect(),
        fragments,
        fps: 24.0,
        fragment_frames: frames,
        fragment_secs: frames as f64 / 24.0,
        embed_dim: 16,
        architecture: "synthetic".into(),
        weights_sha256: "ab".repeat(32),
    }
}

fn build_synthetic(out: &Path, sources: usize, per: usize, frames: usize, seed: u64) {
    let p = IndexParams { max_nb_connection: 12, ef_construction: 64, ef_search: 32 };
    IndexBuilder::new(p).build(&synthetic(sources, per, frames, seed), Path::new("synthetic.safetensors"), out).unwrap();
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Writes `m` as the manifest with the store and graph hashes recomputed from the files, so that
/// damage reaches the decoders instead of stopping at the hash check.
fn write_manifest_rehashed(dir: &Path, mut m: serde_json::Value) {
    let g = m["generation"].as_str().unwrap_or("gen-000001").to_string();
    for (file, hash) in [("fragments.bin", "store_sha256"), ("graph.bin", "graph_sha256")] {
        if let Ok(b) = std::fs::read(dir.join(&g).join(file)) {
            m[hash] = serde_json::json!(choreo::io::sha256_hex(&b));
        }
    }
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// Every crafted manifest and damaged file of the fuzzing report, through `index info`,
/// `index search` and `index merge`: a one-line error naming the file, exit 1.
#[test]
fn crafted_index_files_get_one_line_errors() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base");
    build_synthetic(&base, 2, 30, 6, 1);
    let song = t.path().join("song.wav");
    write_wav(&song, 22050, 3.0, |x| (x * 440.0 * std::f64::consts::TAU).sin() * 0.3);
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoders.safetensors");
    let mut n = 0;
    let mut check = |what: &str, edit: &dyn Fn(&Path), names: &str| {
        n += 1;
        let d = t.path().join(format!("case{n}"));
        copy_index(&base, &d);
        edit(&d);
        let ds = d.to_str().unwrap();
        let other = base.to_str().unwrap();
        for args in [
            vec!["index", "info", ds],
            vec!["index", "search", ds, "--audio", song.to_str().unwrap(), "--model", model.to_str().unwrap()],
            vec!["index", "merge", ds, other, "--out", t.path().join(format!("merged{n}")).to_str().unwrap()],
        ] {
            let o = choreo(t.path(), &args);
            assert_one_line_error(&o, names);
            assert!(!t.path().join(format!("merged{n}")).join("manifest.json").exists(), "{what}: merge wrote an index");
            let _ = what;
        }
    };
    let set = |field: &'static str, v: serde_json::Value| {
        move |d: &Path| {
            let mut m = manifest(d);
            *m.pointer_mut(field).unwrap() = v.clone();
            write_manifest_rehashed(d, m);
        }
    };
    check("fps 1e308", &set("/fps", serde_json::json!(1e308)), "manifest.json");
    check("fps 0", &set("/fps", serde_json::json!(0.0)), "manifest.json");
    check("fps NaN", &set("/fps", serde_json::json!("NaN")), "manifest.json");
    check("fragment_frames 0", &set("/fragment_frames", serde_json::json!(0)), "manifest.json");
    check("no sources", &set("/sources", serde_json::json!([])), "manifest.json");
    check("fragments huge", &set("/fragments", serde_json::json!(u64::MAX)), "manifest.json");
    check("store ../x", &set("/store_file", serde_json::json!("../x")), "manifest.json");
    check("store absolute", &set("/store_file", serde_json::json!("/etc/passwd")), "manifest.json");
    check("graph ../x", &set("/graph_file", serde_json::json!("../base/gen-000001/graph.bin")), "manifest.json");
    check("generation ..", &set("/generation", serde_json::json!("..")), "manifest.json");
    check("generation absolute", &set("/generation", serde_json::json!("/tmp")), "manifest.json");
    check("manifest not JSON", &|d: &Path| std::fs::write(d.join("manifest.json"), b"{\"format_version\": 2, ").unwrap(), "manifest.json");
    for file in ["fragments.bin", "graph.bin"] {
        let rel = format!("gen-000001/{file}");
        let damage = |f: fn(&mut Vec<u8>)| {
            let rel = rel.clone();
            move |d: &Path| {
                let p = d.join(&rel);
                let mut b = std::fs::read(&p).unwrap();
                f(&mut b);
                std::fs::write(&p, b).unwrap();
                write_manifest_rehashed(d, manifest(d));
            }
        };
        check("emptied", &damage(|b| b.clear()), file);
        check("half", &damage(|b| b.truncate(b.len() / 2)), file);
        check("short by one", &damage(|b| b.truncate(b.len() - 1)), file);
        check("overwritten", &damage(|b| b.iter_mut().skip(8).for_each(|x| *x = 0xff)), file);
        check("header counts", &damage(|b| b[12..20].copy_from_slice(&[0xff; 8])), file);
        check("missing", &|d: &Path| std::fs::remove_file(d.join(&rel)).unwrap(), file);
        check("not rehashed", &|d: &Path| {
            let p = d.join(&rel);
            let mut b = std::fs::read(&p).unwrap();
            let last = b.len() - 1;
            b[last] ^= 1;
            std::fs::write(&p, b).unwrap();
        }, file);
    }
    // The base itself is fine.
    let o = choreo(t.path(), &["index", "info", base.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The seeded mutation fuzzer over the loader: mutants of the manifest, the store and the graph
/// (byte flips, extreme words, truncation, extension, JSON fields set to hostile values; hashes
/// recomputed for most, so the decoders see the damage). `Index::open` must return Ok or a
/// one-line error naming the index, never panic; an index that opens must search without panic.
#[test]
fn index_loader_mutation_fuzz() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base");
    build_synthetic(&base, 3, 8, 4, 2);
    let files = snapshot(&base);
    let d = t.path().join("m");
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let hostile = [
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(1e308),
        serde_json::json!(u64::MAX),
        serde_json::json!(4294967296u64),
        serde_json::json!(""),
        serde_json::json!("../x"),
        serde_json::json!("/etc"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(null),
        serde_json::json!(1),
        serde_json::json!("gen-000002"),
    ];
    let fields = [
        "/fps", "/fragment_frames", "/fragment_secs", "/embed_dim", "/dances", "/fragments", "/sources", "/sources/0/fragments", "/sources/1",
        "/hnsw/ef_search", "/hnsw/max_nb_connection", "/generation", "/store_file", "/graph_file", "/skeleton", "/format_version",
    ];
    let (mut ok, mut err, mut panics) = (0, 0, Vec::new());
    let t0 = Instant::now();
    let mutants = 800;
    for i in 0..mutants {
        let _ = std::fs::remove_dir_all(&d);
        copy_index(&base, &d);
        let target = rng.gen_range(0..3);
        let rehash = rng.gen_bool(0.8);
        if target == 0 {
            let mut m = manifest(&d);
            for _ in 0..rng.gen_range(1..3) {
                let f = fields[rng.gen_range(0..fields.len())];
                if let Some(x) = m.pointer_mut(f) {
                    *x = hostile[rng.gen_range(0..hostile.len())].clone();
                }
            }
            write_manifest_rehashed(&d, m);
        } else {
            let rel = if target == 1 { "gen-000001/fragments.bin" } else { "gen-000001/graph.bin" };
            let mut b = files.iter().find(|f| f.0 == rel).unwrap().1.clone();
            match rng.gen_range(0..5) {
                0 => {
                    for _ in 0..rng.gen_range(1..8) {
                        let k = rng.gen_range(0..b.len());
                        b[k] ^= 1 << rng.gen_range(0..8);
                    }
                }
                1 => {
                    let k = rng.gen_range(0..b.len().saturating_sub(4));
                    let w: u32 = [0, 1, u32::MAX, 0x8000_0000, 0x7fff_ffff, rng.gen()][rng.gen_range(0..6)];
                    b[k..k + 4].copy_from_slice(&w.to_le_bytes());
                }
                2 => b.truncate(rng.gen_range(0..b.len())),
                3 => b.extend((0..rng.gen_range(1..64)).map(|_| rng.gen::<u8>())),
                _ => {
                    // A word in the first 64 bytes (the headers and counts).
                    let k = rng.gen_range(0..60.min(b.len() - 4));
                    b[k..k + 4].copy_from_slice(&rng.gen::<u32>().to_le_bytes());
                }
            }
            std::fs::write(d.join(rel), b).unwrap();
            if rehash {
                write_manifest_rehashed(&d, manifest(&d));
            }
        }
        match catch_unwind(AssertUnwindSafe(|| Index::open(&d).map(|ix| (ix.search(&[0.1; 16], 5, 16).len(), ix.search_exact(&[0.1; 16], 5).len(), ix.fragments.iter().all(|f| (f.source as usize) < ix.manifest.sources.len()))))) {
            Ok(Ok((a, e, sources_ok))) => {
                assert!(a > 0 && e > 0 && sources_ok, "mutant {i}: opened but inconsistent");
                ok += 1;
            }
            Ok(Err(e)) => {
                let s = e.to_string();
                assert!(s.contains(d.to_str().unwrap()) && !s.contains('\n'), "mutant {i}: {s}");
                err += 1;
            }
            Err(_) => panics.push(i),
        }
    }
    println!("index loader fuzz: {mutants} mutants, {ok} opened, {err} refused, {} panics, {:.1} s", panics.len(), t0.elapsed().as_secs_f64());
    assert!(panics.is_empty(), "mutants that panicked: {panics:?}");
    assert!(err > mutants / 2, "most mutants should be refused: {err}");
}

/// `index merge --out` over an existing index, SIGKILLed at seeded random moments: each time the
/// index opens and holds exactly the old or the new fragments, and temp folders do not pile up.
#[test]
fn killed_writes_leave_the_old_or_the_new_index() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    build_synthetic(&a, 2, 600, 2, 3);
    build_synthetic(&b, 2, 600, 2, 4);
    let out = t.path().join("out");
    let merge = |first: &Path, second: &Path| {
        Command::new(env!("CARGO_BIN_EXE_choreo"))
            .args(["index", "merge", first.to_str().unwrap(), second.to_str().unwrap(), "--out", out.to_str().unwrap(), "--m", "12", "--ef-construction", "64"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // The two contents: a then b, and b then a.
    let t0 = Instant::now();
    assert!(merge(&a, &b).wait().unwrap().success());
    let full = t0.elapsed();
    let ab = Index::open(&out).unwrap().fragments;
    let t1 = Instant::now();
    assert!(merge(&b, &a).wait().unwrap().success());
    let full = full.max(t1.elapsed());
    let ba = Index::open(&out).unwrap().fragments;
    assert_ne!(ab, ba);
    let mut current = &ba;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut kills, mut old, mut new) = (0, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    for round in 0..40 {
        if Instant::now() > deadline {
            break;
        }
        let next = if std::ptr::eq(current, &ab) { &ba } else { &ab };
        let mut child = if std::ptr::eq(next, &ab) { merge(&a, &b) } else { merge(&b, &a) };
        // Kill moments over the whole run, denser near its end where the commit is (the
        // failpoint test in `index` hits the commit's steps exactly).
        let frac: f64 = if rng.gen_bool(0.5) { rng.gen_range(0.0..1.0) } else { rng.gen_range(0.8..1.4) };
        std::thread::sleep(full.mul_f64(frac));
        let _ = child.kill();
        let status = child.wait().unwrap();
        kills += usize::from(status.code().is_none());
        let ix = Index::open(&out).unwrap_or_else(|e| panic!("round {round}: no index after the kill: {e}"));
        if &ix.fragments == current {
            old += 1;
        } else {
            assert_eq!(&ix.fragments, next, "round {round}: neither the old nor the new index");
            new += 1;
            current = next;
        }
        let entries = std::fs::read_dir(&out).unwrap().count();
        assert!(entries <= 6, "round {round}: {entries} entries in the index folder");
    }
    println!("killed writes: {kills} killed, {old} left the old index, {new} the new ({:.0} ms per merge)", full.as_secs_f64() * 1e3);
    assert!(kills >= 5 && new >= 1, "too few runs were killed ({kills}) or none completed ({new})");
    // One more run cleans every leftover.
    assert!(merge(&a, &b).wait().unwrap().success());
    let names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// `--out` pointing at a folder of the user's: refused without `--force` (the files untouched),
/// written beside them with it; a merge over an index leaves nothing beside it.
#[test]
fn outputs_never_replace_what_choreo_did_not_write() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    build_synthetic(&a, 1, 10, 4, 5);
    build_synthetic(&b, 1, 10, 4, 6);
    let user = t.path().join("thesis");
    std::fs::create_dir(&user).unwrap();
    std::fs::write(user.join("chapter1.tex"), b"precious").unwrap();
    let o = choreo(t.path(), &["index", "merge", "a", "b", "--out", "thesis"]);
    assert_one_line_error(&o, "thesis");
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let names: Vec<String> = std::fs::read_dir(&user).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names, ["chapter1.tex"]);
    let o = choreo(t.path(), &["index", "merge", "a", "b", "--out", "thesis", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(user.join("chapter1.tex")).unwrap(), b"precious");
    assert_eq!(Index::open(&user).unwrap().len(), 20);
    // A file is not replaced by an index.
    std::fs::write(t.path().join("notes.txt"), b"x").unwrap();
    assert_one_line_error(&choreo(t.path(), &["index", "merge", "a", "b", "--out", "notes.txt", "--force"]), "notes.txt");
    assert_eq!(std::fs::read(t.path().join("notes.txt")).unwrap(), b"x");
    // Over an existing index: replaced, nothing left beside it or inside it but the new one.
    let o = choreo(t.path(), &["index", "merge", "b", "thesis", "--out", "merged"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = choreo(t.path(), &["index", "merge", "thesis", "b", "--out", "merged"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let top: Vec<String> = std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).filter(|n| n.starts_with('.')).collect();
    assert!(top.is_empty(), "left beside: {top:?}");
    let inside: Vec<String> = std::fs::read_dir(t.path().join("merged")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(inside.len(), 2, "{inside:?}");
    assert_eq!(Index::open(&t.path().join("merged")).unwrap().manifest.sources[0].name, "S5_0");
    let _: PathBuf = user;
}
