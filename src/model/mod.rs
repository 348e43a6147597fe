//! Model stage: fragments in (MFCC windows, pose windows), 16-d embeddings out. DanceIt's
//! "judge": a Bi-LSTM audio encoder and an ST-GCN pose encoder trained with the correlation
//! matching loss (Eq. 10) so that a clip of music and the poses danced to it land close together.
//!
//! - [`encoders`]: the networks (`EncoderConfig`, `AudioEncoder`, `PoseEncoder`, `Encoders`).
//! - [`data`]: corpus → normalised per-dance arrays, the dance-level split, batch sampling.
//! - [`train`]: the loop, optimiser, deterministic init and dropout, atomic checkpoints.
//! - [`embed`]: a corpus cut into fragments and run through both encoders (what the index stores).
//! - [`eval`]: DanceIt's distances and correlation accuracy, retrieval recall and baselines.
//! - [`store`]: safetensors + JSON sidecar, validated on load.

pub mod data;
pub mod embed;
pub mod encoders;
pub mod eval;
pub mod report;
pub mod store;
pub mod train;

use std::path::PathBuf;

pub use embed::{embed_corpus, EmbeddedCorpus};
pub use encoders::{EncoderConfig, Encoders};
pub use store::{load, ModelCard};
pub use train::{train, TrainConfig, TrainReport};

/// Errors of the model stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {reason}", path.display())]
    BadWeights { path: PathBuf, reason: String },
    #[error("corpus too small to train: {0}")]
    CorpusTooSmall(String),
    #[error("training stopped: {0}")]
    Diverged(String),
    #[error("{op}: {source}")]
    Candle { op: &'static str, source: candle_core::Error },
    #[error("{0}")]
    Invalid(String),
}

pub(crate) trait CandleCtx<T> {
    fn ctx(self, op: &'static str) -> Result<T, ModelError>;
}

impl<T> CandleCtx<T> for candle_core::Result<T> {
    fn ctx(self, op: &'static str) -> Result<T, ModelError> {
        self.map_err(|source| ModelError::Candle { op, source })
    }
}
