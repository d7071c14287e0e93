//! Pieces shared by the model functions: literal model names, the output type
//! of `predict`, and turning feature arguments into model-core columns.

use std::sync::Arc;

use augur_ml::Model;
use augur_ml::data::{ColumnValues, LabelType};
use augur_ml::model::{Algorithm, Prediction};
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, Expr};

use crate::columns::{feature_kind, to_values};
use crate::error::{invalid, sql_err, sqlstate, to_df};
use crate::store::{ModelStore, StoredModel};

/// The string value of a literal argument, or 22023 naming what was expected.
pub fn literal_string(value: Option<&ScalarValue>, function: &str, what: &str) -> Result<String> {
    match value {
        Some(ScalarValue::Utf8(Some(s)))
        | Some(ScalarValue::LargeUtf8(Some(s)))
        | Some(ScalarValue::Utf8View(Some(s))) => Ok(s.clone()),
        _ => Err(invalid(format!(
            "{function}: {what} must be a string literal, e.g. {function}('churn', ...)"
        ))),
    }
}

/// The string value of a literal expression (table-function arguments).
pub fn literal_arg(args: &[Expr], i: usize, function: &str, what: &str) -> Result<String> {
    match args.get(i) {
        Some(Expr::Literal(v, _)) => literal_string(Some(v), function, what),
        _ => literal_string(None, function, what),
    }
}

/// The model name from the first argument of a scalar function call.
pub fn model_name_arg(args: &[ColumnarValue], function: &str) -> Result<String> {
    match args.first() {
        Some(ColumnarValue::Scalar(s)) => literal_string(Some(s), function, "the model name"),
        _ => literal_string(None, function, "the model name"),
    }
}

/// Loads a model by the literal name in the first argument.
pub fn load(store: &Arc<dyn ModelStore>, name: &str) -> Result<Arc<StoredModel>> {
    store.load(name).map_err(to_df)
}

/// The SQL type `predict` returns for a model: the label's type for a
/// classifier, float8 for regression, bigint (cluster id) for a clustering,
/// float8[] (the projection) for PCA.
pub fn predict_type(model: &Model) -> DataType {
    match (model.algorithm, model.label.as_ref().map(|l| l.label_type)) {
        (a, _) if a.is_clustering() => DataType::Int64,
        (Algorithm::Pca, _) => projection_type(),
        (a, _) if a.is_regressor() => DataType::Float64,
        (_, Some(LabelType::Integer)) => DataType::Int64,
        (_, Some(LabelType::Boolean)) => DataType::Boolean,
        (_, Some(LabelType::Float)) => DataType::Float64,
        _ => DataType::Utf8,
    }
}

/// `float8[]`: PCA's projections.
pub fn projection_type() -> DataType {
    DataType::List(Arc::new(
        datafusion::arrow::datatypes::Field::new_list_field(DataType::Float64, false),
    ))
}

/// Checks feature argument count and kinds against the model, at planning.
pub fn check_features(function: &str, stored: &StoredModel, types: &[DataType]) -> Result<()> {
    let specs = &stored.model.encoder.features;
    // a vector argument stands for its elements (`v[1]`, `v[2]`, ...)
    let mut expanded: Vec<DataType> = Vec::with_capacity(specs.len());
    for dt in types {
        // the raw text of a column the model embeds itself stands for its embedding
        let embedded = specs
            .get(expanded.len())
            .and_then(|s| crate::columns::vector_source(&s.name))
            .and_then(|base| stored.model.embedding(base));
        if let Some(e) = embedded {
            if feature_kind(dt).is_some_and(|k| k.1) {
                expanded.extend(std::iter::repeat_n(DataType::Float32, e.dim));
                continue;
            }
            if !crate::columns::is_vector(dt) {
                return Err(sql_err(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "{function}: feature '{}' of model '{}' is text the model embeds with '{}' (or its {}-dimensional embedding vector), but the argument is {dt}",
                        e.column, stored.name, e.model, e.dim
                    ),
                ));
            }
        }
        if crate::columns::is_vector(dt) {
            let n = crate::columns::fixed_vector_len(dt).unwrap_or_else(|| {
                // a variable list: as many as the model's next vector feature has
                let at = expanded.len();
                let base = specs
                    .get(at)
                    .and_then(|s| crate::columns::vector_source(&s.name));
                specs[at.min(specs.len())..]
                    .iter()
                    .take_while(|s| {
                        base.is_some() && crate::columns::vector_source(&s.name) == base
                    })
                    .count()
                    .max(1)
            });
            expanded.extend(std::iter::repeat_n(DataType::Float32, n));
        } else {
            expanded.push(dt.clone());
        }
    }
    let types = expanded.as_slice();
    if specs.len() != types.len() {
        return Err(invalid(format!(
            "{function}: model '{}' expects {} features in this order: {}; got {}",
            stored.name,
            specs.len(),
            stored.model.encoder.feature_list(),
            types.len()
        )));
    }
    for (spec, dt) in specs.iter().zip(types) {
        let ok = match feature_kind(dt) {
            Some((_, is_text)) => dt == &DataType::Null || is_text == spec.is_text(),
            None => false,
        };
        if !ok {
            return Err(sql_err(
                sqlstate::DATATYPE_MISMATCH,
                format!(
                    "{function}: feature '{}' of model '{}' is {}, but the argument is {dt}",
                    spec.name, stored.name, spec.sql_type
                ),
            ));
        }
    }
    Ok(())
}

