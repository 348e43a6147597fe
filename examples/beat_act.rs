//! Dumps BeatNet's activations (the shipped ONNX graph on choreo's own features, exactly what
//! `choreo beats` decodes) as `OUT_DIR/NAME.f32`: little-endian f32 rows (beat, downbeat, no beat),
//! 50 frames/s. For decoder experiments in Python (tools/beats/tune_dbn.py).
//!
//!   cargo run --release --example beat_act -- OUT_DIR SONG...

use choreo::audio::{self, beatnet::BeatNet, beats};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!("usage: beat_act OUT_DIR SONG..."))?);
    std::fs::create_dir_all(&out)?;
    let mut net = BeatNet::load(&audio::beatnet::default_model())?;
    for s in args {
        let p = std::path::Path::new(&s);
        let song = audio::decode(p)?;
        let rows = beats::beatnet_activations(&song, &mut net)?;
        let bytes: Vec<u8> = rows.iter().flat_map(|r| r.iter().flat_map(|v| v.to_le_bytes())).collect();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        std::fs::write(out.join(format!("{name}.f32")), bytes)?;
        eprintln!("{name}: {} frames", rows.len());
    }
    Ok(())
}
