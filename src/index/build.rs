//! Building and merging indexes from embedded fragments (the model stage embeds, see
//! `model::embed`). HNSW after Malkov & Yashunin: `max_nb_connection` is M, each point's
//! neighbours per layer; `ef_construction` the candidate list while inserting; 16 layers. Points
//! are inserted one by one in fragment order, and hnsw_rs draws levels from a fixed-seed
//! generator, so the same fragments give the same graph; it is flattened ([`super::graph`]) and
//! written in choreo's format. Writing is [`super::commit`]'s.

use std::path::{Path, PathBuf};

use hnsw_rs::prelude::*;

use super::commit::commit;
use super::graph::Graph;
use super::manifest::MAX_M;
pub use super::manifest::{IndexParams, LAYERS};
use super::store::{self, FragmentRecord};
use super::{EncoderRef, FragmentId, HnswInfo, IndexError, Manifest, Source, FORMAT_VERSION};
use crate::model::embed::EmbeddedCorpus;
use crate::io::sha256_hex;

const STORE: &str = "fragments.bin";
const GRAPH: &str = "graph.bin";

pub struct IndexBuilder {
    pub params: IndexParams,
    /// Write into a folder that holds files other than an index's (they are left in place).
    pub force: bool,
}

impl IndexBuilder {
    pub fn new(params: IndexParams) -> Self {
        IndexBuilder { params, force: false }
    }

    /// Writes the index of the embedded fragments `emb` to `out` (atomically). `weights` is the
    /// encoder file, recorded in the manifest.
    pub fn build(&self, emb: &EmbeddedCorpus, weights: &Path, out: &Path) -> Result<Manifest, IndexError> {
        let len = emb.fragment_frames;
        if emb.fragments.is_empty() {
            return Err(IndexError::Invalid(format!("{}: no fragments to index", out.display())));
        }
        for (i, f) in emb.fragments.iter().enumerate() {
            if f.source >= emb.sources.len() || f.poses.len() != len || f.joints3d.as_ref().is_some_and(|j| j.len() != len) || f.pose_embedding.len() != emb.embed_dim || f.audio_embedding.len() != emb.embed_dim {
                return Err(IndexError::Invalid(format!("fragment {i}: source {} of {}, {} frames of {len}, embeddings of {}/{} dimensions of {}", f.source, emb.sources.len(), f.poses.len(), f.pose_embedding.len(), f.audio_embedding.len(), emb.embed_dim)));
            }
        }
        let frags = &emb.fragments;
        let records: Vec<FragmentRecord> = frags
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let next = frags.get(i + 1).filter(|g| g.source == f.source && g.start == f.start + len).map(|_| FragmentId(i as u32 + 1));
                FragmentRecord { source: f.source as u32, start: f.start as u32, poses: f.poses.clone(), joints3d: f.joints3d.clone(), next, pose_embedding: f.pose_embedding.clone(), audio_embedding: f.audio_embedding.clone() }
            })
            .collect();
        let sources = emb
            .sources
            .iter()
            .enumerate()
            .map(|(d, x)| Source { name: x.name.clone(), genre: x.genre.clone(), frames: x.frames, fragments: frags.iter().filter(|f| f.source == d).count() })
            .collect();
        let encoder = EncoderRef { architecture: emb.architecture.clone(), weights_sha256: emb.weights_sha256.clone(), path: weights.display().to_string() };
        let m = manifest(&records, sources, encoder, (emb.fps, len, emb.fragment_secs, emb.embed_dim), &self.params);
        write_index(out, m, &records, &self.params, self.force)
    }
}

/// Whether `out` may be written by a build or merge (see [`IndexBuilder::force`]); checked again
/// when writing, but callers can refuse before the expensive work. Writes nothing.
pub fn check_output(out: &Path, force: bool) -> Result<(), IndexError> {
    super::commit::check_output(out, force)
}

/// The flat graph of the records' pose embeddings, inserted one by one in fragment order.
fn graph(records: &[FragmentRecord], params: &IndexParams) -> Result<Graph, IndexError> {
    let hnsw = Hnsw::<f32, DistL2>::new(params.max_nb_connection, records.len().max(1), LAYERS, params.ef_construction, DistL2 {});
    for (i, r) in records.iter().enumerate() {
        hnsw.insert_slice((&r.pose_embedding, i));
    }
    Graph::from_hnsw(&hnsw, records.len()).map_err(IndexError::Invalid)
}

