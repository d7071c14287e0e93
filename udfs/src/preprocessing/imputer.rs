//! `imputer(x, strategy) OVER (…)`: replaces NULL by a statistic of the
//! window partition, BigQuery ML's `ML.IMPUTER` (scikit-learn's `SimpleImputer`).
//!
//! - `x`: a numeric or text expression.
//! - `strategy`: text literal, `'mean'` or `'median'` (numbers only) or
//!   `'most_frequent'` (numbers or text; a tie goes to the smallest value,
//!   as scikit-learn does). The median is the middle value, or the mean of
//!   the two middle values.
//! - Returns float8 for numeric `x`, text for text `x`: the value itself, or
//!   the statistic of the partition's non-NULL values where it is NULL (NaN
//!   is also filled). A partition with no value at all stays NULL.
//! - Errors: 22023 for an unknown or non-literal strategy; 42804 for `x`
//!   of another type, or `'mean'`/`'median'` on text.
//!
//! Example: `SELECT imputer(total_charges, 'median') OVER () FROM telco_customers`

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{
    floats, is_numeric, is_text, mean_std, partition_function, quantile_linear, sorted_present,
    string_param, texts,
};
use crate::error::{invalid, sql_err, sqlstate};

/// The `imputer` window function.
pub fn imputer() -> WindowUDF {
    partition_function("imputer", &[2], return_type, compute)
}

fn return_type(name: &str, types: &[DataType]) -> Result<DataType> {
    match types.first() {
        Some(DataType::Null) => Ok(DataType::Float64),
        Some(dt) if is_numeric(dt) => Ok(DataType::Float64),
        Some(dt) if is_text(dt) => Ok(DataType::Utf8),
        Some(dt) => Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!("{name}: the expression must be numeric or text, got {dt}"),
        )),
        None => Err(invalid(format!("{name}: missing the expression argument"))),
    }
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let strategy = string_param("imputer", params, 0, "strategy")?;
    let numeric = is_numeric(values.data_type());
    match (strategy.as_str(), numeric) {
        ("mean" | "median" | "most_frequent", true) => {
            let v = floats(values)?;
            let fill = match strategy.as_str() {
                "mean" => mean_std(&v).map(|m| m.0),
                "median" => {
                    let s = sorted_present(&v);
                    (!s.is_empty()).then(|| quantile_linear(&s, 0.5))
                }
                _ => {
                    let s = sorted_present(&v);
                    augur_ml::stats::most_frequent(s.iter().copied())
                }
            };
            let out: Float64Array = v
                .iter()
                .map(|x| match x {
                    Some(x) if !x.is_nan() => Some(*x),
                    _ => fill,
                })
                .collect();
            Ok(Arc::new(out))
        }
        ("most_frequent", false) => {
            let v = texts(values)?;
            let fill = augur_ml::stats::most_frequent_text(&v);
            let out: StringArray = v
                .iter()
                .map(|x| x.clone().or_else(|| fill.clone()))
                .collect();
            Ok(Arc::new(out))
        }
        ("mean" | "median", false) => Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "imputer: strategy '{strategy}' needs a numeric expression; use 'most_frequent' for text"
            ),
        )),
        _ => Err(invalid(format!(
            "imputer: unknown strategy '{strategy}'; expected 'mean', 'median' or 'most_frequent'"
        ))),
    }
}
