//! Reading an index: `Index::open(dir)` checks the manifest's format version, the store's hash
//! and loads the HNSW graph; `search` answers k nearest pose fragments for a 16-d audio
//! embedding, `search_exact` is the brute-force reference. Searches run on
//! a flat copy of the graph ([`super::graph`]); hnsw_rs' own search stays as `search_hnsw_rs`.

use std::path::{Path, PathBuf};

use hnsw_rs::prelude::*;

use super::graph::Graph;
use super::store::{self, FragmentRecord};
use super::{FragmentId, IndexError, Manifest, FORMAT_VERSION};

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
        let hnsw = Hnsw::<f32, DistL2>::new(params.max_nb_connection, points.len().max(1), super::build::LAYERS, params.ef_construction, DistL2 {});
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

/// A read-only, opened index.
pub struct Index {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub fragments: Vec<FragmentRecord>,
    hnsw: Hnsw<'static, f32, DistL2>,
    graph: Graph,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("dir", &self.dir).field("fragments", &self.fragments.len()).finish()
    }
}

pub fn read_manifest(dir: &Path) -> Result<Manifest, IndexError> {
    let mp = dir.join("manifest.json");
    if !dir.is_dir() || !mp.is_file() {
        return Err(IndexError::Missing { path: dir.into() });
    }
    let bytes = std::fs::read(&mp).map_err(|e| IndexError::Io { path: mp.clone(), source: e })?;
    // Check the version before the rest, so an index from another version names it.
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| IndexError::Corrupt { path: mp.clone(), reason: format!("manifest is not JSON: {e}") })?;
    let found = v.get("format_version").and_then(|x| x.as_u64()).unwrap_or(0) as u32;
    if found != FORMAT_VERSION {
        return Err(IndexError::Version { path: dir.into(), found, expected: FORMAT_VERSION });
    }
    serde_json::from_value(v).map_err(|e| IndexError::Corrupt { path: mp, reason: format!("manifest: {e}") })
}

impl Index {
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        let manifest = read_manifest(dir)?;
        let sp = dir.join(&manifest.store_file);
        let bytes = std::fs::read(&sp).map_err(|e| IndexError::Io { path: sp.clone(), source: e })?;
        let fragments = store::decode(&bytes, &sp)?;
        if crate::io::sha256_hex(&bytes) != manifest.store_sha256 {
            return Err(IndexError::Corrupt { path: sp, reason: "contents do not match the manifest's hash".into() });
        }
        if fragments.len() != manifest.fragments {
            return Err(IndexError::Corrupt { path: sp, reason: format!("{} fragments, the manifest says {}", fragments.len(), manifest.fragments) });
        }
        let graph = dir.join(format!("{}.hnsw.graph", manifest.hnsw.basename));
        let data = dir.join(format!("{}.hnsw.data", manifest.hnsw.basename));
        // hnsw_rs may panic on a damaged file, so both files are checked against the manifest's
        // hashes before it reads them.
        for (p, want) in [(&graph, &manifest.hnsw_sha256[0]), (&data, &manifest.hnsw_sha256[1])] {
            let b = std::fs::read(p).map_err(|e| IndexError::Io { path: p.clone(), source: e })?;
            if &crate::io::sha256_hex(&b) != want {
                return Err(IndexError::Corrupt { path: p.clone(), reason: "HNSW file does not match the manifest's hash (truncated or changed)".into() });
            }
        }
        // hnsw_rs ties the loaded graph's lifetime to its loader; the loader is small and lives as
        // long as the process needs the index, so it is leaked on purpose.
        let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, &manifest.hnsw.basename)));
        let hnsw = io
            .load_hnsw::<f32, DistL2>()
            .map_err(|e| IndexError::Corrupt { path: graph.clone(), reason: format!("HNSW graph could not be read: {e}") })?;
        if hnsw.get_nb_point() != fragments.len() {
            return Err(IndexError::Corrupt { path: graph, reason: format!("{} points, the store has {} fragments", hnsw.get_nb_point(), fragments.len()) });
        }
        let graph = Graph::from_hnsw(&hnsw, fragments.len()).map_err(|reason| IndexError::Corrupt { path: graph, reason: format!("HNSW graph: {reason}") })?;
        Ok(Index { dir: dir.into(), manifest, fragments, hnsw, graph })
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

    /// The same through hnsw_rs' own search (slower; kept for comparison).
    pub fn search_hnsw_rs(&self, query: &[f32], k: usize, ef: usize) -> Vec<Hit> {
        let k = k.min(self.fragments.len());
        if k == 0 || query.len() != self.graph.dim() {
            return Vec::new();
        }
        let mut hits: Vec<Hit> = self
            .hnsw
            .search(query, k, ef.max(k))
            .into_iter()
            .map(|n| Hit { fragment: FragmentId(n.d_id as u32), distance: n.distance })
            .collect();
        hits.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.fragment.cmp(&b.fragment)));
        hits
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
