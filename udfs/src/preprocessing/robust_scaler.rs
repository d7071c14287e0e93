//! `robust_scaler(x) OVER (…)`: a number centred on the median of its window
//! partition and divided by the interquartile range, BigQuery ML's
//! `ML.ROBUST_SCALER` with its defaults (quantile range [25, 75], centring
//! and scaling on), and scikit-learn's `RobustScaler`.
//!
//! - `x`: any numeric type. Returns float8 `(x − median) / (q75 − q25)`;
//!   the quantiles interpolate linearly between closest ranks (numpy's
//!   default, as scikit-learn uses).
//! - NULL stays NULL and is left out of the statistics. A zero
//!   interquartile range divides by 1, as scikit-learn does.
//! - Errors: 42804 when `x` is not numeric.
//!
//! Example: `SELECT robust_scaler(total_charges) OVER () FROM telco_customers`

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{
    floats, map_floats, numeric_to_float, partition_function, quantile_linear, sorted_present,
};

/// The `robust_scaler` window function.
pub fn robust_scaler() -> WindowUDF {
    partition_function("robust_scaler", &[1], numeric_to_float, compute)
}

fn compute(values: &ArrayRef, _params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let v = floats(values)?;
    let s = sorted_present(&v);
    if s.is_empty() {
        return Ok(map_floats(&v, |x| x));
    }
    let median = quantile_linear(&s, 0.5);
    let iqr = quantile_linear(&s, 0.75) - quantile_linear(&s, 0.25);
    let scale = if iqr > 0.0 { iqr } else { 1.0 };
    Ok(map_floats(&v, |x| (x - median) / scale))
}
