//! Integer arithmetic that fails on overflow, as PostgreSQL's does
//! (`SELECT 2147483647 + 1` is 22003 "integer out of range"). DataFusion's
//! `+`, `-` and `*` wrap around silently (its physical `BinaryExpr` is
//! planned with `fail_on_overflow` off, and no setting turns it on), and
//! its `/` reports an overflow in Arrow's words.
//!
//! [`CheckedArithmetic`] is an analyzer rule that runs after DataFusion's
//! type coercion and replaces each `+ - * /` whose operands are signed
//! integers of one type (int2, int4, int8 after coercion) with a call of
//! [`CheckedOp`], which computes it with Arrow's checked kernels and keeps
//! the operator's result type and column name. Constant folding calls the
//! function too; when it fails, DataFusion leaves the expression in place and
//! the error comes when the row is computed, as in PostgreSQL.
//!
//! The rule also covers what PostgreSQL does differently from IEEE and
//! Arrow elsewhere:
//! - `%` of two integers of one type: 22012 for a zero divisor, and
//!   `i32::MIN % -1` is 0 (Arrow reports an overflow);
//! - `/` of two floats (float4, float8; a decimal literal is a float in
//!   Augur): 22012 for a zero divisor, where IEEE gives Infinity or NaN
//!   (`1::float8 / 0` is 22012 in PostgreSQL's `float8div`);
//! - unary minus of an integer: 22003 for the smallest value of the type
//!   (`-(-2147483648)::int4`), where DataFusion wraps around.
//!
//! Errors: 22003 `integer out of range` (`smallint`, `bigint`); 22012
//! `division by zero`.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::error::ArrowError;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_expr_common::datum::apply;

use crate::errors::SqlError;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct CheckedArithmetic;

impl AnalyzerRule for CheckedArithmetic {
    fn name(&self) -> &str {
        "augur_checked_integer_arithmetic"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let mut schema = merge_schema(&node.inputs());
            if let LogicalPlan::TableScan(ts) = &node {
                schema.merge(&DFSchema::try_from_qualified_schema(
                    ts.table_name.clone(),
                    &ts.source.schema(),
                )?);
            }
            let names = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let saved = names.save(&e);
                Ok(checked(e, &schema)?.update_data(|e| saved.restore(e)))
            })
        })
        .map(|t| t.data)
    }
}

fn is_integer(t: &DataType) -> bool {
    matches!(t, DataType::Int16 | DataType::Int32 | DataType::Int64)
}

fn checked(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    expr.transform_up(|e| {
        if let Expr::Negative(inner) = &e {
            return Ok(match inner.get_type(schema) {
                Ok(t) if is_integer(&t) => {
                    let udf = ScalarUDF::new_from_impl(CheckedNeg::default());
                    Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                        Arc::new(udf),
                        vec![(**inner).clone()],
                    )))
                }
                _ => Transformed::no(e),
            });
        }
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else {
            return Ok(Transformed::no(e));
        };
        if !matches!(
            op,
            Operator::Plus
                | Operator::Minus
                | Operator::Multiply
                | Operator::Divide
                | Operator::Modulo
        ) {
            return Ok(Transformed::no(e));
        }
        // an operand whose type cannot be told (an outer reference the
        // schema lacks) leaves the operator as it is
        let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else {
            return Ok(Transformed::no(e));
        };
        let float_division =
            *op == Operator::Divide && matches!(l, DataType::Float32 | DataType::Float64);
        if l != r || !(is_integer(&l) || float_division) {
            return Ok(Transformed::no(e));
        }
        let udf = ScalarUDF::new_from_impl(CheckedOp::new(*op));
        Ok(Transformed::yes(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::new(udf), vec![(**left).clone(), (**right).clone()]),
        )))
    })
}

/// `left op right` for two signed integers of one type, failing where the
/// result does not fit the type (PostgreSQL's `int4pl`, `int8mul`, …), or
/// `left / right` for two floats of one type, failing where `right` is 0
/// (`float8div`). Arrow type in = out (Int16, Int32, Int64; Float32,
/// Float64 for `/`); NULL if either side is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CheckedOp {
    op: Operator,
    name: String,
    signature: Signature,
}

