//! Corpus → training arrays: per dance, poses scaled by the dance's nose-to-feet height and MFCC
//! rows aligned to the dance's frames; the fixed dance-level split; window extraction shared by
//! training, `embed` and the index.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::ModelError;
use crate::audio::{self, Mfcc, MfccConfig};
use crate::corpus::{natural_key, Corpus, Genre};
use crate::pose::normalize::body_height;
use crate::pose::{Frame, Sequence, NUM_JOINTS};

/// One dance ready for training.
#[derive(Debug, Clone)]
pub struct DanceArrays {
    pub name: String,
    pub genre: Option<Genre>,
    /// `T` frames, scaled to body heights (x/h, y/h, c).
    pub poses: Vec<Frame>,
    /// `T × 13` MFCC rows, row t = the music under dance frame t.
    pub mfcc: Vec<f32>,
    /// Starts of windows of `len` frames that lie wholly inside kept frames.
    pub starts: Vec<usize>,
}

impl DanceArrays {
    pub fn frames(&self) -> usize {
        self.poses.len()
    }
}

/// Poses of a sequence divided by its nose-to-feet height (x, y in body heights).
pub fn scale_frames(frames: &[Frame], height: f32) -> Vec<Frame> {
    let h = if height > 1.0 { height } else { 300.0 };
    frames
        .iter()
        .map(|f| {
            let mut o = *f;
            for j in o.iter_mut() {
                j[0] /= h;
                j[1] /= h;
            }
            o
        })
        .collect()
}

/// MFCC rows under frames `0..n` of a dance whose frame 0 plays at `offset` seconds.
pub fn aligned_mfcc(m: &Mfcc, fps: f64, offset: f64, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * m.numcep);
    let last = m.frames().saturating_sub(1);
    for t in 0..n {
        let r = m.row_at(offset + t as f64 / fps).min(last);
        if m.frames() == 0 {
            out.extend(std::iter::repeat(0.0).take(m.numcep));
        } else {
            out.extend_from_slice(m.row(r));
        }
    }
    out
}

/// A pose window as the pose encoder takes it: `3 × len × 18` (channel-major), positions relative
/// to the window's mean hip centre (neck where the hips are missing); missing joints are 0.
pub fn pose_window(frames: &[Frame]) -> Vec<f32> {
    let len = frames.len();
    let (mut cx, mut cy, mut n) = (0.0f32, 0.0f32, 0usize);
    for f in frames {
        if f[8][2] > 0.0 && f[11][2] > 0.0 {
            cx += (f[8][0] + f[11][0]) / 2.0;
            cy += (f[8][1] + f[11][1]) / 2.0;
            n += 1;
        } else if f[1][2] > 0.0 {
            cx += f[1][0];
            cy += f[1][1] + 0.3; // the neck sits ~0.3 body heights above the hips
            n += 1;
        }
    }
    if n > 0 {
        cx /= n as f32;
        cy /= n as f32;
    }
    let mut out = vec![0.0f32; 3 * len * NUM_JOINTS];
    for (t, f) in frames.iter().enumerate() {
        for (j, p) in f.iter().enumerate() {
            if p[2] > 0.0 {
                out[t * NUM_JOINTS + j] = p[0] - cx;
                out[len * NUM_JOINTS + t * NUM_JOINTS + j] = p[1] - cy;
                out[2 * len * NUM_JOINTS + t * NUM_JOINTS + j] = p[2].min(1.0);
            }
        }
    }
    out
}

/// A [`pose_window`] of `len` frames mirrored left↔right: COCO-18 sides swapped, x negated
/// (windows are centred on the hips, so this mirrors about the body's vertical axis).
pub fn mirror_window(w: &[f32], len: usize) -> Vec<f32> {
    use crate::pose::skeleton::MIRROR;
    let mut out = vec![0.0f32; w.len()];
    for c in 0..3 {
        for t in 0..len {
            for j in 0..NUM_JOINTS {
                let v = w[c * len * NUM_JOINTS + t * NUM_JOINTS + MIRROR[j]];
                out[c * len * NUM_JOINTS + t * NUM_JOINTS + j] = if c == 0 { -v } else { v };
            }
        }
    }
    out
}

