//! `ml_export_model(model, path)`: write a model version to a file.
//!
//! - `model`: text literal, `name` (the served version, see `ml_deploy`) or `name@version`.
//! - `path`: text literal, a file path on the server's file system (relative
//!   paths are relative to the server's working directory). The file is
//!   written atomically (temporary file, fsync, rename) and replaced if it
//!   exists. It is self-contained JSON (format 1: the fitted parameters, the
//!   feature encoding, label classes, metrics and options) and is read back by
//!   `ml_import_model` on any Augur of the same format.
//! - Returns one row `model text, version bigint, path text, bytes bigint`.
//! - Lazy like `ml_train`: nothing is written until the statement executes.
//! - Errors: 42704 unknown model or version; 22023 when `path` is a
//!   directory; 58030 when the file cannot be written.
//!
//! Like BigQuery ML's `EXPORT MODEL`. Augur has no roles: whoever can connect
//! can write files the server process can write, as PostgreSQL's superuser
//! `COPY … TO 'file'` can.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::literal_arg;
use crate::error::{invalid, to_df};
use crate::lazy::LazyQueryTable;
use crate::store::{ModelStore, normalize_model_name};

#[derive(Debug)]
pub struct MlExportModel {
    store: Arc<dyn ModelStore>,
}

/// The `ml_export_model` table function.
pub fn ml_export_model(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlExportModel { store })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("bytes", DataType::Int64, false),
    ]))
}

impl TableFunctionImpl for MlExportModel {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(
            exprs,
            0,
            "ml_export_model",
            "the model ('name' or 'name@version')",
        )?;
        let name = normalize_model_name(&name, true).map_err(to_df)?;
        let path = literal_arg(exprs, 1, "ml_export_model", "the file path to write")?;
        if path.trim().is_empty() {
            return Err(invalid("ml_export_model: the file path is empty"));
        }
        let store = self.store.clone();
        let job = Arc::new(move |_: SchemaRef, _: Vec<RecordBatch>| {
            let (stored, bytes) = store
                .export_model(&name, &PathBuf::from(&path))
                .map_err(to_df)?;
            Ok(RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(StringArray::from(vec![stored.name.clone()])),
                    Arc::new(Int64Array::from(vec![stored.version as i64])),
                    Arc::new(StringArray::from(vec![path.clone()])),
                    Arc::new(Int64Array::from(vec![bytes as i64])),
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
