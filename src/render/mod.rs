//! Render stage: pose frames in, RGB rasters out. `skeleton` draws the OpenPose-style coloured
//! limb map (the raster a learned pose-to-image renderer takes as input).

pub mod skeleton;

pub use skeleton::{draw_frame, Canvas};
