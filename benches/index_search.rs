//! Index figures (issue 4), printed: `cargo bench --bench index_search [-- --max 1000000]`.
//! 1. The built default index with real queries (1-s clips of the annotated songs in
//!    ../shared/data/beats, none of which is in the corpus): recall@10 of HNSW (ours and hnsw_rs')
//!    against exact search at the default ef, and query times.
//! 2. Index build time for the whole Tang2018 corpus (load + embed + graph + write).
//! 3. Synthetic 16-d vectors (seeded normal) at 100k and 1M: build time, memory, and for exact
//!    search (a scan of contiguous rows with a bounded heap), hnsw_rs' own search and ours (over
//!    the flattened graph) query time, recall@10 over 500 queries and speed-up over exact.
//!    Times are the best of two passes over the queries, for every method alike.
//!    `--max N` / `--min N` pick the sizes, `--m` and `--efc` the graph parameters.

use std::path::Path;
use std::time::Instant;

use choreo::index::search::Ann;
use choreo::index::{Index, IndexBuilder, IndexParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .unwrap_or(0.0)
        / 1024.0
}

fn recall(truth: &[usize], got: &[usize]) -> f64 {
    truth.iter().filter(|t| got.contains(t)).count() as f64 / truth.len().max(1) as f64
}

fn real_queries(root: &Path) {
    let ixdir = root.join("index/default");
    let model = root.join("models/encoders.safetensors");
    let Ok(ix) = Index::open(&ixdir) else {
        println!("real queries: skipped ({} missing: run tools/setup.sh)", ixdir.display());
        return;
    };
    let Ok((enc, card)) = choreo::model::load(&model, &candle_core::Device::Cpu) else { return };
    let mut queries = Vec::new();
    for f in ["ballroom_waltz_Media-105901.wav", "gtzan_country.00000.wav", "madmom_sample.wav"] {
        let Ok(song) = choreo::audio::decode(&root.join("../shared/data/beats").join(f)) else { continue };
        let (mf, n) = choreo::model::data::song_windows(&song, card.fps, enc.cfg.frames);
        let Ok(e) = enc.embed_audio(&mf, n) else { continue };
        queries.extend(e.chunks(card.config.embed_dim).map(|c| c.to_vec()));
    }
    let ef = ix.manifest.hnsw.ef_search;
    let truth: Vec<Vec<usize>> = queries.iter().map(|q| ix.search_exact(q, 10).iter().map(|h| h.fragment.0 as usize).collect()).collect();
    let t_e = best_of(2, || {
        for q in &queries {
            std::hint::black_box(ix.search_exact(q, 10));
        }
    });
    let n = queries.len().max(1) as f64;
    // hnsw_rs' own search over the same graph: built again in memory (sequential inserts in
    // fragment order give the index's graph; an opened index keeps only the flat copy).
    let h = &ix.manifest.hnsw;
    let params = IndexParams { max_nb_connection: h.max_nb_connection, ef_construction: h.ef_construction, ef_search: h.ef_search };
    let points: Vec<Vec<f32>> = ix.fragments.iter().map(|f| f.pose_embedding.clone()).collect();
    let ann = Ann::build(&points, &params, false).expect("one dimension");
    let theirs = |q: &[f32]| ann.search_hnsw_rs(q, 10, ef).into_iter().map(|(i, d)| choreo::index::Hit { fragment: choreo::index::FragmentId(i as u32), distance: d }).collect();
    let methods: [(&str, &dyn Fn(&[f32]) -> Vec<choreo::index::Hit>); 2] = [("ours", &|q| ix.search(q, 10, ef)), ("hnsw_rs", &theirs)];
    for (name, f) in methods {
        let r: f64 = queries.iter().zip(&truth).map(|(q, t)| recall(t, &f(q).iter().map(|h| h.fragment.0 as usize).collect::<Vec<_>>())).sum();
        let t = best_of(2, || {
            for q in &queries {
                std::hint::black_box(f(q));
            }
        });
        println!(
            "default index ({} fragments), {} real queries, {name:>7}: recall@10 {:.4} at ef {ef}; query {:.1} µs vs exact {:.1} µs",
            ix.len(),
            queries.len(),
            r / n,
            t / n * 1e6,
            t_e / n * 1e6
        );
    }
}

