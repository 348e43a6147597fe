//! The session-6 beat decoder (whole 20-ms frames, prior pass over all tempi) beside the default
//! (activation upsampled 4×, prior pass within 0.5 octave) on the same BeatNet activations: per
//! song both tempi, the F-measure (±70 ms) of one beat list against the other, and, where a
//! `NAME.beats` file sits beside the song, each against it. How far the decoder change moved the
//! beats of songs measured before it (README, "Beat tracking").
//!
//!   cargo run --release --example beat_decoders -- SONG...

use choreo::audio::beats::{beatnet_activation, f_measure};
use choreo::audio::dbn::{self, DbnConfig, TempoPrior};
use choreo::audio::{self, beatnet::BeatNet};

fn main() -> anyhow::Result<()> {
    let mut net = BeatNet::load(&audio::beatnet::default_model())?;
    let old = DbnConfig {
        upsample: 1,
        tempo_prior: Some(TempoPrior { range_octaves: f64::INFINITY, ..TempoPrior::default() }),
        ..DbnConfig::default()
    };
    let new = DbnConfig::default();
    let bpm = |b: &[f64]| {
        let mut d: Vec<f64> = b.windows(2).map(|w| w[1] - w[0]).collect();
        d.sort_by(f64::total_cmp);
        d.get(d.len() / 2).map_or(0.0, |m| 60.0 / m)
    };
    let (mut n, mut same_tempo, mut f_sum) = (0, 0, 0.0);
    println!("{:36} {:>8} {:>8} {:>9} {:>9} {:>9}", "song", "bpm old", "bpm new", "F old-new", "F old", "F new");
    for s in std::env::args().skip(1) {
        let p = std::path::Path::new(&s);
        let song = audio::decode(p)?;
        let secs = song.samples.len() as f64 / song.sample_rate as f64;
        let act = beatnet_activation(&song, &mut net)?;
        let (a, b) = (dbn::decode(&act, &old).times(), dbn::decode(&act, &new).times());
        let f = f_measure(&a, &b, 0.07);
        let truth = audio::read_beats_file(&p.with_extension("beats"), secs).ok();
        let vs = |x: &[f64]| truth.as_ref().map_or("-".to_string(), |t| format!("{:.3}", f_measure(x, t, 0.07)));
        let name = p.parent().and_then(|d| d.file_name()).map(|d| d.to_string_lossy().to_string()).unwrap_or_default();
        let label = format!("{}/{}", name, p.file_stem().unwrap_or_default().to_string_lossy());
        println!("{label:36} {:8.1} {:8.1} {f:9.3} {:>9} {:>9}", bpm(&a), bpm(&b), vs(&a), vs(&b));
        n += 1;
        same_tempo += usize::from((bpm(&a) / bpm(&b) - 1.0).abs() < 0.04);
        f_sum += f;
    }
    println!("{n} songs: same tempo (within 4 %) on {same_tempo}; mean F of one beat list against the other {:.3}", f_sum / n.max(1) as f64);
    Ok(())
}
