//! `ml_train(model, query, options)`: train a model on the rows of a query.
//!
//! - `model`: text literal, the model name (`[a-z_][a-z0-9_]*`, case-insensitive).
//! - `query`: text literal, any SELECT; every column but the label (and the
//!   `data_split_col`) is a feature. Numeric and boolean columns are numeric
//!   features, text columns categorical; other types are an error (42804).
//! - `options`: text literal `key=value, ...` with BigQuery ML's option names
//!   (`model_type`, `input_label_cols`, `num_clusters`, `l2_reg`, ...; see
//!   `augur_ml::options`). `embed_columns = ['review']` makes the model embed
//!   those text columns itself and record the embedding model, so prediction
//!   re-embeds raw text (see `embedded`).
//! - Returns one row: `model text, version bigint, algorithm text,
//!   training_rows bigint, evaluation_rows bigint, metrics text` (JSON object of
//!   the held-out metrics; for k-means, of the training rows).
//! - Lazy: preparing or describing the statement trains nothing; training runs
//!   on tokio's blocking pool when the statement executes, and the new version
//!   is written atomically to the model store.
//! - Errors: 22023 bad options / no rows / one class / k > rows; 22004 NULL
//!   labels; 42703 unknown label or `embed_columns` column; 42804 unusable
//!   column type (or an `embed_columns` column that is not text); 58P01
//!   embedding model missing; 42602 bad model name.
//!
//! `CREATE MODEL name OPTIONS (...) AS SELECT ...` is rewritten to this call.

use std::sync::Arc;

use augur_ml::TrainOptions;
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, training_data};
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::{ModelStore, StoredModel, normalize_model_name};

#[derive(Debug)]
pub struct MlTrain {
    store: Arc<dyn ModelStore>,
}

/// The `ml_train` table function.
pub fn ml_train(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlTrain { store })
}

/// The schema of the summary row.
pub fn summary_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("algorithm", DataType::Utf8, false),
        Field::new("training_rows", DataType::Int64, false),
        Field::new("evaluation_rows", DataType::Int64, false),
        Field::new("metrics", DataType::Utf8, false),
    ]))
}

/// The metrics of a model as a JSON object with keys in alphabetical order.
pub fn metrics_json(stored: &StoredModel) -> String {
    serde_json::to_string(&stored.model.metrics).unwrap_or_else(|_| "{}".into())
}

pub fn summary(stored: &StoredModel) -> Result<RecordBatch> {
    let m = &stored.model;
    Ok(RecordBatch::try_new(
        summary_schema(),
        vec![
            Arc::new(StringArray::from(vec![stored.name.clone()])),
            Arc::new(Int64Array::from(vec![stored.version as i64])),
            Arc::new(StringArray::from(vec![m.algorithm.name()])),
            Arc::new(Int64Array::from(vec![m.training_rows as i64])),
            Arc::new(Int64Array::from(vec![m.evaluation_rows as i64])),
            Arc::new(StringArray::from(vec![metrics_json(stored)])),
        ],
    )?)
}

impl TableFunctionImpl for MlTrain {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_train", "the model name")?;
        let name = normalize_model_name(&name, false).map_err(to_df)?;
        let query = literal_arg(exprs, 1, "ml_train", "the training query")?;
        let options = literal_arg(
            exprs,
            2,
            "ml_train",
            "the options ('model_type=..., input_label_cols=...')",
        )?;
        let opts = TrainOptions::parse(&options).map_err(to_df)?;
        let store = self.store.clone();
        let job = Arc::new(move |schema: SchemaRef, batches: Vec<RecordBatch>| {
            let data = training_data(&schema, &batches, &opts)?;
            let mut model =
                augur_ml::train::fit(data.columns, data.label_type, &opts).map_err(to_df)?;
            model.embeddings = data.embeddings;
            let stored = store.save(&name, model).map_err(to_df)?;
            summary(&stored)
        });
        Ok(Arc::new(LazyQueryTable::new(summary_schema(), query, job)))
    }
}
