//! `predict(model, feature, ...)`: the model's prediction for each row.
//!
//! - `model`: text literal, `name` (latest version) or `name@version`.
//! - `feature, ...`: the model's feature columns in training order (see the
//!   `features` column of the `models` table); numeric SQL types for numeric
//!   features, text for text features.
//! - Returns: for a classifier (`logistic_reg`, `naive_bayes`) the predicted class in the label's own type
//!   (text, bigint, boolean or float8; threshold 0.5 on the positive class);
//!   for `linear_reg` and regression trees float8; for `kmeans` the bigint
//!   centroid id, 1..k; for `agglomerative` and `gaussian_mixture` the bigint
//!   cluster id, 1..k (agglomerative: the nearest cluster centroid;
//!   gaussian_mixture: the most probable component); for `dbscan` the bigint
//!   cluster id 1..k of the nearest core sample within `eps`, or -1 (noise);
//!   for `linear_svm` the class (decision value ≥ 0 → the label's last
//!   class); for `pca` the row projected on the principal components, a
//!   float8[] of `num_principal_components` values.
//! - NULL features follow the model's rule (numeric → training mean; text →
//!   no category), so a row always gets a prediction.
//! - In a prepared statement a `$n` feature argument is described with the
//!   type of that feature's training column (see `argument_types`).
//! - Errors: 42704 unknown model; 22023 model not a literal or wrong feature
//!   count; 42804 a feature of the wrong kind.
//!
//! Example: `SELECT predict('churn', tenure, contract) FROM telco_customers`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::common::{
    check_features, literal_string, load, model_name_arg, predict_array, predict_type, run,
};
use crate::impl_store_eq;
use crate::store::ModelStore;

#[derive(Debug)]
pub struct Predict {
    signature: Signature,
    pub(crate) store: Arc<dyn ModelStore>,
}
impl_store_eq!(Predict);

/// The `predict` scalar function.
pub fn predict(store: Arc<dyn ModelStore>) -> ScalarUDF {
    ScalarUDF::new_from_impl(Predict {
        signature: Signature::variadic_any(Volatility::Stable),
        store,
    })
}

impl ScalarUDFImpl for Predict {
    fn name(&self) -> &str {
        "predict"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8) // superseded by return_field_from_args
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let name = literal_string(
            args.scalar_arguments.first().copied().flatten(),
            "predict",
            "the model name",
        )?;
        let stored = load(&self.store, &name)?;
        let types: Vec<DataType> = args.arg_fields[1..]
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        check_features("predict", &stored, &types)?;
        Ok(Arc::new(Field::new(
            "predict",
            predict_type(&stored.model),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = model_name_arg(&args.args, "predict")?;
        let stored = load(&self.store, &name)?;
        if &predict_type(&stored.model) != args.return_field.data_type() {
            return Err(crate::error::invalid(format!(
                "model '{name}' changed its output type since this statement was planned; run it again"
            )));
        }
        let p = run(&stored, &args.args[1..], args.number_rows)?;
        Ok(ColumnarValue::Array(predict_array(&stored, p)?))
    }
}
