//! Where the kinematic beats of choreo's default dances fall: per song, music beats, kinematic
//! beats, hits (±2 frames) and anchored beats; over all songs, the misses by depth (the dip's
//! speed / the lower neighbouring peak) and by distance to the nearest beat. The numbers behind
//! `--off-beat-stops smooth` (README, "Choreography").
//!
//!   cargo run --release --example beat_diag -- SONG...
//!   env: NOTEMP=1 (no re-timing), KEEP=1 (--off-beat-stops keep), PULSE=x, MS=x (--max-stretch)

use choreo::audio;
use choreo::pipeline::{self, DanceConfig};
use choreo::pose::motion;
use choreo::index::Index;
use choreo::model;

fn main() -> anyhow::Result<()> {
    let songs: Vec<String> = std::env::args().skip(1).collect();
    let index = Index::open(std::path::Path::new("index/default"))?;
    let (enc, card) = model::load(std::path::Path::new("models/encoders.safetensors"), &candle_core::Device::Cpu)?;
    let (mut th, mut tk, mut tb) = (0usize, 0usize, 0usize);
    let mut depth_hist = [0usize; 5];
    let mut dist_hist = [0usize; 8];
    for s in &songs {
        let song = audio::decode(std::path::Path::new(s))?;
        let mut cfg = DanceConfig::default();
        if std::env::var("NOTEMP").is_ok() {
            if let Some(a) = cfg.align.as_mut() {
                a.temporal = None;
            }
        }
        if let Ok(v) = std::env::var("MS") {
            if let Some(t) = cfg.align.as_mut().and_then(|a| a.temporal.as_mut()) {
                t.max_stretch = v.parse().map_err(|e| anyhow::anyhow!("MS={v}: {e}"))?;
            }
        }
        if let Ok(v) = std::env::var("PULSE") {
            if let Some(t) = cfg.align.as_mut().and_then(|a| a.temporal.as_mut()) {
                t.off_beat = choreo::align::OffBeat::Smooth { pulse: v.parse().map_err(|e| anyhow::anyhow!("PULSE={v}: {e}"))? };
            }
        }
        if std::env::var("KEEP").is_ok() {
            if let Some(t) = cfg.align.as_mut().and_then(|a| a.temporal.as_mut()) {
                t.off_beat = choreo::align::OffBeat::Keep;
            }
        }
        let c = pipeline::choreograph(&index, &enc, &card, &song, &cfg)?;
        let fps = c.dance.fps;
        let beats: Vec<f64> = c.beats.iter().map(|b| b * fps).filter(|b| *b >= 0.0 && *b <= c.dance.len() as f64).collect();
        let v = motion::gaussian(&motion::speed(&c.dance.frames), motion::SPEED_SMOOTH_SECS * fps);
        let kin = motion::stops(&c.dance.frames, fps);
        let mut hits = 0;
        for &k in &kin {
            let d = beats.iter().map(|b| (b - k as f64).abs()).fold(f64::INFINITY, f64::min);
            if d <= motion::ON_BEAT_FRAMES {
                hits += 1;
                continue;
            }
            // depth: min / smaller of the neighbouring maxima
            let mut l = k;
            while l > 0 && v[l - 1] >= v[l] {
                l -= 1;
            }
            let mut r = k;
            while r + 1 < v.len() && v[r + 1] >= v[r] {
                r += 1;
            }
            let m = v[l].min(v[r]).max(1e-6);
            let ratio = v[k] / m;
            depth_hist[((ratio * 5.0) as usize).min(4)] += 1;
            dist_hist[((d - motion::ON_BEAT_FRAMES).floor() as usize).min(7)] += 1;
        }
        let rep = c.summary.align.as_ref().and_then(|a| a.temporal.clone());
        println!(
            "{s}: beats {} kin {} hits {} hit {:.3} anchored {:?}",
            beats.len(),
            kin.len(),
            hits,
            hits as f64 / kin.len() as f64,
            rep.map(|r| r.anchored)
        );
        th += hits;
        tk += kin.len();
        tb += beats.len();
    }
    println!("total beats {tb} kin {tk} hits {th} hit {:.3}", th as f64 / tk as f64);
    println!("misses by depth (min/neighbour max) 0-.2,.2-.4,.4-.6,.6-.8,.8-1: {:?}", depth_hist);
    println!("misses by frames past ±2 (3,4,..,10+): {:?}", dist_hist);
    Ok(())
}
