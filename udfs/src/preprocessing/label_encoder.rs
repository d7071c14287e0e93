//! `label_encoder(x [, top_k [, frequency_threshold]]) OVER (…)`: each
//! category as an integer, BigQuery ML's `ML.LABEL_ENCODER`.
//!
//! - `x`: text (other types are read by their text form).
//! - `top_k`: integer literal, default 32000: the vocabulary keeps at most
//!   this many of the most frequent categories (a tie in frequency goes to
//!   the alphabetically first). Must be from 1 to 999999.
//! - `frequency_threshold`: integer literal, default 5: categories seen fewer
//!   times in the partition are left out of the vocabulary. Must be ≥ 0.
//! - Returns bigint: the category's 1-based position in the vocabulary sorted
//!   alphabetically (byte order); NULL and categories outside the vocabulary
//!   give 0.
//! - Errors: 22023 for a bad `top_k` or `frequency_threshold`.
//!
//! Example: `SELECT contract, label_encoder(contract) OVER () FROM telco_customers`

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::window::{int_param, partition_function, texts};
use crate::error::invalid;

/// The `label_encoder` window function.
pub fn label_encoder() -> WindowUDF {
    partition_function(
        "label_encoder",
        &[1, 2, 3],
        |_, _| Ok(DataType::Int64),
        compute,
    )
}

/// The vocabulary of `values` as BigQuery builds it for `ML.LABEL_ENCODER`
/// and `ML.ONE_HOT_ENCODER` ([`augur_ml::stats::vocabulary`]), each category
/// mapped to its 1-based index.
pub fn vocabulary(
    values: &[Option<String>],
    top_k: usize,
    threshold: usize,
) -> HashMap<String, i64> {
    augur_ml::stats::vocabulary(values, top_k, threshold)
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, i as i64 + 1))
        .collect()
}

/// `top_k` and `frequency_threshold` from literal parameters `i` and `i + 1`.
pub fn vocabulary_params(
    name: &str,
    params: &[Option<ScalarValue>],
    i: usize,
) -> Result<(usize, usize)> {
    let top_k = int_param(name, params, i, "top_k", 32000)?;
    if !(1..1_000_000).contains(&top_k) {
        return Err(invalid(format!(
            "{name}: top_k must be from 1 to 999999, got {top_k}"
        )));
    }
    let threshold = int_param(name, params, i + 1, "frequency_threshold", 5)?;
    if threshold < 0 {
        return Err(invalid(format!(
            "{name}: frequency_threshold must be 0 or more, got {threshold}"
        )));
    }
    Ok((top_k as usize, threshold as usize))
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let (top_k, threshold) = vocabulary_params("label_encoder", params, 0)?;
    let v = texts(values)?;
    let vocab = vocabulary(&v, top_k, threshold);
    let out: Int64Array = v
        .iter()
        .map(|x| Some(x.as_ref().and_then(|s| vocab.get(s).copied()).unwrap_or(0)))
        .collect();
    Ok(Arc::new(out))
}
