//! `ml_profile(query)`: one row of summary statistics per column of a query's
//! result, for a first look at data quality.
//!
//! - `query`: text literal, any `SELECT`.
//! - Returns `column_name text, data_type text, count bigint (non-NULL
//!   values), null_count bigint, distinct_count bigint (distinct non-NULL
//!   values), min text, max text, mean float8, stddev float8, top_values text`,
//!   in the query's column order.
//! - `min`/`max`: numeric columns compare as numbers (integers printed
//!   without a fraction), others by their text form. `mean` and `stddev`
//!   (sample, n − 1, like PostgreSQL's `stddev` and pandas' `std`) only for
//!   numeric columns, NULL otherwise; NaN counts as a value but is left out
//!   of the statistics. `top_values`: JSON array of the 5 most frequent
//!   non-NULL values, `[{"value": "...", "count": n}, …]`, ties by text order.
//! - Lazy and off the async runtime like `ml_train`: planning fixes only the
//!   schema; the query runs when the statement executes.
//! - Errors: 22023 when `query` is not a string literal; the query's own
//!   errors otherwise.
//!
//! Example: `SELECT column_name, null_count, mean FROM ml_profile('SELECT * FROM telco_customers')`

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use crate::columns::feature_kind;
use crate::lazy::LazyQueryTable;
use crate::ml::common::literal_arg;

#[derive(Debug)]
pub struct MlProfile;

/// The `ml_profile` table function.
pub fn ml_profile() -> Arc<dyn TableFunctionImpl> {
    Arc::new(MlProfile)
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("column_name", DataType::Utf8, false),
        Field::new("data_type", DataType::Utf8, false),
        Field::new("count", DataType::Int64, false),
        Field::new("null_count", DataType::Int64, false),
        Field::new("distinct_count", DataType::Int64, false),
        Field::new("min", DataType::Utf8, true),
        Field::new("max", DataType::Utf8, true),
        Field::new("mean", DataType::Float64, true),
        Field::new("stddev", DataType::Float64, true),
        Field::new("top_values", DataType::Utf8, false),
    ]))
}

/// The statistics of one column.
struct Profile {
    count: i64,
    nulls: i64,
    distinct: i64,
    min: Option<String>,
    max: Option<String>,
    mean: Option<f64>,
    stddev: Option<f64>,
    top: String,
}

fn is_number(dt: &DataType) -> bool {
    dt.is_numeric()
}

fn profile(array: &ArrayRef) -> Result<Profile> {
    let dt = array.data_type();
    let nulls = array.logical_null_count() as i64;
    let count = array.len() as i64 - nulls;
    let text = cast(array, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let mut freq: HashMap<&str, i64> = HashMap::new();
    for v in text.iter().flatten() {
        *freq.entry(v).or_insert(0) += 1;
    }
    let mut top: Vec<(&str, i64)> = freq.iter().map(|(k, v)| (*k, *v)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    top.truncate(5);
    let top = format!(
        "[{}]",
        top.iter()
            .map(|(v, n)| {
                let v = serde_json::Value::from(*v);
                format!("{{\"value\": {v}, \"count\": {n}}}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (mut min, mut max, mut mean, mut stddev) = (None, None, None, None);
    if is_number(dt) {
        let f = cast(array, &DataType::Float64)?;
        let v: Vec<f64> = f
            .as_primitive::<Float64Type>()
            .iter()
            .flatten()
            .filter(|x| !x.is_nan())
            .collect();
        if !v.is_empty() {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let show = |x: f64| {
                if dt.is_integer() {
                    format!("{}", x as i64)
                } else {
                    format!("{x}")
                }
            };
            min = Some(show(lo));
            max = Some(show(hi));
            let n = v.len() as f64;
            let m = v.iter().sum::<f64>() / n;
            mean = Some(m);
            if v.len() > 1 {
                let ss: f64 = v.iter().map(|x| (x - m) * (x - m)).sum();
                stddev = Some((ss / (n - 1.0)).sqrt());
            }
        }
    } else {
        min = text.iter().flatten().min().map(str::to_owned);
        max = text.iter().flatten().max().map(str::to_owned);
    }
    Ok(Profile {
        count,
        nulls,
        distinct: freq.len() as i64,
        min,
        max,
        mean,
        stddev,
        top,
    })
}

impl TableFunctionImpl for MlProfile {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let query = literal_arg(args.exprs(), 0, "ml_profile", "the query")?;
        let job = Arc::new(|schema_in: SchemaRef, batches: Vec<RecordBatch>| {
            let batch = concat_batches(&schema_in, &batches)?;
            let mut names = vec![];
            let mut types = vec![];
            let mut profiles = vec![];
            for (field, array) in schema_in.fields().iter().zip(batch.columns()) {
                names.push(field.name().clone());
                types.push(match feature_kind(field.data_type()) {
                    Some((name, _)) => name.to_string(),
                    None => field.data_type().to_string(),
                });
                profiles.push(profile(array)?);
            }
            let p = &profiles;
            Ok(RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(StringArray::from(names)),
                    Arc::new(StringArray::from(types)),
                    Arc::new(p.iter().map(|p| p.count).collect::<Int64Array>()),
                    Arc::new(p.iter().map(|p| p.nulls).collect::<Int64Array>()),
                    Arc::new(p.iter().map(|p| p.distinct).collect::<Int64Array>()),
                    Arc::new(p.iter().map(|p| p.min.clone()).collect::<StringArray>()),
                    Arc::new(p.iter().map(|p| p.max.clone()).collect::<StringArray>()),
                    Arc::new(p.iter().map(|p| p.mean).collect::<Float64Array>()),
                    Arc::new(p.iter().map(|p| p.stddev).collect::<Float64Array>()),
                    Arc::new(
                        p.iter()
                            .map(|p| Some(p.top.clone()))
                            .collect::<StringArray>(),
                    ),
                ],
            )?)
        });
        Ok(Arc::new(LazyQueryTable::new(schema(), query, job)))
    }
}
