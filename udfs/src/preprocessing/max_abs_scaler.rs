//! `max_abs_scaler(x) OVER (…)`: a number divided by the largest absolute
//! value of its window partition, so it lies in [−1, 1] without being
//! shifted; BigQuery ML's `ML.MAX_ABS_SCALER` (scikit-learn's `MaxAbsScaler`).
//!
//! - `x`: any numeric type. Returns float8 `x / max(|x|)`.
//! - NULL stays NULL and is left out of the statistics. An all-zero
//!   partition is returned unchanged (0), as scikit-learn does.
//! - Errors: 42804 when `x` is not numeric.
//!
//! Example: `SELECT max_abs_scaler(tenure) OVER () FROM telco_customers`

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{floats, map_floats, numeric_to_float, partition_function};

/// The `max_abs_scaler` window function.
pub fn max_abs_scaler() -> WindowUDF {
    partition_function("max_abs_scaler", &[1], numeric_to_float, compute)
}

fn compute(values: &ArrayRef, _params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let v = floats(values)?;
    let max = v
        .iter()
        .flatten()
        .filter(|x| !x.is_nan())
        .fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max } else { 1.0 };
    Ok(map_floats(&v, |x| x / scale))
}
