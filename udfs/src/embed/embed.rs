//! `embed(text)` and `embed(model, text)`: a sentence embedding per row.
//!
//! - `text`: any string type. NULL → NULL. Empty or whitespace-only text gets
//!   the embedding of the `[CLS] [SEP]` sequence (as sentence-transformers
//!   does); any Unicode is accepted (control characters such as NUL are
//!   dropped by BERT's normaliser, unknown characters become `[UNK]`).
//! - `model`: text literal: `all-MiniLM-L6-v2` or `default` (the default
//!   model: `--embed-model DIR`, else `$AUGUR_EMBED_MODEL`, else the model
//!   cache), a directory path, or the name of a directory in the model cache
//!   (`$HOME/.cache/augur/models`). The directory holds `config.json` (BERT
//!   family), `model.safetensors` and `tokenizer.json`.
//! - Returns `FixedSizeList<Float32, dim>` (dim = the model's hidden size,
//!   384 for all-MiniLM-L6-v2), sent as `float4[]`; each vector has L2 norm 1.
//! - Algorithm: sentence-transformers' mean pooling over the attention mask
//!   and L2 normalisation; the whole Arrow batch is tokenised and run through
//!   the encoder in packed batches of up to 512 tokens without padding (on
//!   a GPU: sorted by length, padded batches of 32); texts are truncated at
//!   the model's maximum sequence
//!   length (`max_seq_length` of `sentence_bert_config.json`, else
//!   `max_position_embeddings`; 256 word pieces for all-MiniLM-L6-v2). Runs
//!   with tokio's `block_in_place`, so the async runtime keeps serving.
//! - Errors: 58P01 model directory or file missing (the message names
//!   `scripts/fetch-embed-model` and `--embed-model`); 22023 model not a
//!   literal, or files that are not a model.
//!
//! Example: `SELECT id, embed(review) AS v FROM reviews`.

use std::sync::Arc;

use augur_embed::{EmbedError, Embedder, model_dir};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, FixedSizeListArray, Float32Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::error::{invalid, sql_err};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Embed {
    signature: Signature,
}

/// The `embed` scalar function.
pub fn embed() -> ScalarUDF {
    ScalarUDF::new_from_impl(Embed {
        // user-defined coercion: a text column keeps its own string type, so a
        // model literal is never wrapped in a cast (it must stay a literal)
        signature: Signature::user_defined(Volatility::Stable),
    })
}

fn to_df(e: EmbedError) -> DataFusionError {
    sql_err(e.sqlstate, e.message)
}

/// The model a call names (`None`: the default model).
fn model_name(arg: Option<&ScalarValue>) -> Result<String> {
    match arg {
        None => Ok("default".into()),
        Some(s) => match s.cast_to(&DataType::Utf8)? {
            ScalarValue::Utf8(Some(name)) => Ok(name),
            _ => Err(invalid("embed: the model name must not be NULL")),
        },
    }
}

fn load(name: &str) -> Result<Arc<Embedder>> {
    Embedder::cached(&model_dir(name)).map_err(to_df)
}

/// The Arrow type of `model`'s vectors.
pub fn vector_type(dim: usize) -> DataType {
    DataType::FixedSizeList(
        Arc::new(Field::new_list_field(DataType::Float32, true)),
        dim as i32,
    )
}

/// Runs CPU-heavy `f` without stalling tokio: on a multi-threaded runtime the
/// worker hands its other tasks to other workers first.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl ScalarUDFImpl for Embed {
    fn name(&self) -> &str {
        "embed"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(1..=2).contains(&arg_types.len()) {
            return Err(sql_err(
                "42883",
                format!(
                    "embed takes (text) or (model, text), got {} arguments",
                    arg_types.len()
                ),
            ));
        }
        arg_types
            .iter()
            .map(|t| match t {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(t.clone()),
                DataType::Null => Ok(DataType::Utf8),
                DataType::Dictionary(_, v)
                    if matches!(
                        v.as_ref(),
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    ) =>
                {
                    Ok(v.as_ref().clone())
                }
                other => Err(sql_err(
                    "42883",
                    format!("embed takes text arguments, not {other}: cast it to text"),
                )),
            })
            .collect()
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(vector_type(augur_embed::DEFAULT_DIM)) // superseded by return_field_from_args
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let name = if args.arg_fields.len() == 2 {
            match args.scalar_arguments.first().copied().flatten() {
                Some(s) => model_name(Some(s))?,
                None => {
                    return Err(invalid(
                        "embed: the model must be a text literal, the same for every row",
                    ));
                }
            }
        } else {
            model_name(None)?
        };
        let model = load(&name)?;
        Ok(Arc::new(Field::new(
            "embed",
            vector_type(model.dim()),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (name, text) = match args.args.as_slice() {
            [text] => (model_name(None)?, text),
            [ColumnarValue::Scalar(m), text] => (model_name(Some(m))?, text),
            _ => {
                return Err(invalid(
                    "embed: the model must be a text literal, the same for every row",
                ));
            }
        };
        let model = load(&name)?;
        if args.return_field.data_type() != &vector_type(model.dim()) {
            return Err(invalid(format!(
                "embed: model '{name}' changed since this statement was planned; run it again"
            )));
        }
        let config = &args.config_options;
        let cancelled = || crate::cancel::is_cancelled(config);
        match text {
            ColumnarValue::Scalar(s) => {
                let array = embed_array(&model, &s.to_array_of_size(1)?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &array, 0,
                )?))
            }
            ColumnarValue::Array(a) => Ok(ColumnarValue::Array(embed_array_cancellable(
                &model, a, &cancelled,
            )?)),
        }
    }
}

