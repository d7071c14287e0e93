//! Evaluation metrics, with scikit-learn's definitions.
//!
//! Every function returns `None` when the metric is undefined for its input
//! (no rows, a zero denominator, one class for ROC AUC, one cluster for the
//! silhouette); the SQL layer turns `None` into NULL.

use ndarray::{Array2, ArrayView2};

/// Share of rows where the prediction equals the label.
pub fn accuracy<T: PartialEq>(actual: &[T], predicted: &[T]) -> Option<f64> {
    if actual.is_empty() {
        return None;
    }
    let hits = actual.iter().zip(predicted).filter(|(a, p)| a == p).count();
    Some(hits as f64 / actual.len() as f64)
}

/// True positives, false positives, false negatives of a binary prediction.
pub fn confusion(actual: &[bool], predicted: &[bool]) -> (u64, u64, u64) {
    let mut tp = 0;
    let mut fp = 0;
    let mut fn_ = 0;
    for (a, p) in actual.iter().zip(predicted) {
        match (a, p) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
    }
    (tp, fp, fn_)
}

/// `tp / (tp + fp)`.
pub fn precision_from(tp: u64, fp: u64) -> Option<f64> {
    (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64)
}

/// `tp / (tp + fn)`.
pub fn recall_from(tp: u64, fn_: u64) -> Option<f64> {
    (tp + fn_ > 0).then(|| tp as f64 / (tp + fn_) as f64)
}

/// `2·tp / (2·tp + fp + fn)`, the harmonic mean of precision and recall.
pub fn f1_from(tp: u64, fp: u64, fn_: u64) -> Option<f64> {
    (2 * tp + fp + fn_ > 0).then(|| 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64)
}

/// Probabilities are clipped to `[eps, 1 - eps]` with `eps` the float64
/// machine epsilon, as scikit-learn (1.5 and later) does.
pub const LOG_LOSS_EPS: f64 = f64::EPSILON;

/// One row's contribution to the log loss: `-ln p` for a positive, `-ln(1-p)` otherwise.
pub fn log_loss_term(actual: bool, p: f64) -> f64 {
    let p = p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
    if actual { -p.ln() } else { -(1.0 - p).ln() }
}

/// Mean binary cross-entropy.
pub fn log_loss(actual: &[bool], p: &[f64]) -> Option<f64> {
    if actual.is_empty() {
        return None;
    }
    let s: f64 = actual
        .iter()
        .zip(p)
        .map(|(a, p)| log_loss_term(*a, *p))
        .sum();
    Some(s / actual.len() as f64)
}

/// Area under the ROC curve, by the rank-sum (Mann–Whitney U) formula with tied
/// scores given their average rank — equal to the trapezoidal area scikit-learn
/// computes. `None` when either class is absent.
pub fn roc_auc(actual: &[bool], score: &[f64]) -> Option<f64> {
    let n = actual.len();
    let n_pos = actual.iter().filter(|a| **a).count();
    let n_neg = n - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|a, b| score[*a].total_cmp(&score[*b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            if actual[*k] {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    let u = rank_sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

/// Root mean squared error.
pub fn rmse(actual: &[f64], predicted: &[f64]) -> Option<f64> {
    if actual.is_empty() {
        return None;
    }
    let s: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).powi(2))
        .sum();
    Some((s / actual.len() as f64).sqrt())
}

/// Mean absolute error.
pub fn mae(actual: &[f64], predicted: &[f64]) -> Option<f64> {
    if actual.is_empty() {
        return None;
    }
    let s: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).abs())
        .sum();
    Some(s / actual.len() as f64)
}

/// Coefficient of determination `1 - SS_res / SS_tot`; `None` for a constant label.
pub fn r2_score(actual: &[f64], predicted: &[f64]) -> Option<f64> {
    let n = actual.len() as f64;
    if actual.is_empty() {
        return None;
    }
    let mean = actual.iter().sum::<f64>() / n;
    let ss_tot: f64 = actual.iter().map(|a| (a - mean).powi(2)).sum();
    let ss_res: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).powi(2))
        .sum();
    (ss_tot > 0.0).then(|| 1.0 - ss_res / ss_tot)
}

/// Sum of squared distances of each row to its assigned centroid (scikit-learn's `inertia_`).
pub fn inertia(x: &Array2<f64>, centroids: &[Vec<f64>], assignment: &[usize]) -> f64 {
    x.rows()
        .into_iter()
        .zip(assignment)
        .map(|(row, c)| {
            row.iter()
                .zip(&centroids[*c])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
        })
        .sum()
}

