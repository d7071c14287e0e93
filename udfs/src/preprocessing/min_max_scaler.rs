//! `min_max_scaler(x) OVER (…)`: a number rescaled to [0, 1] by the minimum
//! and maximum of its window partition, BigQuery ML's `ML.MIN_MAX_SCALER`
//! (scikit-learn's `MinMaxScaler`).
//!
//! - `x`: any numeric type. Returns float8 `(x − min) / (max − min)`.
//! - NULL stays NULL and is left out of the statistics. A constant
//!   partition gives 0, as scikit-learn does.
//! - Errors: 42804 when `x` is not numeric.
//!
//! Example: `SELECT min_max_scaler(monthly_charges) OVER () FROM telco_customers`

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{floats, map_floats, numeric_to_float, partition_function, sorted_present};

/// The `min_max_scaler` window function.
pub fn min_max_scaler() -> WindowUDF {
    partition_function("min_max_scaler", &[1], numeric_to_float, compute)
}

fn compute(values: &ArrayRef, _params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let v = floats(values)?;
    let s = sorted_present(&v);
    let (min, max) = match (s.first(), s.last()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (0.0, 0.0),
    };
    let range = if max > min { max - min } else { 1.0 };
    Ok(map_floats(&v, |x| (x - min) / range))
}
