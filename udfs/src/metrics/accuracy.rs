//! `accuracy(actual, predicted)`: share of rows where the prediction equals the label.
//!
//! Arguments of any type, compared by their text form. Returns float8 in [0, 1] (scikit-learn's `accuracy_score`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT accuracy(churn, predicted_churn) FROM ml_predict('churn', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `accuracy` aggregate function.
pub fn accuracy() -> AggregateUDF {
    pair_metric("accuracy", PairKind::Accuracy)
}
