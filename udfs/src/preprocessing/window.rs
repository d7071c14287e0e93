//! The machinery shared by the preprocessing window functions: each one
//! computes its statistics over the whole window partition (`OVER ()` or
//! `OVER (PARTITION BY …)`; any `ORDER BY` or frame in the window is ignored)
//! and then maps every row of the partition.
//!
//! A function is described by its name, the argument counts it accepts, a
//! return-type rule (checked at planning) and a compute function that receives
//! the first argument as an array and the other arguments as literal values.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, TypeSignature, Volatility, WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::expressions::Literal;

use crate::error::{invalid, sql_err, sqlstate};

/// Return-type rule: the argument types to the output type, or a 42804 error.
pub type ReturnRule = fn(&str, &[DataType]) -> Result<DataType>;
/// The computation over one partition: the first argument's values and the
/// literal values of the remaining arguments (`None` when not a literal).
pub type Compute = fn(&ArrayRef, &[Option<ScalarValue>]) -> Result<ArrayRef>;

/// A window function computed over whole partitions.
pub struct PartitionFunction {
    name: &'static str,
    signature: Signature,
    ret: ReturnRule,
    compute: Compute,
}

impl fmt::Debug for PartitionFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for PartitionFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for PartitionFunction {}
impl Hash for PartitionFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

/// Builds the window function `name` accepting `arities` arguments.
pub fn partition_function(
    name: &'static str,
    arities: &[usize],
    ret: ReturnRule,
    compute: Compute,
) -> WindowUDF {
    let signature = Signature::one_of(
        arities.iter().map(|&n| TypeSignature::Any(n)).collect(),
        Volatility::Immutable,
    );
    WindowUDF::new_from_impl(PartitionFunction {
        name,
        signature,
        ret,
        compute,
    })
}

impl WindowUDFImpl for PartitionFunction {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = field_args
            .input_fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let dt = (self.ret)(self.name, &types)?;
        Ok(Arc::new(Field::new(field_args.name(), dt, true)))
    }
    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let params = args
            .input_exprs()
            .iter()
            .skip(1)
            .map(|e| e.downcast_ref::<Literal>().map(|l| l.value().clone()))
            .collect();
        Ok(Box::new(Evaluator {
            compute: self.compute,
            params,
        }))
    }
}

struct Evaluator {
    compute: Compute,
    params: Vec<Option<ScalarValue>>,
}

impl fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PartitionFunctionEvaluator")
    }
}

impl PartitionEvaluator for Evaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let out = (self.compute)(&values[0], &self.params)?;
        debug_assert_eq!(out.len(), num_rows);
        Ok(out)
    }
}

/// True for the types read as numbers (integers, floats, decimals, NULL).
pub fn is_numeric(dt: &DataType) -> bool {
    dt.is_numeric() || dt == &DataType::Null
}

/// True for the text types (and NULL).
pub fn is_text(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    ) || matches!(dt, DataType::Dictionary(_, v) if is_text(v))
}

/// Return rule of the numeric scalers: a number in, float8 out; 42804 otherwise.
pub fn numeric_to_float(name: &str, types: &[DataType]) -> Result<DataType> {
    require_numeric(name, types)?;
    Ok(DataType::Float64)
}

/// Return rule of the outlier flags: a number in, boolean out.
pub fn numeric_to_bool(name: &str, types: &[DataType]) -> Result<DataType> {
    require_numeric(name, types)?;
    Ok(DataType::Boolean)
}

/// 42804 unless the first argument is numeric.
pub fn require_numeric(name: &str, types: &[DataType]) -> Result<()> {
    match types.first() {
        Some(dt) if is_numeric(dt) => Ok(()),
        Some(dt) => Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "{name}: the expression must be numeric, got {}; cast it to a number",
                type_name(dt)
            ),
        )),
        None => Err(invalid(format!("{name}: missing the expression argument"))),
    }
}

/// The values as float8 (NULL stays NULL).
pub fn floats(values: &ArrayRef) -> Result<Vec<Option<f64>>> {
    let a = cast(values, &DataType::Float64)?;
    Ok(a.as_primitive::<Float64Type>().iter().collect())
}

pub use augur_ml::stats::{mean_std, quantile_linear, sorted_present};

/// Maps every value with `f`, keeping NULL (and NaN) as they are.
pub fn map_floats(values: &[Option<f64>], f: impl Fn(f64) -> f64) -> ArrayRef {
    Arc::new(
        values
            .iter()
            .map(|v| v.map(|x| if x.is_nan() { x } else { f(x) }))
            .collect::<Float64Array>(),
    )
}

/// An optional numeric literal parameter as f64; `default` when absent.
pub fn float_param(
    name: &str,
    params: &[Option<ScalarValue>],
    i: usize,
    what: &str,
    default: f64,
) -> Result<f64> {
    match params.get(i) {
        None => Ok(default),
        Some(Some(v)) if !v.is_null() => match v.cast_to(&DataType::Float64) {
            Ok(ScalarValue::Float64(Some(x))) if x.is_finite() => Ok(x),
            _ => Err(invalid(format!("{name}: {what} must be a finite number"))),
        },
        _ => Err(invalid(format!(
            "{name}: {what} must be a number literal, not NULL or a column"
        ))),
    }
}

/// An optional integer literal parameter; `default` when absent.
pub fn int_param(
    name: &str,
    params: &[Option<ScalarValue>],
    i: usize,
    what: &str,
    default: i64,
) -> Result<i64> {
    match params.get(i) {
        None => Ok(default),
        Some(Some(v)) if !v.is_null() && v.data_type().is_integer() => {
            match v.cast_to(&DataType::Int64) {
                Ok(ScalarValue::Int64(Some(x))) => Ok(x),
                _ => Err(invalid(format!("{name}: {what} must be an integer"))),
            }
        }
        _ => Err(invalid(format!(
            "{name}: {what} must be an integer literal"
        ))),
    }
}

/// A string literal parameter.
pub fn string_param(
    name: &str,
    params: &[Option<ScalarValue>],
    i: usize,
    what: &str,
) -> Result<String> {
    match params.get(i) {
        Some(Some(ScalarValue::Utf8(Some(s))))
        | Some(Some(ScalarValue::LargeUtf8(Some(s))))
        | Some(Some(ScalarValue::Utf8View(Some(s)))) => Ok(s.clone()),
        _ => Err(invalid(format!("{name}: {what} must be a string literal"))),
    }
}

/// The values as text (NULL stays NULL).
pub fn texts(values: &ArrayRef) -> Result<Vec<Option<String>>> {
    let a = cast(values, &DataType::Utf8)?;
    Ok(a.as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect())
}

/// The PostgreSQL name of an Arrow type where there is one.
pub fn type_name(dt: &DataType) -> String {
    match crate::columns::feature_kind(dt) {
        Some((name, _)) => name.to_string(),
        None => dt.to_string(),
    }
}
