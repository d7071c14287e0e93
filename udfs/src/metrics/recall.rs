//! `recall(actual, predicted)`: of the positive rows, the share predicted positive.
//!
//! Arguments boolean (or 0/1 numbers): TRUE = positive class. Returns float8 `tp / (tp + fn)`, NULL when no row is positive (scikit-learn's `recall_score`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT recall(churn = 'Yes', predicted_churn = 'Yes') FROM ml_predict('churn', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `recall` aggregate function.
pub fn recall() -> AggregateUDF {
    pair_metric("recall", PairKind::Recall)
}
