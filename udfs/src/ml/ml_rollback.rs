//! `ml_rollback(model)`: serve again the version deployed before the current one.
//!
//! - `model`: text literal, a plain model name (no `@version`).
//! - The served version becomes the one deployed before the current
//!   deployment (see `ml_deploy`); when the model was never deployed, or its
//!   history is used up, the newest version older than the one served now.
//! - Returns one row `model text, version bigint, previous_version bigint`
//!   (`version` is now served; `previous_version` was served before).
//! - Lazy like `ml_train`; the change is durable before it takes effect.
//! - Errors: 42704 unknown model; 55000 (object_not_in_prerequisite_state) when
//!   no earlier version exists; 22023 when a version is given.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::literal_arg;
use super::ml_deploy::{deployment_batch, deployment_schema};
use crate::error::to_df;
use crate::lazy::LazyQueryTable;
use crate::store::{ModelStore, normalize_model_name};

#[derive(Debug)]
pub struct MlRollback {
    store: Arc<dyn ModelStore>,
}

/// The `ml_rollback` table function.
pub fn ml_rollback(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlRollback { store })
}

impl TableFunctionImpl for MlRollback {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = literal_arg(args.exprs(), 0, "ml_rollback", "the model name")?;
        let name = normalize_model_name(&name, true).map_err(to_df)?;
        let store = self.store.clone();
        let job = Arc::new(move |_: SchemaRef, _: Vec<RecordBatch>| {
            deployment_batch(&store.rollback(&name).map_err(to_df)?)
        });
        Ok(Arc::new(LazyQueryTable::new(
            deployment_schema(),
            "SELECT 1".into(),
            job,
        )))
    }
}
