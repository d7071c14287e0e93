//! `feature_cross(features [, degree])`: every cross of categorical features
//! up to `degree`, BigQuery ML's `ML.FEATURE_CROSS`.
//!
//! - `features`: a struct of text (other scalar types read by their text
//!   form), e.g. `named_struct('contract', contract, 'internet', internet_service)`;
//!   `degree`: integer literal from 2 to 4, default 2.
//! - Returns a struct of text fields, one per combination (without
//!   repetition) of 2 … `degree` features in order, named by joining the
//!   feature names with `_`; each value joins the features' values with `_`.
//!   A NULL feature gives a NULL cross.
//! - Errors: 42804 when `features` is not a struct; 22023 for a bad degree.
//!
//! Example: `SELECT feature_cross(named_struct('c', contract, 'i', internet_service)) FROM telco_customers`

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use super::polynomial_expand::{combinations, degree_arg};
use super::window::type_name;
use crate::error::{invalid, sql_err, sqlstate};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FeatureCross {
    signature: Signature,
}

/// The `feature_cross` scalar function.
pub fn feature_cross() -> ScalarUDF {
    ScalarUDF::new_from_impl(FeatureCross {
        signature: Signature::one_of(
            vec![TypeSignature::Any(1), TypeSignature::Any(2)],
            Volatility::Immutable,
        ),
    })
}

fn crosses(n: usize, degree: usize) -> Vec<Vec<usize>> {
    combinations(n, degree, false)
        .into_iter()
        .filter(|c| c.len() >= 2)
        .collect()
}

fn output_fields(input: &Fields, degree: usize) -> Fields {
    crosses(input.len(), degree)
        .iter()
        .map(|c| {
            let name: Vec<&str> = c.iter().map(|i| input[*i].name().as_str()).collect();
            Field::new(name.join("_"), DataType::Utf8, true)
        })
        .collect()
}

fn degree(arg: Option<Option<&datafusion::common::ScalarValue>>) -> Result<usize> {
    let d = degree_arg("feature_cross", arg, 2, 4)?;
    if d < 2 {
        return Err(invalid("feature_cross: degree must be from 2 to 4, got 1"));
    }
    Ok(d)
}

impl ScalarUDFImpl for FeatureCross {
    fn name(&self) -> &str {
        "feature_cross"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Err(invalid(
            "feature_cross: return type comes from return_field_from_args",
        ))
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let fields = match args.arg_fields[0].data_type() {
            DataType::Struct(f) if f.len() >= 2 => f,
            other => {
                return Err(sql_err(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "feature_cross: features must be a struct of at least two columns, e.g. named_struct('a', a, 'b', b); got {}",
                        type_name(other)
                    ),
                ));
            }
        };
        let d = degree(args.scalar_arguments.get(1).copied())?;
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Struct(output_fields(fields, d)),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = args.args[0].to_array(args.number_rows)?;
        let input = input.as_struct();
        let d = match args.args.get(1) {
            None => 2,
            Some(ColumnarValue::Scalar(s)) => degree(Some(Some(s)))?,
            Some(_) => return Err(invalid("feature_cross: degree must be an integer literal")),
        };
        let cols: Vec<ArrayRef> = input
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let arrays: Vec<ArrayRef> = crosses(cols.len(), d)
            .iter()
            .map(|c| {
                let a: StringArray = (0..input.len())
                    .map(|r| {
                        c.iter()
                            .map(|i| {
                                let s = cols[*i].as_string::<i32>();
                                s.is_valid(r).then(|| s.value(r))
                            })
                            .collect::<Option<Vec<&str>>>()
                            .map(|v| v.join("_"))
                    })
                    .collect();
                Arc::new(a) as ArrayRef
            })
            .collect();
        let fields = match args.return_field.data_type() {
            DataType::Struct(f) => f.clone(),
            _ => output_fields(input.fields(), d),
        };
        Ok(ColumnarValue::Array(Arc::new(StructArray::try_new(
            fields,
            arrays,
            input.nulls().cloned(),
        )?)))
    }
}
