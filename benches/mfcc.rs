//! MFCC speed on one song: `cargo bench --bench mfcc -- SONG.wav` (tools/bench/mfcc.sh runs it
//! beside python_speech_features on the same file). Decoding is outside the clock; the figure is
//! the median of 7 runs.

use std::time::Instant;

use choreo::audio::{decode, mfcc, MfccConfig};

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: cargo bench --bench mfcc -- SONG");
        std::process::exit(2);
    };
    let audio = match decode(std::path::Path::new(&path)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let cfg = MfccConfig::default();
    let mut times = Vec::new();
    let mut frames = 0;
    for _ in 0..7 {
        let t = Instant::now();
        let m = mfcc(&audio, &cfg);
        times.push(t.elapsed().as_secs_f64());
        frames = m.frames();
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!("choreo_mfcc_seconds {:.5} frames {} audio_seconds {:.1} threads {}", times[3], frames, audio.duration_secs(), rayon::current_num_threads());
}