impl CheckedOp {
    fn new(op: Operator) -> Self {
        let name = match op {
            Operator::Plus => "int_pl",
            Operator::Minus => "int_mi",
            Operator::Multiply => "int_mul",
            Operator::Modulo => "int_mod",
            _ => "pg_div",
        };
        Self {
            op,
            name: name.to_string(),
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

fn out_of_range(t: &DataType) -> DataFusionError {
    let name = match t {
        DataType::Int16 => "smallint",
        DataType::Int32 => "integer",
        _ => "bigint",
    };
    DataFusionError::External(Box::new(SqlError::new(
        "22003",
        format!("{name} out of range"),
    )))
}

impl ScalarUDFImpl for CheckedOp {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    /// The operator's own column name (`a + Int64(1)`), so the rewrite
    /// changes no schema.
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        Ok(format!(
            "{} {} {}",
            args[0].schema_name(),
            self.op,
            args[1].schema_name()
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [l, r] = args.args.as_slice() else {
            return Err(DataFusionError::Internal(format!(
                "{} takes two arguments",
                self.name
            )));
        };
        let kernel: fn(
            &dyn datafusion::arrow::array::Datum,
            &dyn datafusion::arrow::array::Datum,
        ) -> std::result::Result<ArrayRef, ArrowError> = match self.op {
            Operator::Plus => numeric::add,
            Operator::Minus => numeric::sub,
            Operator::Multiply => numeric::mul,
            Operator::Modulo => pg_rem,
            _ => pg_div,
        };
        apply(l, r, kernel).map_err(|e| match e {
            DataFusionError::ArrowError(a, _)
                if matches!(*a, ArrowError::ArithmeticOverflow(_)) =>
            {
                out_of_range(&args.return_field.data_type().clone())
            }
            other => other,
        })
    }
}

/// Division that fails on a zero divisor for floats too (Arrow's integer
/// division already does).
fn pg_div(
    l: &dyn datafusion::arrow::array::Datum,
    r: &dyn datafusion::arrow::array::Datum,
) -> std::result::Result<ArrayRef, ArrowError> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Float32Type, Float64Type};
    let (divisor, _) = r.get();
    let zero = match divisor.data_type() {
        DataType::Float64 => divisor
            .as_primitive::<Float64Type>()
            .iter()
            .any(|v| v == Some(0.0)),
        DataType::Float32 => divisor
            .as_primitive::<Float32Type>()
            .iter()
            .any(|v| v == Some(0.0)),
        _ => false,
    };
    if zero {
        return Err(ArrowError::DivideByZero);
    }
    numeric::div(l, r)
}

/// The remainder as PostgreSQL's `int4mod`: an error for a zero divisor, 0
/// for any value modulo -1 (Arrow reports `i32::MIN % -1` as an overflow).
fn pg_rem(
    l: &dyn datafusion::arrow::array::Datum,
    r: &dyn datafusion::arrow::array::Datum,
) -> std::result::Result<ArrayRef, ArrowError> {
    use datafusion::arrow::array::Scalar;
    use datafusion::arrow::compute::kernels::{cmp, zip};
    match numeric::rem(l, r) {
        Err(ArrowError::ArithmeticOverflow(_)) => {
            // only MIN % -1 overflows: compute with 1 as the divisor where
            // it is -1 (the remainder is 0 either way)
            let (divisor, is_scalar) = r.get();
            let minus_one = datafusion::arrow::compute::cast(
                &datafusion::arrow::array::Int64Array::from(vec![-1]),
                divisor.data_type(),
            )?;
            let one = datafusion::arrow::compute::cast(
                &datafusion::arrow::array::Int64Array::from(vec![1]),
                divisor.data_type(),
            )?;
            let is_minus_one = cmp::eq(&divisor, &Scalar::new(minus_one))?;
            let safe = zip::zip(&is_minus_one, &Scalar::new(one), &divisor)?;
            if is_scalar {
                numeric::rem(l, &Scalar::new(safe))
            } else {
                numeric::rem(l, &safe)
            }
        }
        other => other,
    }
}

/// `-x` for a signed integer, failing for the type's smallest value
/// (PostgreSQL's `int4um`). Arrow type in = out (Int16, Int32, Int64);
/// NULL for NULL. Errors: 22003 `integer out of range` (`smallint`,
/// `bigint`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CheckedNeg {
    signature: Signature,
}

impl Default for CheckedNeg {
    fn default() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CheckedNeg {
    fn name(&self) -> &str {
        "int_um"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    /// The operator's own column name (`(- a)`).
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        Ok(format!("(- {})", args[0].schema_name()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let t = args.return_field.data_type().clone();
        let out = |a: &ArrayRef| {
            numeric::neg(a).map_err(|e| match e {
                ArrowError::ArithmeticOverflow(_) => out_of_range(&t),
                other => DataFusionError::from(other),
            })
        };
        Ok(match &args.args[0] {
            ColumnarValue::Array(a) => ColumnarValue::Array(out(a)?),
            ColumnarValue::Scalar(s) => ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out(&s.to_array()?)?, 0)?,
            ),
        })
    }
}
