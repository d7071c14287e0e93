//! `mae(actual, predicted)`: mean absolute error.
//!
//! Both arguments numeric (read as float8). Returns float8 `mean(abs(actual - predicted))` (scikit-learn's `mean_absolute_error`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT mae(monthly_charges, predicted_monthly_charges) FROM ml_predict('charges', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `mae` aggregate function.
pub fn mae() -> AggregateUDF {
    pair_metric("mae", PairKind::Mae)
}
