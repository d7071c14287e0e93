//! `outlier_zscore(x [, threshold]) OVER (…)`: whether a number lies more than
//! `threshold` standard deviations from the mean of its window partition.
//!
//! - `x`: any numeric type; `threshold`: number literal > 0, default 3.
//! - Returns boolean `|x − mean| / stddev > threshold`, with the sample
//!   standard deviation (n − 1, like PostgreSQL's `stddev` and
//!   `standard_scaler`). A constant partition has no outliers. NULL → NULL.
//! - Errors: 42804 when `x` is not numeric; 22023 for a bad threshold.
//!
//! Example: `SELECT * FROM (SELECT customer_id, outlier_zscore(total_charges) OVER () AS o FROM telco_customers) WHERE o`

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{float_param, floats, mean_std, numeric_to_bool, partition_function};
use crate::error::invalid;

/// The `outlier_zscore` window function.
pub fn outlier_zscore() -> WindowUDF {
    partition_function("outlier_zscore", &[1, 2], numeric_to_bool, compute)
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let t = float_param("outlier_zscore", params, 0, "threshold", 3.0)?;
    if t <= 0.0 {
        return Err(invalid(format!(
            "outlier_zscore: threshold must be positive, got {t}"
        )));
    }
    let v = floats(values)?;
    let (mean, std) = mean_std(&v).unwrap_or((0.0, 0.0));
    let out: BooleanArray = v
        .iter()
        .map(|x| {
            x.filter(|x| !x.is_nan())
                .map(|x| std > 0.0 && (x - mean).abs() / std > t)
        })
        .collect();
    Ok(Arc::new(out))
}