/// The best of `runs` timings of `f`, in seconds (the machine is shared; every method gets the
/// same treatment).
fn best_of(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn corpus_build(root: &Path) {
    let corpus_dir = root.join("../shared/data/tang2018");
    let model = root.join("models/encoders.safetensors");
    let (Ok((enc, card)), true) = (choreo::model::load(&model, &candle_core::Device::Cpu), corpus_dir.is_dir()) else {
        println!("corpus build: skipped (needs ../shared and the shipped encoder)");
        return;
    };
    let out = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let cfg = choreo::corpus::CorpusConfig { fps: card.fps, ..Default::default() };
    let Ok((c, _)) = choreo::corpus::load(&corpus_dir, &cfg) else { return };
    let m = choreo::model::embed_corpus(&c, &enc, &card).map_err(|e| e.to_string()).and_then(|emb| IndexBuilder::new(IndexParams::default()).build(&emb, &model, &out.path().join("i")).map_err(|e| e.to_string()));
    match m {
        Ok(m) => println!("index build, Tang2018 ({} dances, {} fragments): {:.1} s (goal ≤ 60 s)", m.dances, m.fragments, t.elapsed().as_secs_f64()),
        Err(e) => println!("index build failed: {e}"),
    }
}

fn synthetic(n: usize, rng: &mut ChaCha8Rng, params: &IndexParams) {
    let t_gen = Instant::now();
    let d = 16;
    let mut gauss = || -> f32 {
        // Box–Muller from the seeded generator.
        let (u, v): (f32, f32) = (rng.gen_range(1e-7..1.0), rng.gen());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    };
    let points: Vec<Vec<f32>> = (0..n).map(|_| (0..d).map(|_| gauss()).collect()).collect();
    let queries: Vec<Vec<f32>> = (0..500).map(|_| (0..d).map(|_| gauss()).collect()).collect();
    let _ = t_gen;
    let before = rss_mb();
    let t = Instant::now();
    let ann = Ann::build(&points, params, true).expect("synthetic points share one dimension");
    let build = t.elapsed().as_secs_f64();
    let mem = rss_mb() - before;
    println!(
        "synthetic {n:>8} × 16: build {build:.1} s (parallel insert + flattening), memory ≈ {mem:.0} MB (of which the flat copy {:.0} MB)",
        ann.flat_bytes() as f64 / 1e6
    );
    let m = queries.len() as f64;
    let truth: Vec<Vec<usize>> = queries.iter().map(|q| ann.search_exact(q, 10).iter().map(|h| h.0).collect()).collect();
    let t_e = best_of(2, || {
        for q in &queries {
            std::hint::black_box(ann.search_exact(q, 10));
        }
    }) / m;
    println!("synthetic {n:>8}: exact (contiguous scan, bounded heap) {:.1} µs per query", t_e * 1e6);
    let mut best: Option<(usize, f64, f64)> = None;
    for ef in [16, 24, 32, 48, 64, 96, 128, 192, 256] {
        let methods: [(&str, &dyn Fn(&[f32]) -> Vec<(usize, f32)>); 2] = [("ours", &|q| ann.search(q, 10, ef)), ("hnsw_rs", &|q| ann.search_hnsw_rs(q, 10, ef))];
        for (name, f) in methods {
            if name == "hnsw_rs" && ![64, 128, 256].contains(&ef) {
                continue;
            }
            let r = queries.iter().zip(&truth).map(|(q, t)| recall(t, &f(q).iter().map(|h| h.0).collect::<Vec<_>>())).sum::<f64>() / m;
            let t = best_of(2, || {
                for q in &queries {
                    std::hint::black_box(f(q));
                }
            }) / m;
            println!("synthetic {n:>8}: {name:>7} ef {ef:>3}: recall@10 {r:.4}, query {:.1} µs vs exact {:.1} µs, speed-up {:.1}×", t * 1e6, t_e * 1e6, t_e / t);
            if name == "ours" && r >= 0.99 && best.is_none_or(|b| t_e / t > b.2) {
                best = Some((ef, r, t_e / t));
            }
        }
    }
    match best {
        Some((ef, r, s)) => println!("synthetic {n:>8}: best of ours at recall@10 ≥ 0.99: ef {ef}, recall {r:.4}, speed-up {s:.1}× (goal ≥ 10×)"),
        None => println!("synthetic {n:>8}: ours never reached recall@10 0.99"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse::<usize>().ok());
    let max = arg("--max").unwrap_or(1_000_000);
    let min = arg("--min").unwrap_or(0);
    let d = IndexParams::default();
    let params = IndexParams { max_nb_connection: arg("--m").unwrap_or(d.max_nb_connection), ef_construction: arg("--efc").unwrap_or(d.ef_construction), ..d };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("seed 42, M {}, ef_construction {} (synthetic runs; the real index uses the defaults)", params.max_nb_connection, params.ef_construction);
    if min == 0 {
        real_queries(root);
        corpus_build(root);
    }
    for n in [100_000, 1_000_000] {
        if n <= max && n >= min {
            synthetic(n, &mut ChaCha8Rng::seed_from_u64(42 + n as u64), &params);
        }
    }
}
