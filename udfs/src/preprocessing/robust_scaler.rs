//! `robust_scaler(x [, quantile_range [, with_median [, with_quantile_range]]]) OVER (…)`:
//! a number centred on the median of its window partition and divided by a
//! quantile range, BigQuery ML's `ML.ROBUST_SCALER` and scikit-learn's
//! `RobustScaler`.
//!
//! - `x`: any numeric type.
//! - `quantile_range`: array literal `[low, high]` of percentages,
//!   0 < low < high < 100, default `[25, 75]`; `with_median`,
//!   `with_quantile_range`: boolean literals, default true.
//! - Returns float8 `(x − median) / (q_high − q_low)` (without the median or
//!   the division when switched off); the quantiles interpolate linearly
//!   between closest ranks (numpy's default, as scikit-learn uses).
//! - NULL stays NULL and is left out of the statistics. A zero
//!   interquartile range divides by 1, as scikit-learn does.
//! - Errors: 42804 when `x` is not numeric; 22023 for a bad
//!   `quantile_range` or a non-literal option.
//!
//! Example: `SELECT robust_scaler(total_charges) OVER () FROM telco_customers`

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use crate::error::invalid;

use super::window::{
    floats, map_floats, numeric_to_float, partition_function, quantile_linear, sorted_present,
};

/// The `robust_scaler` window function.
pub fn robust_scaler() -> WindowUDF {
    partition_function("robust_scaler", &[1, 2, 3, 4], numeric_to_float, compute)
}

/// The `[low, high]` percentages of the quantile range.
fn quantile_range(params: &[Option<ScalarValue>]) -> Result<(f64, f64)> {
    let bad = || {
        invalid(
            "robust_scaler: quantile_range must be an array literal [low, high] with 0 < low < high < 100",
        )
    };
    let Some(p) = params.first() else {
        return Ok((25.0, 75.0));
    };
    let Some(s) = p else { return Err(bad()) };
    let a = s.to_array().map_err(|_| bad())?;
    let a = cast(
        &a,
        &DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
    )
    .map_err(|_| bad())?;
    let a = a.as_list::<i32>();
    if a.is_empty() || a.is_null(0) {
        return Err(bad());
    }
    let v: Vec<Option<f64>> = a.value(0).as_primitive::<Float64Type>().iter().collect();
    match v.as_slice() {
        [Some(lo), Some(hi)] if 0.0 < *lo && lo < hi && *hi < 100.0 => Ok((*lo, *hi)),
        _ => Err(bad()),
    }
}

fn bool_param(params: &[Option<ScalarValue>], i: usize, what: &str) -> Result<bool> {
    match params.get(i) {
        None => Ok(true),
        Some(Some(ScalarValue::Boolean(Some(b)))) => Ok(*b),
        _ => Err(invalid(format!(
            "robust_scaler: {what} must be a boolean literal"
        ))),
    }
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let (lo, hi) = quantile_range(params)?;
    let with_median = bool_param(params, 1, "with_median")?;
    let with_range = bool_param(params, 2, "with_quantile_range")?;
    let v = floats(values)?;
    let s = sorted_present(&v);
    if s.is_empty() {
        return Ok(map_floats(&v, |x| x));
    }
    let median = if with_median {
        quantile_linear(&s, 0.5)
    } else {
        0.0
    };
    let iqr = quantile_linear(&s, hi / 100.0) - quantile_linear(&s, lo / 100.0);
    let scale = if with_range && iqr > 0.0 { iqr } else { 1.0 };
    Ok(map_floats(&v, |x| (x - median) / scale))
}
