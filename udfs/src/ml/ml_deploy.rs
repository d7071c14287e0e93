//! `ml_deploy(model)`: choose the version a plain model name serves.
//!
//! - `model`: text literal, `name@version`, or a plain `name` for its latest version.
//! - Afterwards `predict('name', …)`, `predict_proba`, `ml_predict`, `ml_evaluate`
//!   and every other function given the plain name use that version, also after
//!   a restart and after newer versions are trained, until the next `ml_deploy`
//!   or `ml_rollback`. `name@version` always pins a version. Without any
//!   deployment a plain name serves its latest version. The `models` table's
//!   `deployed` column shows the served version.
//! - Returns one row `model text, version bigint, previous_version bigint`
//!   (the version served before; NULL never happens for an existing model).
//! - Lazy like `ml_train`: nothing changes until the statement executes; the
//!   choice is written durably before it takes effect.
//! - Errors: 42704 when the model or version does not exist; 42602 bad name.
//!
//! Like an MLflow registry alias; BigQuery ML has no equivalent (one version per name).

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::literal_arg;
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::{Deployment, ModelStore, normalize_model_name};

#[derive(Debug)]
pub struct MlDeploy {
    store: Arc<dyn ModelStore>,
}

/// The `ml_deploy` table function.
pub fn ml_deploy(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlDeploy { store })
}

/// The schema of `ml_deploy` and `ml_rollback`.
pub fn deployment_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("previous_version", DataType::Int64, true),
    ]))
}

/// One row describing a deployment.
pub fn deployment_batch(d: &Deployment) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        deployment_schema(),
        vec![
            Arc::new(StringArray::from(vec![d.name.clone()])),
            Arc::new(Int64Array::from(vec![d.version as i64])),
            Arc::new(Int64Array::from(vec![d.previous_version.map(|v| v as i64)])),
        ],
    )?)
}

impl TableFunctionImpl for MlDeploy {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = literal_arg(
            args.exprs(),
            0,
            "ml_deploy",
            "the model ('name' or 'name@version')",
        )?;
        let name = normalize_model_name(&name, true).map_err(to_df)?;
        let store = self.store.clone();
        let job = Arc::new(move |_: SchemaRef, _: Vec<RecordBatch>| {
            deployment_batch(&store.deploy(&name).map_err(to_df)?)
        });
        Ok(Arc::new(LazyQueryTable::new(
            deployment_schema(),
            "SELECT 1".into(),
            job,
        )))
    }
}
