//! The BERT encoder on CPU over *packed* sequences: the tokens of all texts
//! of a batch lie one after another in one `(tokens, hidden)` matrix, with no
//! padding at all. Every step but attention works token by token, so it runs
//! on the packed matrix as one matrix product; attention runs per text and
//! head, on that text's rows only. Same maths as [`crate::bert::Bert`] (and
//! Hugging Face's `BertModel`) with mean pooling and L2 normalisation
//! (sentence-transformers' `Pooling(mean)` + `Normalize`).
//!
//! Why our own code instead of candle tensors (see BENCHMARKS.md for the
//! figures): candle's path pads every batch to its longest text, copies the
//! activations four times per layer to split and merge the attention heads
//! (transpose + contiguous), adds biases and residuals in separate passes
//! and runs layer norm on one thread. Here:
//! - matrix products call `gemm` (the kernels candle itself uses) directly,
//!   with the bias, and for the two output projections also the residual,
//!   preloaded into the destination (`dst = dst + x·Wᵀ`). The `gemm` crate
//!   is not the bottleneck: on the encoder's shapes (512 × 1152 × 384,
//!   512 × 1536 × 384, …) one thread of it runs at 45–55 GFLOP/s, as fast as
//!   PyTorch's MKL `linear` on one thread of the same 2-core machine
//!   (39–50 GFLOP/s; `examples/throughput.rs --gemm`, BENCHMARKS.md);
//! - the caller runs a call's batches in parallel, one batch per thread and
//!   every product of a batch single-threaded (`parallel = false`): at these
//!   small shapes splitting each product over threads cost more in
//!   synchronisation than it gained (a lone batch still splits its products);
//! - attention reads queries, keys and values in place from the fused QKV
//!   product through strides, one `gemm` per (text, head) for the scores and
//!   one for the context, softmax in between (its normalisation applied to
//!   the `s × d` context instead of the `s × s` probabilities);
//! - layer norm, softmax and GELU (erf form) are vectorised kernels
//!   (module `kernels`), buffers are reused from batch to batch ([`Scratch`]).

use rayon::prelude::*;

use gemm::{Parallelism, gemm};

use crate::kernels;

/// One encoder layer's weights, row-major as stored (`out × in`).
pub struct PackedLayer {
    pub qkv_w: Vec<f32>,
    pub qkv_b: Vec<f32>,
    pub attn_out_w: Vec<f32>,
    pub attn_out_b: Vec<f32>,
    pub attn_norm_w: Vec<f32>,
    pub attn_norm_b: Vec<f32>,
    pub inter_w: Vec<f32>,
    pub inter_b: Vec<f32>,
    pub out_w: Vec<f32>,
    pub out_b: Vec<f32>,
    pub out_norm_w: Vec<f32>,
    pub out_norm_b: Vec<f32>,
}

/// Activation between the two feed-forward products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    GeluErf,
    GeluTanh,
    Relu,
}

/// A BERT encoder's weights as plain `f32` rows.
pub struct PackedBert {
    pub word: Vec<f32>,
    pub position: Vec<f32>,
    /// Token type 0's embedding (sentence embeddings use type 0 only).
    pub token_type0: Vec<f32>,
    pub embed_norm_w: Vec<f32>,
    pub embed_norm_b: Vec<f32>,
    pub layers: Vec<PackedLayer>,
    pub hidden: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub eps: f32,
    pub act: Act,
}

/// A raw pointer shared by parallel tasks that write disjoint parts.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// The pointer (a method, so closures capture the whole `Sync` wrapper).
    fn ptr(&self) -> *mut f32 {
        self.0
    }
}

/// Seconds spent in each stage of the encoder, summed over batches and
/// threads (thread-seconds when batches run in parallel): a profiling aid.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stages {
    pub secs: [f64; Stages::NAMES.len()],
}

impl Stages {
    /// Stage names, in the order of `secs`.
    pub const NAMES: [&'static str; 10] = [
        "embeddings",
        "qkv gemm",
        "attention scores gemm",
        "softmax",
        "attention context gemm",
        "attention output gemm",
        "ffn input gemm",
        "gelu",
        "ffn output gemm",
        "layer norm",
    ];
    const EMBED: usize = 0;
    const QKV: usize = 1;
    const SCORES: usize = 2;
    const SOFTMAX: usize = 3;
    const CONTEXT: usize = 4;
    const ATTN_OUT: usize = 5;
    const FFN_IN: usize = 6;
    const GELU: usize = 7;
    const FFN_OUT: usize = 8;
    const NORM: usize = 9;

    /// Adds `other`'s times to these.
    pub fn add(&mut self, other: &Stages) {
        self.secs
            .iter_mut()
            .zip(other.secs)
            .for_each(|(a, b)| *a += b);
    }

    /// Total of all stages.
    pub fn total(&self) -> f64 {
        self.secs.iter().sum()
    }
}

/// A stopwatch adding each lap to a stage.
struct Laps<'a> {
    stages: &'a mut Stages,
    at: std::time::Instant,
}

