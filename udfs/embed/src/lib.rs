//! Augur's sentence embeddings: a BERT-family encoder (our candle port of
//! Hugging Face's `BertModel`, see [`bert`]) and its Hugging Face tokenizer (`tokenizers`), pooled and
//! normalised exactly as sentence-transformers does.
//!
//! A model is a local directory holding `config.json` (a BERT config),
//! `model.safetensors` and `tokenizer.json`; `sentence_bert_config.json`
//! (optional) gives the maximum sequence length. Loading is done once per
//! directory and process ([`Embedder::cached`]).
//!
//! Algorithm, for a batch of texts:
//! 1. tokenise each text with the model's tokenizer (special tokens added),
//!    truncated at [`Embedder::max_seq_length`] word pieces, texts in parallel;
//! 2. on the CPU, pack the texts' tokens one after another into batches of
//!    up to [`TOKEN_BUDGET`] tokens with no padding at all and run the
//!    encoder on them, batches in parallel, one per thread (module `packed`:
//!    attention per text); on a GPU, sort the
//!    texts by token count and run padded batches of [`BATCH_SIZE`] with an
//!    attention mask over the padding (module `bert`);
//! 3. mean-pool the last hidden state over each text's tokens, then divide
//!    by the L2 norm (sentence-transformers' `Pooling(mean)` + `Normalize`).
//!
//! Empty or whitespace-only text tokenises to `[CLS] [SEP]` and gets that
//! sequence's embedding, as in sentence-transformers. Any Unicode is accepted
//! (control characters such as NUL are removed by BERT's normaliser; unknown
//! characters become `[UNK]`).

mod bert;
mod kernels;
mod packed;
#[doc(hidden)]
pub mod testing;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;

use crate::bert::Bert;
use crate::packed::Scratch;
#[doc(hidden)]
pub use crate::packed::Stages;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// The default model's name (its directory name under the model cache).
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";
/// Environment variable naming the default model's directory.
pub const MODEL_ENV: &str = "AUGUR_EMBED_MODEL";
/// Vector length of the default model (all-MiniLM-L6-v2).
pub const DEFAULT_DIM: usize = 384;
/// Texts run through the encoder together (after sorting by length) on a
/// GPU, where batches are padded.
pub const BATCH_SIZE: usize = 32;
/// Tokens run through the encoder together on the CPU, where batches are
/// packed (no padding): texts are added to a batch until it holds this many
/// tokens (a text longer than that is a batch of its own). The environment
/// variable `AUGUR_TOKEN_BUDGET` overrides it (for tuning).
pub const TOKEN_BUDGET: usize = 512;

/// SQLSTATE codes used by this crate's errors.
pub mod sqlstate {
    /// 58P01 undefined_file: the model directory or one of its files is missing.
    pub const UNDEFINED_FILE: &str = "58P01";
    /// 22023 invalid_parameter_value: a model directory that cannot be read as a model.
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    /// XX000 internal_error: the encoder failed on a batch.
    pub const INTERNAL_ERROR: &str = "XX000";
}

/// An embedding error with its SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedError {
    pub sqlstate: &'static str,
    pub message: String,
}

impl EmbedError {
    fn new(sqlstate: &'static str, message: impl Into<String>) -> Self {
        Self {
            sqlstate,
            message: message.into(),
        }
    }
}

impl fmt::Display for EmbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EmbedError {}

pub type Result<T> = std::result::Result<T, EmbedError>;

fn internal(e: impl fmt::Display) -> EmbedError {
    EmbedError::new(sqlstate::INTERNAL_ERROR, format!("embedding failed: {e}"))
}

static DEFAULT_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Sets the default model directory for this process (the CLI's
/// `--embed-model`). Only the first call has an effect.
pub fn set_default_model_dir(dir: PathBuf) {
    let _ = DEFAULT_DIR.set(dir);
}

/// The directory where fetched models live: `$AUGUR_MODEL_CACHE`, else
/// `$XDG_CACHE_HOME/augur/models`, else `$HOME/.cache/augur/models`.
pub fn model_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("AUGUR_MODEL_CACHE") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("augur").join("models")
}

/// The default model's directory: `--embed-model DIR`, else
/// `$AUGUR_EMBED_MODEL`, else `<model cache>/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> PathBuf {
    if let Some(d) = DEFAULT_DIR.get() {
        return d.clone();
    }
    if let Some(d) = std::env::var_os(MODEL_ENV) {
        return PathBuf::from(d);
    }
    model_cache_dir().join(DEFAULT_MODEL)
}

/// The directory for a model named in SQL: a path (absolute, or containing a
/// `/`) is used as it is; any other name is a directory of the model cache;
/// `all-MiniLM-L6-v2` and `default` are the default model.
pub fn model_dir(name: &str) -> PathBuf {
    if name == DEFAULT_MODEL || name == "default" {
        return default_model_dir();
    }
    let p = Path::new(name);
    if p.is_absolute() || name.contains('/') || name.contains(std::path::MAIN_SEPARATOR) {
        p.to_path_buf()
    } else {
        model_cache_dir().join(name)
    }
}

