//! Index stage: embedded fragments in (from `model::embed`), a persistent searchable store out.
//!
//! - [`build`]: `IndexBuilder::new(params).build(&embedded, weights, out)` builds the HNSW graph
//!   over the pose embeddings and writes `index/NAME/`; `merge` combines indexes.
//! - `commit` (private): the crash-safe write — a new generation folder, then an atomic rename of
//!   `manifest.json`; leftovers of killed runs are removed by the next run.
//! - [`manifest`]: the manifest type, its checks (ranges, file names inside the index) and the
//!   format version.
//! - [`store`]: the fragment store (bincode 2, with a header and a sha256 checked on open).
//! - [`search`]: `Index::open(dir)` (read-only) and `index.search(query, k, ef)` → [`Hit`]s, with
//!   exact search as the reference; [`Ann`] the same graph over plain vectors for benchmarks.
//! - `graph` (private): the HNSW graph flattened into contiguous arrays, its file format, and the
//!   HNSW search over it (about 10× cheaper per visited point than hnsw_rs').
//!
//! Layout of `index/NAME/` (format version 3): `manifest.json` (format version, encoder
//! fingerprint, fps, skeleton, fragment length, counts, sources with genre, HNSW parameters, the
//! current generation, file names and hashes) and the generation folder `gen-NNNNNN/` with
//! `fragments.bin` (poses, and the 3-D track where the corpus has depth) and `graph.bin`. hnsw_rs
//! types stay private to this module.

pub mod build;
mod commit;
mod graph;
mod info;
pub mod manifest;
pub mod search;
pub mod store;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use build::{merge, IndexBuilder, IndexParams};
pub use manifest::{EncoderRef, HnswInfo, Manifest, Source, FORMAT_VERSION};
pub use search::{Ann, Hit, Index};
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
