//! FID and diversity over motion feature vectors, as Bailando's `quantized_metrics`
//! (`utils/metrics_new.py`): both sets are z-scored with the *real* set's per-feature mean and
//! standard deviation (population σ, + 1e-10), then
//! FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁Σ₂) (sample covariances, n − 1), and
//! Div = the mean Euclidean distance over all pairs of vectors of one set.
//!
//! tr √(Σ₁Σ₂) is computed as Σ √λᵢ of the symmetric PSD matrix √Σ₁ Σ₂ √Σ₁ (same eigenvalues as
//! Σ₁Σ₂), with Jacobi eigendecompositions in f64, negative round-off eigenvalues clamped to 0; the
//! published code's `scipy.linalg.sqrtm` keeps the real part of the same quantity.

/// The real set's per-feature mean and population standard deviation.
pub fn z_stats(real: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let d = real.first().map_or(0, |v| v.len());
    let n = real.len().max(1) as f64;
    let mean: Vec<f64> = (0..d).map(|k| real.iter().map(|v| v[k]).sum::<f64>() / n).collect();
    let std: Vec<f64> = (0..d).map(|k| (real.iter().map(|v| (v[k] - mean[k]).powi(2)).sum::<f64>() / n).sqrt()).collect();
    (mean, std)
}

/// Z-scores `x` with the given statistics (σ + 1e-10, as Bailando).
pub fn z_score(x: &[Vec<f64>], (mean, std): &(Vec<f64>, Vec<f64>)) -> Vec<Vec<f64>> {
    x.iter().map(|v| v.iter().enumerate().map(|(k, a)| (a - mean[k]) / (std[k] + 1e-10)).collect()).collect()
}

fn mean_cov(x: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let d = x[0].len();
    let n = x.len() as f64;
    let mu: Vec<f64> = (0..d).map(|k| x.iter().map(|v| v[k]).sum::<f64>() / n).collect();
    let mut c = vec![vec![0.0; d]; d];
    for v in x {
        for i in 0..d {
            let a = v[i] - mu[i];
            for j in i..d {
                c[i][j] += a * (v[j] - mu[j]);
            }
        }
    }
    let den = (n - 1.0).max(1.0);
    for i in 0..d {
        for j in i..d {
            c[i][j] /= den;
            c[j][i] = c[i][j];
        }
    }
    (mu, c)
}

/// Eigenvalues and eigenvectors (columns of the returned matrix) of a symmetric matrix, by cyclic
/// Jacobi rotations.
pub fn sym_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut a: Vec<Vec<f64>> = a.to_vec();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| (i == j) as u8 as f64).collect()).collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i][j] * a[i][j]).sum();
        let scale: f64 = (0..n).map(|i| a[i][i] * a[i][i]).sum::<f64>().max(1e-300);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

fn matmul(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (n, m, p) = (a.len(), b.len(), b[0].len());
    let mut c = vec![vec![0.0; p]; n];
    for i in 0..n {
        for k in 0..m {
            let aik = a[i][k];
            if aik != 0.0 {
                for j in 0..p {
                    c[i][j] += aik * b[k][j];
                }
            }
        }
    }
    c
}

/// tr √(Σ₁Σ₂) for symmetric PSD Σ₁, Σ₂.
pub fn trace_sqrt_product(s1: &[Vec<f64>], s2: &[Vec<f64>]) -> f64 {
    let n = s1.len();
    let (l, v) = sym_eigen(s1);
    // √Σ₁ = V diag(√λ) Vᵀ
    let mut r = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            r[i][j] = (0..n).map(|k| v[i][k] * l[k].max(0.0).sqrt() * v[j][k]).sum();
        }
    }
    let m = matmul(&matmul(&r, s2), &r);
    let sym: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| 0.5 * (m[i][j] + m[j][i])).collect()).collect();
    sym_eigen(&sym).0.iter().map(|x| x.max(0.0).sqrt()).sum()
}

