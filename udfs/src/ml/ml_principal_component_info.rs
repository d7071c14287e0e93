//! `ml_principal_component_info(model)`: the variance each principal
//! component of a `pca` model explains (BigQuery ML's
//! `ML.PRINCIPAL_COMPONENT_INFO`).
//!
//! - `model`: text literal, `name` or `name@version` of a `pca` model.
//! - Returns one row per component, largest first: `principal_component_id
//!   bigint` (1..k, the position in `predict`'s float8[]), `eigenvalue
//!   float8` (the component's variance over the training rows, `σ² / (n −
//!   1)`: scikit-learn's `explained_variance_`), `explained_variance_ratio
//!   float8` (its share of the total variance of the encoded features:
//!   scikit-learn's `explained_variance_ratio_`) and
//!   `cumulative_explained_variance_ratio float8` (at most 1). Never NULL.
//! - Errors: 42704 unknown model; 22023 for a model that is not `pca`.
//!
//! Example: `SELECT * FROM ml_principal_component_info('customer_pca')`

use std::sync::Arc;

use augur_ml::model::Parameters;
use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, load, require};
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlPrincipalComponentInfo {
    store: Arc<dyn ModelStore>,
}

/// The `ml_principal_component_info` table function.
pub fn ml_principal_component_info(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlPrincipalComponentInfo { store })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("principal_component_id", DataType::Int64, false),
        Field::new("eigenvalue", DataType::Float64, false),
        Field::new("explained_variance_ratio", DataType::Float64, false),
        Field::new(
            "cumulative_explained_variance_ratio",
            DataType::Float64,
            false,
        ),
    ]))
}

impl TableFunctionImpl for MlPrincipalComponentInfo {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = literal_arg(
            args.exprs(),
            0,
            "ml_principal_component_info",
            "the model name",
        )?;
        let stored = load(&self.store, &name)?;
        let Parameters::Pca {
            explained_variance,
            explained_variance_ratio,
            ..
        } = &stored.model.parameters
        else {
            require(&stored, "ml_principal_component_info", false, "a pca model")?;
            unreachable!("require refuses a model that is not pca")
        };
        let cumulative: Vec<f64> = explained_variance_ratio
            .iter()
            .scan(0.0, |acc, r| {
                *acc += r;
                // the ratios sum to at most 1; summation order can add an ulp
                Some(f64::min(*acc, 1.0))
            })
            .collect();
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from_iter_values(
                    1..=explained_variance.len() as i64,
                )),
                Arc::new(Float64Array::from(explained_variance.clone())),
                Arc::new(Float64Array::from(explained_variance_ratio.clone())),
                Arc::new(Float64Array::from(cumulative)),
            ],
        )?;
        Ok(Arc::new(MemTable::try_new(schema(), vec![vec![batch]])?))
    }
}
