//! Choreography stage: a song and an index in, a dance (pose sequence) out.
//! - [`retrieve`]: the song cut into segments, each segment's audio embedding, its k nearest pose
//!   fragments.
//! - [`select`]: one fragment per segment (Viterbi with transition and reuse costs by default).
//! - [`stitch`]: the fragments joined into one sequence (scale, root, canvas).
//!
//! [`crate::pipeline`] runs them, then the alignment stage.

pub mod retrieve;
pub mod select;
pub mod stitch;
pub mod viterbi;

pub use retrieve::{retrieve, retrieve_segments, Retrieval, SearchConfig, Segment, Segmentation};
pub use select::{Choice, SelectConfig, Selection};
pub use viterbi::{best_path, best_path_exhaustive, best_path_reuse};

use crate::index::Index;

/// What can stop the choreography stage: the index or the encoders refuse, or the song is too
/// short to cut one clip from.
#[derive(Debug, thiserror::Error)]
pub enum ChoreographError {
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error("{}: {secs:.2} s is shorter than one fragment ({fragment_secs} s)", path.display())]
    TooShort { path: std::path::PathBuf, secs: f64, fragment_secs: f64 },
}

/// Precomputed per index: the source heights and every fragment's ends (for transitions).
pub struct Prepared {
    pub heights: Vec<f32>,
    pub ends: Vec<select::Ends>,
    pub names: Vec<String>,
    /// Kinematic beats (speed minima) inside each fragment.
    pub stops: Vec<u32>,
}

impl Prepared {
    pub fn new(index: &Index) -> Prepared {
        let heights = select::source_heights(&index.fragments, index.manifest.sources.len());
        let ends = index.fragments.iter().map(|r| select::Ends::of(&r.poses, heights[r.source as usize])).collect();
        let names = index.manifest.sources.iter().map(|s| s.name.clone()).collect();
        let fps = index.manifest.fps;
        let stops = index.fragments.iter().map(|r| crate::pose::motion::stops(&r.poses, fps).len() as u32).collect();
        Prepared { heights, ends, names, stops }
    }
}
