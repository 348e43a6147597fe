//! Reading an index: `Index::open(dir)` checks the manifest (format version, ranges, file names),
//! the store's and the graph's hashes and counts, and loads the flat graph ([`super::graph`]);
//! `search` answers k nearest pose fragments for a 16-d audio embedding, `search_exact` is the
//! brute-force reference. [`Ann`] builds the same graph in memory over plain vectors (benchmarks),
//! with hnsw_rs' own search beside ours for comparison.

use std::path::{Path, PathBuf};

use hnsw_rs::prelude::*;

use super::graph::Graph;
use super::store::{self, FragmentRecord};
use super::manifest::{read_manifest, Manifest};
use super::{FragmentId, IndexError};

/// A search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub fragment: FragmentId,
    pub distance: f32,
}

/// An in-memory HNSW graph over plain vectors (what an index holds, without the store), for
/// benchmarks: points are numbered in the order given.
pub struct Ann {
    hnsw: Hnsw<'static, f32, DistL2>,
    graph: Graph,
}

impl Ann {
    /// Builds the graph; `parallel` inserts on all cores (faster, but the graph then depends on
    /// thread timing — index builds insert sequentially). Points must share one dimension.
    pub fn build(points: &[Vec<f32>], params: &super::IndexParams, parallel: bool) -> Result<Ann, IndexError> {
        let dim = points.first().map_or(0, Vec::len);
        if let Some(i) = points.iter().position(|p| p.len() != dim || dim == 0) {
            return Err(IndexError::Invalid(format!("point {i} has {} dimensions, point 0 has {dim}", points[i].len())));
        }
        let hnsw = Hnsw::<f32, DistL2>::new(params.max_nb_connection, points.len().max(1), super::manifest::LAYERS, params.ef_construction, DistL2 {});
        if parallel {
            let data: Vec<(&Vec<f32>, usize)> = points.iter().enumerate().map(|(i, p)| (p, i)).collect();
            hnsw.parallel_insert(&data);
        } else {
            for (i, p) in points.iter().enumerate() {
                hnsw.insert_slice((p, i));
            }
        }
        let graph = Graph::from_hnsw(&hnsw, points.len()).map_err(IndexError::Invalid)?;
        Ok(Ann { hnsw, graph })
    }

    pub fn len(&self) -> usize {
        self.graph.len()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.len() == 0
    }

    /// Bytes of the flat copy our search runs on (vectors and adjacency).
    pub fn flat_bytes(&self) -> usize {
        self.graph.bytes()
    }

    /// k nearest (point number, distance), nearest first (ties by number); our search.
    pub fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<(usize, f32)> {
        self.graph.search(query, k, ef).into_iter().map(|(i, d)| (i as usize, d.sqrt())).collect()
    }

    /// The same through hnsw_rs' own search, for comparison.
    pub fn search_hnsw_rs(&self, query: &[f32], k: usize, ef: usize) -> Vec<(usize, f32)> {
        if query.len() != self.graph.dim() || k == 0 {
            return Vec::new();
        }
        let mut v: Vec<(usize, f32)> = self.hnsw.search(query, k, ef.max(k)).into_iter().map(|n| (n.d_id, n.distance)).collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        v
    }

    /// The reference: a full scan of the contiguous vectors.
    pub fn search_exact(&self, query: &[f32], k: usize) -> Vec<(usize, f32)> {
        self.graph.exact(query, k).into_iter().map(|(i, d)| (i as usize, d.sqrt())).collect()
    }
}

/// A read-only, opened index: the manifest, the fragment store and the flat graph.
pub struct Index {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub fragments: Vec<FragmentRecord>,
    graph: Graph,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("dir", &self.dir).field("fragments", &self.fragments.len()).finish()
    }
}

/// Reads a file of the index, refusing one larger than `max` bytes before reading it.
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, IndexError> {
    let io = |e| IndexError::Io { path: path.into(), source: e };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > max {
        return Err(IndexError::Corrupt { path: path.into(), reason: format!("{len} bytes, more than the manifest's counts allow ({max})") });
    }
    std::fs::read(path).map_err(io)
}

