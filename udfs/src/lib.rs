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
//! - [`embed`]: `embed`, `cosine_similarity`, `inner_product`, `l2_distance` and the
//!   `vector_search` table function.
//!
//! Every table function is registered through [`table_function::checked`],
//! which rejects a wrong argument count (42883) naming the signature;
//! [`table_function_parameters`] gives the front end their parameter names.
//!
//! [`register_all`] installs every function into a DataFusion `SessionContext`.
//! Errors carry PostgreSQL SQLSTATE codes through [`error::to_df`].

pub mod cancel;
pub mod columns;
pub mod embed;
pub mod error;
pub mod lazy;
pub mod metrics;
pub mod ml;
pub mod preprocessing;
pub mod store;
pub mod table_function;

use std::sync::Arc;

use datafusion::prelude::SessionContext;

pub use store::{ModelStore, StoredModel};

/// Registers every Augur function with `ctx`, reading and writing models in `store`.
pub fn register_all(ctx: &SessionContext, store: Arc<dyn ModelStore>) {
    let predict = Arc::new(ml::predict::predict(store.clone()));
    let predict_proba = Arc::new(ml::predict_proba::predict_proba(store.clone()));
    ctx.register_udf(predict.as_ref().clone());
    ctx.register_udf(predict_proba.as_ref().clone());
    use table_function::{opt, opt_default, req};
    let udtf = |name: &'static str, params: &'static [table_function::Param], f| {
        ctx.register_udtf(name, table_function::checked(name, params, f));
    };
    udtf(
        "ml_train",
        const { &[req("model"), req("query"), req("options")] },
        ml::ml_train::ml_train(store.clone()),
    );
    udtf(
        "ml_predict",
        const { &[req("model"), req("query")] },
        ml::ml_predict::ml_predict(store.clone(), predict, predict_proba),
    );
    udtf(
        "ml_evaluate",
        const { &[req("model"), opt("query")] },
        ml::ml_evaluate::ml_evaluate(store.clone()),
    );
    udtf(
        "ml_confusion_matrix",
        const { &[req("model"), req("query")] },
        ml::ml_confusion_matrix::ml_confusion_matrix(store.clone()),
    );
    udtf(
        "ml_roc_curve",
        const { &[req("model"), req("query")] },
        ml::ml_roc_curve::ml_roc_curve(store.clone()),
    );
    udtf(
        "ml_cross_validate",
        const { &[req("query"), req("options"), req("folds")] },
        ml::ml_cross_validate::ml_cross_validate(),
    );
    udtf(
        "ml_explain_predict",
        const { &[req("model"), req("query"), opt_default("top_k", "3")] },
        ml::ml_explain_predict::ml_explain_predict(store.clone()),
    );
    udtf(
        "ml_feature_importance",
        const { &[req("model")] },
        ml::ml_feature_importance::ml_feature_importance(store.clone()),
    );
    udtf(
        "ml_weights",
        const { &[req("model")] },
        ml::ml_weights::ml_weights(store.clone()),
    );
    udtf(
        "ml_principal_component_info",
        const { &[req("model")] },
        ml::ml_principal_component_info::ml_principal_component_info(store.clone()),
    );
    udtf(
        "ml_tune",
        const {
            &[
                req("model"),
                req("query"),
                req("options"),
                req("search_space"),
                opt("tuning"),
            ]
        },
        ml::ml_tune::ml_tune(store.clone()),
    );
    udtf(
        "ml_trial_info",
        const { &[req("model")] },
        ml::ml_trial_info::ml_trial_info(store.clone()),
    );
    udtf(
        "ml_deploy",
        const { &[req("model")] },
        ml::ml_deploy::ml_deploy(store.clone()),
    );
    udtf(
        "ml_rollback",
        const { &[req("model")] },
        ml::ml_rollback::ml_rollback(store.clone()),
    );
    udtf(
        "ml_export_model",
        const { &[req("model"), req("path")] },
        ml::ml_export_model::ml_export_model(store.clone()),
    );
    udtf(
        "ml_import_model",
        const { &[req("model"), req("path")] },
        ml::ml_import_model::ml_import_model(store.clone()),
    );
    udtf(
        "ml_drop_model",
        const { &[req("model"), opt_default("if_exists", "false")] },
        ml::ml_drop_model::ml_drop_model(store),
    );
    udtf(
        "ml_profile",
        const { &[req("query")] },
        preprocessing::ml_profile::ml_profile(),
    );
    udtf(
        "vector_search",
        &embed::vector_search::PARAMETERS,
        embed::vector_search::vector_search(),
    );
    for f in embed::functions() {
        ctx.register_udf(f);
    }
    for f in preprocessing::functions() {
        ctx.register_udf(f);
    }
    for f in preprocessing::window_functions() {
        ctx.register_udwf(f);
    }
    for f in metrics::functions() {
        ctx.register_udaf(f);
    }
}

/// The parameters of an Augur table function, for `name => value` arguments.
pub fn table_function_parameters(name: &str) -> Option<&'static [table_function::Param]> {
    match name {
        "vector_search" => Some(&embed::vector_search::PARAMETERS),
        _ => None,
    }
}
