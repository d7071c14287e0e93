//! `rmse(actual, predicted)`: root mean squared error.
//!
//! Both arguments numeric (read as float8). Returns float8 `sqrt(mean((actual - predicted)^2))` (scikit-learn's `root_mean_squared_error`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT rmse(monthly_charges, predicted_monthly_charges) FROM ml_predict('charges', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `rmse` aggregate function.
pub fn rmse() -> AggregateUDF {
    pair_metric("rmse", PairKind::Rmse)
}
