//! `ml_drop_model(model [, if_exists])`: delete a model or one version of it.
//!
//! - `model`: text literal, `name` (every version) or `name@version`.
//! - `if_exists`: boolean literal, default false; when true a missing model
//!   is not an error.
//! - Returns one row `model text, versions_dropped bigint`. Lazy like
//!   `ml_train`: nothing is deleted until the statement executes. The removal
//!   is durable and never leaves part of a model behind.
//! - Errors: 42704 when the model (or version) does not exist and `if_exists`
//!   is false; 42602 for an invalid name.
//!
//! `DROP MODEL [IF EXISTS] name` is rewritten to this call.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use super::common::literal_arg;
use crate::error::{invalid, sql_err, sqlstate, to_df};
use crate::lazy::LazyQueryTable;
use crate::store::{ModelStore, normalize_model_name};

#[derive(Debug)]
pub struct MlDropModel {
    store: Arc<dyn ModelStore>,
}

/// The `ml_drop_model` table function.
pub fn ml_drop_model(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlDropModel { store })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("versions_dropped", DataType::Int64, false),
    ]))
}

impl TableFunctionImpl for MlDropModel {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_drop_model", "the model name")?;
        let name = normalize_model_name(&name, true).map_err(to_df)?;
        let if_exists = match exprs.get(1) {
            None => false,
            Some(Expr::Literal(ScalarValue::Boolean(Some(b)), _)) => *b,
            Some(_) => {
                return Err(invalid(
                    "ml_drop_model: if_exists must be a boolean literal",
                ));
            }
        };
        let store = self.store.clone();
        let job = Arc::new(move |_: SchemaRef, _: Vec<RecordBatch>| {
            let dropped = store.drop_model(&name).map_err(to_df)?;
            if dropped == 0 && !if_exists {
                return Err(sql_err(
                    sqlstate::UNDEFINED_OBJECT,
                    format!("model \"{name}\" does not exist"),
                ));
            }
            Ok(RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(StringArray::from(vec![name.clone()])),
                    Arc::new(Int64Array::from(vec![dropped as i64])),
                ],
            )?)
        });
        Ok(Arc::new(LazyQueryTable::new(
            schema(),
            "SELECT 1".into(),
            job,
        )))
    }
}
