//! `ml_confusion_matrix(model, query)`: a classifier's confusion matrix.
//!
//! - `model`: text literal naming a `logistic_reg` model (`name` or `name@version`).
//! - `query`: text literal, a SELECT with every feature column and the label;
//!   rows with a NULL label are skipped.
//! - Returns one row per actual class: `expected_label text`, then one bigint
//!   column per class (named as the class) counting the rows predicted as that
//!   class — BigQuery ML's `ML.CONFUSION_MATRIX`, scikit-learn's `confusion_matrix`.
//! - Errors: 42704 unknown model; 22023 not a classifier, or a label value
//!   that is not one of the model's classes; 42703 a missing column.
//!
//! Example: `SELECT * FROM ml_confusion_matrix('churn', 'SELECT * FROM telco_customers WHERE customer_id % 5 = 0')`

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, load, model_columns, require};
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlConfusionMatrix {
    store: Arc<dyn ModelStore>,
}

/// The `ml_confusion_matrix` table function.
pub fn ml_confusion_matrix(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlConfusionMatrix { store })
}

impl TableFunctionImpl for MlConfusionMatrix {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_confusion_matrix", "the model name")?;
        let query = literal_arg(exprs, 1, "ml_confusion_matrix", "the query")?;
        let stored = load(&self.store, &name)?;
        require(
            &stored,
            "ml_confusion_matrix",
            stored.model.algorithm.is_classifier(),
            "a classifier",
        )?;
        let classes = stored
            .model
            .label
            .as_ref()
            .map(|l| l.classes.clone())
            .unwrap_or_default();
        let mut fields = vec![Field::new("expected_label", DataType::Utf8, false)];
        fields.extend(
            classes
                .iter()
                .map(|c| Field::new(c, DataType::Int64, false)),
        );
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let out_schema = schema.clone();
        let job = Arc::new(move |in_schema: SchemaRef, batches: Vec<RecordBatch>| {
            let columns = model_columns(&stored.model, &in_schema, &batches)?;
            let m = augur_ml::train::confusion_matrix(&stored.model, &columns).map_err(to_df)?;
            let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(classes.clone()))];
            for p in 0..classes.len() {
                arrays.push(Arc::new(Int64Array::from_iter_values(
                    m.iter().map(|row| row[p] as i64),
                )));
            }
            Ok(RecordBatch::try_new(out_schema.clone(), arrays)?)
        });
        Ok(Arc::new(LazyQueryTable::new(schema, query, job)))
    }
}
