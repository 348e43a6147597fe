//! Projects a pose file's 3-D track (`joints3d`) onto COCO-18 on the canvas with the Tang2018
//! loader's camera (`skeleton3d::project_coco18`, 1.75 px/cm) and writes it as a 2-D pose file
//! (same fps, beats and provenance; no `joints3d`), so `choreo eval` can score the 3-D track as
//! it scores the 2-D dance. Used by tools/track3d/eval.sh.
//! Run: cargo run --release --example project3d -- dance.json projected.json
use choreo::pose::{format, skeleton3d, tang2018, Sequence};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(args.len() == 3, "usage: project3d IN.json OUT.json");
    let seq = format::read(std::path::Path::new(&args[1]))?;
    let j3 = seq.joints3d.as_ref().ok_or_else(|| anyhow::anyhow!("{}: no joints3d block", args[1]))?;
    let frames = skeleton3d::project_coco18(j3, seq.width, tang2018::PX_PER_CM as f32);
    let out = Sequence { frames, joints3d: None, ..seq.clone() };
    format::write(&out, std::path::Path::new(&args[2]))?;
    Ok(())
}