/// Pose windows of a sequence at the given starts (for `embed` and the index).
pub fn sequence_windows(seq: &Sequence, starts: &[usize], len: usize) -> Vec<f32> {
    let scaled = scale_frames(&seq.frames, body_height(seq).unwrap_or(300.0));
    starts.iter().flat_map(|&s| pose_window(&scaled[s..s + len])).collect()
}

/// MFCC windows (`n × len × 13`) of a song cut into consecutive clips of `len` frames.
pub fn song_windows(song: &audio::Audio, fps: f64, len: usize) -> (Vec<f32>, usize) {
    let m = audio::mfcc(song, &MfccConfig { fps, ..MfccConfig::default() });
    let n = (song.duration_secs() * fps / len as f64).floor() as usize;
    (aligned_mfcc(&m, fps, 0.0, n * len), n)
}

/// Decodes each dance's song and builds its arrays (in parallel).
pub fn prepare(corpus: &Corpus, len: usize) -> Result<Vec<DanceArrays>, ModelError> {
    use rayon::prelude::*;
    let mcfg = MfccConfig { fps: corpus.fps, ..MfccConfig::default() };
    corpus
        .dances
        .par_iter()
        .map(|d| {
            let song = audio::decode(&d.audio).map_err(|e| ModelError::Invalid(e.to_string()))?;
            let m = audio::mfcc(&song, &mcfg);
            let n = d.poses.len();
            let h = body_height(&d.poses).unwrap_or(300.0);
            let mut starts = Vec::new();
            let mut run = 0usize;
            for t in 0..n {
                run = if d.keep[t] { run + 1 } else { 0 };
                if run >= len {
                    starts.push(t + 1 - len);
                }
            }
            Ok(DanceArrays {
                name: d.name.clone(),
                genre: d.genre.clone(),
                poses: scale_frames(&d.poses.frames, h),
                mfcc: aligned_mfcc(&m, corpus.fps, d.audio_offset, n),
                starts,
            })
        })
        .collect()
}

/// Per genre among `ids` with at least `min` dances, the last `take(n)` of its n dances in natural
/// name order (W_2 before W_10); sorted indices.
fn last_per_genre<G: Ord>(dances: &[(String, G)], ids: &[usize], min: usize, take: impl Fn(usize) -> usize) -> Vec<usize> {
    let mut genres: Vec<&G> = ids.iter().map(|&i| &dances[i].1).collect();
    genres.sort();
    genres.dedup();
    let mut out = Vec::new();
    for g in genres {
        let mut idx: Vec<usize> = ids.iter().copied().filter(|&i| &dances[i].1 == g).collect();
        if idx.len() >= min {
            idx.sort_by_key(|&i| natural_key(&dances[i].0));
            let k = take(idx.len()).min(idx.len());
            out.extend_from_slice(&idx[idx.len() - k..]);
        }
    }
    out.sort();
    out
}

/// The fixed dance-level split: per genre, the last ⌈10 %⌉ of its dances in natural name order are
/// the test set; a genre with a single dance stays in training. Returns (train, test) indices.
pub fn split<G: Ord>(dances: &[(String, G)]) -> Result<(Vec<usize>, Vec<usize>), ModelError> {
    let all: Vec<usize> = (0..dances.len()).collect();
    let test = last_per_genre(dances, &all, 2, |n| n.div_ceil(10));
    let train: Vec<usize> = (0..dances.len()).filter(|i| !test.contains(i)).collect();
    if test.is_empty() || train.is_empty() {
        return Err(ModelError::CorpusTooSmall(format!(
            "{} dances give {} for training and {} for testing; the split needs a genre with at least 2 dances",
            dances.len(),
            train.len(),
            test.len()
        )));
    }
    Ok((train, test))
}

/// A validation set carved from the training dances, for choosing the epoch (never the test
/// dances): per genre with at least 4 training dances, the last ⌊n/10⌋ (at least one) of its n
/// training dances in natural name order (Tang2018: C_7, R_8, W_30, W_31).
/// Returns (train, validation); validation is empty for a corpus too small to spare a dance.
pub fn validation_split<G: Ord>(dances: &[(String, G)], train: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let val = last_per_genre(dances, train, 4, |n| (n / 10).max(1));
    (train.iter().copied().filter(|i| !val.contains(i)).collect(), val)
}

