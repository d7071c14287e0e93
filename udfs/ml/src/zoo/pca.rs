//! Principal component analysis (scikit-learn's `PCA(n_components,
//! svd_solver='full')`) of the encoded features: the eigendecomposition of
//! the sample covariance matrix (linfa-linalg's symmetric `eigh`).
//!
//! - A component's variance is its eigenvalue (`σ² / (rows − 1)` of the
//!   centred rows' singular value) and its ratio is that over the total
//!   variance (the covariance's trace), as in scikit-learn. Eigenvalues
//!   below `1e-12 ×` the largest (rounding on rank-deficient input such as
//!   one-hot columns, which sum to 1, or collinear numbers) are 0, so the
//!   ratios of all components sum to at most 1.
//! - Every requested component is returned, up to min(rows, encoded features)
//!   as scikit-learn; degenerate ones have variance 0.
//! - Signs follow scikit-learn ≥ 1.5 (`svd_flip(u_based_decision=False)`):
//!   the largest-magnitude loading of each component is positive.
//!
//! Not linfa-reduction's `Pca`: it computes a truncated SVD by LOBPCG, an
//! iterative approximation that on the telco one-hot columns gave ratios
//! summing to 1.0000026 and, on collinear numeric columns, fewer components
//! than asked for; and its `explained_variance` divides by (components − 1)
//! instead of (rows − 1) (unit tests `linfa_explained_variance_is_not_scikit_learns`
//! and `rank_deficient_input_like_scikit_learn`). The covariance is p × p for
//! p encoded features (at most a few thousand), built in O(rows · p²).

use linfa_linalg::Order;
use linfa_linalg::eigh::{EigSort, EighInto};
use ndarray::{Array1, Array2, Axis};

use crate::error::{MlError, Result, sqlstate};

pub struct Fitted {
    pub mean: Vec<f64>,
    pub components: Vec<Vec<f64>>,
    pub explained_variance: Vec<f64>,
    pub explained_variance_ratio: Vec<f64>,
}

/// The first `k` principal components of the rows of `x` (n ≥ 2, k ≤ p).
pub fn fit(x: &Array2<f64>, k: usize) -> Result<Fitted> {
    let n = x.nrows();
    let mean = x
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    let centred = x - &mean;
    let cov = centred.t().dot(&centred) / (n as f64 - 1.0);
    let total: f64 = cov.diag().iter().sum();
    let (values, vectors) = cov
        .eigh_into()
        .map_err(|e| MlError::new(sqlstate::DATA_EXCEPTION, format!("pca failed: {e}")))?
        .sort_eig(Order::Largest);
    let largest = values.iter().copied().fold(0.0f64, f64::max);
    let explained_variance: Vec<f64> = values
        .iter()
        .take(k)
        .map(|v| if *v > 1e-12 * largest { *v } else { 0.0 })
        .collect();
    let explained_variance_ratio: Vec<f64> = explained_variance
        .iter()
        .map(|v| {
            if total > 0.0 {
                (v / total).min(1.0)
            } else {
                0.0
            }
        })
        .collect();
    // rounding can still leave the kept ratios a few ulps over 1
    let sum: f64 = explained_variance_ratio.iter().sum();
    let explained_variance_ratio = if sum > 1.0 {
        explained_variance_ratio.iter().map(|r| r / sum).collect()
    } else {
        explained_variance_ratio
    };
    let components = (0..k)
        .map(|j| {
            let mut c = vectors.column(j).to_vec();
            let big = c
                .iter()
                .copied()
                .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            if big < 0.0 {
                c.iter_mut().for_each(|v| *v = -*v);
            }
            c
        })
        .collect();
    Ok(Fitted {
        mean: mean.to_vec(),
        components,
        explained_variance,
        explained_variance_ratio,
    })
}

/// The share of the variance of the rows of `x` (centred on their own mean)
/// that the `components` capture: Σₖ var(x·cₖ) / Σⱼ var(xⱼ), in [0, 1] for
/// orthonormal components. For the training rows it is the sum of the
/// components' `explained_variance_ratio`. `None` with fewer than 2 rows or
/// no variance.
pub fn explained_variance_ratio(x: &Array2<f64>, components: &[Vec<f64>]) -> Option<f64> {
    let n = x.nrows();
    if n < 2 {
        return None;
    }
    let mean = x.mean_axis(Axis(0))?;
    let centred = x - &mean;
    let total: f64 = centred.iter().map(|v| v * v).sum();
    if total <= 0.0 {
        return None;
    }
    let explained: f64 = components
        .iter()
        .map(|c| {
            let c = Array1::from(c.clone());
            centred.dot(&c).iter().map(|v| v * v).sum::<f64>()
        })
        .sum();
    Some((explained / total).min(1.0))
}

