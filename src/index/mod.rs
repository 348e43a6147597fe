//! Index stage: fragments and their embeddings in, a persistent searchable store out.
//!
//! - [`build`]: `IndexBuilder::new(params).build(..)` embeds every fragment with the pose encoder
//!   (keeping its own audio embedding too) and writes `index/NAME/` atomically: everything goes into
//!   a temporary folder beside the target, which replaces the target only at the end.
//! - [`store`]: the fragment store (bincode 2, with a header and a sha256 checked on open).
//! - [`search`]: `Index::open(dir)` (read-only) and `index.search(query, k, ef)` → [`Hit`]s, with
//!   exact search as the reference and hnsw_rs' own search (`search_hnsw_rs`) for comparison.
//! - `graph` (private): the hnsw_rs graph flattened into contiguous arrays on open, and the HNSW
//!   search over them that `search` uses (about 10× cheaper per visited point than hnsw_rs').
//!
//! Layout of `index/NAME/`: `manifest.json` (format version, encoder fingerprint, fps, skeleton,
//! fragment length, counts, sources with genre, HNSW parameters, file hashes), `fragments.bin`,
//! and the hnsw_rs dump `graph.hnsw.graph` + `graph.hnsw.data` (16 layers, as hnsw_rs requires to
//! dump). hnsw_rs types stay private to this module.

pub mod build;
mod graph;
pub mod manifest;
pub mod search;
pub mod store;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use build::{merge, IndexBuilder, IndexParams};
pub use manifest::{EncoderRef, HnswInfo, Manifest, Source, FORMAT_VERSION};
pub use search::{Hit, Index};
pub use store::FragmentRecord;

/// Index of a fragment in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FragmentId(pub u32);

/// Errors of the index stage; each names the index folder or file and, where it helps, the
/// command that fixes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: no index here (build one with `choreo index build --corpus DIR --model M --out {}`)", path.display(), path.display())]
    Missing { path: PathBuf },
    #[error("{}: index format version {found}, this choreo reads version {expected}; rebuild with `choreo index build`", path.display())]
    Version { path: PathBuf, found: u32, expected: u32 },
    #[error("{}: built with encoder {found}, but the model is {expected}; rebuild with `choreo index build --model` of that model", path.display())]
    Encoder { path: PathBuf, expected: String, found: String },
    #[error("{}: {reason}; rebuild with `choreo index build`", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
}
