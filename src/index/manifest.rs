//! The manifest: what an index holds (format version, encoder, fps, fragment length, sources,
//! HNSW parameters, file names and hashes), read and checked before anything else is opened.
//! Both the builder and the reader depend on this module; neither depends on the other.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::IndexError;

/// HNSW parameters of a build (recorded in the manifest).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexParams {
    /// M: neighbours per point and layer.
    pub max_nb_connection: usize,
    pub ef_construction: usize,
    /// Default search width recorded in the manifest.
    pub ef_search: usize,
}

impl Default for IndexParams {
    fn default() -> Self {
        IndexParams { max_nb_connection: 24, ef_construction: 200, ef_search: 64 }
    }
}

/// Layers of the HNSW graph (hnsw_rs only dumped graphs with exactly 16; the level draws depend on it).
pub const LAYERS: usize = 16;
/// Version of the on-disk layout; an index of another version is refused with both named.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    pub genre: String,
    pub frames: usize,
    pub fragments: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderRef {
    pub architecture: String,
    pub weights_sha256: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HnswInfo {
    pub basename: String,
    pub max_nb_connection: usize,
    pub ef_construction: usize,
    pub ef_search: usize,
    pub layers: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub encoder: EncoderRef,
    pub fps: f64,
    pub skeleton: String,
    pub fragment_frames: usize,
    pub fragment_secs: f64,
    pub embed_dim: usize,
    pub dances: usize,
    pub fragments: usize,
    pub sources: Vec<Source>,
    pub hnsw: HnswInfo,
    pub store_file: String,
    pub store_sha256: String,
    /// sha256 of the HNSW graph and data files.
    pub hnsw_sha256: [String; 2],
    pub created_by: String,
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