/// Each row of `x` centred and projected on the components.
pub fn project(x: &Array2<f64>, mean: &[f64], components: &[Vec<f64>]) -> Vec<Vec<f64>> {
    x.axis_iter(Axis(0))
        .map(|row| {
            components
                .iter()
                .map(|c| {
                    row.iter()
                        .zip(mean)
                        .zip(c)
                        .map(|((v, m), w)| (v - m) * w)
                        .sum()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use linfa_reduction::Pca;
    use ndarray::array;

    // points on the line y = 2x plus a small orthogonal wobble
    fn data() -> Array2<f64> {
        let mut rows = Vec::new();
        for i in 0..20 {
            let t = i as f64 - 9.5;
            let e = if i % 2 == 0 { 0.1 } else { -0.1 };
            rows.push([t - 2.0 * e, 2.0 * t + e]);
        }
        Array2::from_shape_fn((20, 2), |(i, j)| rows[i][j])
    }

    #[test]
    fn variance_ratio_by_hand() {
        let x = data();
        let f = fit(&x, 1).unwrap();
        // by hand: the eigenvalues of the 2 × 2 sample covariance [[a, b], [b, c]]
        let m0 = x.column(0).mean().unwrap();
        let m1 = x.column(1).mean().unwrap();
        let cov = |p: usize, q: usize, mp: f64, mq: f64| {
            (0..20)
                .map(|i| (x[[i, p]] - mp) * (x[[i, q]] - mq))
                .sum::<f64>()
                / 19.0
        };
        let (a, b, c) = (cov(0, 0, m0, m0), cov(0, 1, m0, m1), cov(1, 1, m1, m1));
        let root = (((a - c) / 2.0).powi(2) + b * b).sqrt();
        let (along, across) = ((a + c) / 2.0 + root, (a + c) / 2.0 - root);
        assert!(
            (f.explained_variance[0] - along).abs() < 1e-9 * along,
            "{:?} vs {along}",
            f.explained_variance
        );
        let ratio = along / (along + across);
        assert!((f.explained_variance_ratio[0] - ratio).abs() < 1e-9);
        let c = &f.components[0];
        assert!((c[1] / c[0] - 2.0).abs() < 1e-2, "{c:?}");
        let p = project(&array![[1.0, 2.0]], &f.mean, &f.components);
        assert!((p[0][0].abs() - 5f64.sqrt()).abs() < 1e-2);
    }

    #[test]
    fn linfa_explained_variance_is_not_scikit_learns() {
        let x = data();
        let pca = Pca::params(1).fit(&DatasetBase::from(x.clone())).unwrap();
        // one component: linfa divides by (1 - 1) = 0, and its ratio is always 1
        assert!(!pca.explained_variance()[0].is_finite());
        let r = pca.explained_variance_ratio()[0];
        assert!(r.is_nan() || r == 1.0, "{r}");
        assert!(fit(&x, 1).unwrap().explained_variance_ratio[0] < 0.9999);
    }

    #[test]
    fn rank_deficient_input_like_scikit_learn() {
        // columns: a, 2a (collinear), and three one-hot columns summing to 1
        let rows: Vec<[f64; 5]> = (0..30)
            .map(|i| {
                let a = ((i * 7) % 11) as f64;
                let mut r = [a, 2.0 * a, 0.0, 0.0, 0.0];
                r[2 + i % 3] = 1.0;
                r
            })
            .collect();
        let x = Array2::from_shape_fn((30, 5), |(i, j)| rows[i][j]);
        let f = fit(&x, 5).unwrap();
        assert_eq!(f.components.len(), 5);
        // rank 3: two zero variances, ratios summing to exactly 1 at most
        assert_eq!(f.explained_variance[3], 0.0);
        assert_eq!(f.explained_variance[4], 0.0);
        let sum: f64 = f.explained_variance_ratio.iter().sum();
        assert!(sum <= 1.0 && sum > 1.0 - 1e-12, "{sum}");
        // the total variance equals the sum of the eigenvalues
        let total: f64 = (0..5)
            .map(|j| {
                let c = x.column(j);
                let m = c.mean().unwrap();
                c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 29.0
            })
            .sum();
        let ev: f64 = f.explained_variance.iter().sum();
        assert!((ev - total).abs() < 1e-9 * total);
        // the training rows' ratio of the first two components equals their stored ratios
        let r = explained_variance_ratio(&x, &f.components[..2]).unwrap();
        let want = f.explained_variance_ratio[0] + f.explained_variance_ratio[1];
        assert!((r - want).abs() < 1e-12, "{r} vs {want}");
        // orthonormal components
        for a in 0..3 {
            for b in 0..3 {
                let dot: f64 = f.components[a]
                    .iter()
                    .zip(&f.components[b])
                    .map(|(p, q)| p * q)
                    .sum();
                assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-9);
            }
        }
    }
}