/// A training example: anchor window and a delayed window of the same dance (the negative of
/// DanceIt Fig. 7), if the dance is long enough.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub dance: usize,
    pub start: usize,
    pub delayed: Option<usize>,
}

/// A start `delay_lo..=delay_hi` frames before or after `s` inside the dance's valid starts.
pub fn delayed_start(d: &DanceArrays, s: usize, delay: (usize, usize), rng: &mut ChaCha8Rng) -> Option<usize> {
    let valid = |x: usize| d.starts.binary_search(&x).is_ok();
    for _ in 0..8 {
        let dl = rng.gen_range(delay.0..=delay.1);
        let cand = if rng.gen_bool(0.5) { s.checked_sub(dl) } else { Some(s + dl) };
        if let Some(c) = cand.filter(|&c| valid(c)) {
            return Some(c);
        }
    }
    None
}

/// A random window of dance `d` and its partner: a window delayed by `delay` frames when the
/// dance allows, else another random window (then neither is marked as the other's delay).
fn random_pair(a: &DanceArrays, d: usize, delay: (usize, usize), rng: &mut ChaCha8Rng) -> [Sample; 2] {
    let s = a.starts[rng.gen_range(0..a.starts.len())];
    let (partner, is_delay) = match delayed_start(a, s, delay, rng) {
        Some(x) => (x, true),
        None => (a.starts[rng.gen_range(0..a.starts.len())], false),
    };
    [Sample { dance: d, start: s, delayed: is_delay.then_some(partner) }, Sample { dance: d, start: partner, delayed: is_delay.then_some(s) }]
}

/// One epoch of samples, in pairs: per dance as many random windows as it has whole fragments,
/// each paired with a window of the same dance delayed by `delay` frames. Both windows of a pair
/// are anchors with their own music, and each is the other's delayed negative, so a batch needs
/// one pose pass, not two. `delayed` holds the partner's start when the pair is a true delay.
/// Pairs are shuffled; the returned vector keeps partners adjacent (2i, 2i+1).
pub fn epoch_samples(dances: &[DanceArrays], ids: &[usize], len: usize, delay: (usize, usize), rng: &mut ChaCha8Rng) -> Vec<Sample> {
    let mut pairs = Vec::new();
    for &d in ids {
        let a = &dances[d];
        if a.starts.is_empty() {
            continue;
        }
        let n = (a.starts.len() / len / 2).max(1);
        for _ in 0..n {
            pairs.push(random_pair(a, d, delay, rng));
        }
    }
    // Fisher–Yates with our seeded generator.
    for i in (1..pairs.len()).rev() {
        let j = rng.gen_range(0..=i);
        pairs.swap(i, j);
    }
    pairs.into_iter().flatten().collect()
}

/// [`epoch_samples`] arranged so that a batch of `batch` rows holds `batch / per_group` groups of
/// `per_group` rows (whole pairs), each group from one dance: in-batch negatives are then mostly
/// the hard ones, other moments of the same dance. A dance's pair count is rounded up to whole
/// groups with more random pairs of it. Groups are shuffled; `per_group` is even and divides `batch`.
pub fn epoch_samples_grouped(dances: &[DanceArrays], ids: &[usize], len: usize, delay: (usize, usize), per_group: usize, rng: &mut ChaCha8Rng) -> Vec<Sample> {
    let pairs_per_group = (per_group / 2).max(1);
    let mut groups: Vec<Vec<Sample>> = Vec::new();
    for &d in ids {
        let a = &dances[d];
        if a.starts.is_empty() {
            continue;
        }
        let n = (a.starts.len() / len / 2).max(1).div_ceil(pairs_per_group) * pairs_per_group;
        let mut cur = Vec::with_capacity(per_group);
        for _ in 0..n {
            cur.extend(random_pair(a, d, delay, rng));
            if cur.len() == 2 * pairs_per_group {
                groups.push(std::mem::take(&mut cur));
            }
        }
    }
    for i in (1..groups.len()).rev() {
        let j = rng.gen_range(0..=i);
        groups.swap(i, j);
    }
    groups.into_iter().flatten().collect()
}

