//! Principal component analysis (scikit-learn's `PCA(n_components)`) of the
//! encoded features, through linfa-reduction's `Pca` (truncated SVD of the
//! centred rows).
//!
//! The variances are ours: linfa 0.8.1's `explained_variance` divides the
//! squared singular values by (number of components − 1) instead of (rows −
//! 1), and its `explained_variance_ratio` divides by the variance of the kept
//! components instead of the total (unit test
//! `linfa_explained_variance_is_not_scikit_learns`). Here a component's
//! variance is `σ² / (rows − 1)` and its ratio is that over the total
//! variance of the encoded features, as in scikit-learn.

use linfa::prelude::*;
use linfa_reduction::Pca;
use ndarray::{Array1, Array2, Axis};

use crate::error::{MlError, Result, sqlstate};

pub struct Fitted {
    pub mean: Vec<f64>,
    pub components: Vec<Vec<f64>>,
    pub explained_variance: Vec<f64>,
    pub explained_variance_ratio: Vec<f64>,
}

pub fn fit(x: &Array2<f64>, k: usize) -> Result<Fitted> {
    let n = x.nrows();
    let pca = Pca::params(k)
        .fit(&DatasetBase::from(x.clone()))
        .map_err(|e| MlError::new(sqlstate::DATA_EXCEPTION, format!("pca failed: {e}")))?;
    let mean = x
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    let total: f64 = x
        .axis_iter(Axis(1))
        .zip(mean.iter())
        .map(|(c, m)| c.iter().map(|v| (v - m) * (v - m)).sum::<f64>())
        .sum::<f64>()
        / (n as f64 - 1.0);
    let explained_variance: Vec<f64> = pca
        .singular_values()
        .iter()
        .map(|s| s * s / (n as f64 - 1.0))
        .collect();
    let explained_variance_ratio = explained_variance
        .iter()
        .map(|v| if total > 0.0 { v / total } else { 0.0 })
        .collect();
    Ok(Fitted {
        mean: mean.to_vec(),
        components: pca
            .components()
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect(),
        explained_variance,
        explained_variance_ratio,
    })
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
}
