//! `ml_explain_predict(model, query [, top_k])`: why a linear model predicts
//! what it does, row by row.
//!
//! - `model`: text literal naming a `linear_reg` or `logistic_reg` model.
//! - `query`: text literal, a SELECT with every feature column (by name).
//! - `top_k`: integer literal, default 3: how many input columns to report
//!   per row, largest absolute attribution first.
//! - Returns, for each input row, `top_k` rows of the query's columns followed
//!   by `feature text` (an input column), `attribution float8` and `rank
//!   bigint` (1 = largest). A column's attribution is the sum of `weight ×
//!   encoded value` over its encoded features: its push on the prediction
//!   (for a classifier, on the log-odds of the positive class, or of the
//!   predicted class when there are more than two) away from a customer at
//!   the training mean with no category; with the intercept (`ml_weights`)
//!   the attributions add up to the score. Columns constant in training are
//!   never reported.
//! - Errors: 42704 unknown model; 22023 a model that is not linear or a bad
//!   `top_k`; 42703 a feature missing from the query.
//!
//! Example: `SELECT customer_id, feature, round(attribution, 3) FROM ml_explain_predict('churn', 'SELECT * FROM telco_customers WHERE customer_id = 3160')`

use std::sync::Arc;

use augur_ml::ColumnValues;
use augur_ml::model::Parameters;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use super::common::{literal_arg, load, model_columns, plan_query, require};
use crate::error::{invalid, to_df};
use crate::lazy::{LazyQueryTable, session_state};
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlExplainPredict {
    store: Arc<dyn ModelStore>,
}

/// The `ml_explain_predict` table function.
pub fn ml_explain_predict(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlExplainPredict { store })
}

impl TableFunctionImpl for MlExplainPredict {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let name = literal_arg(exprs, 0, "ml_explain_predict", "the model name")?;
        let query = literal_arg(exprs, 1, "ml_explain_predict", "the query")?;
        let top_k = match exprs.get(2) {
            None => 3,
            Some(Expr::Literal(v, _)) => match v.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(k)) if k >= 1 => k as usize,
                _ => {
                    return Err(invalid(
                        "ml_explain_predict: top_k must be a positive integer",
                    ));
                }
            },
            Some(_) => {
                return Err(invalid(
                    "ml_explain_predict: top_k must be an integer literal",
                ));
            }
        };
        let stored = load(&self.store, &name)?;
        if stored.model.segments.is_some() {
            return Err(crate::error::sql_err(
                crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                "ml_explain_predict is not supported for per-segment models (grouping_cols) yet; train a model on one segment's rows to explain it",
            ));
        }
        let linear = matches!(
            stored.model.parameters,
            Parameters::Logistic { .. }
                | Parameters::Linear { .. }
                | Parameters::Multinomial { .. }
        );
        require(
            &stored,
            "ml_explain_predict",
            linear,
            "a linear_reg or logistic_reg model",
        )?;
        let plan = plan_query(session_state(args.session())?, &query, "ml_explain_predict")?;
        let mut fields: Vec<Field> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("feature", DataType::Utf8, false));
        fields.push(Field::new("attribution", DataType::Float64, false));
        fields.push(Field::new("rank", DataType::Int64, false));
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let out_schema = schema.clone();
        let job = Arc::new(move |in_schema: SchemaRef, batches: Vec<RecordBatch>| {
            let batch = concat_batches(&in_schema, &batches)?;
            let model = &stored.model;
            let columns = model_columns(model, &in_schema, &batches)?;
            let by_name = |n: &str| columns.iter().find(|c| c.name == n).map(|c| &c.values);
            let feats: Vec<&ColumnValues> = model
                .feature_names()
                .iter()
                .map(|n| {
                    by_name(n).ok_or_else(|| {
                        crate::error::sql_err(
                            crate::error::sqlstate::UNDEFINED_COLUMN,
                            format!("ml_explain_predict: the query has no column \"{n}\""),
                        )
                    })
                })
                .collect::<Result<_>>()?;
            let x = model.encoder.transform(&feats).map_err(to_df)?;
            let attributions = model.attributions(&x).map_err(to_df)?;
            let names = model.feature_names();
            let (mut rows, mut feature, mut value, mut rank) = (vec![], vec![], vec![], vec![]);
            for (r, a) in attributions.iter().enumerate() {
                let mut order: Vec<usize> = (0..a.len()).collect();
                order.sort_by(|i, j| a[*j].abs().total_cmp(&a[*i].abs()));
                for (k, i) in order.into_iter().take(top_k).enumerate() {
                    rows.push(r as u32);
                    feature.push(names[i].to_string());
                    value.push(a[i]);
                    rank.push(k as i64 + 1);
                }
            }
            let idx = UInt32Array::from(rows);
            let mut out: Vec<ArrayRef> = batch
                .columns()
                .iter()
                .map(|c| take(c, &idx, None))
                .collect::<std::result::Result<_, _>>()?;
            out.push(Arc::new(StringArray::from(feature)));
            out.push(Arc::new(Float64Array::from(value)));
            out.push(Arc::new(Int64Array::from(rank)));
            Ok(RecordBatch::try_new(out_schema.clone(), out)?)
        });
        Ok(Arc::new(LazyQueryTable::new(schema, query, job)))
    }
}
