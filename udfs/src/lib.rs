//! Augur's SQL functions, one per file, grouped by area:
//!
//! - [`ml`]: `ml_train`, `predict`, `predict_proba`, `ml_predict`, `ml_evaluate`,
//!   `ml_confusion_matrix`, `ml_roc_curve`, `ml_cross_validate`, `ml_weights`, `ml_explain_predict`,
//!   `ml_drop_model`;
//! - [`metrics`]: `accuracy`, `precision`, `recall`, `f1_score`, `log_loss`,
//!   `roc_auc`, `rmse`, `mae`, `r2_score`, `silhouette`;
//! - [`embed`]: `embed`, `cosine_similarity`, `inner_product`, `l2_distance`;
//! - data preparation ([`preprocessing`]): `split_fraction`.
//!
//! [`register_all`] installs every function into a DataFusion `SessionContext`.
//! Errors carry PostgreSQL SQLSTATE codes through [`error::to_df`].

pub mod columns;
pub mod embed;
pub mod error;
pub mod lazy;
pub mod metrics;
pub mod ml;
pub mod preprocessing;
pub mod store;

use std::sync::Arc;

use datafusion::prelude::SessionContext;

pub use store::{ModelStore, StoredModel};

/// Registers every Augur function with `ctx`, reading and writing models in `store`.
pub fn register_all(ctx: &SessionContext, store: Arc<dyn ModelStore>) {
    let predict = Arc::new(ml::predict::predict(store.clone()));
    let predict_proba = Arc::new(ml::predict_proba::predict_proba(store.clone()));
    ctx.register_udf(predict.as_ref().clone());
    ctx.register_udf(predict_proba.as_ref().clone());
    ctx.register_udtf("ml_train", ml::ml_train::ml_train(store.clone()));
    ctx.register_udtf(
        "ml_predict",
        ml::ml_predict::ml_predict(store.clone(), predict, predict_proba),
    );
    ctx.register_udtf("ml_evaluate", ml::ml_evaluate::ml_evaluate(store.clone()));
    ctx.register_udtf(
        "ml_confusion_matrix",
        ml::ml_confusion_matrix::ml_confusion_matrix(store.clone()),
    );
    ctx.register_udtf(
        "ml_roc_curve",
        ml::ml_roc_curve::ml_roc_curve(store.clone()),
    );
    ctx.register_udtf(
        "ml_cross_validate",
        ml::ml_cross_validate::ml_cross_validate(),
    );
    ctx.register_udtf(
        "ml_explain_predict",
        ml::ml_explain_predict::ml_explain_predict(store.clone()),
    );
    ctx.register_udtf("ml_weights", ml::ml_weights::ml_weights(store.clone()));
    ctx.register_udtf("ml_drop_model", ml::ml_drop_model::ml_drop_model(store));
    for f in embed::functions() {
        ctx.register_udf(f);
    }
    for f in preprocessing::functions() {
        ctx.register_udf(f);
    }
    for f in metrics::functions() {
        ctx.register_udaf(f);
    }
}
