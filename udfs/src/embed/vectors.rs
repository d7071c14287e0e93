//! Shared by the vector functions (`cosine_similarity`, `inner_product`,
//! `l2_distance`): reading float vectors out of list columns and the scalar
//! UDF that applies a metric to two of them row by row.
//!
//! A vector is a `FixedSizeList`, `List` or `LargeList` of `Float32` or
//! `Float64` (what `embed` returns, `ARRAY[...]` literals, `float4[]`
//! parameters). A NULL vector, or one with a NULL element, gives NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{sql_err, sqlstate};

/// One row's vector, in its stored precision.
#[derive(Clone, Copy)]
pub enum Row<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl Row<'_> {
    pub fn len(&self) -> usize {
        match self {
            Row::F32(v) => v.len(),
            Row::F64(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Row::F32(v) => v[i] as f64,
            Row::F64(v) => v[i],
        }
    }
}

/// Applies `f` to each pair of components (as f64), in order.
pub fn zip_fold(a: Row, b: Row, init: f64, f: impl Fn(f64, f64, f64) -> f64) -> f64 {
    match (a, b) {
        (Row::F32(x), Row::F32(y)) => x
            .iter()
            .zip(y)
            .fold(init, |acc, (p, q)| f(acc, *p as f64, *q as f64)),
        _ => (0..a.len()).fold(init, |acc, i| f(acc, a.get(i), b.get(i))),
    }
}

/// The vectors of a list column.
pub struct Vectors {
    array: ArrayRef,
}

fn element_type(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f) => {
            Some(f.data_type())
        }
        _ => None,
    }
}

/// Whether `t` is a vector type (a list of float4/float8, or of NULLs).
pub fn is_vector_type(t: &DataType) -> bool {
    t == &DataType::Null
        || matches!(
            element_type(t),
            Some(DataType::Float32 | DataType::Float64 | DataType::Null)
        )
}

impl Vectors {
    pub fn new(array: ArrayRef) -> Self {
        Self { array }
    }

    /// Row `i`'s vector; `None` for NULL (or a NULL element).
    pub fn row(&self, i: usize) -> Option<Row<'_>> {
        if self.array.is_null(i) {
            return None;
        }
        let (values, start, len) = match self.array.data_type() {
            DataType::FixedSizeList(_, n) => {
                let l = self.array.as_fixed_size_list();
                (l.values(), l.value_offset(i) as usize, *n as usize)
            }
            DataType::List(_) => {
                let l = self.array.as_list::<i32>();
                let o = l.value_offsets();
                (l.values(), o[i] as usize, (o[i + 1] - o[i]) as usize)
            }
            DataType::LargeList(_) => {
                let l = self.array.as_list::<i64>();
                let o = l.value_offsets();
                (l.values(), o[i] as usize, (o[i + 1] - o[i]) as usize)
            }
            _ => return None,
        };
        if values.null_count() > 0 && (start..start + len).any(|j| values.is_null(j)) {
            return None;
        }
        match values.data_type() {
            DataType::Float32 => Some(Row::F32(
                &values.as_primitive::<Float32Type>().values()[start..start + len],
            )),
            DataType::Float64 => Some(Row::F64(
                &values.as_primitive::<Float64Type>().values()[start..start + len],
            )),
            _ => None,
        }
    }
}

/// Which vector function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    Cosine,
    Inner,
    L2,
}

impl Metric {
    fn apply(self, a: Row, b: Row) -> f64 {
        match self {
            Metric::Cosine => super::cosine_similarity::metric(a, b),
            Metric::Inner => super::inner_product::metric(a, b),
            Metric::L2 => super::l2_distance::metric(a, b),
        }
    }
}

/// A vector function: `metric(a, b)` over two vector arguments, float8 out.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VectorFn {
    name: &'static str,
    signature: Signature,
    metric: Metric,
}

impl VectorFn {
    pub fn new(name: &'static str, metric: Metric) -> Self {
        Self {
            name,
            signature: Signature::any(2, Volatility::Immutable),
            metric,
        }
    }
}

impl ScalarUDFImpl for VectorFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        for t in arg_types {
            if !is_vector_type(t) {
                return Err(sql_err(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "{}: arguments must be float4[] or float8[] vectors (such as embed(...)), got {t}",
                        self.name
                    ),
                ));
            }
        }
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        // a scalar argument stays one row (not repeated), read as row 0
        let cols: Vec<(Vectors, bool)> = args
            .args
            .iter()
            .map(|a| {
                Ok(match a {
                    ColumnarValue::Scalar(s) => (Vectors::new(s.to_array_of_size(1)?), true),
                    ColumnarValue::Array(a) => (Vectors::new(a.clone()), false),
                })
            })
            .collect::<Result<_>>()?;
        fn at(c: &(Vectors, bool), i: usize) -> Option<Row<'_>> {
            if c.1 { c.0.row(0) } else { c.0.row(i) }
        }
        let mut out = Vec::with_capacity(rows);
        for i in 0..rows {
            let v = match (at(&cols[0], i), at(&cols[1], i)) {
                (Some(a), Some(b)) => {
                    if a.len() != b.len() {
                        return Err(sql_err(
                            sqlstate::DATA_EXCEPTION,
                            format!(
                                "{}: different vector dimensions {} and {}",
                                self.name,
                                a.len(),
                                b.len()
                            ),
                        ));
                    }
                    Some(self.metric.apply(a, b))
                }
                _ => None,
            };
            out.push(v);
        }
        let array: ArrayRef = Arc::new(Float64Array::from(out));
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
        } else {
            ColumnarValue::Array(array)
        })
    }
}