/// A loaded sentence encoder.
pub struct Embedder {
    model: Bert,
    /// The packed CPU encoder (module `packed`); `None` on a GPU.
    packed: Option<packed::PackedBert>,
    tokenizer: Tokenizer,
    max_seq_length: usize,
    dim: usize,
    device: Device,
    dir: PathBuf,
}

impl fmt::Debug for Embedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedder")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("max_seq_length", &self.max_seq_length)
            .finish()
    }
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Arc<Embedder>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Embedder>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The device embeddings run on: the first CUDA GPU when built with the
/// `cuda` feature and one is present, else the CPU.
pub fn device() -> Device {
    #[cfg(feature = "cuda")]
    {
        if let Ok(d) = Device::new_cuda(0) {
            return d;
        }
    }
    Device::Cpu
}

impl Embedder {
    /// The embedder for `dir`, loaded on first use and kept for the process.
    pub fn cached(dir: &Path) -> Result<Arc<Embedder>> {
        let key = dir.to_path_buf();
        if let Some(e) = cache().lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(e.clone());
        }
        let e = Arc::new(Embedder::load(dir)?);
        let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.entry(key).or_insert(e).clone())
    }

    /// Loads the model in `dir` (see the crate documentation for the files).
    pub fn load(dir: &Path) -> Result<Embedder> {
        Self::load_on(dir, device())
    }

    /// Loads the model in `dir` onto `device`.
    pub fn load_on(dir: &Path, device: Device) -> Result<Embedder> {
        let shown = dir.display();
        if !dir.is_dir() {
            return Err(EmbedError::new(
                sqlstate::UNDEFINED_FILE,
                format!(
                    "embedding model directory {shown} does not exist; for the default model run \
                     scripts/fetch-embed-model, or start augur with --embed-model DIR (or set \
                     {MODEL_ENV}) naming a directory with config.json, model.safetensors and \
                     tokenizer.json"
                ),
            ));
        }
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            if !dir.join(f).is_file() {
                return Err(EmbedError::new(
                    sqlstate::UNDEFINED_FILE,
                    format!(
                        "embedding model directory {shown} has no {f}; a model directory needs \
                         config.json, model.safetensors and tokenizer.json (for the default \
                         model run scripts/fetch-embed-model)"
                    ),
                ));
            }
        }
        let bad = |what: &str, e: &dyn fmt::Display| {
            EmbedError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("embedding model {shown}: cannot read {what}: {e}"),
            )
        };
        let config_text =
            std::fs::read_to_string(dir.join("config.json")).map_err(|e| bad("config.json", &e))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| bad("config.json", &e))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| bad("tokenizer.json", &e))?;
        let max_seq_length = max_seq_length(dir, &config);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| bad("tokenizer.json", &e))?;
        tokenizer.with_padding(None);
        // SAFETY: the file is mapped read-only; Augur never writes model files.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[dir.join("model.safetensors")],
                DType::F32,
                &device,
            )
        }
        .map_err(|e| bad("model.safetensors", &e))?;
        let model = Bert::load(vb, &config).map_err(|e| bad("model.safetensors", &e))?;
        let packed = if device.is_cpu() {
            Some(model.packed().map_err(|e| bad("model.safetensors", &e))?)
        } else {
            None
        };
        Ok(Embedder {
            model,
            packed,
            tokenizer,
            max_seq_length,
            dim: config.hidden_size,
            device,
            dir: dir.to_path_buf(),
        })
    }

    /// Length of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Word pieces (special tokens included) kept per text; the rest is cut.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Token ids of each text (special tokens added, truncated), texts in
    /// parallel (tokenising is ~15% of the work on one thread).
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        use rayon::prelude::*;
        texts
            .par_iter()
            .map(|t| {
                self.tokenizer
                    .encode_fast(*t, true)
                    .map(|e| e.get_ids().to_vec())
                    .map_err(internal)
            })
            .collect()
    }

    /// Embeds `texts`; returns `texts.len() * dim()` values, row after row,
    /// each row of L2 norm 1.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<f32>> {
        Ok(self.embed_profiled(texts)?.0)
    }

    /// [`Embedder::embed`], also returning the seconds spent tokenising and in
    /// each encoder stage (CPU only; thread-seconds when batches run in
    /// parallel). A profiling aid for `examples/throughput.rs`.
    #[doc(hidden)]
    pub fn embed_profiled(&self, texts: &[&str]) -> Result<(Vec<f32>, f64, Stages)> {
        let t = std::time::Instant::now();
        let ids = self.tokenize(texts)?;
        let tokenize = t.elapsed().as_secs_f64();
        let mut stages = Stages::default();
        let out = match &self.packed {
            Some(p) => Self::embed_packed(p, &ids, self.dim, &mut stages)?,
            None => self.embed_padded(&ids)?,
        };
        Ok((out, tokenize, stages))
    }

    /// The packed CPU path: texts in their own order cut into batches of up
    /// to [`TOKEN_BUDGET`] tokens (no padding); several batches run in
    /// parallel, one per thread, each single-threaded inside; a lone batch
    /// runs multi-threaded inside.
    fn embed_packed(
        p: &packed::PackedBert,
        ids: &[Vec<u32>],
        dim: usize,
        stages: &mut Stages,
    ) -> Result<Vec<f32>> {
        use rayon::prelude::*;
        let budget = std::env::var("AUGUR_TOKEN_BUDGET")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(TOKEN_BUDGET);
        let mut batches = vec![];
        let mut start = 0;
        while start < ids.len() {
            let (mut end, mut tokens) = (start, 0);
            while end < ids.len() && (end == start || tokens + ids[end].len() <= budget) {
                tokens += ids[end].len();
                end += 1;
            }
            batches.push(
                ids[start..end]
                    .iter()
                    .map(Vec::as_slice)
                    .collect::<Vec<_>>(),
            );
            start = end;
        }
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = Default::default();
        }
        let results: Vec<(Vec<f32>, Stages)> = if batches.len() == 1 {
            // multi-threaded inside: while it waits, this thread may run
            // another query's batch, so it must not hold the thread's scratch
            let mut s = Stages::default();
            let v = p
                .embed(&batches[0], &mut Scratch::default(), true, &mut s)
                .map_err(internal)?;
            vec![(v, s)]
        } else {
            batches
                .par_iter()
                .with_max_len(1)
                .map(|b| {
                    // single-threaded inside (no rayon calls): nothing else
                    // runs on this thread until it returns
                    let mut s = Stages::default();
                    let v = SCRATCH
                        .with_borrow_mut(|scratch| p.embed(b, scratch, false, &mut s))
                        .map_err(internal)?;
                    Ok((v, s))
                })
                .collect::<Result<_>>()?
        };
        let mut out = Vec::with_capacity(ids.len() * dim);
        for (v, s) in results {
            out.extend(v);
            stages.add(&s);
        }
        Ok(out)
    }

    /// The padded path (candle tensors; the only one on a GPU): texts sorted
    /// by length, batches of [`BATCH_SIZE`] padded to their longest text.
    #[doc(hidden)]
    pub fn embed_padded_texts(&self, texts: &[&str]) -> Result<Vec<f32>> {
        self.embed_padded(&self.tokenize(texts)?)
    }

    fn embed_padded(&self, ids: &[Vec<u32>]) -> Result<Vec<f32>> {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![0f32; ids.len() * self.dim];
        for chunk in order.chunks(BATCH_SIZE) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            let vectors = self.encode(&batch)?;
            for (row, &i) in chunk.iter().enumerate() {
                out[i * self.dim..(i + 1) * self.dim]
                    .copy_from_slice(&vectors[row * self.dim..(row + 1) * self.dim]);
            }
        }
        Ok(out)
    }

    /// Runs the encoder over one batch of token ids, padding to the longest.
    fn encode(&self, batch: &[&[u32]]) -> Result<Vec<f32>> {
        let n = batch.len();
        let len = batch.iter().map(|b| b.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (r, b) in batch.iter().enumerate() {
            ids[r * len..r * len + b.len()].copy_from_slice(b);
            mask[r * len..r * len + b.len()].fill(1);
        }
        let run = || -> candle_core::Result<Vec<f32>> {
            let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
            let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
            let lengths: Vec<usize> = batch.iter().map(|b| b.len()).collect();
            let hidden = self.model.forward(&ids, &lengths)?;
            let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&maskf)?.sum(1)?;
            let counts = maskf.sum(1)?.clamp(1e-9, f64::MAX)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean
                .sqr()?
                .sum_keepdim(D::Minus1)?
                .sqrt()?
                .clamp(1e-12, f64::MAX)?;
            mean.broadcast_div(&norm)?.flatten_all()?.to_vec1::<f32>()
        };
        run().map_err(internal)
    }
}

/// sentence-transformers' maximum sequence length: `max_seq_length` of
/// `sentence_bert_config.json` when present, never more than the model's
/// `max_position_embeddings`.
fn max_seq_length(dir: &Path, config: &Config) -> usize {
    let from_st = std::fs::read_to_string(dir.join("sentence_bert_config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("max_seq_length").and_then(|m| m.as_u64()))
        .map(|m| m as usize);
    let limit = config.max_position_embeddings;
    from_st.map_or(limit, |m| m.min(limit)).max(2)
}
