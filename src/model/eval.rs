//! Figures for the encoders, on a fixed set of fragments (DanceIt Tables I–II and retrieval):
//! mean matching and non-matching distances, correlation accuracy with DanceIt's rule
//! (distance < 1 ⇒ "corresponding") on balanced pairs, audio→pose Recall@1/@10 among all the
//! fragments, and genre precision@10. [`random_ranking`] gives the chance baseline of the same
//! retrieval figures.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// DanceIt's correlation threshold on the Euclidean distance.
pub const CORRESPONDING_BELOW: f32 = 1.0;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub fragments: usize,
    pub matching_distance: f32,
    /// Against the same dance's poses delayed by 2–4 s (DanceIt Fig. 7).
    pub delayed_distance: f32,
    /// Against another fragment of the set.
    pub other_distance: f32,
    /// Balanced: each fragment's true pair, and one negative (delayed or other, alternating),
    /// "corresponding" when the distance is below 1 (DanceIt's rule).
    pub correlation_accuracy: f32,
    /// The same pairs with the best single threshold instead of 1 (threshold-free view), and it.
    #[serde(default)]
    pub best_threshold_accuracy: f32,
    #[serde(default)]
    pub best_threshold: f32,
    pub recall_at_1: f32,
    pub recall_at_10: f32,
    pub genre_precision_at_10: f32,
    /// Mean rank of the true pose among all, as a fraction of the set (0 first, ≈ 0.5 chance).
    #[serde(default)]
    pub mean_rank: f32,
}

fn dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
}

/// Figures from embeddings: `audio[i]`, `pose[i]` of fragment i (dim `d`), `delayed[i]` the pose
/// embedding of a delayed window of the same dance (if any), `genre[i]`.
pub fn figures<G: PartialEq>(audio: &[f32], pose: &[f32], delayed: &[Option<Vec<f32>>], genre: &[G], d: usize, seed: u64) -> Figures {
    let n = genre.len();
    if n < 2 {
        return Figures { fragments: n, ..Figures::default() };
    }
    let a = |i: usize| &audio[i * d..(i + 1) * d];
    let p = |i: usize| &pose[i * d..(i + 1) * d];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut m_sum, mut del_sum, mut del_n, mut oth_sum) = (0.0f64, 0.0f64, 0usize, 0.0f64);
    let mut correct = 0usize;
    let mut pairs: Vec<(f32, bool)> = Vec::with_capacity(2 * n);
    for i in 0..n {
        let dm = dist(a(i), p(i));
        m_sum += dm as f64;
        correct += (dm < CORRESPONDING_BELOW) as usize;
        let mut j = rng.gen_range(0..n - 1);
        if j >= i {
            j += 1;
        }
        let doth = dist(a(i), p(j));
        oth_sum += doth as f64;
        let dd = delayed[i].as_ref().map(|e| dist(a(i), e));
        if let Some(x) = dd {
            del_sum += x as f64;
            del_n += 1;
        }
        let neg = match dd {
            Some(x) if i % 2 == 0 => x,
            _ => doth,
        };
        correct += (neg >= CORRESPONDING_BELOW) as usize;
        pairs.push((dm, true));
        pairs.push((neg, false));
    }
    // Sweep the threshold over the sorted distances: accuracy = (positives below + negatives at/above) / 2n.
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut best, mut best_t) = (n, 0.0f32); // threshold below everything: all negatives right
    let mut acc = n as i64;
    for (k, &(d, pos)) in pairs.iter().enumerate() {
        acc += if pos { 1 } else { -1 };
        let next = pairs.get(k + 1).map(|p| p.0).unwrap_or(d + 1.0);
        if acc as usize > best && next > d {
            best = acc as usize;
            best_t = (d + next) / 2.0;
        }
    }
    let (r1, r10, g10) = retrieval(n, genre, |i, j| dist(a(i), p(j)));
    let mean_rank = (0..n)
        .map(|i| {
            let di = dist(a(i), p(i));
            (0..n).filter(|&j| j != i && dist(a(i), p(j)) < di).count() as f64 / (n - 1) as f64
        })
        .sum::<f64>()
        / n as f64;
    Figures {
        fragments: n,
        matching_distance: (m_sum / n as f64) as f32,
        delayed_distance: if del_n > 0 { (del_sum / del_n as f64) as f32 } else { 0.0 },
        other_distance: (oth_sum / n as f64) as f32,
        correlation_accuracy: correct as f32 / (2 * n) as f32,
        best_threshold_accuracy: best as f32 / (2 * n) as f32,
        best_threshold: best_t,
        recall_at_1: r1,
        recall_at_10: r10,
        genre_precision_at_10: g10,
        mean_rank: mean_rank as f32,
    }
}

/// Recall@1, Recall@10 and genre precision@10 for a distance between query i and item j.
pub fn retrieval<G: PartialEq>(n: usize, genre: &[G], dist: impl Fn(usize, usize) -> f32) -> (f32, f32, f32) {
    let (mut r1, mut r10, mut g10) = (0usize, 0usize, 0usize);
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..n {
        let ds: Vec<f32> = (0..n).map(|j| dist(i, j)).collect();
        order.sort_by(|&x, &y| ds[x].total_cmp(&ds[y]).then(x.cmp(&y)));
        r1 += (order[0] == i) as usize;
        let top = &order[..10.min(n)];
        r10 += top.contains(&i) as usize;
        g10 += top.iter().filter(|&&j| genre[j] == genre[i]).count();
    }
    (r1 as f32 / n as f32, r10 as f32 / n as f32, g10 as f32 / (n * 10.min(n)) as f32)
}

/// The chance baseline: items ranked by a seeded random score.
pub fn random_ranking<G: PartialEq>(genre: &[G], seed: u64) -> (f32, f32, f32) {
    let n = genre.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scores: Vec<f32> = (0..n * n).map(|_| rng.gen()).collect();
    retrieval(n, genre, |i, j| scores[i * n + j])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_embeddings_score_perfectly() {
        let n = 12;
        let audio: Vec<f32> = (0..n).flat_map(|i| [i as f32 * 3.0, 0.0]).collect();
        let genre: Vec<String> = (0..n).map(|i| if i < 6 { "a" } else { "b" }.to_string()).collect();
        let delayed: Vec<Option<Vec<f32>>> = (0..n).map(|i| Some(vec![i as f32 * 3.0, 5.0])).collect();
        let f = figures(&audio, &audio, &delayed, &genre, 2, 1);
        assert_eq!((f.recall_at_1, f.recall_at_10, f.correlation_accuracy), (1.0, 1.0, 1.0));
        assert_eq!(f.best_threshold_accuracy, 1.0);
        assert!(f.best_threshold > 0.0 && f.best_threshold <= 5.0);
        assert_eq!(f.matching_distance, 0.0);
        assert_eq!(f.mean_rank, 0.0);
        let reversed: Vec<f32> = audio.chunks(2).rev().flat_map(|c| c.to_vec()).collect();
        let g = figures(&reversed, &audio, &delayed, &genre, 2, 1);
        assert!(g.mean_rank > 0.3, "a wrong pairing ranks the true pose late: {}", g.mean_rank);
        assert!((f.delayed_distance - 5.0).abs() < 1e-6);
        let (r1, _, _) = random_ranking(&genre, 3);
        assert!(r1 < 0.5);
    }
}
