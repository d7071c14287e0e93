//! The shared implementation of the `(actual, predicted)` metric aggregates.
//!
//! Each metric keeps the rows' pairs as two float8 lists (so partial states
//! merge exactly, in any order, on any number of partitions) and computes the
//! metric from `augur_ml::metrics` at the end. Rows where either argument is
//! NULL are skipped, as SQL aggregates do; no rows gives NULL.

use std::sync::Arc;

use augur_ml::metrics as m;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

use crate::error::{sql_err, sqlstate};

/// Which metric; decides how arguments are read and the final formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairKind {
    Accuracy,
    Precision,
    Recall,
    F1,
    LogLoss,
    RocAuc,
    Rmse,
    Mae,
    R2,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PairMetric {
    name: &'static str,
    kind: PairKind,
    signature: Signature,
}

/// Builds the aggregate function `name` computing `kind`.
pub fn pair_metric(name: &'static str, kind: PairKind) -> AggregateUDF {
    AggregateUDF::new_from_impl(PairMetric {
        name,
        kind,
        signature: Signature::any(2, Volatility::Immutable),
    })
}

impl AggregateUDFImpl for PairMetric {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(PairAccumulator {
            name: self.name,
            kind: self.kind,
            a: vec![],
            b: vec![],
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |s: &str| {
            Arc::new(Field::new_list(
                format_state_name(args.name, s),
                Field::new_list_field(DataType::Float64, true),
                true,
            ))
        };
        Ok(vec![list("actual"), list("predicted")])
    }
}

#[derive(Debug)]
struct PairAccumulator {
    name: &'static str,
    kind: PairKind,
    a: Vec<f64>,
    b: Vec<f64>,
}

/// Reads an argument as float8 (booleans as 0/1). Only booleans and integers
/// are accepted where a boolean is expected, only numbers where a number is:
/// text is never cast silently. Errors with 42804.
fn as_f64(name: &str, what: &str, array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let dt = array.data_type();
    let ok = match to {
        DataType::Boolean => matches!(dt, DataType::Boolean | DataType::Null) || dt.is_integer(),
        _ => dt.is_numeric() || matches!(dt, DataType::Boolean | DataType::Null),
    };
    if !ok {
        return Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "{name}: the {what} argument must be {}; got {dt}",
                if to == &DataType::Boolean {
                    "boolean (compare with the positive class, e.g. churn = 'Yes')"
                } else {
                    "numeric"
                }
            ),
        ));
    }
    let c = cast(array, to)?;
    if c.data_type() == &DataType::Boolean {
        Ok(cast(&c, &DataType::Float64)?)
    } else {
        Ok(c)
    }
}

impl PairAccumulator {
    fn bools(&self) -> (Vec<bool>, Vec<bool>) {
        (
            self.a.iter().map(|v| *v != 0.0).collect(),
            self.b.iter().map(|v| *v != 0.0).collect(),
        )
    }
}

