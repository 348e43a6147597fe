//! choreo: a song in, a dance out. Library crate; the CLI in `main.rs` is a thin layer over it.
//!
//! Pipeline (each folder a stage, plain owned data passed one way):
//! `audio` (decode, MFCC, beats) → `pose` (skeleton, loaders, cleaning, normalising) → `corpus`
//! (dances and fragments).

pub mod align;
pub mod audio;
pub mod choreograph;
pub mod corpus;
pub mod error;
pub mod eval;
pub mod index;
pub mod io;
pub mod model;
pub mod pipeline;
pub mod pose;
pub mod render;
pub mod runtime;
pub mod tune;
pub mod units;

pub use error::{Error, Result};
