//! Ridge regression (pure L2) in closed form: scikit-learn's `Ridge(alpha =
//! n · l2_reg, solver='cholesky')` with an unpenalised intercept.
//!
//! Minimises `1/(2n)·‖y − Xw − b‖² + l2_reg/2·‖w‖²`: centre `X` and `y`,
//! solve `(XᵀX + n·l2_reg·I) w = Xᵀy` by Cholesky (linfa-linalg), then
//! `b = ȳ − x̄·w`. Why not linfa-elasticnet's coordinate descent (which
//! solves the same objective): on the zoo benchmark's ridge row (telco, 5,635
//! training rows) it made `CREATE MODEL` take 0.769 s, 24× scikit-learn's
//! `Ridge`; the normal equations take 0.035 s (bench/zoo_vs_sklearn.py,
//! BENCHMARKS.md) and give the exact optimum (tests/it/reference.rs matches
//! scikit-learn's `Ridge` on the same design to 1e-9).

use linfa_linalg::cholesky::SolveCInplace;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// Fits `(coefficients, intercept)` for `x` (`n × p`, `n ≥ 1`), `y`
/// (`n`) and `l2_reg > 0`; `None` when the system is not positive definite
/// (non-finite input).
pub fn fit(x: ArrayView2<f64>, y: ArrayView1<f64>, l2_reg: f64) -> Option<(Vec<f64>, f64)> {
    let (n, p) = x.dim();
    let x_mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(p));
    let y_mean = y.mean().unwrap_or(0.0);
    let xc = &x - &x_mean.view().insert_axis(Axis(0));
    let yc = &y - y_mean;
    let mut gram: Array2<f64> = xc.t().dot(&xc);
    for j in 0..p {
        gram[[j, j]] += n as f64 * l2_reg;
    }
    let rhs = xc.t().dot(&yc).insert_axis(Axis(1));
    let w = gram.solvec_into(rhs).ok()?.remove_axis(Axis(1));
    if w.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let intercept = y_mean - x_mean.dot(&w);
    Some((w.to_vec(), intercept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Against the 2 × 2 normal equations solved by Cramer's rule
    /// (n = 4, l2_reg = 0.5, so n·l2_reg = 2 on the diagonal).
    #[test]
    fn matches_the_normal_equations() {
        let x = array![[1.0, 0.0], [2.0, 1.0], [3.0, 3.0], [0.0, 0.0]];
        let y = array![1.0, 2.0, 3.4, 0.2];
        let (w, b) = fit(x.view(), y.view(), 0.5).unwrap();
        // solve by hand
        let xm = [1.5, 1.0];
        let ym = 6.6 / 4.0;
        let xc: Vec<[f64; 2]> = x
            .rows()
            .into_iter()
            .map(|r| [r[0] - xm[0], r[1] - xm[1]])
            .collect();
        let g = |a: usize, c: usize| xc.iter().map(|r| r[a] * r[c]).sum::<f64>();
        let r = |a: usize| xc.iter().zip(&y).map(|(r, t)| r[a] * (t - ym)).sum::<f64>();
        let (a11, a12, a22) = (g(0, 0) + 2.0, g(0, 1), g(1, 1) + 2.0);
        let det = a11 * a22 - a12 * a12;
        let w0 = (a22 * r(0) - a12 * r(1)) / det;
        let w1 = (a11 * r(1) - a12 * r(0)) / det;
        assert!(
            (w[0] - w0).abs() < 1e-12 && (w[1] - w1).abs() < 1e-12,
            "{w:?}"
        );
        assert!((b - (ym - xm[0] * w0 - xm[1] * w1)).abs() < 1e-12);
    }
}
