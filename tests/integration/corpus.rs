use choreo::audio::{self, MfccConfig};
use choreo::corpus::{self, fragment, CorpusConfig, FragmentConfig};

use super::util::*;

#[test]
fn tang2018_stats() {
    let Some(root) = shared("data/tang2018") else { return };
    let (c, failed) = corpus::load(&root, &CorpusConfig::default()).unwrap();
    assert!(failed.is_empty());
    let s = corpus::stats(&c, &FragmentConfig::default());
    println!("{s}");
    assert_eq!(s.dances, 43);
    assert_eq!(s.genres.len(), 4);
    assert_eq!(s.genres["waltz"].dances, 30);
    assert_eq!(s.genres["cha-cha"].dances, 5);
    assert_eq!(s.genres["rumba"].dances, 7);
    assert_eq!(s.genres["tango"].dances, 1);
    assert!((45.0..47.5).contains(&s.minutes), "{} minutes", s.minutes);
    // 1 s fragments: about one per second of dance.
    assert!(s.fragments as f64 > 0.95 * s.minutes * 60.0 && (s.fragments as f64) <= s.minutes * 60.0);
    // Natural order: DANCE_W_3 comes before DANCE_W_10.
    let names: Vec<&str> = c.dances.iter().map(|d| d.name.as_str()).collect();
    let (i3, i10) = (names.iter().position(|n| *n == "DANCE_W_3").unwrap(), names.iter().position(|n| *n == "DANCE_W_10").unwrap());
    assert!(i3 < i10);
}

#[test]
fn fragments_carry_the_music_they_were_danced_to() {
    let Some(src) = tang("DANCE_C_4") else { return };
    let root = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&src, root.path().join("DANCE_C_4")).unwrap();
    let (c, _) = corpus::load(root.path(), &CorpusConfig::default()).unwrap();
    let cfg = FragmentConfig::default();
    let (frags, failed) = fragment::fragments(&c, &cfg);
    assert!(failed.is_empty());
    let d = &c.dances[0];
    assert_eq!(frags.len(), d.poses.len() / 24);
    let song = audio::decode(&d.audio).unwrap();
    let m = audio::mfcc(&song, &MfccConfig::default());
    let f = &frags[10];
    assert_eq!(f.len, 24);
    assert_eq!(f.mfcc.len(), 24 * 13);
    assert_eq!(f.poses(&c).len(), 24);
    // Fragment 10 starts 10 s into the dance: its first MFCC row is the song's row at offset + 10 s.
    let row = m.row_at(d.audio_offset + 10.0);
    assert_eq!(&f.mfcc[..13], m.row(row));
    println!("DANCE_C_4: offset {:.2} s, {} fragments", d.audio_offset, frags.len());
}

/// The default discontinuity threshold is measured, not guessed: the 99th percentile of the
/// largest single-joint move per frame over all Tang2018 dances, in nose-to-feet heights.
#[test]
fn jump_threshold_is_the_99th_percentile_of_real_moves() {
    let Some(root) = shared("data/tang2018") else { return };
    let (c, _) = corpus::load(&root, &CorpusConfig::default()).unwrap();
    let mut q: Vec<f32> = Vec::new();
    let mut px: Vec<f32> = Vec::new();
    for d in &c.dances {
        let h = choreo::pose::normalize::body_height(&d.poses).unwrap();
        for w in d.poses.frames.windows(2) {
            let j = choreo::align::spatial::max_jump(&w[0], &w[1]);
            q.push(j / h);
            px.push(j);
        }
    }
    let pct = |v: &mut Vec<f32>, p: f64| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() - 1) as f64 * p) as usize]
    };
    let p99 = pct(&mut q, 0.99);
    let over10 = px.iter().filter(|&&j| j > 10.0).count() as f64 / px.len() as f64;
    println!("p99 of max joint move per frame: {p99:.4} body heights ({:.1} px at the median height); DanceIt's 10 px flags {:.1} % of real frames", pct(&mut px, 0.99), 100.0 * over10);
    assert!((p99 - choreo::align::JUMP_BODY_FRACTION).abs() < 0.01, "measured {p99}, constant {}", choreo::align::JUMP_BODY_FRACTION);
}
