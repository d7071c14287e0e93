//! `ml_roc_curve(model, query)`: the ROC curve of a binary classifier.
//!
//! - `model`: text literal naming a two-class `logistic_reg` model.
//! - `query`: text literal, a SELECT with every feature column and the label;
//!   rows with a NULL label are skipped.
//! - Returns one row per distinct predicted probability, highest first:
//!   `threshold float8, recall float8 (true-positive rate), false_positive_rate
//!   float8, true_positives, false_positives, true_negatives, false_negatives
//!   bigint` — BigQuery ML's `ML.ROC_CURVE`; a row counts as positive when its
//!   probability is at least the threshold (scikit-learn's `roc_curve`).
//!   The rates are NULL when the query has no positive (or no negative) rows.
//! - Errors: 42704 unknown model; 22023 not a binary classifier or a label
//!   value outside the model's classes; 42703 a missing column.
//!
//! Example: `SELECT * FROM ml_roc_curve('churn', 'SELECT * FROM telco_customers WHERE customer_id % 5 = 0')`

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, load, model_columns};
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlRocCurve {
    store: Arc<dyn ModelStore>,
}

/// The `ml_roc_curve` table function.
pub fn ml_roc_curve(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlRocCurve { store })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("threshold", DataType::Float64, false),
        Field::new("recall", DataType::Float64, true),
        Field::new("false_positive_rate", DataType::Float64, true),
        Field::new("true_positives", DataType::Int64, false),
        Field::new("false_positives", DataType::Int64, false),
        Field::new("true_negatives", DataType::Int64, false),
        Field::new("false_negatives", DataType::Int64, false),
    ]))
}

impl TableFunctionImpl for MlRocCurve {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_roc_curve", "the model name")?;
        let query = literal_arg(exprs, 1, "ml_roc_curve", "the query")?;
        let stored = load(&self.store, &name)?;
        let job = Arc::new(move |in_schema: SchemaRef, batches: Vec<RecordBatch>| {
            let columns = model_columns(&stored.model, &in_schema, &batches)?;
            let points = augur_ml::train::roc_curve(&stored.model, &columns).map_err(to_df)?;
            let rate = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
            let int = |f: &dyn Fn(&augur_ml::train::RocPoint) -> u64| {
                Arc::new(Int64Array::from_iter_values(
                    points.iter().map(|p| f(p) as i64),
                ))
            };
            Ok(RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(Float64Array::from_iter_values(
                        points.iter().map(|p| p.threshold),
                    )),
                    Arc::new(Float64Array::from_iter(points.iter().map(|p| {
                        rate(p.true_positives, p.true_positives + p.false_negatives)
                    }))),
                    Arc::new(Float64Array::from_iter(points.iter().map(|p| {
                        rate(p.false_positives, p.false_positives + p.true_negatives)
                    }))),
                    int(&|p| p.true_positives),
                    int(&|p| p.false_positives),
                    int(&|p| p.true_negatives),
                    int(&|p| p.false_negatives),
                ],
            )?)
        });
        Ok(Arc::new(LazyQueryTable::new(schema(), query, job)))
    }
}
