//! Casts and function calls as PostgreSQL types them, where DataFusion is
//! more lenient or rounds differently.
//!
//! - [`CastRounding`] (an analyzer rule, after type coercion): a cast of a
//!   float or numeric to an integer type rounds, as PostgreSQL's `dtoi4`
//!   (`rint`: half to even, `2.5::float8::int` is 2) and `numeric_int4`
//!   (half away from zero, `2.5::numeric::int` is 3) do; Arrow's cast
//!   truncates. (A decimal literal such as `2.5` is numeric in PostgreSQL;
//!   the SQL rewrites cast it to numeric before an integer cast, see
//!   `sql::rewrites`.)
//! - [`check`] (on a planned statement): 42846 for the casts PostgreSQL has
//!   no cast for and DataFusion makes up (integer ↔ date/timestamp, a
//!   non-int4 number to boolean, …), and 42883 for a string function called
//!   with a number, boolean or date, which PostgreSQL does not convert to
//!   text implicitly (`length(42)`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use crate::errors::SqlError;

fn input_schema(node: &LogicalPlan) -> Result<DFSchema> {
    let mut schema = merge_schema(&node.inputs());
    if let LogicalPlan::TableScan(ts) = node {
        schema.merge(&DFSchema::try_from_qualified_schema(
            ts.table_name.clone(),
            &ts.source.schema(),
        )?);
    }
    Ok(schema)
}

fn is_integer(t: &DataType) -> bool {
    matches!(t, DataType::Int16 | DataType::Int32 | DataType::Int64)
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct CastRounding;

impl AnalyzerRule for CastRounding {
    fn name(&self) -> &str {
        "augur_cast_rounding"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let schema = input_schema(&node)?;
            let names = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let saved = names.save(&e);
                Ok(round_before_cast(e, &schema)?.update_data(|e| saved.restore(e)))
            })
        })
        .map(|t| t.data)
    }
}

fn round_before_cast(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    expr.transform_up(|e| {
        let (inner, to) = match &e {
            Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
                (expr, field.data_type())
            }
            _ => return Ok(Transformed::no(e)),
        };
        if !is_integer(to) {
            return Ok(Transformed::no(e));
        }
        let Ok(from) = inner.get_type(schema) else {
            return Ok(Transformed::no(e));
        };
        if !matches!(
            from,
            DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _)
        ) {
            return Ok(Transformed::no(e));
        }
        let rounded = Expr::ScalarFunction(ScalarFunction::new_udf(
            Arc::new(ScalarUDF::new_from_impl(RoundForCast::default())),
            vec![(**inner).clone()],
        ));
        Ok(Transformed::yes(match e {
            Expr::Cast(c) => Expr::Cast(Cast::new_from_field(Box::new(rounded), c.field)),
            Expr::TryCast(c) => Expr::TryCast(TryCast {
                expr: Box::new(rounded),
                field: c.field,
            }),
            other => other,
        }))
    })
}

/// A float rounded half to even, a numeric rounded half away from zero, to
/// a whole number of the same type (Float32, Float64, Decimal128 in = out;
/// NULL stays NULL): the rounding of PostgreSQL's casts to an integer.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RoundForCast {
    signature: Signature,
}

impl Default for RoundForCast {
    fn default() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

fn round_decimal(v: i128, scale: i8) -> i128 {
    if scale <= 0 {
        return v;
    }
    let unit = 10i128.pow(scale as u32);
    let (q, r) = (v / unit, v % unit);
    let q = if r.abs() * 2 >= unit {
        q + v.signum()
    } else {
        q
    };
    q.saturating_mul(unit)
}

impl ScalarUDFImpl for RoundForCast {
    fn name(&self) -> &str {
        "round_for_cast"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    /// The argument's own name, so that the column keeps the cast's name.
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        Ok(args[0].schema_name().to_string())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arg = &args.args[0];
        let array: ArrayRef = arg.to_array(1.max(args.number_rows))?;
        let out: ArrayRef = match array.data_type() {
            DataType::Float64 => Arc::new(
                array
                    .as_primitive::<Float64Type>()
                    .unary::<_, Float64Type>(f64::round_ties_even),
            ),
            DataType::Float32 => Arc::new(
                array
                    .as_primitive::<Float32Type>()
                    .unary::<_, Float32Type>(f32::round_ties_even),
            ),
            DataType::Decimal128(p, s) => {
                let s = *s;
                let a: Decimal128Array = array
                    .as_primitive::<Decimal128Type>()
                    .unary(|v| round_decimal(v, s));
                Arc::new(a.with_precision_and_scale(*p, s)?)
            }
            other => {
                return Err(DataFusionError::Internal(format!(
                    "round_for_cast: unexpected type {other}"
                )));
            }
        };
        Ok(match arg {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(out),
        })
    }
}

/// PostgreSQL's name of a type in an error message; a string literal is
/// `unknown` and a decimal literal `numeric`, as PostgreSQL reads them.
fn pg_type(t: &DataType, e: &Expr) -> String {
    if let Expr::Literal(v, _) = e {
        match v {
            ScalarValue::Utf8(_) | ScalarValue::Utf8View(_) | ScalarValue::LargeUtf8(_) => {
                return "unknown".into();
            }
            ScalarValue::Float64(_) => return "numeric".into(),
            _ => {}
        }
    }
    match t {
        DataType::Int16 | DataType::Int8 => "smallint",
        DataType::Int32 => "integer",
        DataType::Int64 => "bigint",
        DataType::Float32 => "real",
        DataType::Float64 => "double precision",
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => "numeric",
        DataType::Boolean => "boolean",
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "text",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(_, None) => "timestamp without time zone",
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone",
        DataType::Time32(_) | DataType::Time64(_) => "time without time zone",
        DataType::Interval(_) => "interval",
        DataType::Null => "unknown",
        DataType::Binary | DataType::BinaryView | DataType::LargeBinary => "bytea",
        other => return other.to_string(),
    }
    .to_string()
}

fn is_number(t: &DataType) -> bool {
    t.is_integer() || t.is_floating() || t.is_decimal()
}

fn is_temporal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Interval(_)
    )
}

