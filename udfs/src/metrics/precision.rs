//! `precision(actual, predicted)`: of the rows predicted positive, the share that are positive.
//!
//! Arguments boolean (or 0/1 numbers): TRUE = positive class. Returns float8 `tp / (tp + fp)`, NULL when nothing is predicted positive (scikit-learn's `precision_score`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT precision(churn = 'Yes', predicted_churn = 'Yes') FROM ml_predict('churn', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `precision` aggregate function.
pub fn precision() -> AggregateUDF {
    pair_metric("precision", PairKind::Precision)
}
