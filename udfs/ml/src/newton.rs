//! Binary logistic regression by Newton's method with a Cholesky solve
//! (scikit-learn's `newton-cholesky` solver, its choice when rows far
//! outnumber features).
//!
//! Same objective and stopping rule as [`crate::logistic`] (mean log loss +
//! `alpha / (2n) · ‖w‖²`, stop when the gradient's norm is below the
//! tolerance), so it reaches the same optimum; each iteration costs one pass
//! for the gradient and Hessian and one (usually) for the step's loss.
//! Why: L-BFGS needed 144 iterations (about 170 loss/gradient passes) on
//! telco churn ×30 (169,050 rows, 41 features), where Newton needs under ten
//! Hessian passes. A Hessian that is not positive definite (no penalty on a
//! rank-deficient design) returns `None` so the caller can fall back to
//! L-BFGS.

use ndarray::ArrayView2;

use crate::parallel::map_blocks;

/// Fits `(coefficients, intercept, iterations)`, or `None` when a Newton
/// system cannot be solved.
pub fn fit(
    x: ArrayView2<f64>,
    y: &[f64],
    alpha: f64,
    max_iterations: u64,
    tolerance: f64,
) -> Option<(Vec<f64>, f64, u64)> {
    let (n, p) = x.dim();
    let q = p + 1;
    let nf = n.max(1) as f64;
    let mut w = vec![0.0; q];
    let mut iterations = 0;
    let penalty = |w: &[f64]| 0.5 * alpha * w[..p].iter().map(|v| v * v).sum::<f64>();
    let mut cost = loss(x, y, &w) + penalty(&w) / nf;
    while iterations < max_iterations {
        let (mut grad, mut hess) = gradient_hessian(x, y, &w);
        for j in 0..q {
            grad[j] /= nf;
            for k in j..q {
                hess[j * q + k] /= nf;
            }
        }
        for j in 0..p {
            grad[j] += alpha * w[j] / nf;
            hess[j * q + j] += alpha / nf;
        }
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        if norm < tolerance {
            break;
        }
        iterations += 1;
        let step = cholesky_solve(&hess, q, &grad)?;
        // backtracking (Armijo) along the Newton direction −step
        let slope: f64 = -grad.iter().zip(&step).map(|(g, s)| g * s).sum::<f64>();
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let trial: Vec<f64> = w.iter().zip(&step).map(|(a, s)| a - t * s).collect();
            let c = loss(x, y, &trial) + penalty(&trial) / nf;
            if c <= cost + 1e-4 * t * slope {
                w = trial;
                cost = c;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // no decrease along the Newton direction: at the optimum to
            // rounding, or the system was too ill-conditioned
            break;
        }
    }
    w.iter()
        .all(|v| v.is_finite())
        .then(|| (w[..p].to_vec(), w[p], iterations))
}

/// Σ softplus(−y·z) over all rows.
fn loss(x: ArrayView2<f64>, y: &[f64], w: &[f64]) -> f64 {
    let p = x.ncols();
    map_blocks(x.nrows(), |lo, hi| {
        let mut s = 0.0;
        for (i, yi) in y.iter().enumerate().take(hi).skip(lo) {
            let row = x.row(i);
            let z = row.iter().zip(&w[..p]).map(|(a, b)| a * b).sum::<f64>() + w[p];
            let t = yi * z;
            s += (-t).max(0.0) + (-t.abs()).exp().ln_1p();
        }
        s
    })
    .iter()
    .sum()
}

/// The loss's gradient (coefficients, then intercept) and the upper triangle
/// of its Hessian (row-major, `(p+1)²`), summed over rows.
fn gradient_hessian(x: ArrayView2<f64>, y: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let p = x.ncols();
    let q = p + 1;
    let parts = map_blocks(x.nrows(), |lo, hi| {
        let mut g = vec![0.0; q];
        let mut h = vec![0.0; q * q];
        let mut xe = vec![1.0; q];
        for (i, yi) in y.iter().enumerate().take(hi).skip(lo) {
            for (d, s) in xe[..p].iter_mut().zip(x.row(i).iter()) {
                *d = *s;
            }
            let z = xe[..p].iter().zip(&w[..p]).map(|(a, b)| a * b).sum::<f64>() + w[p];
            let t = yi * z;
            let e = (-t.abs()).exp();
            // σ(−t), and σ(z)(1 − σ(z)) = e / (1 + e)²
            let sig_neg = if t >= 0.0 {
                e / (1.0 + e)
            } else {
                1.0 / (1.0 + e)
            };
            let r = -yi * sig_neg;
            let d = e / ((1.0 + e) * (1.0 + e));
            for (gj, v) in g.iter_mut().zip(&xe) {
                *gj += r * v;
            }
            for j in 0..q {
                let a = d * xe[j];
                if a == 0.0 {
                    continue;
                }
                for (hk, v) in h[j * q + j..(j + 1) * q].iter_mut().zip(&xe[j..]) {
                    *hk += a * v;
                }
            }
        }
        (g, h)
    });
    let mut g = vec![0.0; q];
    let mut h = vec![0.0; q * q];
    for (pg, ph) in parts {
        g.iter_mut().zip(&pg).for_each(|(a, b)| *a += b);
        h.iter_mut().zip(&ph).for_each(|(a, b)| *a += b);
    }
    (g, h)
}

/// Solves `H s = g` for symmetric positive definite `H` given by its upper
/// triangle (row-major, `q × q`); `None` when `H` is not positive definite.
fn cholesky_solve(h: &[f64], q: usize, g: &[f64]) -> Option<Vec<f64>> {
    // H = L Lᵀ with L lower triangular (row-major), from the upper triangle
    let mut l = vec![0.0; q * q];
    for i in 0..q {
        for j in 0..=i {
            let mut s = h[j * q + i];
            for k in 0..j {
                s -= l[i * q + k] * l[j * q + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * q + i] = s.sqrt();
            } else {
                l[i * q + j] = s / l[j * q + j];
            }
        }
    }
    // L u = g, then Lᵀ s = u
    let mut u = vec![0.0; q];
    for i in 0..q {
        let s: f64 = (0..i).map(|k| l[i * q + k] * u[k]).sum();
        u[i] = (g[i] - s) / l[i * q + i];
    }
    let mut s = vec![0.0; q];
    for i in (0..q).rev() {
        let t: f64 = (i + 1..q).map(|k| l[k * q + i] * s[k]).sum();
        s[i] = (u[i] - t) / l[i * q + i];
    }
    Some(s)
}
