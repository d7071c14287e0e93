//! Augur's SQL functions, one per file, grouped by area:
//!
//! - [`ml`]: `ml_train`, `predict`, `predict_proba`, `ml_predict`, `ml_evaluate`,
//!   `ml_confusion_matrix`, `ml_roc_curve`, `ml_cross_validate`, `ml_weights`, `ml_principal_component_info`, `ml_explain_predict`,
//!   `ml_feature_importance`, `ml_drop_model`, `ml_tune`, `ml_trial_info`, `ml_deploy`,
//!   `ml_rollback`, `ml_export_model`, `ml_import_model`;
//! - [`metrics`]: `accuracy`, `precision`, `recall`, `f1_score`, `log_loss`,
//!   `roc_auc`, `rmse`, `mae`, `r2_score`, `silhouette`;
//! - data preparation ([`preprocessing`]): `split_fraction`, `bucketize`, `ngrams`,
//!   `polynomial_expand`, `feature_cross`,
//!   `hash_bucketize` and the window functions `standard_scaler`,
//!   `min_max_scaler`, `max_abs_scaler`, `robust_scaler`, `imputer`,
//!   `label_encoder`, `one_hot_encoder`, `quantile_bucketize`, `outlier_zscore`,
//!   `outlier_iqr`, `bag_of_words`, `tf_idf`;
//! - data cleaning: the `ml_profile` table function;
//! - [`embed`]: `embed`, `cosine_similarity`, `inner_product`, `l2_distance`.
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
    ctx.register_udtf(
        "ml_feature_importance",
        ml::ml_feature_importance::ml_feature_importance(store.clone()),
    );
    ctx.register_udtf("ml_weights", ml::ml_weights::ml_weights(store.clone()));
    ctx.register_udtf(
        "ml_principal_component_info",
        ml::ml_principal_component_info::ml_principal_component_info(store.clone()),
    );
    ctx.register_udtf("ml_tune", ml::ml_tune::ml_tune(store.clone()));
    ctx.register_udtf(
        "ml_trial_info",
        ml::ml_trial_info::ml_trial_info(store.clone()),
    );
    ctx.register_udtf("ml_deploy", ml::ml_deploy::ml_deploy(store.clone()));
    ctx.register_udtf("ml_rollback", ml::ml_rollback::ml_rollback(store.clone()));
    ctx.register_udtf(
        "ml_export_model",
        ml::ml_export_model::ml_export_model(store.clone()),
    );
    ctx.register_udtf(
        "ml_import_model",
        ml::ml_import_model::ml_import_model(store.clone()),
    );
    ctx.register_udtf("ml_drop_model", ml::ml_drop_model::ml_drop_model(store));
    for f in embed::functions() {
        ctx.register_udf(f);
    }
    for f in preprocessing::functions() {
        ctx.register_udf(f);
    }
    ctx.register_udtf("ml_profile", preprocessing::ml_profile::ml_profile());
    for f in preprocessing::window_functions() {
        ctx.register_udwf(f);
    }
    for f in metrics::functions() {
        ctx.register_udaf(f);
    }
}
