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
//! (`%` stays DataFusion's: it cannot overflow, except `i32::MIN % -1`,
//! which PostgreSQL answers 0 and Arrow reports as an overflow.)
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

fn checked(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    expr.transform_up(|e| {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else {
            return Ok(Transformed::no(e));
        };
        if !matches!(
            op,
            Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide
        ) {
            return Ok(Transformed::no(e));
        }
        // an operand whose type cannot be told (an outer reference the
        // schema lacks) leaves the operator as it is
        let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else {
            return Ok(Transformed::no(e));
        };
        if l != r || !matches!(l, DataType::Int16 | DataType::Int32 | DataType::Int64) {
            return Ok(Transformed::no(e));
        }
        let udf = ScalarUDF::new_from_impl(CheckedOp::new(*op));
        Ok(Transformed::yes(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::new(udf), vec![(**left).clone(), (**right).clone()]),
        )))
    })
}

/// `left op right` for two signed integers of one type, failing where the
/// result does not fit the type (PostgreSQL's `int4pl`, `int8mul`, …).
/// Arrow type in = out (Int16, Int32 or Int64); NULL if either side is NULL.
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
            _ => "int_div",
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
            _ => numeric::div,
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
