//! Integration tests, one module per stage, plus `cli` running the real binary in temp dirs.
//! Tests that need ../shared skip with a message when it is absent.

mod bvh;
mod cli;
mod corpus;
mod crafted;
mod dance;
mod index;
mod index_robust;
mod model;
mod poses;
mod track3d;
mod util;
mod view;
