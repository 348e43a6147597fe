//! Viterbi over candidate lists: clip t has candidates 0..n_t with unary cost `unary[t][i]`; moving
//! from candidate i at clip t-1 to j at clip t costs `pair(t, i, j)`. Returns the path of candidate
//! indices minimising the total, and the total. Ties go to the lower index (deterministic).
//! O(Σ n_{t-1}·n_t) time; [`best_path_exhaustive`] enumerates every path (tests only use it on
//! small inputs).

/// Cheapest path. Empty input gives an empty path and cost 0.
pub fn best_path(unary: &[Vec<f32>], pair: impl Fn(usize, usize, usize) -> f32) -> (Vec<usize>, f32) {
    best_path_reuse(unary, pair, &[], 0.0)
}

/// As [`best_path`], plus `penalty` for every earlier occurrence of a candidate's id on the path:
/// the id at clip t, candidate j is `ids[t][j]`. The reuse count of a step is taken along the
/// cheapest path kept at the predecessor state (walking its back-pointers), so the returned cost
/// is exactly the cost of the returned path. O(Σ n_{t-1}·n_t·t); with `penalty` 0, `ids` is not
/// read (it may be empty) and this is plain Viterbi, O(Σ n_{t-1}·n_t).
pub fn best_path_reuse(unary: &[Vec<f32>], pair: impl Fn(usize, usize, usize) -> f32, ids: &[Vec<u32>], penalty: f32) -> (Vec<usize>, f32) {
    if unary.is_empty() || unary.iter().any(|u| u.is_empty()) {
        return (Vec::new(), 0.0);
    }
    let mut cost: Vec<f32> = unary[0].clone();
    let mut back: Vec<Vec<usize>> = vec![vec![0; unary[0].len()]];
    let uses = |back: &[Vec<usize>], t: usize, i: usize, id: u32| -> usize {
        // Occurrences of `id` on the path ending at clip t, candidate i.
        let (mut t, mut i, mut n) = (t, i, 0usize);
        loop {
            if ids[t][i] == id {
                n += 1;
            }
            if t == 0 {
                return n;
            }
            i = back[t][i];
            t -= 1;
        }
    };
    for t in 1..unary.len() {
        let mut next = Vec::with_capacity(unary[t].len());
        let mut bt = Vec::with_capacity(unary[t].len());
        for (j, &u) in unary[t].iter().enumerate() {
            let (mut best, mut arg) = (f32::INFINITY, 0usize);
            for (i, &c) in cost.iter().enumerate() {
                let mut v = c + pair(t, i, j);
                if v >= best {
                    continue;
                }
                if penalty != 0.0 {
                    v += penalty * uses(&back, t - 1, i, ids[t][j]) as f32;
                }
                if v < best {
                    best = v;
                    arg = i;
                }
            }
            next.push(best + u);
            bt.push(arg);
        }
        cost = next;
        back.push(bt);
    }
    let (mut j, mut total) = (0usize, f32::INFINITY);
    for (i, &c) in cost.iter().enumerate() {
        if c < total {
            total = c;
            j = i;
        }
    }
    let mut path = vec![0usize; unary.len()];
    for t in (0..unary.len()).rev() {
        path[t] = j;
        if t > 0 {
            j = back[t][j];
        }
    }
    (path, total)
}

