//! `ml_tune(model, query, options, search_space [, tuning])`: hyper-parameter
//! tuning by grid or random search with k-fold cross-validation.
//!
//! - `model`: text literal, the name the best model is saved under.
//! - `query`, `options`: as for `ml_train` (the options fix everything the
//!   search does not vary, including the final held-out split).
//! - `search_space`: text literal, `;`-separated `option = [a, b, …]`
//!   (candidates), `option = range(low, high)` or `option = log_range(low, high)`
//!   (random search only), e.g. `'l2_reg = [0.01, 0.1, 1, 10]; max_iterations = [100, 500]'`.
//! - `tuning`: text literal, `key = value, …`: `hparam_tuning_algorithm`
//!   (`grid_search` default, `random_search`), `num_trials`,
//!   `hparam_tuning_objectives` (an `ml_evaluate` metric; default `roc_auc` for
//!   two classes, `log_loss` for more, `r2_score` for regression,
//!   `davies_bouldin_index`/`silhouette`/`inertia` for k-means), `folds` (5), `seed` (42).
//! - Every trial is cross-validated on the same folds (of the training rows
//!   only, when `data_split_method = 'custom'`); the best trial is fitted again
//!   with the options' split, saved as the next version (with every trial,
//!   see `ml_trial_info`) and deployed (`ml_deploy`).
//! - Returns one row per trial, as `ml_trial_info`.
//! - Lazy and off the async runtime like `ml_train`.
//! - Errors: every `ml_train` error; 22023 a malformed space or setting, an
//!   invalid trial (before any trial runs), an unknown objective, every trial
//!   failing; 54000 a grid of more than 100 combinations.
//!
//! BigQuery ML's `num_trials`/`hparam_tuning_algorithm` options and `ML.TRIAL_INFO`.

use std::sync::Arc;

use augur_ml::TrainOptions;
use augur_ml::tune::{parse_config, parse_space, tune};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, training_data};
use super::ml_trial_info::{trials_batch, trials_schema};
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::{ModelStore, normalize_model_name};

#[derive(Debug)]
pub struct MlTune {
    store: Arc<dyn ModelStore>,
}

/// The `ml_tune` table function.
pub fn ml_tune(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlTune { store })
}

impl TableFunctionImpl for MlTune {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_tune", "the model name")?;
        let name = normalize_model_name(&name, false).map_err(to_df)?;
        let query = literal_arg(exprs, 1, "ml_tune", "the training query")?;
        let options = literal_arg(
            exprs,
            2,
            "ml_tune",
            "the options ('model_type=..., input_label_cols=...')",
        )?;
        let space = literal_arg(
            exprs,
            3,
            "ml_tune",
            "the search space ('l2_reg = [0.1, 1, 10]')",
        )?;
        let tuning = if exprs.len() > 4 {
            literal_arg(
                exprs,
                4,
                "ml_tune",
                "the tuning settings ('hparam_tuning_algorithm = random_search, num_trials = 20')",
            )?
        } else {
            String::new()
        };
        let opts = TrainOptions::parse(&options).map_err(to_df)?;
        let space = parse_space(&space).map_err(to_df)?;
        let cfg = parse_config(&tuning).map_err(to_df)?;
        let store = self.store.clone();
        let job = Arc::new(move |schema: SchemaRef, batches: Vec<RecordBatch>| {
            let data = training_data(&schema, &batches, &opts)?;
            let mut model =
                tune(&data.columns, data.label_type, &opts, &space, &cfg).map_err(to_df)?;
            model.embeddings = data.embeddings;
            let stored = store.save(&name, model).map_err(to_df)?;
            store
                .deploy(&format!("{}@{}", stored.name, stored.version))
                .map_err(to_df)?;
            trials_batch(&stored)
        });
        Ok(Arc::new(LazyQueryTable::new(trials_schema(), query, job)))
    }
}
