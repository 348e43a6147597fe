//! Choreography stage (in progress): a song and an index in, a sequence of fragments out.
//! - [`retrieve`]: the song cut into clips of the index's fragment length, each clip's audio
//!   embedding, and its k nearest pose fragments.
//! - [`viterbi`]: the cheapest path through per-clip candidate lists under unary and transition
//!   costs, with an exhaustive search beside it as the reference.

pub mod retrieve;
pub mod viterbi;

pub use retrieve::{retrieve, Retrieval};
pub use viterbi::{best_path, best_path_exhaustive};