/// The reference: every path, the cheapest kept (lowest indices on ties, as `best_path`).
pub fn best_path_exhaustive(unary: &[Vec<f32>], pair: impl Fn(usize, usize, usize) -> f32) -> (Vec<usize>, f32) {
    if unary.is_empty() || unary.iter().any(|u| u.is_empty()) {
        return (Vec::new(), 0.0);
    }
    let mut best = (Vec::new(), f32::INFINITY);
    let mut idx = vec![0usize; unary.len()];
    loop {
        let mut c = unary[0][idx[0]];
        for t in 1..unary.len() {
            c += pair(t, idx[t - 1], idx[t]) + unary[t][idx[t]];
        }
        if c < best.1 {
            best = (idx.clone(), c);
        }
        // Next index vector, last clip fastest.
        let mut t = unary.len();
        loop {
            if t == 0 {
                return best;
            }
            t -= 1;
            idx[t] += 1;
            if idx[t] < unary[t].len() {
                break;
            }
            idx[t] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn matches_exhaustive_search_on_random_problems() {
        let seed = 11;
        println!("seed {seed}");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..200 {
            let clips = rng.gen_range(1..6);
            let unary: Vec<Vec<f32>> = (0..clips).map(|_| (0..rng.gen_range(1..5)).map(|_| rng.gen_range(0.0..2.0)).collect()).collect();
            let table: Vec<f32> = (0..clips * 25).map(|_| rng.gen_range(0.0..2.0)).collect();
            let pair = |t: usize, i: usize, j: usize| table[t * 25 + i * 5 + j];
            let (p, c) = best_path(&unary, pair);
            let (q, d) = best_path_exhaustive(&unary, pair);
            assert!((c - d).abs() < 1e-5, "{c} vs {d}");
            assert_eq!(p, q);
        }
    }

    #[test]
    fn transition_costs_change_the_choice() {
        // Unary alone prefers 0 then 0; switching from 0 to 0 is made expensive.
        let unary = vec![vec![0.0, 0.5], vec![0.0, 0.4]];
        let (p, c) = best_path(&unary, |_, i, j| if i == 0 && j == 0 { 10.0 } else { 0.0 });
        assert_eq!(p, vec![0, 1]);
        assert!((c - 0.4).abs() < 1e-6);
        assert_eq!(best_path(&[], |_, _, _| 0.0).0, Vec::<usize>::new());
    }

    #[test]
    fn reuse_penalty_avoids_repeats_and_costs_add_up() {
        // Every clip offers the same two ids; the first is always nearer.
        let unary = vec![vec![0.0, 0.3]; 4];
        let ids = vec![vec![7u32, 9u32]; 4];
        let (p0, c0) = best_path_reuse(&unary, |_, _, _| 0.0, &ids, 0.0);
        assert_eq!(p0, vec![0; 4]);
        assert_eq!(c0, 0.0);
        // With a penalty of 1 per earlier use, alternating is cheapest.
        let (p, c) = best_path_reuse(&unary, |_, _, _| 0.0, &ids, 1.0);
        let recount: f32 = (0..4).map(|t| unary[t][p[t]] + (0..t).filter(|&s| ids[s][p[s]] == ids[t][p[t]]).count() as f32).sum();
        assert!((c - recount).abs() < 1e-6, "{c} vs {recount}");
        assert!(p.windows(2).all(|w| w[0] != w[1]), "{p:?}");
        // Without a penalty it is plain Viterbi.
        let seed = 3;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..50 {
            let unary: Vec<Vec<f32>> = (0..5).map(|_| (0..4).map(|_| rng.gen_range(0.0..2.0)).collect()).collect();
            let ids: Vec<Vec<u32>> = (0..5).map(|_| (0..4).map(|_| rng.gen_range(0..6)).collect()).collect();
            let table: Vec<f32> = (0..125).map(|_| rng.gen_range(0.0..1.0)).collect();
            let pair = |t: usize, i: usize, j: usize| table[t * 25 + i * 5 + j];
            let (a, ca) = best_path(&unary, pair);
            let (b, cb) = best_path_reuse(&unary, pair, &ids, 0.0);
            assert_eq!(a, b);
            assert!((ca - cb).abs() < 1e-6);
            // With a penalty, the cost returned is the cost of the path returned.
            let (q, cq) = best_path_reuse(&unary, pair, &ids, 0.7);
            let score = |p: &[usize]| -> f32 {
                (0..5).map(|t| unary[t][p[t]] + if t > 0 { pair(t, p[t - 1], p[t]) + 0.7 * (0..t).filter(|&s| ids[s][p[s]] == ids[t][p[t]]).count() as f32 } else { 0.0 }).sum()
            };
            assert!((cq - score(&q)).abs() < 1e-4, "{cq} vs {}", score(&q));
        }
    }
}
