//! Evaluation metrics as aggregate functions over `(actual, predicted)` rows.

mod pairs;

pub mod accuracy;
pub mod f1_score;
pub mod log_loss;
pub mod mae;
pub mod precision;
pub mod r2_score;
pub mod recall;
pub mod rmse;
pub mod roc_auc;
pub mod silhouette;

use datafusion::logical_expr::AggregateUDF;

/// Every metric aggregate.
pub fn functions() -> Vec<AggregateUDF> {
    vec![
        accuracy::accuracy(),
        precision::precision(),
        recall::recall(),
        f1_score::f1_score(),
        log_loss::log_loss(),
        roc_auc::roc_auc(),
        rmse::rmse(),
        mae::mae(),
        r2_score::r2_score(),
        silhouette::silhouette(),
    ]
}
