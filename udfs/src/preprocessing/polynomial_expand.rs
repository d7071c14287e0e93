//! `polynomial_expand(features [, degree])`: every product of the features up
//! to `degree`, BigQuery ML's `ML.POLYNOMIAL_EXPAND` (scikit-learn's
//! `PolynomialFeatures(include_bias=False)`, same column order).
//!
//! - `features`: a struct of numbers, e.g. `named_struct('a', a, 'b', b)` or
//!   `struct(tenure AS t, monthly_charges AS m)`; `degree`: integer literal
//!   from 1 to 4, default 2.
//! - Returns a struct of float8 fields: the features, then for each degree
//!   2 … `degree` the products of combinations with repetition in
//!   lexicographic order, named by joining the feature names with `_`
//!   (`a, b, a_a, a_b, b_b`). A NULL feature gives NULL products.
//! - Errors: 42804 when `features` is not a struct of numbers; 22023 for a
//!   bad degree.
//!
//! Example: `SELECT polynomial_expand(named_struct('t', tenure, 'm', monthly_charges)) FROM telco_customers`

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use super::window::{is_numeric, type_name};
use crate::error::{invalid, sql_err, sqlstate};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PolynomialExpand {
    signature: Signature,
}

/// The `polynomial_expand` scalar function.
pub fn polynomial_expand() -> ScalarUDF {
    ScalarUDF::new_from_impl(PolynomialExpand {
        signature: Signature::one_of(
            vec![TypeSignature::Any(1), TypeSignature::Any(2)],
            Volatility::Immutable,
        ),
    })
}

/// Combinations with repetition of `0..n` of sizes 1..=degree, in
/// scikit-learn's order.
pub fn combinations(n: usize, degree: usize, repeat: bool) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    fn rec(
        n: usize,
        k: usize,
        start: usize,
        repeat: bool,
        cur: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(n, k, if repeat { i } else { i + 1 }, repeat, cur, out);
            cur.pop();
        }
    }
    for k in 1..=degree {
        rec(n, k, 0, repeat, &mut Vec::new(), &mut out);
    }
    out
}

/// The degree literal (argument 1), `default` when absent.
pub fn degree_arg(
    name: &str,
    arg: Option<Option<&ScalarValue>>,
    default: i64,
    max: i64,
) -> Result<usize> {
    let d = match arg {
        None => default,
        Some(Some(v)) if v.data_type().is_integer() => match v.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(d)) => d,
            _ => -1,
        },
        _ => {
            return Err(invalid(format!(
                "{name}: degree must be an integer literal"
            )));
        }
    };
    if d < 1 || d > max {
        return Err(invalid(format!(
            "{name}: degree must be from 1 to {max}, got {d}"
        )));
    }
    Ok(d as usize)
}

fn struct_fields<'a>(
    name: &str,
    dt: &'a DataType,
    ok: fn(&DataType) -> bool,
    what: &str,
) -> Result<&'a Fields> {
    match dt {
        DataType::Struct(f) if !f.is_empty() && f.iter().all(|f| ok(f.data_type())) => Ok(f),
        other => Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "{name}: features must be a struct of {what}, e.g. named_struct('a', a, 'b', b); got {}",
                type_name(other)
            ),
        )),
    }
}

fn output_fields(input: &Fields, degree: usize) -> Fields {
    combinations(input.len(), degree, true)
        .iter()
        .map(|c| {
            let name: Vec<&str> = c.iter().map(|i| input[*i].name().as_str()).collect();
            Field::new(name.join("_"), DataType::Float64, true)
        })
        .collect()
}

impl ScalarUDFImpl for PolynomialExpand {
    fn name(&self) -> &str {
        "polynomial_expand"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Err(invalid(
            "polynomial_expand: return type comes from return_field_from_args",
        ))
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let fields = struct_fields(
            self.name(),
            args.arg_fields[0].data_type(),
            is_numeric,
            "numbers",
        )?;
        let degree = degree_arg(self.name(), args.scalar_arguments.get(1).copied(), 2, 4)?;
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Struct(output_fields(fields, degree)),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = args.args[0].to_array(args.number_rows)?;
        let input = input.as_struct();
        let degree = match args.args.get(1) {
            None => 2,
            Some(ColumnarValue::Scalar(s)) => degree_arg(self.name(), Some(Some(s)), 2, 4)?,
            Some(_) => {
                return Err(invalid(
                    "polynomial_expand: degree must be an integer literal",
                ));
            }
        };
        let cols: Vec<Vec<Option<f64>>> = input
            .columns()
            .iter()
            .map(|c| {
                Ok(cast(c, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .iter()
                    .collect())
            })
            .collect::<Result<_>>()?;
        let combos = combinations(cols.len(), degree, true);
        let arrays: Vec<ArrayRef> = combos
            .iter()
            .map(|c| {
                let a: Float64Array = (0..input.len())
                    .map(|r| c.iter().try_fold(1.0, |p, i| cols[*i][r].map(|x| p * x)))
                    .collect();
                Arc::new(a) as ArrayRef
            })
            .collect();
        let fields = match args.return_field.data_type() {
            DataType::Struct(f) => f.clone(),
            _ => output_fields(input.fields(), degree),
        };
        Ok(ColumnarValue::Array(Arc::new(StructArray::try_new(
            fields,
            arrays,
            input.nulls().cloned(),
        )?)))
    }
}
