//! `one_hot_encoder(x [, drop [, top_k [, frequency_threshold]]]) OVER (…)`:
//! one-hot (or dummy) encoding of a category, BigQuery ML's `ML.ONE_HOT_ENCODER`.
//!
//! - `x`: text (other types are read by their text form).
//! - `drop`: text literal, `'none'` (default) or `'most_frequent'` (dummy
//!   encoding: the most frequent category of the vocabulary, ties to the
//!   alphabetically first, gets value 0).
//! - `top_k` (default 32000) and `frequency_threshold` (default 5): the
//!   vocabulary, as `label_encoder` builds it (alphabetical, 1-based).
//! - Returns, as BigQuery does, an array of one struct per row:
//!   `[{index: bigint, value: float8}]` — `index` is the category's position in
//!   the vocabulary (0 for NULL and categories outside it) and `value` is 1.0
//!   (0.0 for the dropped category). Over the wire the column is sent in
//!   PostgreSQL's text form of an array of records; select
//!   `one_hot_encoder(x) OVER ()[1]['index']` for a plain bigint.
//! - Errors: 22023 for a bad `drop`, `top_k` or `frequency_threshold`.
//!
//! Example: `SELECT contract, one_hot_encoder(contract) OVER () FROM telco_customers`

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, ListArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::label_encoder::{vocabulary, vocabulary_params};
use super::window::{partition_function, string_param, texts};
use crate::error::invalid;

/// The struct fields `index bigint, value float8`.
pub fn struct_fields() -> Fields {
    Fields::from(vec![
        Field::new("index", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
    ])
}

/// The output type: a list of `struct(index bigint, value float8)`.
pub fn output_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(struct_fields()),
        true,
    )))
}

/// The `one_hot_encoder` window function.
pub fn one_hot_encoder() -> WindowUDF {
    partition_function(
        "one_hot_encoder",
        &[1, 2, 3, 4],
        |_, _| Ok(output_type()),
        compute,
    )
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let drop = if params.is_empty() {
        "none".to_string()
    } else {
        string_param("one_hot_encoder", params, 0, "drop")?
    };
    if drop != "none" && drop != "most_frequent" {
        return Err(invalid(format!(
            "one_hot_encoder: drop must be 'none' or 'most_frequent', got '{drop}'"
        )));
    }
    let (top_k, threshold) = vocabulary_params("one_hot_encoder", params, 1)?;
    let v = texts(values)?;
    let vocab = vocabulary(&v, top_k, threshold);
    let dropped: Option<i64> = if drop == "most_frequent" {
        let mut names: Vec<String> = vocab.keys().cloned().collect();
        names.sort();
        augur_ml::stats::most_frequent_in(&v, &names).and_then(|m| vocab.get(&m).copied())
    } else {
        None
    };
    let index: Int64Array = v
        .iter()
        .map(|x| Some(x.as_ref().and_then(|s| vocab.get(s).copied()).unwrap_or(0)))
        .collect();
    let value: Float64Array = index
        .iter()
        .map(|i| {
            Some(if i.is_some() && i == dropped {
                0.0
            } else {
                1.0
            })
        })
        .collect();
    let n = v.len();
    let structs = StructArray::try_new(
        struct_fields(),
        vec![Arc::new(index) as ArrayRef, Arc::new(value)],
        None,
    )?;
    let list = ListArray::try_new(
        Arc::new(Field::new_list_field(
            DataType::Struct(struct_fields()),
            true,
        )),
        OffsetBuffer::from_lengths(std::iter::repeat_n(1, n)),
        Arc::new(structs),
        None,
    )?;
    Ok(Arc::new(list))
}