/// Runs the model over the feature arguments (everything after the model name).
pub fn run(stored: &StoredModel, args: &[ColumnarValue], rows: usize) -> Result<Prediction> {
    let names = stored.model.feature_names();
    let mut cols = Vec::with_capacity(args.len());
    for arg in args {
        let array = arg.to_array(rows)?;
        let embedded = names
            .get(cols.len())
            .and_then(|n| crate::columns::vector_source(n))
            .and_then(|base| stored.model.embedding(base));
        if let Some(e) = embedded
            && feature_kind(array.data_type()).is_some_and(|k| k.1)
        {
            let who = format!("model '{}'", stored.name);
            let elements = super::embedded::embed_for_prediction(e, &who, &array)?;
            cols.extend(elements.into_iter().map(|c| c.values));
            continue;
        }
        if crate::columns::is_vector(array.data_type()) {
            let name = names.get(cols.len()).copied().unwrap_or("?");
            let base = crate::columns::vector_source(name).unwrap_or(name);
            let want = names[cols.len().min(names.len())..]
                .iter()
                .take_while(|n| crate::columns::vector_source(n) == Some(base))
                .count();
            let elements = crate::columns::vector_elements(base, &array)?;
            if elements.len() != want && !elements.is_empty() {
                return Err(sql_err(
                    sqlstate::DATA_EXCEPTION,
                    format!(
                        "model '{}': different vector dimensions {want} and {} for feature \"{base}\"",
                        stored.name,
                        elements.len()
                    ),
                ));
            }
            if elements.is_empty() {
                // every vector NULL: each element is NULL (imputed)
                cols.extend((0..want).map(|_| ColumnValues::Numeric(vec![None; rows])));
            }
            cols.extend(elements.into_iter().map(|c| c.values));
            continue;
        }
        let i = cols.len();
        let name = names.get(i).copied().unwrap_or("?");
        let (_, mut values) = to_values(name, &array)?;
        // an all-NULL argument of type NULL counts as either kind
        if array.data_type() == &DataType::Null
            && !stored
                .model
                .encoder
                .features
                .get(i)
                .is_some_and(|f| f.is_text())
        {
            values = ColumnValues::Numeric(vec![None; rows]);
        }
        cols.push(values);
    }
    let refs: Vec<&ColumnValues> = cols.iter().collect();
    stored.model.predict(&refs).map_err(to_df)
}

/// `predict`'s output array for a prediction.
pub fn predict_array(stored: &StoredModel, p: Prediction) -> Result<ArrayRef> {
    let model = &stored.model;
    Ok(match p {
        // 1-based cluster ids; DBSCAN noise is -1
        Prediction::Clusters { cluster, .. } | Prediction::Components { cluster, .. } => {
            Arc::new(Int64Array::from_iter_values(cluster.into_iter().map(|c| {
                if c == augur_ml::model::NOISE {
                    -1
                } else {
                    c as i64 + 1
                }
            })))
        }
        Prediction::Projections(rows) => {
            let field = Arc::new(datafusion::arrow::datatypes::Field::new_list_field(
                DataType::Float64,
                false,
            ));
            let lengths: Vec<usize> = rows.iter().map(Vec::len).collect();
            let values = Float64Array::from_iter_values(rows.into_iter().flatten());
            Arc::new(datafusion::arrow::array::ListArray::try_new(
                field,
                datafusion::arrow::buffer::OffsetBuffer::from_lengths(lengths),
                Arc::new(values),
                None,
            )?)
        }
        Prediction::Values(v) => Arc::new(Float64Array::from(v)),
        Prediction::Classes { class, .. } => {
            let classes = model
                .label
                .as_ref()
                .map(|l| l.classes.clone())
                .unwrap_or_default();
            let text = |i: usize| classes.get(i).cloned().unwrap_or_default();
            match predict_type(model) {
                DataType::Int64 => Arc::new(Int64Array::from_iter(
                    class.iter().map(|c| text(*c).parse::<i64>().ok()),
                )),
                DataType::Float64 => Arc::new(Float64Array::from_iter(
                    class.iter().map(|c| text(*c).parse::<f64>().ok()),
                )),
                DataType::Boolean => Arc::new(BooleanArray::from_iter(
                    class.iter().map(|c| Some(text(*c) == "1")),
                )),
                _ => Arc::new(StringArray::from_iter_values(
                    class.iter().map(|c| text(*c)),
                )),
            }
        }
    })
}

/// Rejects a model of the wrong kind for a function.
pub fn require(stored: &StoredModel, function: &str, ok: bool, need: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{function} needs {need}; model '{}' is {}",
            stored.name,
            stored.model.algorithm.name()
        )))
    }
}

