//! `roc_auc(actual, score)`: area under the ROC curve.
//!
//! `actual` boolean (TRUE = positive), `score` float8, higher = more likely positive. Computed by the rank-sum formula with ties at their average rank, equal to scikit-learn's `roc_auc_score`. NULL unless both classes occur.
//! NULL policy: rows where either argument is NULL are skipped; no rows → NULL.
//! Errors: 42804 when an argument cannot be read as the type above.
//! The state is the list of pairs, so partial aggregates merge exactly.
//!
//! Example: `SELECT roc_auc(churn = 'Yes', probability) FROM ml_predict('churn', 'SELECT * FROM telco_customers')`

use datafusion::logical_expr::AggregateUDF;

use super::pairs::{PairKind, pair_metric};

/// The `roc_auc` aggregate function.
pub fn roc_auc() -> AggregateUDF {
    pair_metric("roc_auc", PairKind::RocAuc)
}
