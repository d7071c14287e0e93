//! `ml_trial_info(model)`: the hyper-parameter tuning trials of a model version.
//!
//! - `model`: text literal, `name` (the served version) or `name@version`;
//!   the version must have been made by `ml_tune`.
//! - Returns one row per trial: `model text, version bigint, trial_id bigint,
//!   hyperparameters text (JSON object of the options the trial set),
//!   objective text, objective_value float8 (mean over the folds; NULL when the
//!   trial failed), objective_stddev float8 (sample standard deviation over the
//!   folds), status text ('SUCCEEDED' or 'FAILED'), error_message text,
//!   is_optimal boolean (the trial the version was fitted with)`.
//! - Errors: 42704 unknown model or version; 22023 when the version was not tuned.
//!
//! BigQuery ML's `ML.TRIAL_INFO`.

use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, load};
use crate::error::{invalid, to_df};
use crate::lazy::LazyQueryTable;
use crate::store::{ModelStore, StoredModel, normalize_model_name};

#[derive(Debug)]
pub struct MlTrialInfo {
    store: Arc<dyn ModelStore>,
}

/// The `ml_trial_info` table function.
pub fn ml_trial_info(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlTrialInfo { store })
}

/// The schema of `ml_trial_info` and `ml_tune`.
pub fn trials_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("trial_id", DataType::Int64, false),
        Field::new("hyperparameters", DataType::Utf8, false),
        Field::new("objective", DataType::Utf8, false),
        Field::new("objective_value", DataType::Float64, true),
        Field::new("objective_stddev", DataType::Float64, true),
        Field::new("status", DataType::Utf8, false),
        Field::new("error_message", DataType::Utf8, true),
        Field::new("is_optimal", DataType::Boolean, false),
    ]))
}

/// One row per trial of `stored`.
pub fn trials_batch(stored: &StoredModel) -> Result<RecordBatch> {
    let trials = &stored.model.trials;
    let n = trials.len();
    Ok(RecordBatch::try_new(
        trials_schema(),
        vec![
            Arc::new(StringArray::from(vec![stored.name.clone(); n])),
            Arc::new(Int64Array::from(vec![stored.version as i64; n])),
            Arc::new(Int64Array::from_iter_values(
                trials.iter().map(|t| t.trial_id as i64),
            )),
            Arc::new(StringArray::from_iter_values(trials.iter().map(|t| {
                serde_json::to_string(&t.hyperparameters).unwrap_or_else(|_| "{}".into())
            }))),
            Arc::new(StringArray::from_iter_values(
                trials.iter().map(|t| t.objective.clone()),
            )),
            Arc::new(Float64Array::from_iter(
                trials.iter().map(|t| t.objective_value),
            )),
            Arc::new(Float64Array::from_iter(
                trials.iter().map(|t| t.objective_stddev),
            )),
            Arc::new(StringArray::from_iter_values(trials.iter().map(|t| {
                if t.error_message.is_some() {
                    "FAILED"
                } else {
                    "SUCCEEDED"
                }
            }))),
            Arc::new(StringArray::from_iter(
                trials.iter().map(|t| t.error_message.clone()),
            )),
            Arc::new(BooleanArray::from_iter(
                trials.iter().map(|t| Some(t.is_optimal)),
            )),
        ],
    )?)
}

impl TableFunctionImpl for MlTrialInfo {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = literal_arg(args.exprs(), 0, "ml_trial_info", "the model name")?;
        let name = normalize_model_name(&name, true).map_err(to_df)?;
        let store = self.store.clone();
        let job = Arc::new(move |_: SchemaRef, _: Vec<RecordBatch>| {
            let stored = load(&store, &name)?;
            if stored.model.trials.is_empty() {
                return Err(invalid(format!(
                    "model \"{}\" version {} was not made by ml_tune, so it has no trials",
                    stored.name, stored.version
                )));
            }
            trials_batch(&stored)
        });
        Ok(Arc::new(LazyQueryTable::new(
            trials_schema(),
            "SELECT 1".into(),
            job,
        )))
    }
}
