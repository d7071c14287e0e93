//! `ml_feature_importance(model)`: how much each input column of a tree model
//! contributes to its splits (BigQuery ML's `ML.FEATURE_IMPORTANCE`).
//!
//! - `model`: text literal, `name` or `name@version` of a
//!   `decision_tree_classifier`, `decision_tree_regressor`,
//!   `random_forest_classifier` or `random_forest_regressor` model.
//! - Returns one row per input column, in training order:
//!   `feature text`, `importance_weight bigint` (number of splits on the
//!   column, over all trees), `importance_gain float8` (the column's share of
//!   the weighted impurity decrease `n_t·imp_t − n_l·imp_l − n_r·imp_r` of all
//!   splits (Gini for classifiers, variance for regressors), one-hot categories summed; averaged over a forest's trees;
//!   the column sums to 1 — scikit-learn's `feature_importances_`). Never NULL;
//!   0 for a column no split uses.
//! - Errors: 42704 unknown model; 22023 for a model that is not a tree model.
//!
//! Example: `SELECT * FROM ml_feature_importance('churn_tree') ORDER BY importance_gain DESC`

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, load, require};
use crate::error::to_df;
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlFeatureImportance {
    store: Arc<dyn ModelStore>,
}

/// The `ml_feature_importance` table function.
pub fn ml_feature_importance(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlFeatureImportance { store })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("importance_weight", DataType::Int64, false),
        Field::new("importance_gain", DataType::Float64, false),
    ]))
}

impl TableFunctionImpl for MlFeatureImportance {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = literal_arg(args.exprs(), 0, "ml_feature_importance", "the model name")?;
        let stored = load(&self.store, &name)?;
        require(
            &stored,
            "ml_feature_importance",
            stored.model.algorithm.is_tree(),
            "a tree model (decision_tree_classifier, decision_tree_regressor, random_forest_classifier, random_forest_regressor)",
        )?;
        let rows = stored.model.feature_importance().map_err(to_df)?;
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.0))),
                Arc::new(Int64Array::from_iter_values(
                    rows.iter().map(|r| r.1 as i64),
                )),
                Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
            ],
        )?;
        Ok(Arc::new(MemTable::try_new(schema(), vec![vec![batch]])?))
    }
}