/// Every record consistent with the manifest: its source listed, `fragment_frames` poses,
/// embeddings of `embed_dim`, finite numbers, continuations inside the store.
fn check_records(m: &Manifest, records: &[FragmentRecord], path: &Path) -> Result<(), IndexError> {
    let bad = |i: usize, reason: String| Err(IndexError::Corrupt { path: path.into(), reason: format!("fragment {i}: {reason}") });
    let mut per_source = vec![0usize; m.sources.len()];
    for (i, r) in records.iter().enumerate() {
        match per_source.get_mut(r.source as usize) {
            Some(c) => *c += 1,
            None => return bad(i, format!("source {} of {}", r.source, m.sources.len())),
        }
        if r.poses.len() != m.fragment_frames || r.pose_embedding.len() != m.embed_dim || r.audio_embedding.len() != m.embed_dim {
            return bad(i, format!("{} frames and embeddings of {}/{} dimensions, the manifest says {} and {}", r.poses.len(), r.pose_embedding.len(), r.audio_embedding.len(), m.fragment_frames, m.embed_dim));
        }
        if r.next.is_some_and(|n| n.0 as usize >= records.len()) {
            return bad(i, "continuation out of range".into());
        }
        if let Some(j3) = &r.joints3d {
            if j3.len() != m.fragment_frames {
                return bad(i, format!("{} 3-D frames, the manifest says {}", j3.len(), m.fragment_frames));
            }
            if !j3.iter().flatten().flatten().all(|x| x.is_finite() && x.abs() as f64 <= crate::pose::tang2018::MAX_CM) {
                return bad(i, format!("a 3-D joint value is not finite or out of range (|v| ≤ {} cm)", crate::pose::tang2018::MAX_CM));
            }
        }
        let finite = r.poses.iter().flatten().flatten().chain(&r.pose_embedding).chain(&r.audio_embedding).all(|x| x.is_finite());
        if !finite {
            return bad(i, "a pose or embedding value is not finite".into());
        }
    }
    if let Some(d) = (0..per_source.len()).find(|&d| per_source[d] != m.sources[d].fragments) {
        return Err(IndexError::Corrupt { path: path.into(), reason: format!("source {d} has {} fragments, the manifest says {}", per_source[d], m.sources[d].fragments) });
    }
    Ok(())
}

impl Index {
    /// Opens `dir`: the manifest (checked), then the current generation's store and graph, each
    /// checked against the manifest's hash and counts. If a build replaces the generation while
    /// it is being read, the new one is read.
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        let mut manifest = read_manifest(dir)?;
        for _ in 0..3 {
            match Index::open_generation(dir, manifest.clone()) {
                Err(IndexError::Io { path, source }) if source.kind() == std::io::ErrorKind::NotFound => {
                    let again = read_manifest(dir)?;
                    if again.generation == manifest.generation {
                        return Err(IndexError::Io { path, source });
                    }
                    manifest = again;
                }
                r => return r,
            }
        }
        Index::open_generation(dir, manifest)
    }

    fn open_generation(dir: &Path, manifest: Manifest) -> Result<Index, IndexError> {
        let n = manifest.fragments;
        // The largest store the counts allow: per fragment its poses and embeddings at 4 bytes per
        // float plus a generous allowance for bincode's varints and the header.
        let per = manifest.fragment_frames * (crate::pose::NUM_JOINTS + crate::pose::skeleton3d::NUM_JOINTS3) * 3 * 5 + manifest.embed_dim * 2 * 5 + 64;
        let sp = manifest.store_path(dir);
        let bytes = read_limited(&sp, (n as u64).saturating_mul(per as u64).saturating_add(1024))?;
        if crate::io::sha256_hex(&bytes) != manifest.store_sha256 {
            return Err(IndexError::Corrupt { path: sp, reason: "contents do not match the manifest's hash (truncated or changed)".into() });
        }
        let fragments = store::decode(&bytes, &sp)?;
        drop(bytes);
        if fragments.len() != n {
            return Err(IndexError::Corrupt { path: sp, reason: format!("{} fragments, the manifest says {n}", fragments.len()) });
        }
        check_records(&manifest, &fragments, &sp)?;
        let gp = manifest.graph_path(dir);
        let gbytes = read_limited(&gp, Graph::max_file_bytes(n, manifest.embed_dim, manifest.hnsw.max_nb_connection))?;
        if crate::io::sha256_hex(&gbytes) != manifest.graph_sha256 {
            return Err(IndexError::Corrupt { path: gp, reason: "contents do not match the manifest's hash (truncated or changed)".into() });
        }
        let graph = Graph::decode(&gbytes, n, manifest.embed_dim).map_err(|reason| IndexError::Corrupt { path: gp, reason })?;
        Ok(Index { dir: dir.into(), manifest, fragments, graph })
    }

    /// Refuses queries from an encoder other than the one the index was built with.
    pub fn check_encoder(&self, weights_sha256: &str) -> Result<(), IndexError> {
        if self.manifest.encoder.weights_sha256 != weights_sha256 {
            return Err(IndexError::Encoder {
                path: self.dir.clone(),
                expected: short(weights_sha256),
                found: short(&self.manifest.encoder.weights_sha256),
            });
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.fragments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fragments.is_empty()
    }

    /// k nearest fragments by pose embedding (HNSW, `ef` the search width), nearest first, ties
    /// by fragment number. Empty for a query of another dimension than the index's.
    pub fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<Hit> {
        hits(self.graph.search(query, k, ef))
    }

    /// The reference: k nearest by a full scan of the contiguous embeddings.
    pub fn search_exact(&self, query: &[f32], k: usize) -> Vec<Hit> {
        hits(self.graph.exact(query, k))
    }
}

