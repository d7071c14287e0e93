//! Gaussian mixture with full covariance matrices (scikit-learn's
//! `GaussianMixture(covariance_type='full', reg_covar=1e-6, tol=1e-3,
//! init_params='kmeans')`), fitted by EM.
//!
//! Ours, not linfa-clustering's `GaussianMixtureModel` (0.8.1), because:
//! - restarts: linfa's `n_runs` keeps iterating the same model instead of
//!   re-initialising it, and its k-means initialisation runs k-means ten
//!   times and keeps the best, so every seed starts from the same partition;
//!   it cannot start from a partition we give it. Mixing one k-means start
//!   with random-responsibility starts still ended at the worse of two optima
//!   on telco (mean log-likelihood −1.364 against scikit-learn's −1.248,
//!   `n_init = 10`). So, as scikit-learn does, every restart starts from its
//!   own k-means partition ([`crate::kmeans`], k-means++ seeding, one run,
//!   seed `seed + restart`) and the highest log-likelihood wins;
//! - the posterior: linfa sums `exp(log p)` without the log-sum-exp shift,
//!   which underflows to `ln 0 = -inf` (and infinite or NaN responsibilities) for a row
//!   far from every component; [`posterior`] shifts by the row maximum
//!   (see the unit test `linfa_posterior_underflows_far_from_the_components`);
//! - convergence: linfa fails a fit that has not converged after
//!   `max_iterations`; scikit-learn (and we) keep the last parameters.
//!
//! EM follows scikit-learn's `BaseMixture.fit`: M-step from the initial
//! responsibilities, then E-step (mean log-likelihood as the lower bound) and
//! M-step until the bound moves by less than `tol = 1e-3`. The M-step adds
//! `10·ε` to each component's weight and `reg_covar = 1e-6` to each
//! covariance's diagonal.

use linfa_linalg::cholesky::Cholesky;
use ndarray::{Array2, Axis};

use crate::error::{MlError, Result, sqlstate};

/// EM stops when the mean log-likelihood changes by less than this
/// (scikit-learn's default `tol`).
const TOLERANCE: f64 = 1e-3;
/// Added to the diagonal of every covariance (scikit-learn's `reg_covar`).
const REG_COVARIANCE: f64 = 1e-6;
/// Lloyd iterations of the k-means initialisation (scikit-learn's `KMeans`
/// default `max_iter`).
const KMEANS_ITERATIONS: u64 = 300;

/// Fitted mixture: weights, means and covariances of each component, and
/// the mean log-likelihood of the training rows.
pub struct Fitted {
    pub weights: Vec<f64>,
    pub means: Vec<Vec<f64>>,
    pub covariances: Vec<Vec<Vec<f64>>>,
    pub log_likelihood: f64,
}

