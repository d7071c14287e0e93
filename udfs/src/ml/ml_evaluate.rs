//! `ml_evaluate(model [, query])`: a model's evaluation metrics as rows.
//!
//! - `model`: text literal, `name` or `name@version`.
//! - `query` (optional): text literal, a SELECT with every feature column and
//!   the label; rows with a NULL label are skipped. Without it, the metrics
//!   stored at training (held-out rows) are returned.
//! - Returns `metric text, value float8`, one row per metric, sorted by name:
//!   classifiers `accuracy, f1_score, log_loss, precision, recall, roc_auc`;
//!   regression `mae, r2_score, rmse`; k-means `inertia, silhouette`
//!   (silhouette over a 10,000-row sample picked by row hash); dbscan
//!   `num_clusters, noise_fraction, silhouette`, the silhouette being
//!   scikit-learn's `silhouette_score` of the non-noise rows only (noise,
//!   cluster_id -1, is left out), in the model's feature space (standardised
//!   when the model was), with the labels `ml_predict` gives; the stored
//!   value and one computed over the training query agree.
//! - Errors: 42704 unknown model; 42703 a missing column.
//!
//! Example: `SELECT * FROM ml_evaluate('churn')`.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, load};
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlEvaluate {
    store: Arc<dyn ModelStore>,
}

/// The `ml_evaluate` table function.
pub fn ml_evaluate(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlEvaluate { store })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]))
}

fn rows(metrics: &BTreeMap<String, f64>) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(StringArray::from_iter_values(metrics.keys())),
            Arc::new(Float64Array::from_iter_values(metrics.values().copied())),
        ],
    )?)
}

impl TableFunctionImpl for MlEvaluate {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_evaluate", "the model name")?;
        let stored = load(&self.store, &name)?;
        if exprs.len() < 2 {
            let batch = rows(&stored.model.metrics)?;
            return Ok(Arc::new(MemTable::try_new(schema(), vec![vec![batch]])?));
        }
        let query = literal_arg(exprs, 1, "ml_evaluate", "the query")?;
        let job = Arc::new(move |in_schema: SchemaRef, batches: Vec<RecordBatch>| {
            let columns = super::common::model_columns(&stored.model, &in_schema, &batches)?;
            let metrics = augur_ml::train::evaluate(&stored.model, &columns).map_err(to_df)?;
            rows(&metrics)
        });
        Ok(Arc::new(LazyQueryTable::new(schema(), query, job)))
    }
}
