//! Diagnostic dump for the encoders (issue 3): per dance of a corpus, the arrays the encoders see
//! plus the audio onset strength at the dance's frame rate, as .npy files in OUT/:
//! `NAME.poses.npy` (T × 54: x, y, c per joint, in body heights), `NAME.mfcc.npy` (T × 13),
//! `NAME.onset.npy` (T × 1: the onset envelope's maximum over each frame's span), `NAME.keep.npy`
//! (T × 1), `NAME.beats.npy` (the song's beats as fractional dance frames) and `index.json` (names, genres, split).
//! Run: cargo run --release --example enc_dump -- ../shared/data/tang2018 /tmp/encdump
use choreo::audio;
use choreo::corpus::{self, CorpusConfig};
use choreo::model::data;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (root, out) = (std::path::PathBuf::from(&args[1]), std::path::PathBuf::from(&args[2]));
    std::fs::create_dir_all(&out)?;
    let (c, _) = corpus::load(&root, &CorpusConfig::default())?;
    let arrays = data::prepare(&c, 24)?;
    let names: Vec<(String, Option<choreo::corpus::Genre>)> = c.dances.iter().map(|d| (d.name.clone(), d.genre.clone())).collect();
    let (train, test) = data::split(&names)?;
    for (d, a) in c.dances.iter().zip(&arrays) {
        let t = a.frames();
        let poses: Vec<f32> = a.poses.iter().flat_map(|f| f.iter().flat_map(|j| j.iter().copied())).collect();
        std::fs::write(out.join(format!("{}.poses.npy", a.name)), choreo::io::npy_f32(&poses, t, 54))?;
        std::fs::write(out.join(format!("{}.mfcc.npy", a.name)), choreo::io::npy_f32(&a.mfcc, t, 13))?;
        let song = audio::decode(&d.audio)?;
        let (env, rate) = audio::beats::onset_strength(&song);
        let on: Vec<f32> = (0..t)
            .map(|i| {
                let lo = ((d.audio_offset + i as f64 / c.fps) * rate).floor() as usize;
                let hi = (((d.audio_offset + (i + 1) as f64 / c.fps) * rate).floor() as usize).max(lo + 1);
                env.get(lo..hi.min(env.len())).map(|s| s.iter().cloned().fold(0.0, f64::max)).unwrap_or(0.0) as f32
            })
            .collect();
        std::fs::write(out.join(format!("{}.onset.npy", a.name)), choreo::io::npy_f32(&on, t, 1))?;
        let b = audio::detect_beats(&song, &audio::BeatConfig::default())?;
        let bf: Vec<f32> = b.beats.iter().map(|&x| ((x - d.audio_offset) * c.fps) as f32).collect();
        std::fs::write(out.join(format!("{}.beats.npy", a.name)), choreo::io::npy_f32(&bf, bf.len(), 1))?;
        let keep: Vec<f32> = d.keep.iter().map(|&k| k as u8 as f32).collect();
        std::fs::write(out.join(format!("{}.keep.npy", a.name)), choreo::io::npy_f32(&keep, t, 1))?;
    }
    let idx = serde_json::json!({
        "names": names,
        "train": train,
        "test": test,
        "fps": c.fps,
    });
    std::fs::write(out.join("index.json"), serde_json::to_string_pretty(&idx)?)?;
    Ok(())
}
