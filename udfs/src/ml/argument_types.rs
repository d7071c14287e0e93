//! The SQL types of the arguments of `predict(model, feature, ...)` and
//! `predict_proba(model, feature, ...)` for a model named by a literal: what a
//! `$n` parameter in one of those arguments is described as in a prepared
//! statement (PostgreSQL takes a parameter's type from the function's
//! signature; here the signature is the model's training schema).
//!
//! - `model`: text.
//! - each feature argument: the type of the training column (`bigint`,
//!   `double precision`, `text`, `boolean`, ...; `numeric` as
//!   `double precision`, which is how the model reads it); a vector feature
//!   (`v[1]`, `v[2]`, ...) is one `float4[]` argument; a text column the model
//!   embeds itself (`embed_columns`) is one `text` argument.
//! - `None` for any other function, a model name that is not a literal, or a
//!   model that does not load (the call fails at planning anyway).

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::logical_expr::{Expr, ScalarUDF};
use std::sync::Arc;

use super::common::literal_arg;
use crate::store::StoredModel;

/// The type of each argument of a `predict`/`predict_proba` call `args`
/// (model name included), or `None` when `func` is neither or the model
/// is unknown.
pub fn argument_types(func: &ScalarUDF, args: &[Expr]) -> Option<Vec<DataType>> {
    let inner = func.inner();
    let store = if let Some(p) = inner.downcast_ref::<super::predict::Predict>() {
        &p.store
    } else if let Some(p) = inner.downcast_ref::<super::predict_proba::PredictProba>() {
        &p.store
    } else {
        return None;
    };
    let name = literal_arg(args, 0, func.name(), "the model name").ok()?;
    let stored = store.load(&name).ok()?;
    let mut types = vec![DataType::Utf8];
    types.extend(feature_argument_types(&stored));
    Some(types)
}

/// One type per feature argument of `stored`, in training order.
pub fn feature_argument_types(stored: &StoredModel) -> Vec<DataType> {
    let specs = &stored.model.encoder.features;
    let mut out = Vec::with_capacity(specs.len());
    let mut i = 0;
    while i < specs.len() {
        if let Some(base) = crate::columns::vector_source(&specs[i].name) {
            // all elements of one vector column are one argument
            while i < specs.len() && crate::columns::vector_source(&specs[i].name) == Some(base) {
                i += 1;
            }
            out.push(if stored.model.embedding(base).is_some() {
                DataType::Utf8
            } else {
                DataType::List(Arc::new(Field::new_list_field(DataType::Float32, true)))
            });
            continue;
        }
        let spec = &specs[i];
        out.push(match spec.sql_type.as_str() {
            _ if spec.is_text() => DataType::Utf8,
            "smallint" => DataType::Int16,
            "integer" => DataType::Int32,
            "bigint" => DataType::Int64,
            "real" => DataType::Float32,
            "boolean" => DataType::Boolean,
            _ => DataType::Float64,
        });
        i += 1;
    }
    out
}
