//! `ml_cross_validate(query, options, folds)`: k-fold cross-validation.
//!
//! - `query`: text literal, the training query (as for `ml_train`).
//! - `options`: text literal, `ml_train`'s options (`model_type=…, input_label_cols=…`);
//!   its split options are ignored except `seed`.
//! - `folds`: integer literal from 2 to 20.
//! - Each row is assigned to a fold by a hash of its values and the seed, so
//!   folds are reproducible and independent of row order. For each fold a
//!   model is trained on the other folds and evaluated on it; nothing is
//!   saved to the registry.
//! - Returns one row per fold and metric: `fold bigint (1..folds),
//!   training_rows bigint, evaluation_rows bigint, metric text, value float8`;
//!   average with `GROUP BY metric`. Lazy and off the async runtime like `ml_train`.
//! - Errors: as `ml_train`, plus 22023 for a bad `folds`.
//!
//! Example: `SELECT metric, avg(value) FROM ml_cross_validate('SELECT * EXCLUDE (customer_id) FROM telco_customers', 'model_type=logistic_reg, input_label_cols=churn', 5) GROUP BY metric`

use std::sync::Arc;

use augur_ml::TrainOptions;
use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use super::common::{literal_arg, training_data};
use crate::error::{invalid, to_df};
use crate::lazy::LazyQueryTable;

#[derive(Debug)]
pub struct MlCrossValidate;

/// The `ml_cross_validate` table function.
pub fn ml_cross_validate() -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlCrossValidate)
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("fold", DataType::Int64, false),
        Field::new("training_rows", DataType::Int64, false),
        Field::new("evaluation_rows", DataType::Int64, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ]))
}

impl TableFunctionImpl for MlCrossValidate {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let query = literal_arg(exprs, 0, "ml_cross_validate", "the training query")?;
        let options = literal_arg(exprs, 1, "ml_cross_validate", "the options")?;
        let opts = TrainOptions::parse(&options).map_err(to_df)?;
        let folds = match exprs.get(2) {
            Some(Expr::Literal(v, _)) => match v.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(k)) if k > 0 => k as usize,
                _ => {
                    return Err(invalid(
                        "ml_cross_validate: folds must be a positive integer",
                    ));
                }
            },
            _ => {
                return Err(invalid(
                    "ml_cross_validate: folds must be an integer literal, e.g. 5",
                ));
            }
        };
        let job = Arc::new(move |schema_in: SchemaRef, batches: Vec<RecordBatch>| {
            let data = training_data(&schema_in, &batches, &opts)?;
            let results =
                augur_ml::train::cross_validate(&data.columns, data.label_type, &opts, folds)
                    .map_err(to_df)?;
            let (mut fold, mut train, mut eval, mut metric, mut value) =
                (vec![], vec![], vec![], vec![], vec![]);
            for (i, (model, metrics)) in results.iter().enumerate() {
                for (m, v) in metrics {
                    fold.push(i as i64 + 1);
                    train.push(model.training_rows as i64);
                    eval.push(model.evaluation_rows as i64);
                    metric.push(m.clone());
                    value.push(*v);
                }
            }
            Ok(RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(Int64Array::from(fold)),
                    Arc::new(Int64Array::from(train)),
                    Arc::new(Int64Array::from(eval)),
                    Arc::new(StringArray::from(metric)),
                    Arc::new(Float64Array::from(value)),
                ],
            )?)
        });
        Ok(Arc::new(LazyQueryTable::new(schema(), query, job)))
    }
}
