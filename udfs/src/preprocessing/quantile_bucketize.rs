//! `quantile_bucketize(x, num_buckets) OVER (…)`: the quantile bucket of a
//! number within its window partition, BigQuery ML's `ML.QUANTILE_BUCKETIZE`.
//!
//! - `x`: any numeric type; `num_buckets`: integer literal ≥ 1.
//! - The split points are the k/num_buckets quantiles (k = 1 … num_buckets − 1)
//!   of the partition's non-NULL values, each the smallest value whose
//!   cumulative share reaches k/num_buckets (numpy's
//!   `quantile(method='inverted_cdf')`; this reproduces BigQuery's documented
//!   example, 1..5 in 3 buckets → 1 | 2 3 | 4 5). Repeated split points
//!   count once, so heavy ties give fewer buckets.
//! - Returns text `bin_<i>`, i = 1 + the number of split points ≤ x. NULL → NULL.
//!   (scikit-learn's `KBinsDiscretizer(strategy='quantile')` interpolates its
//!   edges and so can differ at the boundaries.)
//! - Errors: 42804 when `x` is not numeric; 22023 when `num_buckets` is not
//!   a positive integer literal.
//!
//! Example: `SELECT quantile_bucketize(tenure, 4) OVER () FROM telco_customers`

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{floats, int_param, partition_function, require_numeric, sorted_present};
use crate::error::invalid;

/// The `quantile_bucketize` window function.
/// Most buckets `quantile_bucketize` makes.
pub const MAX_BUCKETS: i64 = 1_000_000;

pub fn quantile_bucketize() -> WindowUDF {
    partition_function(
        "quantile_bucketize",
        &[2],
        |name, types| {
            require_numeric(name, types)?;
            Ok(DataType::Utf8)
        },
        compute,
    )
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let n = int_param("quantile_bucketize", params, 0, "num_buckets", 0)?;
    if !(1..=MAX_BUCKETS).contains(&n) {
        return Err(invalid(format!(
            "quantile_bucketize: num_buckets must be from 1 to {MAX_BUCKETS}, got {n}"
        )));
    }
    let n = n as usize;
    let v = floats(values)?;
    let s = sorted_present(&v);
    let splits = augur_ml::stats::quantile_splits(&s, n);
    let out: StringArray = v
        .iter()
        .map(|x| x.map(|x| augur_ml::stats::bucket_label(&splits, x)))
        .collect();
    Ok(Arc::new(out))
}
