//! Index figures (issue 4), printed: `cargo bench --bench index_search [-- --max 1000000]`.
//! 1. The built default index with real queries (1-s clips of the annotated songs in
//!    ../shared/data/beats, none of which is in the corpus): recall@10 of HNSW against exact
//!    search at the default ef, and query time for both.
//! 2. Index build time for the whole Tang2018 corpus (load + embed + graph + write).
//! 3. Synthetic 16-d vectors (seeded normal) at 100k and 1M: build time, memory, recall@10 over
//!    500 queries and speed-up over exact search (partial selection, not a full sort).
//!    `--max N` / `--min N` pick the sizes, `--m` and `--efc` the graph parameters.

use std::path::Path;
use std::time::Instant;

use choreo::index::search::{exact, Ann};
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
    let (mut r, mut t_h, mut t_e) = (0.0, 0.0, 0.0);
    for q in &queries {
        let t = Instant::now();
        let e: Vec<usize> = ix.search_exact(q, 10).iter().map(|h| h.fragment.0 as usize).collect();
        t_e += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let h: Vec<usize> = ix.search(q, 10, ef).iter().map(|h| h.fragment.0 as usize).collect();
        t_h += t.elapsed().as_secs_f64();
        r += recall(&e, &h);
    }
    let n = queries.len().max(1) as f64;
    println!(
        "default index ({} fragments), {} real queries: recall@10 {:.4} at ef {ef}; query HNSW {:.1} µs, exact {:.1} µs",
        ix.len(),
        queries.len(),
        r / n,
        t_h / n * 1e6,
        t_e / n * 1e6
    );
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
    let m = IndexBuilder::new(IndexParams::default()).build(&c, &enc, &card, &model, &out.path().join("i"));
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
    let ann = Ann::build(&points, params, true);
    let build = t.elapsed().as_secs_f64();
    let mem = rss_mb() - before;
    let records: Vec<choreo::index::FragmentRecord> = points
        .iter()
        .map(|p| choreo::index::FragmentRecord { source: 0, start: 0, poses: vec![], next: None, pose_embedding: p.clone(), audio_embedding: vec![] })
        .collect();
    for ef in [64, 128, 256] {
        let (mut r, mut t_h, mut t_e) = (0.0, 0.0, 0.0);
        for q in &queries {
            let t = Instant::now();
            let e: Vec<usize> = exact(&records, q, 10).iter().map(|h| h.fragment.0 as usize).collect();
            t_e += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let h: Vec<usize> = ann.search(q, 10, ef).iter().map(|x| x.0).collect();
            t_h += t.elapsed().as_secs_f64();
            r += recall(&e, &h);
        }
        let m = queries.len() as f64;
        println!(
            "synthetic {n:>8} × 16: build {build:.1} s, graph memory ≈ {mem:.0} MB; ef {ef:>3}: recall@10 {:.4}, query {:.1} µs vs exact {:.1} µs, speed-up {:.0}×",
            r / m,
            t_h / m * 1e6,
            t_e / m * 1e6,
            t_e / t_h
        );
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
