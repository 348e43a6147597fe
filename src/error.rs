//! The crate's error type: one enum per stage, gathered here with `#[from]`.
//! Every variant that concerns a file carries its path and prints it first, so the CLI can
//! report any failure on one line as `path: what went wrong`.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
    #[error(transparent)]
    Pose(#[from] crate::pose::PoseError),
    #[error(transparent)]
    Corpus(#[from] crate::corpus::CorpusError),
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Choreograph(#[from] crate::choreograph::ChoreographError),
    #[error(transparent)]
    Align(#[from] crate::align::AlignError),
    #[error(transparent)]
    File(#[from] crate::io::IoError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
