//! Linear support vector machine (two classes), fitted by linfa-svm's SMO
//! solver with a linear kernel: the C-SVC of libsvm / scikit-learn's
//! `SVC(kernel='linear', C = 1 / l2_reg)` — hinge loss, unpenalised
//! intercept, stopping tolerance 1e-3.
//!
//! The fitted model is stored as its separating hyperplane: coefficient `j`
//! is the decision value of the unit vector `e_j` minus that of the origin,
//! and the intercept is `-rho`. No probabilities are given: Platt scaling on
//! the training rows' own decision values is over-confident (libsvm
//! calibrates on internal cross-validation folds instead), so `predict_proba`
//! refuses a `linear_svm` model.

use linfa::prelude::*;
use linfa_svm::Svm;
use ndarray::{Array1, Array2};

use crate::error::{MlError, Result, sqlstate};

/// The solver holds the full rows × rows kernel matrix (8 bytes a cell).
pub const MAX_ROWS: usize = 10_000;

/// Fits `x` (rows × encoded features) against `y` (true = the positive
/// class) with penalty `c`; returns (coefficients, intercept).
pub fn fit(x: &Array2<f64>, y: &[bool], c: f64) -> Result<(Vec<f64>, f64)> {
    if x.nrows() > MAX_ROWS {
        return Err(super::too_many_rows("linear_svm", x.nrows(), MAX_ROWS));
    }
    let dataset = Dataset::new(x.clone(), Array1::from(y.to_vec()));
    let fitted: Svm<f64, bool> = Svm::<f64, bool>::params()
        .linear_kernel()
        .pos_neg_weights(c, c)
        .eps(1e-3)
        .fit(&dataset)
        .map_err(|e| MlError::new(sqlstate::DATA_EXCEPTION, format!("linear_svm failed: {e}")))?;
    let d = x.ncols();
    let origin = fitted.weighted_sum(&Array1::<f64>::zeros(d));
    let coefficients: Vec<f64> = (0..d)
        .map(|j| {
            let mut e = Array1::<f64>::zeros(d);
            e[j] = 1.0;
            fitted.weighted_sum(&e) - origin
        })
        .collect();
    let intercept = origin - fitted.rho;
    if !intercept.is_finite() || coefficients.iter().any(|w| !w.is_finite()) {
        return Err(MlError::new(
            sqlstate::DATA_EXCEPTION,
            "linear_svm failed: the solver returned a non-finite hyperplane",
        ));
    }
    Ok((coefficients, intercept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hyperplane_agrees_with_linfa_predictions() {
        // two separable groups along x0 + x1
        let x = array![
            [0.0, 0.0],
            [0.5, 0.2],
            [0.2, 0.4],
            [2.0, 2.0],
            [2.5, 1.8],
            [1.9, 2.6]
        ];
        let y = [false, false, false, true, true, true];
        let (w, b) = fit(&x, &y, 1.0).unwrap();
        for (row, want) in x.rows().into_iter().zip(y) {
            let score = row.dot(&Array1::from(w.clone())) + b;
            assert_eq!(score >= 0.0, want, "{score}");
        }
        // the maximum-margin separator of this data is symmetric in x0, x1
        assert!((w[0] - w[1]).abs() < 0.3 * w[0].abs(), "{w:?}");
    }
}
