//! BERT encoder forward pass for sentence embeddings, on candle tensors.
//!
//! Same maths as candle-transformers' `BertModel` (itself a port of Hugging
//! Face's `BertModel`), arranged for inference speed on CPU:
//! - query, key and value projections fused into one matrix product;
//! - the 1/√d scale applied to the queries (s·d values) rather than to the
//!   attention scores (s·s);
//! - padding masked inside a fused, multi-threaded softmax (no mask tensor);
//! - GELU (erf form) applied multi-threaded.
//!
//! On a non-CPU device (the `cuda` feature) candle's standard operations are
//! used instead of the two CPU kernels.

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};
use rayon::prelude::*;

use crate::packed::{Act, PackedBert, PackedLayer};

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    inter: Linear,
    out: Linear,
    out_norm: LayerNorm,
}

/// A loaded BERT encoder.
pub struct Bert {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    act: HiddenAct,
    cpu: bool,
    eps: f64,
    intermediate: usize,
}

fn linear(vb: VarBuilder, inp: usize, out: usize) -> Result<Linear> {
    let w = vb.get((out, inp), "weight")?;
    let b = vb.get(out, "bias")?;
    Ok(Linear::new(w, Some(b)))
}

fn norm(vb: VarBuilder, h: usize, eps: f64) -> Result<LayerNorm> {
    let (w, b) = if vb.contains_tensor("weight") {
        (vb.get(h, "weight")?, vb.get(h, "bias")?)
    } else {
        (vb.get(h, "gamma")?, vb.get(h, "beta")?)
    };
    Ok(LayerNorm::new(w, b, eps))
}

impl Bert {
    /// Loads the weights (names as in Hugging Face's `BertModel`, optionally
    /// under `bert.` or `<model_type>.`).
    pub fn load(vb: VarBuilder, c: &Config) -> Result<Self> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else if let Some(t) = c
            .model_type
            .as_deref()
            .filter(|t| vb.contains_tensor(&format!("{t}.embeddings.word_embeddings.weight")))
        {
            vb.pp(t)
        } else {
            vb
        };
        let h = c.hidden_size;
        let e = vb.pp("embeddings");
        let emb = |name: &str, n: usize| -> Result<Embedding> {
            Ok(Embedding::new(e.pp(name).get((n, h), "weight")?, h))
        };
        let word = emb("word_embeddings", c.vocab_size)?;
        let position = emb("position_embeddings", c.max_position_embeddings)?;
        let token_type = emb("token_type_embeddings", c.type_vocab_size)?;
        let embed_norm = norm(e.pp("LayerNorm"), h, c.layer_norm_eps)?;
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for i in 0..c.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let s = a.pp("self");
            let (q, k, v) = (
                linear(s.pp("query"), h, h)?,
                linear(s.pp("key"), h, h)?,
                linear(s.pp("value"), h, h)?,
            );
            let w = Tensor::cat(&[q.weight(), k.weight(), v.weight()], 0)?;
            let b = Tensor::cat(
                &[q.bias().unwrap(), k.bias().unwrap(), v.bias().unwrap()],
                0,
            )?;
            layers.push(Layer {
                qkv: Linear::new(w, Some(b)),
                attn_out: linear(a.pp("output").pp("dense"), h, h)?,
                attn_norm: norm(a.pp("output").pp("LayerNorm"), h, c.layer_norm_eps)?,
                inter: linear(l.pp("intermediate").pp("dense"), h, c.intermediate_size)?,
                out: linear(l.pp("output").pp("dense"), c.intermediate_size, h)?,
                out_norm: norm(l.pp("output").pp("LayerNorm"), h, c.layer_norm_eps)?,
            });
        }
        if !h.is_multiple_of(c.num_attention_heads) {
            candle_core::bail!("hidden_size {h} is not a multiple of num_attention_heads");
        }
        Ok(Self {
            word,
            position,
            token_type,
            embed_norm,
            layers,
            heads: c.num_attention_heads,
            head_dim: h / c.num_attention_heads,
            hidden: h,
            act: c.hidden_act,
            cpu: vb.device().is_cpu(),
            eps: c.layer_norm_eps,
            intermediate: c.intermediate_size,
        })
    }

    /// The weights as plain rows for the packed CPU encoder.
    pub fn packed(&self) -> Result<PackedBert> {
        let v = |t: &Tensor| -> Result<Vec<f32>> { t.flatten_all()?.to_vec1::<f32>() };
        let bias = |l: &Linear| -> Result<Vec<f32>> {
            match l.bias() {
                Some(b) => v(b),
                None => candle_core::bail!("a linear layer without bias"),
            }
        };
        let norm = |n: &LayerNorm| -> Result<(Vec<f32>, Vec<f32>)> {
            match n.bias() {
                Some(b) => Ok((v(n.weight())?, v(b)?)),
                None => candle_core::bail!("a layer norm without bias"),
            }
        };
        let mut layers = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let (attn_norm_w, attn_norm_b) = norm(&l.attn_norm)?;
            let (out_norm_w, out_norm_b) = norm(&l.out_norm)?;
            layers.push(PackedLayer {
                qkv_w: v(l.qkv.weight())?,
                qkv_b: bias(&l.qkv)?,
                attn_out_w: v(l.attn_out.weight())?,
                attn_out_b: bias(&l.attn_out)?,
                attn_norm_w,
                attn_norm_b,
                inter_w: v(l.inter.weight())?,
                inter_b: bias(&l.inter)?,
                out_w: v(l.out.weight())?,
                out_b: bias(&l.out)?,
                out_norm_w,
                out_norm_b,
            });
        }
        let (embed_norm_w, embed_norm_b) = norm(&self.embed_norm)?;
        let token_types = v(self.token_type.embeddings())?;
        Ok(PackedBert {
            word: v(self.word.embeddings())?,
            position: v(self.position.embeddings())?,
            token_type0: token_types[..self.hidden].to_vec(),
            embed_norm_w,
            embed_norm_b,
            layers,
            hidden: self.hidden,
            heads: self.heads,
            intermediate: self.intermediate,
            eps: self.eps as f32,
            act: match self.act {
                HiddenAct::Gelu => Act::GeluErf,
                HiddenAct::GeluApproximate => Act::GeluTanh,
                HiddenAct::Relu => Act::Relu,
            },
        })
    }

    /// Last hidden state `(batch, seq, hidden)` for token ids `(batch, seq)`
    /// padded on the right; `lengths` are the unpadded lengths.
    pub fn forward(&self, ids: &Tensor, lengths: &[usize]) -> Result<Tensor> {
        let (b, s) = ids.dims2()?;
        let (h, nh, d) = (self.hidden, self.heads, self.head_dim);
        let device = ids.device();
        let positions = Tensor::arange(0u32, s as u32, device)?;
        let x = self
            .word
            .forward(ids)?
            .broadcast_add(&self.position.forward(&positions)?)?
            .broadcast_add(
                &self
                    .token_type
                    .forward(&Tensor::zeros(1, DType::U32, device)?)?,
            )?;
        let mut x = self.embed_norm.forward(&x.reshape((b * s, h))?)?;
        let mask = if self.cpu {
            None
        } else {
            Some(additive_mask(lengths, s, device)?)
        };
        let scale = 1.0 / (d as f64).sqrt();
        for l in &self.layers {
            let qkv = l.qkv.forward(&x)?.reshape((b, s, 3, nh, d))?;
            let q = (qkv
                .narrow(2, 0, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()?
                * scale)?;
            let k = qkv
                .narrow(2, 1, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()?;
            let v = qkv
                .narrow(2, 2, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()?;
            let scores = q.matmul(&k.t()?)?; // (b, nh, s, s)
            let probs = match &mask {
                None => scores.apply_op1_no_bwd(&MaskedSoftmax {
                    lengths: lengths.to_vec(),
                })?,
                Some(m) => candle_nn::ops::softmax_last_dim(&scores.broadcast_add(m)?)?,
            };
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b * s, h))?;
            let a = l.attn_norm.forward(&(l.attn_out.forward(&ctx)? + &x)?)?;
            let i = l.inter.forward(&a)?;
            let i = match (self.act, self.cpu) {
                (HiddenAct::Gelu, true) => i.apply_op1_no_bwd(&ParallelGeluErf)?,
                (HiddenAct::Gelu, false) => i.gelu_erf()?,
                (HiddenAct::GeluApproximate, _) => i.gelu()?,
                (HiddenAct::Relu, _) => i.relu()?,
            };
            x = l.out_norm.forward(&(l.out.forward(&i)? + a)?)?;
        }
        x.reshape((b, s, h))
    }
}

