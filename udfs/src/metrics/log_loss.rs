//! `log_loss(actual, probability)`: mean binary cross-entropy of predicted probabilities.
//!
//! `actual` boolean (TRUE = positive), `probability` float8 of the positive class, clipped to [ε, 1 - ε] with ε the float64 machine epsilon. Returns float8 (scikit-learn's `log_loss`).
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT log_loss(churn = 'Yes', probability) FROM ml_predict('churn', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `log_loss` aggregate function.
pub fn log_loss() -> AggregateUDF {
    pair_metric("log_loss", PairKind::LogLoss)
}
