//! Column statistics shared by the preprocessing window functions
//! (`standard_scaler`, `robust_scaler`, `quantile_bucketize`, `imputer`,
//! `label_encoder`, …) and by a model's `transform` option, so that a
//! function used on its own and the same function captured in a model fit
//! exactly the same numbers.
//!
//! Every function skips NULL (`None`) and NaN values.

use std::collections::BTreeMap;

/// The non-NULL, non-NaN values, sorted ascending.
pub fn sorted_present(values: &[Option<f64>]) -> Vec<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|x| !x.is_nan())
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Mean and sample standard deviation (n − 1 in the denominator, like
/// PostgreSQL's `stddev` and BigQuery's `STDDEV`) of the non-NULL, non-NaN
/// values; `None` when there are none, std 0 when there is one.
pub fn mean_std(values: &[Option<f64>]) -> Option<(f64, f64)> {
    let v: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|x| !x.is_nan())
        .collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return Some((mean, 0.0));
    }
    let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
    Some((mean, (ss / (n - 1.0)).sqrt()))
}

/// The `q`-quantile (0 ≤ q ≤ 1) of sorted, non-empty values with linear
/// interpolation between closest ranks — numpy's default
/// (`method='linear'`), used by pandas `quantile` and scikit-learn's
/// `RobustScaler`.
pub fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The split points of `num_buckets` quantile buckets over sorted values:
/// the k/num_buckets quantiles (k = 1 … num_buckets − 1), each the smallest
/// value whose cumulative share reaches k/num_buckets (numpy's
/// `quantile(method='inverted_cdf')`, which reproduces BigQuery ML's
/// `ML.QUANTILE_BUCKETIZE` example). Repeated points count once.
pub fn quantile_splits(sorted: &[f64], num_buckets: usize) -> Vec<f64> {
    let mut splits: Vec<f64> = Vec::new();
    if sorted.is_empty() {
        return splits;
    }
    for k in 1..num_buckets {
        // smallest rank r with r / len >= k / n
        let rank = (k * sorted.len()).div_ceil(num_buckets).max(1);
        let p = sorted[rank - 1];
        if splits.last() != Some(&p) {
            splits.push(p);
        }
    }
    splits
}

/// The bucket label of `x` between ascending split points: `bin_<i>`, i = 1
/// + the number of split points ≤ x (BigQuery ML's `ML.BUCKETIZE`).
pub fn bucket_label(splits: &[f64], x: f64) -> String {
    format!("bin_{}", splits.partition_point(|p| *p <= x) + 1)
}

/// The most frequent of values given in ascending order (equal values
/// adjacent); a tie goes to the first, i.e. the smallest (scikit-learn's
/// `SimpleImputer(strategy='most_frequent')`).
pub fn most_frequent<T: PartialEq + Clone>(sorted: impl Iterator<Item = T>) -> Option<T> {
    let mut best: Option<(T, usize)> = None;
    let mut run: Option<(T, usize)> = None;
    for x in sorted {
        run = match run {
            Some((v, n)) if v == x => Some((v, n + 1)),
            _ => Some((x, 1)),
        };
        let (v, n) = run.as_ref().expect("set above");
        if best.as_ref().is_none_or(|b| *n > b.1) {
            best = Some((v.clone(), *n));
        }
    }
    best.map(|b| b.0)
}

/// The most frequent text value (ties to the alphabetically first).
pub fn most_frequent_text(values: &[Option<String>]) -> Option<String> {
    let mut present: Vec<&String> = values.iter().flatten().collect();
    present.sort();
    most_frequent(present.into_iter()).cloned()
}

/// The vocabulary of `values` as BigQuery ML builds it for `ML.LABEL_ENCODER`
/// and `ML.ONE_HOT_ENCODER`: categories seen at least `threshold` times, the
/// `top_k` most frequent of those (a tie in frequency goes to the
/// alphabetically first), sorted by byte order. A category's 1-based position
/// in the result is its label.
pub fn vocabulary(values: &[Option<String>], top_k: usize, threshold: usize) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values.iter().flatten() {
        *counts.entry(v.as_str()).or_insert(0) += 1;
    }
    let mut kept: Vec<(&str, usize)> = counts
        .into_iter()
        .filter(|(_, n)| *n >= threshold)
        .collect();
    // most frequent first; the sort is stable, so ties stay alphabetical
    kept.sort_by_key(|k| std::cmp::Reverse(k.1));
    kept.truncate(top_k);
    let mut names: Vec<String> = kept.into_iter().map(|(s, _)| s.to_string()).collect();
    names.sort();
    names
}

/// The most frequent category of a vocabulary's values (ties to the
/// alphabetically first): the category `drop => 'most_frequent'` drops.
pub fn most_frequent_in(values: &[Option<String>], vocabulary: &[String]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values.iter().flatten() {
        if vocabulary.binary_search(v).is_ok() {
            *counts.entry(v.as_str()).or_insert(0) += 1;
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (k, n) in counts {
        if best.is_none_or(|b| n > b.1) {
            best = Some((k, n));
        }
    }
    best.map(|b| b.0.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_splits_follow_bigquery_example() {
        // BigQuery's documented example: 1..5 in 3 buckets → 1 | 2 3 | 4 5
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        let splits = quantile_splits(&s, 3);
        let labels: Vec<String> = s.iter().map(|x| bucket_label(&splits, *x)).collect();
        assert_eq!(labels, ["bin_1", "bin_2", "bin_2", "bin_3", "bin_3"]);
    }

    #[test]
    fn vocabulary_and_most_frequent() {
        let v: Vec<Option<String>> = ["b", "a", "b", "c", "c", "c"]
            .iter()
            .map(|s| Some(s.to_string()))
            .chain([None])
            .collect();
        assert_eq!(vocabulary(&v, 2, 1), ["b", "c"]);
        assert_eq!(vocabulary(&v, 10, 2), ["b", "c"]);
        assert_eq!(most_frequent_text(&v).as_deref(), Some("c"));
        assert_eq!(
            most_frequent_in(&v, &["a".into(), "b".into()]).as_deref(),
            Some("b")
        );
        assert_eq!(
            mean_std(&[Some(1.0), Some(3.0), None]),
            Some((2.0, 2f64.sqrt()))
        );
        assert_eq!(quantile_linear(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    }
}
