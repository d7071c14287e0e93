//! `ml_import_model(model, path)`: load a model file written by `ml_export_model`.
//!
//! - `model`: text literal, the name to save it under (may differ from the
//!   exported name); the import becomes the next version of that name.
//! - `path`: text literal, a file on the server's file system.
//! - Before anything is saved the file is parsed and the model is checked by
//!   predicting one row, so a truncated, edited or foreign file is refused and
//!   never half-imported.
//! - Returns the same row as `ml_train`: `model text, version bigint,
//!   algorithm text, training_rows bigint, evaluation_rows bigint, metrics text`
//!   (the metrics measured when the model was trained).
//! - Lazy like `ml_train`: nothing is read until the statement executes.
//! - Errors: 58P01 the file does not exist; 22P02 not an Augur model file
//!   (or an unsupported format); 58030 unreadable; 42602 bad model name.
//!
//! Like BigQuery ML's `CREATE MODEL … OPTIONS (model_path = …)` import.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::literal_arg;
use super::ml_train::{summary, summary_schema};
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::{ModelStore, normalize_model_name};

#[derive(Debug)]
pub struct MlImportModel {
    store: Arc<dyn ModelStore>,
}

/// The `ml_import_model` table function.
pub fn ml_import_model(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlImportModel { store })
}

impl TableFunctionImpl for MlImportModel {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(
            exprs,
            0,
            "ml_import_model",
            "the name to import the model as",
        )?;
        let name = normalize_model_name(&name, false).map_err(to_df)?;
        let path = literal_arg(exprs, 1, "ml_import_model", "the model file's path")?;
        let store = self.store.clone();
        let job = Arc::new(move |_: SchemaRef, _: Vec<RecordBatch>| {
            let stored = store
                .import_model(&name, &PathBuf::from(&path))
                .map_err(to_df)?;
            summary(&stored)
        });
        Ok(Arc::new(LazyQueryTable::new(
            summary_schema(),
            "SELECT 1".into(),
            job,
        )))
    }
}
