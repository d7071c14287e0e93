//! `standard_scaler(x) OVER (…)`: z-score of a number within its window
//! partition, BigQuery ML's `ML.STANDARD_SCALER`.
//!
//! - `x`: any numeric type. Returns float8: `(x − mean) / stddev` with the
//!   mean and the **sample** standard deviation (n − 1) of the partition's
//!   non-NULL values. BigQuery defines it so (its documented example scales
//!   1..5 to ±1.2649 = 2/√2.5); scikit-learn's `StandardScaler` uses the
//!   population deviation (n) instead, so its values are larger by
//!   √(n/(n−1)).
//! - NULL stays NULL and is left out of the statistics. A constant
//!   partition (or a single value) gives 0, as scikit-learn does.
//! - Errors: 42804 when `x` is not numeric.
//!
//! Example: `SELECT tenure, standard_scaler(tenure) OVER () FROM telco_customers`

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{floats, map_floats, mean_std, numeric_to_float, partition_function};

/// The `standard_scaler` window function.
pub fn standard_scaler() -> WindowUDF {
    partition_function("standard_scaler", &[1], numeric_to_float, compute)
}

fn compute(values: &ArrayRef, _params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let v = floats(values)?;
    let (mean, std) = mean_std(&v).unwrap_or((0.0, 0.0));
    let scale = if std > 0.0 { std } else { 1.0 };
    Ok(map_floats(&v, |x| (x - mean) / scale))
}