impl Accumulator for PairAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (actual, predicted) = (&values[0], &values[1]);
        let (a, b): (ArrayRef, ArrayRef) = match self.kind {
            PairKind::Accuracy => {
                // numbers (and booleans) compare as numbers, text as text;
                // a number against text is a type error, as `=` would be
                let number = |d: &DataType| {
                    d.is_numeric() || matches!(d, DataType::Boolean | DataType::Null)
                };
                let (da, dp) = (actual.data_type(), predicted.data_type());
                let eq: Float64Array = if number(da) && number(dp) {
                    let x = cast(actual, &DataType::Float64)?;
                    let y = cast(predicted, &DataType::Float64)?;
                    let (x, y) = (
                        x.as_primitive::<Float64Type>(),
                        y.as_primitive::<Float64Type>(),
                    );
                    x.iter()
                        .zip(y.iter())
                        .map(|(p, q)| Some(f64::from(u8::from(p? == q?))))
                        .collect()
                } else if !number(da) && !number(dp) {
                    let x = cast(actual, &DataType::Utf8)?;
                    let y = cast(predicted, &DataType::Utf8)?;
                    let (x, y) = (x.as_string::<i32>(), y.as_string::<i32>());
                    x.iter()
                        .zip(y.iter())
                        .map(|(p, q)| Some(f64::from(u8::from(p? == q?))))
                        .collect()
                } else {
                    return Err(sql_err(
                        sqlstate::DATATYPE_MISMATCH,
                        format!("accuracy: cannot compare {da} with {dp}; cast one side"),
                    ));
                };
                let zeros: Float64Array = eq.iter().map(|v| v.map(|_| 0.0)).collect();
                (Arc::new(eq), Arc::new(zeros))
            }
            PairKind::Precision | PairKind::Recall | PairKind::F1 => (
                as_f64(self.name, "actual", actual, &DataType::Boolean)?,
                as_f64(self.name, "predicted", predicted, &DataType::Boolean)?,
            ),
            PairKind::LogLoss | PairKind::RocAuc => (
                as_f64(self.name, "actual", actual, &DataType::Boolean)?,
                as_f64(self.name, "score", predicted, &DataType::Float64)?,
            ),
            PairKind::Rmse | PairKind::Mae | PairKind::R2 => (
                as_f64(self.name, "actual", actual, &DataType::Float64)?,
                as_f64(self.name, "predicted", predicted, &DataType::Float64)?,
            ),
        };
        let (a, b) = (
            a.as_primitive::<Float64Type>(),
            b.as_primitive::<Float64Type>(),
        );
        for i in 0..a.len() {
            if a.is_valid(i) && b.is_valid(i) {
                let (x, y) = (a.value(i), b.value(i));
                if !(x.is_finite() && y.is_finite()) {
                    return Err(sql_err(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        format!(
                            "{}: arguments must be finite numbers, got {x} and {y}",
                            self.name
                        ),
                    ));
                }
                if self.kind == PairKind::LogLoss && !(0.0..=1.0).contains(&y) {
                    return Err(sql_err(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        format!("log_loss: a probability must be between 0 and 1, got {y}"),
                    ));
                }
                self.a.push(x);
                self.b.push(y);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let v = match self.kind {
            PairKind::Accuracy => {
                (!self.a.is_empty()).then(|| self.a.iter().sum::<f64>() / self.a.len() as f64)
            }
            PairKind::Precision | PairKind::Recall | PairKind::F1 => {
                let (y, p) = self.bools();
                let (tp, fp, fn_) = m::confusion(&y, &p);
                match self.kind {
                    PairKind::Precision => m::precision_from(tp, fp),
                    PairKind::Recall => m::recall_from(tp, fn_),
                    _ => m::f1_from(tp, fp, fn_),
                }
            }
            PairKind::LogLoss => m::log_loss(&self.bools().0, &self.b),
            PairKind::RocAuc => m::roc_auc(&self.bools().0, &self.b),
            PairKind::Rmse => m::rmse(&self.a, &self.b),
            PairKind::Mae => m::mae(&self.a, &self.b),
            PairKind::R2 => m::r2_score(&self.a, &self.b),
        };
        Ok(ScalarValue::Float64(v))
    }

    fn size(&self) -> usize {
        size_of_val(self) + (self.a.capacity() + self.b.capacity()) * size_of::<f64>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = |v: &[f64]| {
            SingleRowListArrayBuilder::new(Arc::new(Float64Array::from(v.to_vec())))
                .build_list_scalar()
        };
        Ok(vec![list(&self.a), list(&self.b)])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for (state, target) in states.iter().zip([&mut self.a, &mut self.b]) {
            let lists = state.as_list::<i32>();
            for row in lists.iter().flatten() {
                target.extend(row.as_primitive::<Float64Type>().iter().flatten());
            }
        }
        Ok(())
    }
}
