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
//!   preloaded into the destination (`dst = dst + x·Wᵀ`);
//! - attention reads queries, keys and values in place from the fused QKV
//!   product through strides, one `gemm` per (text, head) for the scores and
//!   one for the context, (text, head) pairs in parallel, softmax in between;
//! - layer norm (f64 sums) and GELU (erf form, candle's erf) run in parallel
//!   over rows.

use rayon::prelude::*;

use gemm::{Parallelism, gemm};

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

fn threads() -> Parallelism {
    match rayon::current_num_threads() {
        0 | 1 => Parallelism::None,
        n => Parallelism::Rayon(n),
    }
}

/// `dst (rows × out) += x (rows × inp) · wᵀ` where `w` is `out × inp`.
fn matmul_into(dst: &mut [f32], x: &[f32], w: &[f32], rows: usize, inp: usize, out: usize) {
    debug_assert_eq!(dst.len(), rows * out);
    debug_assert_eq!(x.len(), rows * inp);
    debug_assert_eq!(w.len(), out * inp);
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
            threads(),
        )
    }
}

/// `x·wᵀ + b`, rows × out.
fn linear(x: &[f32], w: &[f32], b: &[f32], rows: usize, inp: usize) -> Vec<f32> {
    let out = b.len();
    let mut dst = Vec::with_capacity(rows * out);
    for _ in 0..rows {
        dst.extend_from_slice(b);
    }
    matmul_into(&mut dst, x, w, rows, inp, out);
    dst
}

/// `residual + x·wᵀ + b`, in place in `residual`.
fn linear_residual(residual: &mut [f32], x: &[f32], w: &[f32], b: &[f32], rows: usize, inp: usize) {
    let out = b.len();
    residual.par_chunks_mut(out).for_each(|r| {
        r.iter_mut().zip(b).for_each(|(v, b)| *v += b);
    });
    matmul_into(residual, x, w, rows, inp, out);
}

/// Layer norm of every row of `x` in place (sums in f64).
fn layer_norm(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let h = w.len();
    x.par_chunks_mut(h).for_each(|row| {
        let n = h as f64;
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let inv = 1.0 / (var + eps as f64).sqrt();
        let (mean, inv) = (mean as f32, inv as f32);
        for ((v, w), b) in row.iter_mut().zip(w).zip(b) {
            *v = (*v - mean) * inv * w + b;
        }
    });
}

fn activate(x: &mut [f32], act: Act) {
    x.par_chunks_mut(4096).for_each(|c| match act {
        Act::GeluErf => c.iter_mut().for_each(|v| {
            *v = (candle_core::cpu::erf::erf_f32(*v * std::f32::consts::FRAC_1_SQRT_2) + 1.0)
                * 0.5
                * *v
        }),
        Act::GeluTanh => c.iter_mut().for_each(|v| {
            let x = *v;
            let inner = (2.0f32 / std::f32::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
            *v = 0.5 * x * (1.0 + inner.tanh())
        }),
        Act::Relu => c.iter_mut().for_each(|v| *v = v.max(0.0)),
    });
}

impl PackedBert {
    /// Sentence embeddings (mean-pooled, unit L2 norm) of token-id sequences:
    /// `seqs.len() × hidden` values, row after row. Every id must be below
    /// the vocabulary size and every sequence at most as long as the
    /// position table (the caller truncates); an empty sequence gives zeros.
    pub fn embed(&self, seqs: &[&[u32]]) -> Result<Vec<f32>, String> {
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
        let tokens = *offsets.last().unwrap_or(&0);
        // embeddings: word + position + token type 0, then layer norm
        let mut x = vec![0f32; tokens * h];
        let at: Vec<(usize, u32)> = seqs
            .iter()
            .flat_map(|s| s.iter().enumerate().map(|(p, &id)| (p, id)))
            .collect();
        x.par_chunks_mut(h)
            .zip(at.par_iter())
            .for_each(|(row, &(p, id))| {
                let w = &self.word[id as usize * h..(id as usize + 1) * h];
                let pe = &self.position[p * h..(p + 1) * h];
                for k in 0..h {
                    row[k] = w[k] + pe[k] + self.token_type0[k];
                }
            });
        layer_norm(&mut x, &self.embed_norm_w, &self.embed_norm_b, self.eps);
        for l in &self.layers {
            let qkv = linear(&x, &l.qkv_w, &l.qkv_b, tokens, h);
            let ctx = self.attention(&qkv, &offsets, tokens);
            // x = norm(x + ctx·Woᵀ + bo)
            linear_residual(&mut x, &ctx, &l.attn_out_w, &l.attn_out_b, tokens, h);
            layer_norm(&mut x, &l.attn_norm_w, &l.attn_norm_b, self.eps);
            let mut inter = linear(&x, &l.inter_w, &l.inter_b, tokens, h);
            activate(&mut inter, self.act);
            linear_residual(
                &mut x,
                &inter,
                &l.out_w,
                &l.out_b,
                tokens,
                self.intermediate,
            );
            layer_norm(&mut x, &l.out_norm_w, &l.out_norm_b, self.eps);
        }
        // mean pooling over each text's tokens, then L2 normalisation
        let mut out = vec![0f32; seqs.len() * h];
        out.par_chunks_mut(h).enumerate().for_each(|(i, o)| {
            let (a, b) = (offsets[i], offsets[i + 1]);
            if a == b {
                return;
            }
            let mut sum = vec![0f64; h];
            for row in x[a * h..b * h].chunks(h) {
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
        });
        Ok(out)
    }

    /// Multi-head self-attention of each text over its own tokens, reading
    /// q, k, v from the packed `(tokens, 3·hidden)` QKV product; returns the
    /// `(tokens, hidden)` context, heads side by side.
    fn attention(&self, qkv: &[f32], offsets: &[usize], tokens: usize) -> Vec<f32> {
        let (h, nh) = (self.hidden, self.heads);
        let d = h / nh;
        let scale = 1.0 / (d as f32).sqrt();
        let mut ctx = vec![0f32; tokens * h];
        let dst = SharedMut(ctx.as_mut_ptr());
        let texts = offsets.len() - 1;
        (0..texts * nh).into_par_iter().for_each(|task| {
            let (t, head) = (task / nh, task % nh);
            let (start, s) = (offsets[t], offsets[t + 1] - offsets[t]);
            if s == 0 {
                return;
            }
            let row3 = 3 * h as isize;
            let q = qkv[start * 3 * h + head * d..].as_ptr();
            let k = qkv[start * 3 * h + h + head * d..].as_ptr();
            let v = qkv[start * 3 * h + 2 * h + head * d..].as_ptr();
            let mut scores = vec![0f32; s * s];
            // SAFETY: q, k and v address rows start..start+s of the packed
            // QKV matrix (stride 3h), columns head·d..head·d+d of their third;
            // this task alone writes rows start..start+s, columns
            // head·d..head·d+d of ctx.
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
            for row in scores.chunks_mut(s) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0f32;
                row.iter_mut().for_each(|x| {
                    *x = (*x - max).exp();
                    sum += *x;
                });
                let inv = 1.0 / sum;
                row.iter_mut().for_each(|x| *x *= inv);
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
            }
        });
        ctx
    }
}