/// Whether PostgreSQL has no cast from `from` to `to` where DataFusion has
/// one: between numbers and dates/times, and to or from boolean for any
/// number but int4.
fn no_pg_cast(from: &DataType, to: &DataType) -> bool {
    (is_number(from) && is_temporal(to))
        || (is_temporal(from) && is_number(to))
        || (is_number(from) && *to == DataType::Boolean && *from != DataType::Int32)
        || (*from == DataType::Boolean && is_number(to) && *to != DataType::Int32)
}

/// The positions of the text arguments of PostgreSQL's string functions
/// that DataFusion would also take a number for.
fn text_arguments(name: &str) -> &'static [usize] {
    match name {
        "length" | "char_length" | "character_length" | "octet_length" | "bit_length" | "upper"
        | "lower" | "initcap" | "reverse" | "md5" | "ascii" | "left" | "right" | "repeat"
        | "substr" | "substring" => &[0],
        "btrim" | "ltrim" | "rtrim" | "trim" | "strpos" | "starts_with" | "ends_with"
        | "split_part" | "position" => &[0, 1],
        "lpad" | "rpad" => &[0, 2],
        "replace" | "translate" => &[0, 1, 2],
        _ => &[],
    }
}

/// 42846 / 42883 where PostgreSQL refuses a cast or a string function's
/// argument that DataFusion would convert; see the module documentation.
/// `written` are the function names of the statement as written, so that
/// an error names the function as the user called it (`length`, which
/// DataFusion plans as `character_length`).
pub fn check(plan: &LogicalPlan, written: &[String]) -> std::result::Result<(), SqlError> {
    let mut found: Option<SqlError> = None;
    let _ = plan.apply_with_subqueries(|node| {
        if matches!(
            node,
            LogicalPlan::Dml(_) | LogicalPlan::Statement(_) | LogicalPlan::Ddl(_)
        ) {
            return Ok(TreeNodeRecursion::Continue);
        }
        let schema = input_schema(node)?;
        node.apply_expressions(|e| {
            e.apply(|x| {
                if let Some(err) = refused(x, &schema, written) {
                    found = Some(err);
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    found.map_or(Ok(()), Err)
}

fn refused(e: &Expr, schema: &DFSchema, written: &[String]) -> Option<SqlError> {
    match e {
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
            let data_type = field.data_type();
            let from = expr.get_type(schema).ok()?;
            no_pg_cast(&from, data_type).then(|| {
                SqlError::new(
                    "42846",
                    format!(
                        "cannot cast type {} to {}",
                        pg_type(&from, &Expr::Literal(ScalarValue::Null, None)),
                        pg_type(data_type, &Expr::Literal(ScalarValue::Null, None))
                    ),
                )
            })
        }
        Expr::ScalarFunction(f) => {
            let positions = text_arguments(f.name());
            let types: Vec<DataType> = f
                .args
                .iter()
                .map(|a| a.get_type(schema))
                .collect::<Result<_>>()
                .ok()?;
            let bad = positions.iter().any(|&i| {
                types
                    .get(i)
                    .is_some_and(|t| is_number(t) || is_temporal(t) || *t == DataType::Boolean)
            });
            bad.then(|| {
                let name = std::iter::once(f.name())
                    .chain(f.func.aliases().iter().map(String::as_str))
                    .find(|n| written.iter().any(|w| w == n))
                    .unwrap_or(f.name());
                let shown: Vec<String> = types
                    .iter()
                    .zip(&f.args)
                    .map(|(t, a)| pg_type(t, a))
                    .collect();
                SqlError::new(
                    "42883",
                    format!(
                        "function {}({}) does not exist; no function matches the given name and argument types, add explicit type casts",
                        name,
                        shown.join(", ")
                    ),
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_rounding_is_half_away_from_zero() {
        // scale 1: 2.5 → 3.0, -2.5 → -3.0, 2.4 → 2.0, 1.5 → 2.0
        assert_eq!(round_decimal(25, 1), 30);
        assert_eq!(round_decimal(-25, 1), -30);
        assert_eq!(round_decimal(24, 1), 20);
        assert_eq!(round_decimal(15, 1), 20);
        assert_eq!(round_decimal(7, 0), 7);
    }
}
