//! `r2_score(actual, predicted)`: coefficient of determination.
//!
//! Both arguments numeric (read as float8). Returns float8 `1 - SS_res / SS_tot`, NULL when `actual` is constant (scikit-learn's `r2_score`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT r2_score(monthly_charges, predicted_monthly_charges) FROM ml_predict('charges', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `r2_score` aggregate function.
pub fn r2_score() -> AggregateUDF {
    pair_metric("r2_score", PairKind::R2)
}
