//! `outlier_iqr(x [, k]) OVER (…)`: Tukey's fences — whether a number lies
//! below q1 − k·IQR or above q3 + k·IQR of its window partition.
//!
//! - `x`: any numeric type; `k`: number literal ≥ 0, default 1.5.
//! - q1 and q3 are the 25 % and 75 % quantiles with linear interpolation
//!   (pandas' and numpy's default), IQR = q3 − q1.
//! - Returns boolean. NULL → NULL.
//! - Errors: 42804 when `x` is not numeric; 22023 for a bad `k`.
//!
//! Example: `SELECT count(*) FILTER (WHERE o) FROM (SELECT outlier_iqr(monthly_charges) OVER () AS o FROM telco_customers)`

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{
    float_param, floats, numeric_to_bool, partition_function, quantile_linear, sorted_present,
};
use crate::error::invalid;

/// The `outlier_iqr` window function.
pub fn outlier_iqr() -> WindowUDF {
    partition_function("outlier_iqr", &[1, 2], numeric_to_bool, compute)
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let k = float_param("outlier_iqr", params, 0, "k", 1.5)?;
    if k < 0.0 {
        return Err(invalid(format!(
            "outlier_iqr: k must be 0 or more, got {k}"
        )));
    }
    let v = floats(values)?;
    let s = sorted_present(&v);
    let (lo, hi) = if s.is_empty() {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        let q1 = quantile_linear(&s, 0.25);
        let q3 = quantile_linear(&s, 0.75);
        (q1 - k * (q3 - q1), q3 + k * (q3 - q1))
    };
    let out: BooleanArray = v
        .iter()
        .map(|x| x.filter(|x| !x.is_nan()).map(|x| x < lo || x > hi))
        .collect();
    Ok(Arc::new(out))
}
