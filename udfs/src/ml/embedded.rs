//! Text columns a model embeds itself (option `embed_columns`).
//!
//! At training, each named text column is embedded with `embed_model` (as
//! `embed(model, text)` does) and replaced by the features `column[1]` …
//! `column[dim]`; the model records the column, the embedding model's name and
//! its dimension ([`augur_ml::model::TextEmbedding`]). At prediction
//! (`predict`, `predict_proba`, `ml_predict`, `ml_evaluate`, ...) the raw
//! text column is embedded again with the recorded model; an embedding vector
//! (e.g. `embed(review)`) is accepted in its place too.
//!
//! Errors: 42703 an `embed_columns` column missing from the training query;
//! 42804 one that is not text; 58P01 the embedding model's directory missing;
//! 22000 the embedding model now gives vectors of another dimension than
//! recorded.

use augur_embed::{EmbedError, Embedder, model_dir};
use augur_ml::data::Column;
use augur_ml::model::TextEmbedding;
use datafusion::arrow::array::ArrayRef;
use datafusion::error::{DataFusionError, Result};

use crate::error::{sql_err, sqlstate};

fn to_df(e: EmbedError) -> DataFusionError {
    sql_err(e.sqlstate, e.message)
}

/// The loaded embedding model `name` (see `embed(model, text)`).
pub fn embedder(name: &str) -> Result<std::sync::Arc<Embedder>> {
    Embedder::cached(&model_dir(name)).map_err(to_df)
}

/// Embeds the text column `name` with model `model_name` for training:
/// returns the recorded embedding and the `name[1]` … `name[dim]` columns.
pub fn embed_for_training(
    name: &str,
    model_name: &str,
    array: &ArrayRef,
) -> Result<(TextEmbedding, Vec<Column>)> {
    if !crate::columns::feature_kind(array.data_type()).is_some_and(|k| k.1) {
        return Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "embed_columns: column \"{name}\" is {}, not text; only text columns can be embedded",
                array.data_type()
            ),
        ));
    }
    let model = embedder(model_name)?;
    let spec = TextEmbedding {
        column: name.to_string(),
        model: model_name.to_string(),
        dim: model.dim(),
    };
    let vectors = crate::embed::embed::embed_array(&model, array)?;
    Ok((spec, crate::columns::vector_elements(name, &vectors)?))
}

/// Embeds a text argument of a self-embedded column at prediction with the
/// recorded model: the `column[1]` … `column[dim]` columns (`who` names the
/// model in errors).
pub fn embed_for_prediction(
    spec: &TextEmbedding,
    model: &str,
    array: &ArrayRef,
) -> Result<Vec<Column>> {
    let embedder = embedder(&spec.model)?;
    if embedder.dim() != spec.dim {
        return Err(sql_err(
            sqlstate::DATA_EXCEPTION,
            format!(
                "{model} was trained on {}-dimensional embeddings of \"{}\" from embedding model '{}', which now gives {} dimensions; point '{}' at the model used in training or train again",
                spec.dim,
                spec.column,
                spec.model,
                embedder.dim(),
                spec.model
            ),
        ));
    }
    let vectors = crate::embed::embed::embed_array(&embedder, array)?;
    crate::columns::vector_elements(&spec.column, &vectors)
}

/// Checks at import that a recorded embedding model is there and gives
/// vectors of the recorded dimension. Errors: the loader's (58P01 missing
/// directory or file, 22023 unreadable model), 22P02 another dimension.
pub fn check_recorded(spec: &TextEmbedding) -> std::result::Result<(), augur_ml::MlError> {
    let embedder = Embedder::cached(&model_dir(&spec.model))
        .map_err(|e| augur_ml::MlError::new(e.sqlstate, e.message))?;
    if embedder.dim() != spec.dim {
        return Err(augur_ml::MlError::new(
            "22P02",
            format!(
                "the model embeds \"{}\" with '{}' as {}-dimensional vectors, but '{}' here gives {} dimensions",
                spec.column,
                spec.model,
                spec.dim,
                spec.model,
                embedder.dim()
            ),
        ));
    }
    Ok(())
}