/// Fills in the manifest's files and hashes and commits store, graph and manifest to `out`
/// as a new generation ([`super::commit`]).
fn write_index(out: &Path, mut manifest: Manifest, records: &[FragmentRecord], params: &IndexParams, force: bool) -> Result<Manifest, IndexError> {
    if params.max_nb_connection < 2 || params.max_nb_connection > MAX_M || params.ef_construction == 0 || params.ef_search == 0 {
        return Err(IndexError::Invalid(format!("HNSW M {} must be 2 to {MAX_M}, ef_construction and ef_search at least 1", params.max_nb_connection)));
    }
    let store = store::encode(records)?;
    let graph = graph(records, params)?.encode();
    manifest.store_file = STORE.into();
    manifest.store_sha256 = sha256_hex(&store);
    manifest.graph_file = GRAPH.into();
    manifest.graph_sha256 = sha256_hex(&graph);
    commit(out, &[(STORE, &store), (GRAPH, &graph)], force, |generation| {
        manifest.generation = generation.into();
        serde_json::to_vec_pretty(&manifest).map_err(|e| IndexError::Invalid(e.to_string()))
    })?;
    Ok(manifest)
}

/// The manifest of `records` without its files (filled in by `write_index`).
fn manifest(records: &[FragmentRecord], sources: Vec<Source>, encoder: EncoderRef, f: (f64, usize, f64, usize), params: &IndexParams) -> Manifest {
    let (fps, fragment_frames, fragment_secs, embed_dim) = f;
    Manifest {
        format_version: FORMAT_VERSION,
        encoder,
        fps,
        skeleton: crate::pose::format::SKELETON_NAME.into(),
        fragment_frames,
        fragment_secs,
        embed_dim,
        dances: sources.len(),
        fragments: records.len(),
        sources,
        hnsw: HnswInfo { max_nb_connection: params.max_nb_connection, ef_construction: params.ef_construction, ef_search: params.ef_search, layers: LAYERS },
        generation: String::new(),
        store_file: String::new(),
        store_sha256: String::new(),
        graph_file: String::new(),
        graph_sha256: String::new(),
        created_by: format!("choreo {}", env!("CARGO_PKG_VERSION")),
    }
}