/// Fits `k` components to the rows of `x` (`n × d`, `k ≤ n`) with `n_init`
/// restarts; errors with 22000 when no restart gives positive definite
/// covariances.
pub fn fit(
    x: &Array2<f64>,
    k: usize,
    n_init: usize,
    max_iterations: u64,
    seed: u64,
) -> Result<Fitted> {
    let mut best: Option<Fitted> = None;
    let mut last_error = String::new();
    for run in 0..n_init.max(1) as u64 {
        let centres =
            crate::kmeans::fit(x.view(), k, 1, KMEANS_ITERATIONS, seed.wrapping_add(run)).centroids;
        let fitted = match em(x, &nearest(x, &centres, k), k, max_iterations) {
            Ok(f) => f,
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        if fitted.log_likelihood.is_finite()
            && best
                .as_ref()
                .is_none_or(|b| fitted.log_likelihood > b.log_likelihood)
        {
            best = Some(fitted);
        }
    }
    best.ok_or_else(|| {
        MlError::new(
            sqlstate::DATA_EXCEPTION,
            format!(
                "gaussian_mixture failed: {last_error}; try fewer num_clusters, more max_iterations or another seed"
            ),
        )
    })
}

/// One-hot responsibilities: each row to its nearest centre.
fn nearest(x: &Array2<f64>, centres: &[Vec<f64>], k: usize) -> Array2<f64> {
    let mut resp = Array2::<f64>::zeros((x.nrows(), k));
    for (r, row) in x.axis_iter(Axis(0)).enumerate() {
        let mut best = (0, f64::INFINITY);
        for (c, centre) in centres.iter().enumerate() {
            let d: f64 = row.iter().zip(centre).map(|(a, b)| (a - b) * (a - b)).sum();
            if d < best.1 {
                best = (c, d);
            }
        }
        resp[[r, best.0]] = 1.0;
    }
    resp
}

/// EM from initial responsibilities; the returned log-likelihood is that of
/// the returned parameters.
fn em(x: &Array2<f64>, resp: &Array2<f64>, k: usize, max_iterations: u64) -> Result<Fitted> {
    let (mut weights, mut means, mut covariances) = m_step(x, resp, k);
    let mut bound = f64::NEG_INFINITY;
    for _ in 0..max_iterations {
        crate::cancel::checkpoint();
        let (resp, log_norm) = posterior(x, &weights, &means, &covariances)?;
        let previous = bound;
        bound = log_norm.iter().sum::<f64>() / log_norm.len().max(1) as f64;
        (weights, means, covariances) = m_step(x, &resp, k);
        if (bound - previous).abs() < TOLERANCE {
            break;
        }
    }
    let (_, log_norm) = posterior(x, &weights, &means, &covariances)?;
    let log_likelihood = log_norm.iter().sum::<f64>() / log_norm.len().max(1) as f64;
    Ok(Fitted {
        weights,
        means,
        covariances,
        log_likelihood,
    })
}

type Components = (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<Vec<f64>>>);

/// Weights, means and full covariances from responsibilities (rows × k).
fn m_step(x: &Array2<f64>, resp: &Array2<f64>, k: usize) -> Components {
    let (n, d) = x.dim();
    let nk = resp.sum_axis(Axis(0)) + 10.0 * f64::EPSILON;
    let means = resp.t().dot(x) / nk.view().insert_axis(Axis(1));
    let mut covariances = Vec::with_capacity(k);
    for c in 0..k {
        let diff = x - &means.row(c).insert_axis(Axis(0));
        let weighted = &diff * &resp.column(c).insert_axis(Axis(1));
        let mut cov = weighted.t().dot(&diff) / nk[c];
        for i in 0..d {
            cov[[i, i]] += REG_COVARIANCE;
        }
        // symmetric to the last bit
        covariances.push(
            (0..d)
                .map(|i| (0..d).map(|j| 0.5 * (cov[[i, j]] + cov[[j, i]])).collect())
                .collect(),
        );
    }
    let weights = nk.iter().map(|w| w / n.max(1) as f64).collect();
    let means = means.rows().into_iter().map(|r| r.to_vec()).collect();
    (weights, means, covariances)
}

/// The posterior probability of each component for each row (rows ×
/// components) and each row's log-likelihood `ln Σ_k w_k N(x | μ_k, Σ_k)`.
/// Errors with 22000 for a covariance that is not positive definite.
pub fn posterior(
    x: &Array2<f64>,
    weights: &[f64],
    means: &[Vec<f64>],
    covariances: &[Vec<Vec<f64>>],
) -> Result<(Array2<f64>, Vec<f64>)> {
    let (n, d) = x.dim();
    let k = weights.len();
    let mut log_p = Array2::<f64>::zeros((n, k));
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    for c in 0..k {
        let cov = Array2::from_shape_fn((d, d), |(i, j)| covariances[c][i][j]);
        let l = cov.cholesky().map_err(|e| {
            MlError::new(
                sqlstate::DATA_EXCEPTION,
                format!(
                    "component {} has a covariance that is not positive definite: {e}",
                    c + 1
                ),
            )
        })?;
        let log_det: f64 = (0..d).map(|i| 2.0 * l[[i, i]].ln()).sum();
        let mut z = vec![0.0; d];
        for (r, row) in x.axis_iter(Axis(0)).enumerate() {
            // forward substitution: L z = x - μ
            let mut m = 0.0;
            for i in 0..d {
                let mut s = row[i] - means[c][i];
                for j in 0..i {
                    s -= l[[i, j]] * z[j];
                }
                z[i] = s / l[[i, i]];
                m += z[i] * z[i];
            }
            log_p[[r, c]] = weights[c].ln() - 0.5 * (d as f64 * ln_2pi + log_det + m);
        }
    }
    let mut log_norm = Vec::with_capacity(n);
    for mut row in log_p.rows_mut() {
        let max = row.fold(f64::NEG_INFINITY, |a, b| a.max(*b));
        if !max.is_finite() {
            // so far from every component that each density underflows (or the
            // distance overflows): no component is likelier than another
            let k = row.len() as f64;
            row.fill(1.0 / k);
            log_norm.push(f64::NEG_INFINITY);
            continue;
        }
        let s: f64 = row.iter().map(|v| (v - max).exp()).sum();
        let norm = max + s.ln();
        row.mapv_inplace(|v| (v - norm).exp());
        log_norm.push(norm);
    }
    Ok((log_p, log_norm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use linfa::traits::Predict;
    use linfa_clustering::GaussianMixtureModel;
    use ndarray::array;
    use rand_xoshiro::Xoshiro256Plus;
    use rand_xoshiro::rand_core::SeedableRng;

    fn two_blobs() -> Array2<f64> {
        let mut rows = Vec::new();
        for i in 0..40 {
            let t = i as f64 / 40.0;
            rows.push([t.sin() * 0.3, (3.0 * t).cos() * 0.3]);
            rows.push([6.0 + (2.0 * t).sin() * 0.3, 6.0 + (5.0 * t).cos() * 0.3]);
        }
        Array2::from_shape_fn((rows.len(), 2), |(i, j)| rows[i][j])
    }

    #[test]
    fn separates_two_blobs_and_probabilities_sum_to_one() {
        let x = two_blobs();
        let f = fit(&x, 2, 3, 100, 42).unwrap();
        assert!((f.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let (p, _) = posterior(&x, &f.weights, &f.means, &f.covariances).unwrap();
        for row in p.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-9);
            assert!(row.iter().any(|v| *v > 0.999));
        }
        // alternate rows belong to alternate blobs
        let a = p.row(0)[0] > 0.5;
        assert!((0..x.nrows()).all(|r| (p.row(r)[0] > 0.5) == (a == (r % 2 == 0))));
    }

    #[test]
    fn overflowing_distances_give_equal_probabilities() {
        let x = two_blobs();
        let f = fit(&x, 2, 3, 100, 42).unwrap();
        let far = ndarray::array![[1e300, -1e300], [1e200, 0.0]];
        let (p, _) = posterior(&far, &f.weights, &f.means, &f.covariances).unwrap();
        assert!(p.iter().all(|v| (*v - 0.5).abs() < 1e-12), "{p}");
    }

    #[test]
    fn linfa_posterior_underflows_far_from_the_components() {
        let x = two_blobs();
        let gmm = GaussianMixtureModel::params_with_rng(2, Xoshiro256Plus::seed_from_u64(1))
            .fit(&DatasetBase::from(x.clone()))
            .unwrap();
        let far = array![[1000.0, -1000.0]];
        let theirs = gmm.predict_proba(&far);
        assert!(theirs.iter().any(|v| !v.is_finite()), "{theirs}");
        let means: Vec<Vec<f64>> = gmm.means().rows().into_iter().map(|r| r.to_vec()).collect();
        let covs: Vec<Vec<Vec<f64>>> = gmm
            .covariances()
            .outer_iter()
            .map(|c| c.rows().into_iter().map(|r| r.to_vec()).collect())
            .collect();
        let (ours, ll) = posterior(&far, &gmm.weights().to_vec(), &means, &covs).unwrap();
        assert!((ours.sum() - 1.0).abs() < 1e-12 && ll[0].is_finite());
        // and the cluster linfa assigns there is meaningless (argmax of NaN)
        let _ = gmm.predict(&far);
    }
}
