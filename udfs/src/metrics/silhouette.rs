//! `silhouette(cluster, x1, x2, ...)`: mean silhouette coefficient of a clustering.
//!
//! - `cluster`: any type (the cluster label, e.g. `centroid_id`), compared by text.
//! - `x1, x2, ...`: one or more numeric coordinates (read as float8), Euclidean
//!   distance — pass the same (standardised) features the clustering used.
//! - Returns float8 in [-1, 1] (Rousseeuw 1987; scikit-learn's
//!   `silhouette_score`, a row alone in its cluster scoring 0); NULL unless
//!   there are between 2 and n-1 clusters. Exact, O(n²) in the row count.
//! - NULL policy: rows with a NULL cluster or coordinate are skipped.
//! - Errors: 42804 for a non-numeric coordinate.
//!
//! Example: `SELECT silhouette(centroid_id, r, f, m) FROM ml_predict('segments', 'SELECT * FROM rfm')`

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray};
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
use ndarray_compat::points_matrix;

use crate::error::{sql_err, sqlstate};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Silhouette {
    signature: Signature,
}

/// The `silhouette` aggregate function.
pub fn silhouette() -> AggregateUDF {
    AggregateUDF::new_from_impl(Silhouette {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
}

impl AggregateUDFImpl for Silhouette {
    fn name(&self) -> &str {
        "silhouette"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.len() < 2 {
            return Err(sql_err(
                sqlstate::INVALID_PARAMETER_VALUE,
                "silhouette(cluster, x1, ...) needs a cluster and at least one coordinate",
            ));
        }
        Ok(DataType::Float64)
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SilhouetteAcc {
            dims: args.exprs.len().saturating_sub(1),
            labels: vec![],
            points: vec![],
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new_list(
                format_state_name(args.name, "labels"),
                Field::new_list_field(DataType::Utf8, true),
                true,
            )),
            Arc::new(Field::new_list(
                format_state_name(args.name, "points"),
                Field::new_list_field(DataType::Float64, true),
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct SilhouetteAcc {
    dims: usize,
    labels: Vec<String>,
    /// Row-major coordinates, `dims` per row.
    points: Vec<f64>,
}

impl Accumulator for SilhouetteAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let labels = cast(&values[0], &DataType::Utf8)?;
        let labels = labels.as_string::<i32>();
        let mut coords = Vec::with_capacity(self.dims);
        for (i, v) in values[1..].iter().enumerate() {
            let dt = v.data_type();
            if !(dt.is_numeric() || matches!(dt, DataType::Boolean | DataType::Null)) {
                return Err(sql_err(
                    sqlstate::DATATYPE_MISMATCH,
                    format!("silhouette: coordinate {} must be numeric; got {dt}", i + 1),
                ));
            }
            coords.push(cast(v, &DataType::Float64)?);
        }
        let coords: Vec<&Float64Array> = coords
            .iter()
            .map(|c| c.as_primitive::<Float64Type>())
            .collect();
        for r in 0..labels.len() {
            if labels.is_valid(r) && coords.iter().all(|c| c.is_valid(r)) {
                self.labels.push(labels.value(r).to_string());
                self.points.extend(coords.iter().map(|c| c.value(r)));
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut ids = BTreeMap::new();
        let labels: Vec<usize> = self
            .labels
            .iter()
            .map(|l| {
                let next = ids.len();
                *ids.entry(l.clone()).or_insert(next)
            })
            .collect();
        let x = points_matrix(&self.points, labels.len(), self.dims);
        Ok(ScalarValue::Float64(augur_ml::metrics::silhouette(
            x.view(),
            &labels,
        )))
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self
                .labels
                .iter()
                .map(|l| l.capacity() + size_of::<String>())
                .sum::<usize>()
            + self.points.capacity() * size_of::<f64>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            SingleRowListArrayBuilder::new(Arc::new(StringArray::from(self.labels.clone())))
                .build_list_scalar(),
            SingleRowListArrayBuilder::new(Arc::new(Float64Array::from(self.points.clone())))
                .build_list_scalar(),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for row in states[0].as_list::<i32>().iter().flatten() {
            self.labels
                .extend(row.as_string::<i32>().iter().flatten().map(str::to_owned));
        }
        for row in states[1].as_list::<i32>().iter().flatten() {
            self.points
                .extend(row.as_primitive::<Float64Type>().iter().flatten());
        }
        Ok(())
    }
}

mod ndarray_compat {
    /// Row-major points as the model core's matrix type.
    pub fn points_matrix(points: &[f64], rows: usize, dims: usize) -> augur_ml::metrics::Matrix {
        augur_ml::metrics::Matrix::from_shape_vec((rows, dims), points.to_vec())
            .unwrap_or_else(|_| augur_ml::metrics::Matrix::zeros((0, dims)))
    }
}
