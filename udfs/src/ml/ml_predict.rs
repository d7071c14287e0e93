//! `ml_predict(model, query)`: score every row of a query without listing
//! the features.
//!
//! - `model`: text literal, `name` or `name@version`.
//! - `query`: text literal, a SELECT whose columns include every feature of
//!   the model by name (extra columns pass through; order does not matter).
//! - Returns the query's columns followed by, for `logistic_reg`,
//!   `predicted_<label>` (label type) and `probability` (float8, positive
//!   class); for `linear_reg`, `predicted_<label>` (float8); for `kmeans`,
//!   `centroid_id` (bigint, 1..k) — as BigQuery ML's `ML.PREDICT`; for
//!   `linear_svm` `predicted_<label>` only; for `agglomerative` and `dbscan`
//!   `cluster_id` (bigint, 1..k; -1 for DBSCAN noise); for
//!   `gaussian_mixture` `cluster_id` and `probability` (of that component);
//!   for `pca` `principal_components` (float8[]).
//! - Errors: 42704 unknown model; 42703 a feature column missing from the
//!   query; otherwise as `predict`.
//!
//! Example: `SELECT * FROM ml_predict('churn', 'SELECT * FROM telco_customers')`.

use std::sync::Arc;

use augur_ml::model::Algorithm;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, ScalarUDF};
use datafusion::prelude::{ident, lit};

use super::common::{literal_arg, load};
use crate::error::{sql_err, sqlstate};
use crate::lazy::session_state;
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlPredict {
    store: Arc<dyn ModelStore>,
    predict: Arc<ScalarUDF>,
    predict_proba: Arc<ScalarUDF>,
}

/// The `ml_predict` table function; `predict`/`predict_proba` are the
/// registered scalar functions it calls.
pub fn ml_predict(
    store: Arc<dyn ModelStore>,
    predict: Arc<ScalarUDF>,
    predict_proba: Arc<ScalarUDF>,
) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlPredict {
        store,
        predict,
        predict_proba,
    })
}

impl TableFunctionImpl for MlPredict {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_predict", "the model name")?;
        let query = literal_arg(exprs, 1, "ml_predict", "the query")?;
        let stored = load(&self.store, &name)?;
        let state = session_state(args.session())?;
        let plan = super::common::plan_query(state, &query, "ml_predict")?;
        let schema = plan.schema().clone();
        let mut call_args = vec![lit(name.clone())];
        let mut last_vector: Option<&str> = None;
        for f in stored.model.feature_names() {
            // the elements `v[1]`, `v[2]`, ... of a vector feature are one column `v`
            let vector = crate::columns::vector_source(f)
                .filter(|base| schema.fields().iter().any(|field| field.name() == base));
            if let Some(base) = vector {
                if last_vector != Some(base) {
                    call_args.push(ident(base));
                }
                last_vector = Some(base);
                continue;
            }
            last_vector = None;
            if !schema.fields().iter().any(|field| field.name() == f) {
                return Err(sql_err(
                    sqlstate::UNDEFINED_COLUMN,
                    format!(
                        "ml_predict: the query has no column \"{f}\", a feature of model '{}'",
                        stored.name
                    ),
                ));
            }
            call_args.push(ident(f));
        }
        let call = |udf: &Arc<ScalarUDF>| {
            Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), call_args.clone()))
        };
        let mut out: Vec<Expr> = schema.columns().into_iter().map(Expr::Column).collect();
        let label = stored
            .model
            .label
            .as_ref()
            .map(|l| l.name.clone())
            .unwrap_or_default();
        match stored.model.algorithm {
            Algorithm::KMeans => out.push(call(&self.predict).alias("centroid_id")),
            Algorithm::Dbscan | Algorithm::Agglomerative => {
                out.push(call(&self.predict).alias("cluster_id"))
            }
            Algorithm::GaussianMixture => {
                out.push(call(&self.predict).alias("cluster_id"));
                out.push(call(&self.predict_proba).alias("probability"));
            }
            Algorithm::Pca => out.push(call(&self.predict).alias("principal_components")),
            Algorithm::LinearSvm => {
                out.push(call(&self.predict).alias(format!("predicted_{label}")))
            }
            Algorithm::LinearRegression
            | Algorithm::DecisionTreeRegressor
            | Algorithm::RandomForestRegressor => {
                out.push(call(&self.predict).alias(format!("predicted_{label}")))
            }
            Algorithm::LogisticRegression
            | Algorithm::NaiveBayes
            | Algorithm::DecisionTreeClassifier
            | Algorithm::RandomForestClassifier => {
                out.push(call(&self.predict).alias(format!("predicted_{label}")));
                out.push(call(&self.predict_proba).alias("probability"));
            }
        }
        let plan = LogicalPlanBuilder::from(plan).project(out)?.build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
