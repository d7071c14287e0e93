//! `ml_weights(model)`: the coefficients of a linear or logistic model.
//!
//! - `model`: text literal, `name` or `name@version` of a `linear_reg`,
//!   `logistic_reg` or `linear_svm` model (for `linear_svm` the hyperplane:
//!   decision value = intercept + Σ weight × encoded value).
//! - Returns one row per encoded feature and one for the intercept:
//!   `feature text` (the input column, `__intercept__` for the intercept),
//!   `category text` (the one-hot category; NULL for numeric columns),
//!   `class text` (for a multinomial model the class the weight belongs to,
//!   otherwise NULL), `weight float8` — as BigQuery ML's `ML.WEIGHTS`.
//!   Weights apply to the encoded features: numeric columns standardised
//!   (so weights of different columns compare), categories as 0/1; for a
//!   binary classifier a positive weight raises the probability of the
//!   positive class. Columns constant in training have no weight.
//! - Errors: 42704 unknown model; 22023 for a k-means model.
//!
//! Example: `SELECT * FROM ml_weights('churn') ORDER BY abs(weight) DESC LIMIT 5`

use std::sync::Arc;

use augur_ml::model::Parameters;
use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::common::{literal_arg, load, require};
use crate::store::ModelStore;

#[derive(Debug)]
pub struct MlWeights {
    store: Arc<dyn ModelStore>,
}

/// The `ml_weights` table function.
pub fn ml_weights(store: Arc<dyn ModelStore>) -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlWeights { store })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, true),
        Field::new("class", DataType::Utf8, true),
        Field::new("weight", DataType::Float64, false),
    ]))
}

impl TableFunctionImpl for MlWeights {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = literal_arg(args.exprs(), 0, "ml_weights", "the model name")?;
        let stored = load(&self.store, &name)?;
        if stored.model.segments.is_some() {
            return Err(crate::error::sql_err(
                crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                "ml_weights is not supported for per-segment models (grouping_cols) yet; train a model on one segment's rows to explain it",
            ));
        }
        let model = &stored.model;
        let linear = matches!(
            model.parameters,
            Parameters::Logistic { .. }
                | Parameters::Linear { .. }
                | Parameters::Multinomial { .. }
                | Parameters::LinearSvm { .. }
        );
        require(
            &stored,
            "ml_weights",
            linear,
            "a linear_reg, logistic_reg or linear_svm model",
        )?;
        let encoded = model.encoder.encoded_columns();
        let classes = model
            .label
            .as_ref()
            .map(|l| l.classes.clone())
            .unwrap_or_default();
        // (class, intercept, coefficients) per set of weights
        let sets: Vec<(Option<String>, f64, Vec<f64>)> = match &model.parameters {
            Parameters::Logistic {
                coefficients,
                intercept,
            }
            | Parameters::Linear {
                coefficients,
                intercept,
            }
            | Parameters::LinearSvm {
                coefficients,
                intercept,
            } => {
                vec![(None, *intercept, coefficients.clone())]
            }
            Parameters::Multinomial {
                coefficients,
                intercepts,
            } => classes
                .iter()
                .zip(coefficients.iter().zip(intercepts))
                .map(|(c, (w, b))| (Some(c.clone()), *b, w.clone()))
                .collect(),
            _ => vec![],
        };
        let (mut feature, mut category, mut class, mut weight) = (vec![], vec![], vec![], vec![]);
        for (cls, intercept, coefficients) in sets {
            feature.push("__intercept__".to_string());
            category.push(None);
            class.push(cls.clone());
            weight.push(intercept);
            for ((f, cat), w) in encoded.iter().zip(coefficients) {
                feature.push(f.clone());
                category.push(cat.clone());
                class.push(cls.clone());
                weight.push(w);
            }
        }
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(feature)),
                Arc::new(StringArray::from(category)),
                Arc::new(StringArray::from(class)),
                Arc::new(Float64Array::from(weight)),
            ],
        )?;
        Ok(Arc::new(MemTable::try_new(schema(), vec![vec![batch]])?))
    }
}