impl Laps<'_> {
    fn lap(&mut self, stage: usize) {
        let now = std::time::Instant::now();
        self.stages.secs[stage] += (now - self.at).as_secs_f64();
        self.at = now;
    }
}

/// Buffers of one batch's activations, kept between batches of a thread
/// (no allocation per layer).
#[derive(Default)]
pub struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    inter: Vec<f32>,
    scores: Vec<f32>,
}

/// The first `n` elements of `v`, grown if shorter (contents unspecified:
/// every user overwrites them).
fn grown(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

/// `dst (rows × out) += x (rows × inp) · wᵀ` where `w` is `out × inp`.
fn matmul_into(
    dst: &mut [f32],
    x: &[f32],
    w: &[f32],
    rows: usize,
    inp: usize,
    out: usize,
    par: Parallelism,
) {
    assert_eq!(dst.len(), rows * out);
    assert_eq!(x.len(), rows * inp);
    assert_eq!(w.len(), out * inp);
    if rows == 0 {
        return;
    }
    // SAFETY: the slices hold exactly the m×k, k×n and m×n elements the
    // strides address (checked above).
    unsafe {
        gemm(
            rows,
            out,
            inp,
            dst.as_mut_ptr(),
            1,
            out as isize,
            true,
            x.as_ptr(),
            1,
            inp as isize,
            w.as_ptr(),
            inp as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// `dst = x·wᵀ + b` (rows × out; `dst` resized).
fn linear(
    dst: &mut Vec<f32>,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    rows: usize,
    inp: usize,
    par: Parallelism,
) {
    let out = b.len();
    dst.clear();
    for _ in 0..rows {
        dst.extend_from_slice(b);
    }
    matmul_into(dst, x, w, rows, inp, out, par);
}

/// `residual += x·wᵀ + b`, in place.
fn linear_residual(
    residual: &mut [f32],
    x: &[f32],
    w: &[f32],
    b: &[f32],
    rows: usize,
    inp: usize,
    par: Parallelism,
) {
    let out = b.len();
    residual.chunks_exact_mut(out).for_each(|r| {
        r.iter_mut().zip(b).for_each(|(v, b)| *v += b);
    });
    matmul_into(residual, x, w, rows, inp, out, par);
}

fn activate(x: &mut [f32], act: Act) {
    match act {
        Act::GeluErf => kernels::gelu_erf(x),
        Act::GeluTanh => kernels::gelu_tanh(x),
        Act::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
    }
}

impl PackedBert {
    /// Sentence embeddings (mean-pooled, unit L2 norm) of token-id sequences:
    /// `seqs.len() × hidden` values, row after row, written to `out`. Every
    /// id must be below the vocabulary size and every sequence at most as
    /// long as the position table (the caller truncates); an empty sequence
    /// gives zeros. `parallel`: split the matrix products and attention over
    /// rayon's threads (for a lone batch; several batches are better run one
    /// per thread, each with `parallel = false`). Stage times are added to
    /// `stages`.
    pub fn embed(
        &self,
        seqs: &[&[u32]],
        scratch: &mut Scratch,
        parallel: bool,
        stages: &mut Stages,
    ) -> Result<Vec<f32>, String> {
        let h = self.hidden;
        let vocab = self.word.len() / h;
        let max_pos = self.position.len() / h;
        let mut offsets = Vec::with_capacity(seqs.len() + 1);
        offsets.push(0usize);
        for s in seqs {
            if s.len() > max_pos {
                return Err(format!(
                    "a sequence of {} tokens exceeds the model's {max_pos} positions",
                    s.len()
                ));
            }
            if let Some(&bad) = s.iter().find(|&&id| id as usize >= vocab) {
                return Err(format!(
                    "token id {bad} is outside the vocabulary of {vocab}"
                ));
            }
            offsets.push(offsets.last().copied().unwrap_or(0) + s.len());
        }
        let par = match (parallel, rayon::current_num_threads()) {
            (false, _) | (_, 0 | 1) => Parallelism::None,
            (true, n) => Parallelism::Rayon(n),
        };
        let tokens = *offsets.last().unwrap_or(&0);
        let mut laps = Laps {
            stages,
            at: std::time::Instant::now(),
        };
        let Scratch {
            x,
            qkv,
            ctx,
            inter,
            scores,
        } = scratch;
        // embeddings: word + position + token type 0, then layer norm
        let x = grown(x, tokens * h);
        for (row, (p, id)) in x
            .chunks_exact_mut(h)
            .zip(seqs.iter().flat_map(|s| s.iter().enumerate()))
        {
            let w = &self.word[*id as usize * h..(*id as usize + 1) * h];
            let pe = &self.position[p * h..(p + 1) * h];
            for k in 0..h {
                row[k] = w[k] + pe[k] + self.token_type0[k];
            }
        }
        kernels::layer_norm(x, &self.embed_norm_w, &self.embed_norm_b, self.eps);
        laps.lap(Stages::EMBED);
        for l in &self.layers {
            linear(qkv, x, &l.qkv_w, &l.qkv_b, tokens, h, par);
            laps.lap(Stages::QKV);
            let ctx = grown(ctx, tokens * h);
            self.attention(qkv, ctx, scores, &offsets, parallel, &mut laps);
            // x = norm(x + ctx·Woᵀ + bo)
            linear_residual(x, ctx, &l.attn_out_w, &l.attn_out_b, tokens, h, par);
            laps.lap(Stages::ATTN_OUT);
            kernels::layer_norm(x, &l.attn_norm_w, &l.attn_norm_b, self.eps);
            laps.lap(Stages::NORM);
            linear(inter, x, &l.inter_w, &l.inter_b, tokens, h, par);
            laps.lap(Stages::FFN_IN);
            activate(inter, self.act);
            laps.lap(Stages::GELU);
            linear_residual(x, inter, &l.out_w, &l.out_b, tokens, self.intermediate, par);
            laps.lap(Stages::FFN_OUT);
            kernels::layer_norm(x, &l.out_norm_w, &l.out_norm_b, self.eps);
            laps.lap(Stages::NORM);
        }
        // mean pooling over each text's tokens, then L2 normalisation
        let mut out = vec![0f32; seqs.len() * h];
        let mut sum = vec![0f64; h];
        for (i, o) in out.chunks_exact_mut(h).enumerate() {
            let (a, b) = (offsets[i], offsets[i + 1]);
            if a == b {
                continue;
            }
            sum.fill(0.0);
            for row in x[a * h..b * h].chunks_exact(h) {
                sum.iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
            }
            let n = (b - a) as f64;
            let norm = sum
                .iter()
                .map(|s| (s / n).powi(2))
                .sum::<f64>()
                .sqrt()
                .max(1e-12);
            o.iter_mut()
                .zip(&sum)
                .for_each(|(o, s)| *o = (s / n / norm) as f32);
        }
        laps.lap(Stages::EMBED);
        Ok(out)
    }

    /// Multi-head self-attention of each text over its own tokens, reading
    /// q, k, v from the packed `(tokens, 3·hidden)` QKV product; writes the
    /// `(tokens, hidden)` context, heads side by side, to `ctx`.
    fn attention(
        &self,
        qkv: &[f32],
        ctx: &mut [f32],
        scores: &mut Vec<f32>,
        offsets: &[usize],
        parallel: bool,
        laps: &mut Laps,
    ) {
        let (h, nh) = (self.hidden, self.heads);
        let d = h / nh;
        let scale = 1.0 / (d as f32).sqrt();
        let texts = offsets.len() - 1;
        assert_eq!(qkv.len(), offsets[texts] * 3 * h);
        assert_eq!(ctx.len(), offsets[texts] * h);
        let dst = SharedMut(ctx.as_mut_ptr());
        // One (text, head): scores, softmax, context; `laps` only when
        // sequential.
        let task = |task: usize, scores: &mut Vec<f32>, mut laps: Option<&mut Laps>| {
            let (t, head) = (task / nh, task % nh);
            let (start, s) = (offsets[t], offsets[t + 1] - offsets[t]);
            if s == 0 {
                return;
            }
            let row3 = 3 * h as isize;
            let q = qkv[start * 3 * h + head * d..].as_ptr();
            let k = qkv[start * 3 * h + h + head * d..].as_ptr();
            let v = qkv[start * 3 * h + 2 * h + head * d..].as_ptr();
            // s × s scores, then s inverse row sums
            let scores = grown(scores, s * s + s);
            // SAFETY: q, k and v address rows start..start+s of the packed
            // QKV matrix (stride 3h, length checked above), columns
            // head·d..head·d+d of their third; this task alone writes rows
            // start..start+s, columns head·d..head·d+d of ctx.
            unsafe {
                // scores (s × s) = scale · q (s × d) · kᵀ (d × s)
                gemm(
                    s,
                    s,
                    d,
                    scores.as_mut_ptr(),
                    1,
                    s as isize,
                    false,
                    q,
                    1,
                    row3,
                    k,
                    row3,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
            if let Some(l) = laps.as_deref_mut() {
                l.lap(Stages::SCORES);
            }
            let (scores, inv_sums) = scores.split_at_mut(s * s);
            kernels::exp_rows(scores, s, inv_sums);
            if let Some(l) = laps.as_deref_mut() {
                l.lap(Stages::SOFTMAX);
            }
            unsafe {
                // ctx (s × d) = probs (s × s) · v (s × d)
                gemm(
                    s,
                    d,
                    s,
                    dst.ptr().add(start * h + head * d),
                    1,
                    h as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    s as isize,
                    v,
                    1,
                    row3,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
                // softmax's normalisation, on the context rows
                for (i, inv) in inv_sums.iter().enumerate() {
                    let row = std::slice::from_raw_parts_mut(
                        dst.ptr().add((start + i) * h + head * d),
                        d,
                    );
                    row.iter_mut().for_each(|v| *v *= inv);
                }
            }
            if let Some(l) = laps {
                l.lap(Stages::CONTEXT);
            }
        };
        if parallel {
            (0..texts * nh)
                .into_par_iter()
                .for_each_init(Vec::new, |scores, i| task(i, scores, None));
            laps.lap(Stages::SCORES);
        } else {
            for i in 0..texts * nh {
                task(i, scores, Some(laps));
            }
        }
    }
}