/// `(batch, 1, 1, seq)`: 0 on tokens, a large negative number on padding.
fn additive_mask(lengths: &[usize], s: usize, device: &Device) -> Result<Tensor> {
    let m: Vec<f32> = lengths
        .iter()
        .flat_map(|&n| (0..s).map(move |j| if j < n { 0.0 } else { f32::MIN }))
        .collect();
    Tensor::from_vec(m, (lengths.len(), 1, 1, s), device)
}

fn contiguous_f32<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let data = match storage {
        CpuStorage::F32(v) => v.as_slice(),
        _ => candle_core::bail!("expected f32 values"),
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("expected a contiguous tensor"),
    }
}

/// Softmax over the last dimension of `(batch, heads, seq, seq)` scores,
/// keys at positions ≥ the row's length getting probability 0 (what adding
/// the usual large negative mask does), rows in parallel.
struct MaskedSoftmax {
    lengths: Vec<usize>,
}

impl CustomOp1 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "masked-softmax"
    }
    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let src = contiguous_f32(storage, layout)?;
        let (b, nh, s, s2) = layout.shape().dims4()?;
        if s != s2 || b != self.lengths.len() {
            candle_core::bail!("masked softmax: unexpected shape {:?}", layout.shape());
        }
        let mut dst = vec![0f32; src.len()];
        let per_item = nh * s * s;
        dst.par_chunks_mut(s)
            .zip(src.par_chunks(s))
            .enumerate()
            .for_each(|(row, (out, inp))| {
                let n = self.lengths[row * s / per_item].clamp(1, s);
                let max = inp[..n].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0f32;
                for (o, &x) in out[..n].iter_mut().zip(&inp[..n]) {
                    *o = (x - max).exp();
                    sum += *o;
                }
                let inv = 1.0 / sum;
                out[..n].iter_mut().for_each(|o| *o *= inv);
            });
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

/// GELU, erf form (as `Tensor::gelu_erf`), in parallel chunks.
struct ParallelGeluErf;

impl CustomOp1 for ParallelGeluErf {
    fn name(&self) -> &'static str {
        "parallel-gelu-erf"
    }
    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let src = contiguous_f32(storage, layout)?;
        let mut dst = vec![0f32; src.len()];
        dst.par_chunks_mut(4096)
            .zip(src.par_chunks(4096))
            .for_each(|(out, inp)| {
                for (o, &x) in out.iter_mut().zip(inp) {
                    // the formula and erf of candle's gelu_erf
                    *o = (candle_core::cpu::erf::erf_f32(x * std::f32::consts::FRAC_1_SQRT_2)
                        + 1.0)
                        * 0.5
                        * x;
                }
            });
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}
