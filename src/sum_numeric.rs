//! `sum(expression)` as PostgreSQL types it, in place of DataFusion's:
//! `sum(bigint)` is numeric, exact however large the total (`sum` of
//! 9223372036854775807 and 1 is 9223372036854775808), where DataFusion sums
//! into a bigint and wraps around silently.
//!
//! - `sum(int2)`, `sum(int4)` → bigint; `sum(int8)` → numeric(38, 0)
//!   (Decimal128(38, 0), OID 1700; exact up to 38 digits); `sum(float4)`,
//!   `sum(float8)` → double precision (PostgreSQL: real for float4);
//!   `sum(numeric(p, s))` → numeric(min(38, p + 10), s); intervals and
//!   durations as DataFusion sums them. (A bigint sum of int4 values can
//!   still wrap past 2^63, about 4 billion rows of the largest int4.)
//! - NULLs are skipped; the sum of no rows (or only NULLs) is NULL.
//! - Errors: 42883 for an argument of another type (`sum(text)`).
//!
//! (PostgreSQL's `avg` of an integer is numeric too; Augur's is double
//! precision, left as it is.)
//!
//! It is DataFusion's `Sum` with other argument coercions: a bigint argument
//! is cast to numeric before it is summed, and a smaller integer is summed
//! as it is into a bigint (its accumulators widen each batch), so that the
//! coercion is the same when DataFusion applies it again to a coerced
//! argument (a coercion to bigint would make the argument bigint, whose sum
//! is numeric).

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::functions_aggregate::sum::Sum;
use datafusion::logical_expr::expr::AggregateFunctionParams;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator,
    ReversedUDAF, SetMonotonicity, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgSum {
    inner: Sum,
    signature: Signature,
}

/// The `sum` aggregate function (see the module documentation).
pub fn sum() -> AggregateUDF {
    AggregateUDF::new_from_impl(PgSum {
        inner: Sum::new(),
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// The type a `sum` argument of type `t` is summed in.
fn summed_as(t: &DataType) -> Option<DataType> {
    Some(match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => t.clone(),
        DataType::Null => DataType::Int64,
        DataType::Int64 => DataType::Decimal128(38, 0),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            DataType::UInt64
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
        DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _)
        | DataType::Duration(_)
        | DataType::Interval(_) => t.clone(),
        DataType::Dictionary(_, v) => return summed_as(v),
        _ => return None,
    })
}

impl AggregateUDFImpl for PgSum {
    fn name(&self) -> &str {
        "sum"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] => summed_as(t).map(|t| vec![t]).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "No function matches the given name and argument types 'sum({t})'."
                ))
            }),
            _ => Err(DataFusionError::Plan(format!(
                "sum takes one argument, got {}",
                arg_types.len()
            ))),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] if is_small_int(t) => Ok(DataType::Int64),
            _ => self.inner.return_type(arg_types),
        }
    }

    fn schema_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.schema_name(params)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let widen = widens(&args);
        let inner = self.inner.accumulator(args)?;
        Ok(if widen {
            Box::new(Widening(inner))
        } else {
            inner
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let widen = widens(&args);
        let inner = self.inner.create_groups_accumulator(args)?;
        Ok(if widen {
            Box::new(WideningGroups(inner))
        } else {
            inner
        })
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let widen = widens(&args);
        let inner = self.inner.create_sliding_accumulator(args)?;
        Ok(if widen {
            Box::new(Widening(inner))
        } else {
            inner
        })
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.order_sensitivity()
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.set_monotonicity(data_type)
    }
}

fn is_small_int(t: &DataType) -> bool {
    matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32)
}

/// Whether the accumulator is given a smaller integer to sum into a bigint.
fn widens(args: &AccumulatorArgs) -> bool {
    args.expr_fields
        .first()
        .is_some_and(|f| is_small_int(f.data_type()))
}

fn widen(values: &[ArrayRef]) -> Result<Vec<ArrayRef>> {
    values
        .iter()
        .map(|v| Ok(cast(v, &DataType::Int64)?))
        .collect()
}

/// DataFusion's bigint sum accumulator, given int2 or int4 values.
#[derive(Debug)]
struct Widening(Box<dyn Accumulator>);

impl Accumulator for Widening {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.update_batch(&widen(values)?)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.0.evaluate()
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.state()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge_batch(states)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.retract_batch(&widen(values)?)
    }

    fn supports_retract_batch(&self) -> bool {
        self.0.supports_retract_batch()
    }
}

/// DataFusion's bigint groups accumulator, given int2 or int4 values.
struct WideningGroups(Box<dyn GroupsAccumulator>);

impl GroupsAccumulator for WideningGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.0
            .update_batch(&widen(values)?, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        self.0.evaluate(emit_to)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.0.state(emit_to)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.merge_batch(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.0.convert_to_state(&widen(values)?, opt_filter)
    }

    fn size(&self) -> usize {
        self.0.size()
    }
}

#[cfg(test)]
mod tests {
    use super::summed_as;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn sums_as_postgresql_types_them() {
        // PostgreSQL 15: pg_typeof(sum(1::int2)), sum(1::int4): bigint;
        // sum(1::int8): numeric; sum(1.5::float8): double precision
        // (int2 and int4 are summed as they are, into a bigint)
        assert_eq!(summed_as(&DataType::Int16), Some(DataType::Int16));
        assert_eq!(summed_as(&DataType::Int32), Some(DataType::Int32));
        assert_eq!(
            summed_as(&DataType::Int64),
            Some(DataType::Decimal128(38, 0))
        );
        assert_eq!(summed_as(&DataType::Float64), Some(DataType::Float64));
        assert_eq!(summed_as(&DataType::Utf8), None);
    }
}
