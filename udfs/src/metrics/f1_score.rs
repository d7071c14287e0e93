//! `f1_score(actual, predicted)`: harmonic mean of precision and recall.
//!
//! Arguments boolean (or 0/1 numbers): TRUE = positive class. Returns float8 `2tp / (2tp + fp + fn)` (scikit-learn's `f1_score`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT f1_score(churn = 'Yes', predicted_churn = 'Yes') FROM ml_predict('churn', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `f1_score` aggregate function.
pub fn f1_score() -> AggregateUDF {
    pair_metric("f1_score", PairKind::F1)
}