/// Merges indexes built with the same encoder, fps and fragment length into `out` (which, like a
/// build's, must be new, empty or an index unless `force`).
pub fn merge(inputs: &[PathBuf], out: &Path, params: &IndexParams, force: bool) -> Result<Manifest, IndexError> {
    let mut records = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    let mut first: Option<Manifest> = None;
    for dir in inputs {
        let ix = super::Index::open(dir)?;
        let m = ix.manifest.clone();
        if let Some(f) = &first {
            if f.encoder.weights_sha256 != m.encoder.weights_sha256 {
                return Err(IndexError::Encoder { path: dir.clone(), expected: f.encoder.weights_sha256.chars().take(12).collect(), found: m.encoder.weights_sha256.chars().take(12).collect() });
            }
            if (f.fps - m.fps).abs() > 1e-9 || f.fragment_frames != m.fragment_frames || f.embed_dim != m.embed_dim {
                return Err(IndexError::Invalid(format!("{}: {} fps × {} frames, but {} has {} fps × {} frames", dir.display(), m.fps, m.fragment_frames, inputs[0].display(), f.fps, f.fragment_frames)));
            }
        }
        let src_off = u32::try_from(sources.len()).map_err(|_| IndexError::Invalid("too many dances to merge".into()))?;
        let id_off = u32::try_from(records.len()).ok().filter(|o| o.checked_add(ix.fragments.len() as u32).is_some()).ok_or_else(|| IndexError::Invalid("too many fragments to merge".into()))?;
        for mut r in ix.fragments {
            r.source += src_off;
            r.next = r.next.map(|n| FragmentId(n.0 + id_off));
            records.push(r);
        }
        sources.extend(m.sources.iter().cloned());
        first.get_or_insert(m);
    }
    let f = first.ok_or_else(|| IndexError::Invalid("merge needs at least one index".into()))?;
    let m = manifest(&records, sources, f.encoder.clone(), (f.fps, f.fragment_frames, f.fragment_secs, f.embed_dim), params);
    write_index(out, m, &records, params, force)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::embed::{EmbeddedFragment, EmbeddedSource};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Dances of the given fragment starts (frames of 3 at 24 fps), random poses and 16-d
    /// embeddings from `seed`.
    pub(crate) fn synthetic(starts: &[&[usize]], seed: u64) -> EmbeddedCorpus {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut fragments = Vec::new();
        for (s, list) in starts.iter().enumerate() {
            for &start in *list {
                fragments.push(EmbeddedFragment {
                    source: s,
                    start,
                    poses: (0..3).map(|_| std::array::from_fn(|_| [rng.gen_range(0.0..100.0), rng.gen_range(0.0..100.0), 1.0])).collect(),
                    joints3d: (s == 0).then(|| (0..3).map(|_| std::array::from_fn(|_| [rng.gen_range(-100.0..100.0), rng.gen_range(0.0..180.0), rng.gen_range(-100.0..100.0)])).collect()),
                    pose_embedding: (0..16).map(|_| rng.gen_range(-1.0..1.0)).collect(),
                    audio_embedding: (0..16).map(|_| rng.gen_range(-1.0..1.0)).collect(),
                });
            }
        }
        EmbeddedCorpus {
            sources: (0..starts.len()).map(|s| EmbeddedSource { name: format!("D{s}"), genre: crate::corpus::Genre::parse("waltz"), frames: 100 }).collect(),
            fragments,
            fps: 24.0,
            fragment_frames: 3,
            fragment_secs: 0.125,
            embed_dim: 16,
            architecture: "test".into(),
            weights_sha256: "cd".repeat(32),
        }
    }

    fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                v.extend(files(&p).into_iter().map(|(q, b)| (Path::new(p.file_name().unwrap()).join(q), b)));
            } else {
                v.push((PathBuf::from(p.file_name().unwrap()), std::fs::read(&p).unwrap()));
            }
        }
        v.sort();
        v
    }

    #[test]
    fn continuations_counts_and_byte_identical_rebuilds() {
        let t = tempfile::tempdir().unwrap();
        // D0: 0, 3, 6 (consecutive), then 12 after a gap; D1: 0, 3.
        let emb = synthetic(&[&[0, 3, 6, 12], &[0, 3]], 1);
        let m = IndexBuilder::new(IndexParams::default()).build(&emb, Path::new("w.safetensors"), &t.path().join("x")).unwrap();
        assert_eq!((m.fragments, m.dances, m.generation.as_str()), (6, 2, "gen-000001"));
        assert_eq!(m.sources.iter().map(|s| s.fragments).collect::<Vec<_>>(), [4, 2]);
        assert_eq!(m.encoder.path, "w.safetensors");
        let ix = super::super::Index::open(&t.path().join("x")).unwrap();
        let next: Vec<Option<u32>> = ix.fragments.iter().map(|f| f.next.map(|n| n.0)).collect();
        assert_eq!(next, [Some(1), Some(2), None, None, Some(5), None]);
        assert_eq!(ix.fragments[4].pose_embedding, emb.fragments[4].pose_embedding);
        // The same fragments into another folder: the same bytes.
        IndexBuilder::new(IndexParams::default()).build(&emb, Path::new("w.safetensors"), &t.path().join("y")).unwrap();
        assert_eq!(files(&t.path().join("x")), files(&t.path().join("y")));
    }

    #[test]
    fn inconsistent_fragments_and_parameters_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("x");
        let b = IndexBuilder::new(IndexParams::default());
        let mut emb = synthetic(&[&[0, 3]], 2);
        emb.fragments[1].pose_embedding.pop();
        assert!(b.build(&emb, Path::new("w"), &out).unwrap_err().to_string().contains("fragment 1"));
        let mut emb = synthetic(&[&[0]], 2);
        emb.fragments[0].source = 1;
        assert!(b.build(&emb, Path::new("w"), &out).is_err());
        let emb = synthetic(&[&[]], 2);
        assert!(b.build(&emb, Path::new("w"), &out).unwrap_err().to_string().contains("no fragments"));
        let bad = IndexBuilder::new(IndexParams { max_nb_connection: 1, ..IndexParams::default() });
        assert!(bad.build(&synthetic(&[&[0]], 2), Path::new("w"), &out).unwrap_err().to_string().contains("HNSW M 1"));
        assert!(!out.exists(), "nothing is written for a refused build");
    }

    #[test]
    fn merge_renumbers_sources_and_continuations() {
        let t = tempfile::tempdir().unwrap();
        let b = IndexBuilder::new(IndexParams::default());
        b.build(&synthetic(&[&[0, 3]], 3), Path::new("w"), &t.path().join("a")).unwrap();
        b.build(&synthetic(&[&[0], &[0, 3, 6]], 4), Path::new("w"), &t.path().join("b")).unwrap();
        let m = merge(&[t.path().join("a"), t.path().join("b")], &t.path().join("ab"), &IndexParams::default(), false).unwrap();
        assert_eq!((m.dances, m.fragments), (3, 6));
        let ix = super::super::Index::open(&t.path().join("ab")).unwrap();
        let v: Vec<(u32, Option<u32>)> = ix.fragments.iter().map(|f| (f.source, f.next.map(|n| n.0))).collect();
        assert_eq!(v, [(0, Some(1)), (0, None), (1, None), (2, Some(4)), (2, Some(5)), (2, None)]);
        // Another encoder is refused, naming the index.
        let mut other = synthetic(&[&[0]], 5);
        other.weights_sha256 = "ef".repeat(32);
        b.build(&other, Path::new("w"), &t.path().join("c")).unwrap();
        let e = merge(&[t.path().join("a"), t.path().join("c")], &t.path().join("ac"), &IndexParams::default(), false).unwrap_err().to_string();
        assert!(e.contains("/c") && e.contains("encoder"), "{e}");
    }
}