/// `PartialEq`/`Eq`/`Hash` for a function struct holding `signature` and
/// `store` (DataFusion compares functions to deduplicate expressions).
#[macro_export]
macro_rules! impl_store_eq {
    ($t:ty) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.signature == other.signature
                    && std::ptr::addr_eq(
                        std::sync::Arc::as_ptr(&self.store),
                        std::sync::Arc::as_ptr(&other.store),
                    )
            }
        }
        impl Eq for $t {}
        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.signature.hash(state);
            }
        }
    };
}

/// The columns of a query result that a model reads (its features and
/// label), converted for the model core.
pub fn model_columns(
    model: &Model,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    batches: &[datafusion::arrow::array::RecordBatch],
) -> Result<Vec<augur_ml::Column>> {
    let batch = datafusion::arrow::compute::concat_batches(schema, batches)?;
    let mut columns = Vec::new();
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        if let Some(e) = model.embedding(field.name())
            && feature_kind(array.data_type()).is_some_and(|k| k.1)
        {
            columns.extend(super::embedded::embed_for_prediction(
                e,
                "the model",
                array,
            )?);
            continue;
        }
        let vector_feature = model
            .feature_names()
            .iter()
            .any(|f| crate::columns::vector_source(f) == Some(field.name().as_str()));
        if vector_feature {
            columns.extend(crate::columns::vector_elements(field.name(), array)?);
            continue;
        }
        let wanted = model.feature_names().contains(&field.name().as_str())
            || model
                .label
                .as_ref()
                .is_some_and(|l| &l.name == field.name());
        if wanted {
            columns.push(crate::columns::to_column(field.name(), array)?);
        }
    }
    Ok(columns)
}

/// Plans a query inside a table function (which DataFusion calls
/// synchronously): on a scoped thread of its own, so a nested table
/// function can do the same. Planning reads only in-memory catalog metadata.
pub fn plan_query(
    state: &datafusion::execution::context::SessionState,
    query: &str,
    function: &str,
) -> Result<datafusion::logical_expr::LogicalPlan> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(32 << 20)
            .spawn_scoped(s, || {
                futures::executor::block_on(state.create_logical_plan(query))
            })
            .map_err(|e| crate::error::invalid(format!("{function}: cannot start planning: {e}")))?
            .join()
            .map_err(|_| crate::error::invalid(format!("{function}: planning the query failed")))?
    })
}

/// A training query's rows as model-core columns (vector columns expanded to
/// one column per element, see `columns::to_columns`; the `embed_columns`
/// embedded, see `embedded`), the label's type, and the embedded columns
/// the model must record.
///
/// Errors: 42703 an `embed_columns` column the query lacks; 42804 one that
/// is not text; 58P01 the embedding model missing.
pub fn training_data(
    schema: &datafusion::arrow::datatypes::SchemaRef,
    batches: &[datafusion::arrow::array::RecordBatch],
    opts: &augur_ml::TrainOptions,
) -> Result<TrainingData> {
    for c in &opts.embed_columns {
        if schema.field_with_name(c).is_err() {
            return Err(sql_err(
                sqlstate::UNDEFINED_COLUMN,
                format!(
                    "embed_columns: the training query has no column \"{c}\" (its columns: {})",
                    schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    // column by column and batch by batch: concatenating first would copy
    // every column once more in unoptimised Arrow code
    let mut columns = Vec::with_capacity(schema.fields().len());
    let mut embeddings = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        let embedded = opts.embed_columns.contains(field.name());
        if embedded || crate::columns::is_vector(field.data_type()) {
            let arrays: Vec<&dyn datafusion::arrow::array::Array> =
                batches.iter().map(|b| b.column(i).as_ref()).collect();
            let array = if arrays.is_empty() {
                datafusion::arrow::array::new_empty_array(field.data_type())
            } else {
                datafusion::arrow::compute::concat(&arrays)?
            };
            if embedded {
                let (spec, cols) =
                    super::embedded::embed_for_training(field.name(), &opts.embed_model, &array)?;
                embeddings.push(spec);
                columns.extend(cols);
            } else {
                columns.extend(crate::columns::to_columns(field.name(), &array)?);
            }
            continue;
        }
        let mut column = crate::columns::to_column(
            field.name(),
            &datafusion::arrow::array::new_empty_array(field.data_type()),
        )?;
        for batch in batches {
            let part = crate::columns::to_column(field.name(), batch.column(i))?;
            if !column.values.append(part.values) {
                return Err(crate::error::invalid(format!(
                    "column \"{}\" changed type between batches",
                    field.name()
                )));
            }
        }
        columns.push(column);
    }
    let label_type = opts
        .label
        .as_deref()
        .and_then(|l| schema.field_with_name(l).ok())
        .map(|f| crate::columns::label_type(f.data_type()));
    Ok(TrainingData {
        columns,
        label_type,
        embeddings,
    })
}

/// What [`training_data`] returns.
pub struct TrainingData {
    pub columns: Vec<augur_ml::Column>,
    pub label_type: Option<augur_ml::data::LabelType>,
    /// The self-embedded text columns, to record in the model.
    pub embeddings: Vec<augur_ml::model::TextEmbedding>,
}