/// Fixed evaluation fragments of some dances: consecutive non-overlapping windows.
pub fn eval_fragments(dances: &[DanceArrays], ids: &[usize], len: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for &d in ids {
        let mut next = 0;
        for &s in &dances[d].starts {
            if s >= next {
                out.push((d, s));
                next = s + len;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_takes_last_tenth_per_genre_in_natural_order() {
        let mut d: Vec<(String, String)> = (1..=12).map(|i| (format!("DANCE_W_{i}"), "waltz".to_string())).collect();
        d.push(("DANCE_T_5".into(), "tango".into()));
        d.push(("DANCE_C_2".into(), "cha-cha".into()));
        d.push(("DANCE_C_10".into(), "cha-cha".into()));
        let (train, test) = split(&d).unwrap();
        let names: Vec<&str> = test.iter().map(|&i| d[i].0.as_str()).collect();
        // waltz: ceil(1.2) = 2 → W_11, W_12; cha-cha: ceil(0.2) = 1 → C_10; tango alone stays.
        assert_eq!(names, ["DANCE_W_11", "DANCE_W_12", "DANCE_C_10"]);
        assert_eq!(train.len(), 12);
        assert!(split(&d[12..13]).is_err());
    }

    #[test]
    fn validation_takes_the_last_training_dance_of_big_genres() {
        let mut d: Vec<(String, String)> = (1..=5).map(|i| (format!("DANCE_W_{i}"), "waltz".to_string())).collect();
        d.extend((1..=3).map(|i| (format!("DANCE_C_{i}"), "cha-cha".to_string())));
        let train: Vec<usize> = (0..d.len()).filter(|&i| i != 4).collect(); // W_5 is a test dance
        let (tr, val) = validation_split(&d, &train);
        assert_eq!(val, [3]); // W_4; cha-cha has only 3 training dances
        assert_eq!(tr.len(), train.len() - 1);
        assert!(!tr.contains(&3));
        // 21 waltzes in training: the last 2 in natural order (W_20 before W_100).
        let mut d: Vec<(String, String)> = (1..=20).map(|i| (format!("DANCE_W_{i}"), "waltz".to_string())).collect();
        d.push(("DANCE_W_100".into(), "waltz".into()));
        let (_, val) = validation_split(&d, &(0..21).collect::<Vec<_>>());
        assert_eq!(val, [19, 20]);
    }

    #[test]
    fn grouped_samples_keep_each_group_in_one_dance() {
        let mk = |name: &str, n: usize| DanceArrays {
            name: name.into(),
            genre: Genre::parse("g"),
            poses: vec![[[0.0; 3]; NUM_JOINTS]; n],
            mfcc: vec![0.0; n * 13],
            starts: (0..n - 24).collect(),
        };
        let dances = vec![mk("a", 500), mk("b", 300), mk("c", 1000)];
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let s = epoch_samples_grouped(&dances, &[0, 1, 2], 24, (48, 96), 8, &mut rng);
        assert_eq!(s.len() % 8, 0);
        let mut seen = [false; 3];
        for g in s.chunks(8) {
            assert!(g.iter().all(|x| x.dance == g[0].dance), "a group mixes dances");
            seen[g[0].dance] = true;
            for p in g.chunks(2) {
                if let Some(x) = p[0].delayed {
                    assert_eq!(x, p[1].start);
                    let gap = p[0].start.abs_diff(p[1].start);
                    assert!((48..=96).contains(&gap));
                }
            }
        }
        assert_eq!(seen, [true; 3]);
    }

    #[test]
    fn pose_window_is_centred_on_the_hips() {
        let mut f: Frame = [[0.0; 3]; NUM_JOINTS];
        for (j, p) in f.iter_mut().enumerate() {
            *p = [1.0 + j as f32 * 0.01, 0.5, 1.0];
        }
        f[17][2] = 0.0;
        let w = pose_window(&[f, f]);
        let hip_x = (w[8] + w[11]) / 2.0;
        assert!(hip_x.abs() < 1e-6);
        assert_eq!(w[17], 0.0); // missing joint
        assert_eq!(w[2 * 2 * 18 + 17], 0.0);
        assert_eq!(w.len(), 3 * 2 * 18);
        let m = mirror_window(&w, 2);
        assert_eq!(m[5], -w[2]); // left shoulder ← right shoulder, x negated
        assert_eq!(m[2 * 18 + 16], w[2 * 18 + 17]); // y of the ears swapped
        assert_eq!(mirror_window(&m, 2), w);
    }
}
