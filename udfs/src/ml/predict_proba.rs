//! `predict_proba(model, feature, ...)`: probability of the positive class.
//!
//! - `model`: text literal naming a classifier with probabilities
//!   (`logistic_reg`, `naive_bayes`, tree models) or a `gaussian_mixture`
//!   (`name` or `name@version`).
//! - `feature, ...`: as for `predict` (also the types of `$n` parameters).
//! - Returns float8 in [0, 1]. Two classes: the probability of the label's
//!   last class in sort order (`'Yes'` over `'No'`, `1` over `0`, `true` over
//!   `false`), the class listed last in the `models` table. More than two
//!   classes (multinomial): the probability of the predicted class. Never NULL
//!   (NULL features are imputed as for `predict`). `gaussian_mixture`: the
//!   posterior probability of the component `predict` assigns.
//! - Errors: as `predict`, plus 22023 when the model is not a classifier and
//!   0A000 for `linear_svm` (its decision values are not calibrated
//!   probabilities).
//!
//! Example: `SELECT predict_proba('churn', tenure, contract) FROM telco_customers`.

use std::sync::Arc;

use augur_ml::model::Prediction;
use datafusion::arrow::array::Float64Array;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::common::{check_features, literal_string, load, model_name_arg, require, run};
use crate::impl_store_eq;
use crate::store::ModelStore;

#[derive(Debug)]
pub struct PredictProba {
    signature: Signature,
    pub(crate) store: Arc<dyn ModelStore>,
}
impl_store_eq!(PredictProba);

/// The `predict_proba` scalar function.
pub fn predict_proba(store: Arc<dyn ModelStore>) -> ScalarUDF {
    ScalarUDF::new_from_impl(PredictProba {
        signature: Signature::variadic_any(Volatility::Stable),
        store,
    })
}

/// Loads a model and checks that it is a classifier (22023 otherwise).
fn load_classifier(
    store: &Arc<dyn ModelStore>,
    name: &str,
) -> Result<Arc<crate::store::StoredModel>> {
    let stored = load(store, name)?;
    if stored.model.algorithm == augur_ml::Algorithm::LinearSvm {
        return Err(crate::error::sql_err(
            crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "predict_proba: model '{}' is linear_svm, which gives no probabilities (its decision values are not calibrated); use predict for the class, or logistic_reg for probabilities",
                stored.name
            ),
        ));
    }
    require(
        &stored,
        "predict_proba",
        stored.model.algorithm.has_probabilities(),
        "a classifier with probabilities (logistic_reg, naive_bayes, a tree model) or a gaussian_mixture",
    )?;
    Ok(stored)
}

impl ScalarUDFImpl for PredictProba {
    fn name(&self) -> &str {
        "predict_proba"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let name = literal_string(
            args.scalar_arguments.first().copied().flatten(),
            "predict_proba",
            "the model name",
        )?;
        let stored = load_classifier(&self.store, &name)?;
        let types: Vec<DataType> = args.arg_fields[1..]
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        check_features("predict_proba", &stored, &types)?;
        Ok(Arc::new(Field::new(
            "predict_proba",
            DataType::Float64,
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = model_name_arg(&args.args, "predict_proba")?;
        let stored = load_classifier(&self.store, &name)?;
        match run(&stored, &args.args[1..], args.number_rows)? {
            Prediction::Classes { probability, .. }
            | Prediction::Components { probability, .. } => Ok(ColumnarValue::Array(Arc::new(
                Float64Array::from(probability),
            ))),
            _ => Err(crate::error::invalid("predict_proba needs a classifier")),
        }
    }
}