/// Mean silhouette coefficient (Rousseeuw 1987) with Euclidean distance, as
/// scikit-learn's `silhouette_score`: for each row, `a` is the mean distance to
/// the other rows of its cluster, `b` the lowest mean distance to another
/// cluster, `s = (b - a) / max(a, b)`, and `s = 0` for a row alone in its
/// cluster. `None` unless there are between 2 and n-1 clusters. O(n²·d).
pub fn silhouette(x: ArrayView2<f64>, labels: &[usize]) -> Option<f64> {
    let n = x.nrows();
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut counts = vec![0usize; k];
    for l in labels {
        counts[*l] += 1;
    }
    let used = counts.iter().filter(|c| **c > 0).count();
    if used < 2 || used >= n {
        return None;
    }
    let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
    let mut sums = vec![0.0f64; k];
    let mut total = 0.0;
    for i in 0..n {
        sums.iter_mut().for_each(|s| *s = 0.0);
        let ri = &rows[i];
        for (j, rj) in rows.iter().enumerate() {
            let d2: f64 = ri.iter().zip(rj).map(|(a, b)| (a - b) * (a - b)).sum();
            sums[labels[j]] += d2.sqrt();
        }
        let own = labels[i];
        if counts[own] <= 1 {
            continue;
        }
        let a = sums[own] / (counts[own] - 1) as f64;
        let b = (0..k)
            .filter(|c| *c != own && counts[*c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    Some(total / n as f64)
}

/// Metrics of a classifier with more than two classes, from the true class
/// index of each row and the rows × classes probability matrix, as
/// scikit-learn computes them: `accuracy`; `precision`, `recall`, `f1_score`
/// macro-averaged over the classes that occur in the labels or the
/// predictions (an undefined ratio counts as 0, scikit-learn's
/// `zero_division=0`); `log_loss` = mean `-ln p(true class)` clipped at ε;
/// `roc_auc` one-vs-rest, macro-averaged over the classes that occur.
pub fn multiclass_metrics(y: &[usize], p: &Array2<f64>) -> Vec<(&'static str, Option<f64>)> {
    let k = p.ncols();
    let predicted: Vec<usize> = p
        .rows()
        .into_iter()
        .map(|r| crate::model::argmax(r.iter().copied()).0)
        .collect();
    let mut prec = Vec::new();
    let mut rec = Vec::new();
    let mut f1 = Vec::new();
    let mut aucs = Vec::new();
    for c in 0..k {
        let actual: Vec<bool> = y.iter().map(|v| *v == c).collect();
        let pred: Vec<bool> = predicted.iter().map(|v| *v == c).collect();
        if !actual.iter().any(|a| *a) && !pred.iter().any(|a| *a) {
            continue;
        }
        let (tp, fp, fn_) = confusion(&actual, &pred);
        prec.push(precision_from(tp, fp).unwrap_or(0.0));
        rec.push(recall_from(tp, fn_).unwrap_or(0.0));
        f1.push(f1_from(tp, fp, fn_).unwrap_or(0.0));
        if let Some(a) = roc_auc(&actual, &p.column(c).to_vec()) {
            aucs.push(a);
        }
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let log_loss = (!y.is_empty()).then(|| {
        y.iter()
            .enumerate()
            .map(|(i, c)| {
                -p.get((i, *c))
                    .copied()
                    .unwrap_or(0.0)
                    .max(LOG_LOSS_EPS)
                    .ln()
            }) // a label outside the classes has probability 0
            .sum::<f64>()
            / y.len() as f64
    });
    vec![
        ("accuracy", accuracy(y, &predicted)),
        ("precision", mean(&prec)),
        ("recall", mean(&rec)),
        ("f1_score", mean(&f1)),
        ("log_loss", log_loss),
        ("roc_auc", mean(&aucs)),
    ]
}

/// The dense matrix type the metrics take (re-exported so callers need no ndarray).
pub type Matrix = Array2<f64>;

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn classification_metrics_match_hand_computation() {
        let y = [true, false, true, true, false];
        let p = [true, true, false, true, false];
        let (tp, fp, fn_) = confusion(&y, &p);
        assert_eq!((tp, fp, fn_), (2, 1, 1));
        assert_eq!(precision_from(tp, fp), Some(2.0 / 3.0));
        assert_eq!(recall_from(tp, fn_), Some(2.0 / 3.0));
        assert_eq!(f1_from(tp, fp, fn_), Some(2.0 / 3.0));
        assert_eq!(accuracy(&y, &p), Some(0.6));
    }

    #[test]
    fn roc_auc_with_ties_matches_sklearn() {
        // sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.75
        let auc = roc_auc(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert!((auc - 0.75).abs() < 1e-12);
        // ties: roc_auc_score([0,1,0,1],[0.5,0.5,0.2,0.9]) == 0.875
        let auc = roc_auc(&[false, true, false, true], &[0.5, 0.5, 0.2, 0.9]).unwrap();
        assert!((auc - 0.875).abs() < 1e-12);
        assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None);
    }

    #[test]
    fn log_loss_and_regression_metrics() {
        // sklearn.metrics.log_loss([1,0],[0.9,0.2]) == 0.164252033486018
        let ll = log_loss(&[true, false], &[0.9, 0.2]).unwrap();
        assert!((ll - 0.164_252_033_486_018).abs() < 1e-12);
        let a = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        // sklearn: mse 0.375, mae 0.5, r2 0.9486081370449679
        assert!((rmse(&a, &p).unwrap() - 0.375f64.sqrt()).abs() < 1e-12);
        assert!((mae(&a, &p).unwrap() - 0.5).abs() < 1e-12);
        assert!((r2_score(&a, &p).unwrap() - 0.948_608_137_044_967_9).abs() < 1e-12);
    }

    #[test]
    fn silhouette_matches_sklearn() {
        // sklearn.metrics.silhouette_score([[0,0],[0,1],[5,5],[5,6],[9,9]], [0,0,1,1,2])
        // == 0.6680789393441898 (the singleton cluster scores 0)
        let x = array![[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0], [9.0, 9.0]];
        let s = silhouette(x.view(), &[0, 0, 1, 1, 2]).unwrap();
        assert!((s - 0.668_078_939_344_189_8).abs() < 1e-12, "{s}");
        assert_eq!(silhouette(x.view(), &[0, 0, 0, 0, 0]), None);
    }
}