/// Fréchet distance between the Gaussians fitted to two sets of vectors (at least 2 each).
pub fn fid(gen: &[Vec<f64>], real: &[Vec<f64>]) -> f64 {
    if gen.len() < 2 || real.len() < 2 {
        return f64::NAN;
    }
    let (m1, s1) = mean_cov(gen);
    let (m2, s2) = mean_cov(real);
    let diff: f64 = m1.iter().zip(&m2).map(|(a, b)| (a - b) * (a - b)).sum();
    let tr = |s: &[Vec<f64>]| (0..s.len()).map(|i| s[i][i]).sum::<f64>();
    diff + tr(&s1) + tr(&s2) - 2.0 * trace_sqrt_product(&s1, &s2)
}

/// Mean Euclidean distance over all pairs (Bailando's `calculate_avg_distance`); NaN under 2.
pub fn diversity(x: &[Vec<f64>]) -> f64 {
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            s += x[i].iter().zip(&x[j]).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
        }
    }
    s / ((n * n - n) as f64 / 2.0)
}

/// FID and the generated set's diversity, both after z-scoring with the real set's statistics;
/// also the real set's own diversity. Returns (fid, div_gen, div_real).
///
/// One departure from the published code: a feature that is constant over the real set (σ = 0,
/// e.g. a geometric relation no real dance ever satisfies) is left out. Bailando would divide it
/// by 1e-10, so that one generated window where it holds adds ~10¹⁸ to the FID and the figure
/// says nothing about the other features.
pub fn fid_and_diversity(gen: &[Vec<f64>], real: &[Vec<f64>]) -> (f64, f64, f64) {
    let (mean, std) = z_stats(real);
    let keep: Vec<usize> = (0..std.len()).filter(|&k| std[k] > 0.0).collect();
    let pick = |x: &[Vec<f64>]| -> Vec<Vec<f64>> { x.iter().map(|v| keep.iter().map(|&k| v[k]).collect()).collect() };
    let st = (keep.iter().map(|&k| mean[k]).collect(), keep.iter().map(|&k| std[k]).collect());
    let (g, r) = (z_score(&pick(gen), &st), z_score(&pick(real), &st));
    (fid(&g, &r), diversity(&g), diversity(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_reconstructs_and_trace_sqrt_matches_closed_forms() {
        let a = vec![vec![4.0, 1.0, 0.5], vec![1.0, 3.0, 0.2], vec![0.5, 0.2, 1.0]];
        let (l, v) = sym_eigen(&a);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i][k] * l[k] * v[j][k]).sum();
                assert!((r - a[i][j]).abs() < 1e-10);
            }
        }
        // tr √(A A) = tr A for PSD A; tr √(A I) = Σ √λ.
        assert!((trace_sqrt_product(&a, &a) - 8.0).abs() < 1e-9);
        let id = vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]];
        let want: f64 = l.iter().map(|x| x.sqrt()).sum();
        assert!((trace_sqrt_product(&a, &id) - want).abs() < 1e-9);
    }

    #[test]
    fn fid_is_zero_on_itself_and_grows_with_a_shift() {
        let x: Vec<Vec<f64>> = (0..20).map(|i| vec![(i as f64 * 0.37).sin(), (i as f64 * 0.91).cos(), i as f64 * 0.1]).collect();
        assert!(fid(&x, &x).abs() < 1e-9);
        let y: Vec<Vec<f64>> = x.iter().map(|v| vec![v[0] + 2.0, v[1], v[2]]).collect();
        assert!((fid(&y, &x) - 4.0).abs() < 1e-8);
        assert!(fid(&x[..1], &x).is_nan());
        // Two points at distance 5 and a third at distance 0 from the first: (5 + 0 + 5) / 3.
        let d = diversity(&[vec![0.0, 0.0], vec![3.0, 4.0], vec![0.0, 0.0]]);
        assert!((d - 10.0 / 3.0).abs() < 1e-12);
        // A feature constant over the real set is left out instead of exploding the FID.
        let real: Vec<Vec<f64>> = x.iter().map(|v| vec![v[0], v[1], 0.0]).collect();
        let gen: Vec<Vec<f64>> = x.iter().map(|v| vec![v[0], v[1], 0.5]).collect();
        let (f, _, _) = fid_and_diversity(&gen, &real);
        assert!(f.abs() < 1e-9, "{f}");
    }
}