/// Work between two looks at the statement's cancel flag, in estimated
/// tokens per encoder thread: 16 of the model's packed batches
/// (`augur_embed::TOKEN_BUDGET` tokens each) per thread, so a chunk keeps
/// every thread busy (its ragged end idles a thread for half a batch on
/// average, ~3 %) and a cancel waits at most a second or two on two cores
/// however long the texts. Results do not depend on it: every text is
/// embedded on its own, without padding.
const CANCEL_CHECK_BATCHES_PER_THREAD: usize = 16;

/// Consecutive runs of `texts` of about `budget` tokens each (a token is
/// estimated as 4 bytes of text, plus the two special tokens).
fn cancel_chunks<'a>(texts: &'a [&'a str], budget: usize) -> impl Iterator<Item = &'a [&'a str]> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= texts.len() {
            return None;
        }
        let mut end = start;
        let mut tokens = 0;
        while end < texts.len() && (end == start || tokens < budget) {
            tokens += texts[end].len() / 4 + 2;
            end += 1;
        }
        let chunk = &texts[start..end];
        start = end;
        Some(chunk)
    })
}

/// Embeds every non-NULL string of `texts`.
pub fn embed_array(model: &Embedder, texts: &ArrayRef) -> Result<ArrayRef> {
    embed_array_cancellable(model, texts, &|| false)
}

/// [`embed_array`], stopping with 57014 once `cancelled()` says so (checked
/// every [`CANCEL_CHECK_BATCHES_PER_THREAD`] batches per encoder thread).
pub fn embed_array_cancellable(
    model: &Embedder,
    texts: &ArrayRef,
    cancelled: &dyn Fn() -> bool,
) -> Result<ArrayRef> {
    let strings = cast(texts, &DataType::Utf8)?;
    let strings = strings.as_string::<i32>();
    let present: Vec<usize> = (0..strings.len())
        .filter(|&i| strings.is_valid(i))
        .collect();
    let inputs: Vec<&str> = present.iter().map(|&i| strings.value(i)).collect();
    let dim = model.dim();
    let vectors = blocking(|| {
        let mut vectors = Vec::with_capacity(inputs.len() * dim);
        let budget = CANCEL_CHECK_BATCHES_PER_THREAD
            * augur_embed::TOKEN_BUDGET
            * rayon::current_num_threads().max(1);
        for chunk in cancel_chunks(&inputs, budget) {
            if cancelled() {
                return Err(crate::cancel::cancelled());
            }
            vectors.extend(model.embed(chunk).map_err(to_df)?);
        }
        Ok(vectors)
    })?;
    let mut values = vec![0f32; strings.len() * dim];
    for (k, &i) in present.iter().enumerate() {
        values[i * dim..(i + 1) * dim].copy_from_slice(&vectors[k * dim..(k + 1) * dim]);
    }
    let nulls = (present.len() < strings.len())
        .then(|| NullBuffer::from_iter((0..strings.len()).map(|i| strings.is_valid(i))));
    let field = Arc::new(Field::new_list_field(DataType::Float32, true));
    Ok(Arc::new(FixedSizeListArray::try_new(
        field,
        dim as i32,
        Arc::new(Float32Array::from(values)),
        nulls,
    )?))
}

#[cfg(test)]
mod tests {
    use super::cancel_chunks;

    #[test]
    fn cancel_chunks_cover_the_texts_in_order_by_estimated_tokens() {
        let long = "x".repeat(400); // ~102 tokens
        let texts: Vec<&str> = vec![long.as_str(); 10];
        let chunks: Vec<usize> = cancel_chunks(&texts, 250).map(|c| c.len()).collect();
        assert_eq!(chunks, vec![3, 3, 3, 1]);
        // a text over the budget is a chunk of its own; nothing is lost
        let huge = "y".repeat(10_000);
        let texts = vec!["a", huge.as_str(), "b"];
        let chunks: Vec<Vec<&str>> = cancel_chunks(&texts, 10).map(|c| c.to_vec()).collect();
        assert_eq!(chunks.concat(), texts);
        assert!(cancel_chunks(&[], 10).next().is_none());
    }
}