fn hits(v: Vec<(u32, f32)>) -> Vec<Hit> {
    v.into_iter().map(|(i, d)| Hit { fragment: FragmentId(i), distance: d.sqrt() }).collect()
}

/// Euclidean distance (hnsw_rs' DistL2 is the same, not squared).
pub fn l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
}

fn short(h: &str) -> String {
    h.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::build::tests::synthetic;
    use crate::index::{IndexBuilder, IndexParams};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The persisted graph searches exactly like the one flattened from hnsw_rs in memory (what
    /// opening an index did before format 2), and exact search agrees with a sort.
    #[test]
    fn opened_index_searches_like_the_in_memory_graph() {
        let t = tempfile::tempdir().unwrap();
        let starts: Vec<usize> = (0..400).map(|i| i * 3).collect();
        let emb = synthetic(&[&starts, &starts[..150]], 6);
        let params = IndexParams::default();
        let dir = t.path().join("ix");
        IndexBuilder::new(params.clone()).build(&emb, Path::new("w"), &dir).unwrap();
        let ix = Index::open(&dir).unwrap();
        let points: Vec<Vec<f32>> = emb.fragments.iter().map(|f| f.pose_embedding.clone()).collect();
        let ann = Ann::build(&points, &params, false).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..100 {
            let q: Vec<f32> = (0..16).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let ours: Vec<(usize, f32)> = ix.search(&q, 10, 64).iter().map(|h| (h.fragment.0 as usize, h.distance)).collect();
            assert_eq!(ours, ann.search(&q, 10, 64));
            let exact = ix.search_exact(&q, 5);
            let mut all: Vec<(u32, f32)> = points.iter().enumerate().map(|(i, p)| (i as u32, l2(&q, p))).collect();
            all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            assert_eq!(exact.iter().map(|h| h.fragment.0).collect::<Vec<_>>(), all[..5].iter().map(|x| x.0).collect::<Vec<_>>());
        }
        assert!(ix.search(&[0.0; 3], 10, 64).is_empty());
    }

    #[test]
    fn records_inconsistent_with_the_manifest_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("ix");
        IndexBuilder::new(IndexParams::default()).build(&synthetic(&[&[0, 3], &[0]], 7), Path::new("w"), &dir).unwrap();
        let ix = Index::open(&dir).unwrap();
        let p = Path::new("f.bin");
        check_records(&ix.manifest, &ix.fragments, p).unwrap();
        let cases: Vec<(&str, Box<dyn Fn(&mut Vec<FragmentRecord>)>)> = vec![
            ("source 2", Box::new(|r| r[0].source = 2)),
            ("continuation", Box::new(|r| r[0].next = Some(FragmentId(3)))),
            ("not finite", Box::new(|r| r[1].poses[0][0][0] = f32::NAN)),
            ("not finite", Box::new(|r| r[2].audio_embedding[3] = f32::INFINITY)),
            ("dimensions", Box::new(|r| r[2].pose_embedding.push(0.0))),
            ("frames", Box::new(|r| {
                r[1].poses.pop();
            })),
            ("source 0 has 1", Box::new(|r| r[1].source = 1)),
        ];
        for (want, f) in cases {
            let mut r = ix.fragments.clone();
            f(&mut r);
            let e = check_records(&ix.manifest, &r, p).unwrap_err().to_string();
            assert!(e.starts_with("f.bin: ") && e.contains(want), "{want}: {e}");
        }
        // A missing generation folder is named.
        std::fs::remove_dir_all(dir.join("gen-000001")).unwrap();
        let e = Index::open(&dir).unwrap_err().to_string();
        assert!(e.contains("gen-000001") && e.contains("fragments.bin"), "{e}");
    }
}
