//! Offline tests on a tiny randomly initialised BERT written by the test.

use augur_embed::testing::{TINY_DIM, TINY_MAX_SEQ, write_tiny_bert};
use augur_embed::{Embedder, sqlstate};

fn tiny() -> (tempfile::TempDir, Embedder) {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_bert(dir.path()).unwrap();
    let e = Embedder::load(dir.path()).unwrap();
    (dir, e)
}

fn row(v: &[f32], i: usize) -> &[f32] {
    &v[i * TINY_DIM..(i + 1) * TINY_DIM]
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn vectors_have_unit_norm_and_ignore_padding_and_batch_order() {
    let (_d, e) = tiny();
    assert_eq!(e.dim(), TINY_DIM);
    assert_eq!(e.max_seq_length(), TINY_MAX_SEQ);
    let texts = [
        "great tea",
        "the coffee was very bitter and not sweet and the box was bad",
        "late delivery",
        "tea",
    ];
    let all = e.embed(&texts).unwrap();
    for i in 0..texts.len() {
        let n: f32 = row(&all, i).iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-5, "norm {n}");
        // alone (no padding) equals inside the padded, reordered batch
        let alone = e.embed(&texts[i..i + 1]).unwrap();
        assert!(max_diff(&alone, row(&all, i)) < 1e-5, "text {i}");
    }
    assert!(
        max_diff(row(&all, 0), row(&all, 3)) > 1e-3,
        "different texts differ"
    );
}

/// BERT forward pass, mean pooling and normalisation written out in plain
/// f64 loops (one layer, as the tiny model has): an independent reference
/// for the candle path.
fn reference_vector(dir: &std::path::Path, ids: &[u32]) -> Vec<f32> {
    let w =
        candle_core::safetensors::load(dir.join("model.safetensors"), &candle_core::Device::Cpu)
            .unwrap();
    let get = |n: &str| -> Vec<f64> {
        w[n].flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect()
    };
    let h = TINY_DIM;
    let heads = 2;
    let hd = h / heads;
    let n = ids.len();
    let layer_norm = |x: &mut [f64], p: &str| {
        let (g, b) = (
            get(&format!("{p}.LayerNorm.weight")),
            get(&format!("{p}.LayerNorm.bias")),
        );
        for row in x.chunks_mut(h) {
            let mean = row.iter().sum::<f64>() / h as f64;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / h as f64;
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - mean) / (var + 1e-12).sqrt() * g[j] + b[j];
            }
        }
    };
    // y = x W^T + b, W of shape (out, in)
    let linear = |x: &[f64], p: &str, inp: usize, out: usize| -> Vec<f64> {
        let (wt, b) = (get(&format!("{p}.weight")), get(&format!("{p}.bias")));
        let mut y = vec![0.0; n * out];
        for r in 0..n {
            for o in 0..out {
                y[r * out + o] = b[o]
                    + (0..inp)
                        .map(|i| x[r * inp + i] * wt[o * inp + i])
                        .sum::<f64>();
            }
        }
        y
    };
    let (we, pe, te) = (
        get("embeddings.word_embeddings.weight"),
        get("embeddings.position_embeddings.weight"),
        get("embeddings.token_type_embeddings.weight"),
    );
    let mut x = vec![0.0; n * h];
    for (r, &id) in ids.iter().enumerate() {
        for j in 0..h {
            x[r * h + j] = we[id as usize * h + j] + pe[r * h + j] + te[j];
        }
    }
    layer_norm(&mut x, "embeddings");
    let l = "encoder.layer.0";
    let q = linear(&x, &format!("{l}.attention.self.query"), h, h);
    let k = linear(&x, &format!("{l}.attention.self.key"), h, h);
    let v = linear(&x, &format!("{l}.attention.self.value"), h, h);
    let mut ctx = vec![0.0; n * h];
    for hh in 0..heads {
        for a in 0..n {
            let scores: Vec<f64> = (0..n)
                .map(|b| {
                    (0..hd)
                        .map(|d| q[a * h + hh * hd + d] * k[b * h + hh * hd + d])
                        .sum::<f64>()
                        / (hd as f64).sqrt()
                })
                .collect();
            let m = scores.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
            let z: f64 = e.iter().sum();
            for d in 0..hd {
                ctx[a * h + hh * hd + d] = (0..n).map(|b| e[b] / z * v[b * h + hh * hd + d]).sum();
            }
        }
    }
    let mut a = linear(&ctx, &format!("{l}.attention.output.dense"), h, h);
    a.iter_mut().zip(&x).for_each(|(y, x)| *y += x);
    layer_norm(&mut a, &format!("{l}.attention.output"));
    let inter = 16;
    let mut i = linear(&a, &format!("{l}.intermediate.dense"), h, inter);
    i.iter_mut()
        .for_each(|v| *v = 0.5 * *v * (1.0 + erf(*v / 2f64.sqrt())));
    let mut o = linear(&i, &format!("{l}.output.dense"), inter, h);
    o.iter_mut().zip(&a).for_each(|(y, x)| *y += x);
    layer_norm(&mut o, &format!("{l}.output"));
    let mean: Vec<f64> = (0..h)
        .map(|j| (0..n).map(|r| o[r * h + j]).sum::<f64>() / n as f64)
        .collect();
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt();
    mean.iter().map(|v| (v / norm) as f32).collect()
}

/// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.3275911 * x.abs());
    let y = 1.0
        - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
            + 0.254829592)
            * t
            * (-x * x).exp();
    y.copysign(x)
}

#[test]
fn matches_a_plain_reference_forward_pass() {
    let (d, e) = tiny();
    let texts = [
        "tea",
        "the coffee was very bitter",
        "great tea and good dog food !",
    ];
    let ids = e.tokenize(&texts).unwrap();
    assert_eq!(ids[0], vec![2, 6, 3]);
    let got = e.embed(&texts).unwrap();
    for (i, ids) in ids.iter().enumerate() {
        let want = reference_vector(d.path(), ids);
        let diff = max_diff(row(&got, i), &want);
        assert!(diff < 2e-5, "text {i}: {:?} vs {want:?}", row(&got, i));
    }
}

#[test]
fn truncates_at_max_seq_length() {
    let (_d, e) = tiny();
    let long = "tea ".repeat(50);
    let ids = e.tokenize(&[long.as_str()]).unwrap();
    assert_eq!(ids[0].len(), TINY_MAX_SEQ);
    assert_eq!(ids[0][TINY_MAX_SEQ - 1], 3, "ends with [SEP]");
    // text past the limit does not change the vector
    let longer = "tea ".repeat(80) + "coffee coffee";
    let v = e.embed(&[long.as_str(), longer.as_str()]).unwrap();
    assert!(max_diff(row(&v, 0), row(&v, 1)) < 1e-6);
}

#[test]
fn empty_whitespace_and_any_unicode_embed_without_error() {
    let (_d, e) = tiny();
    let texts = [
        "",
        "  \t\n",
        "我喜欢茶",
        "🍵🔥 tea",
        "nul\0byte",
        "\u{feff}\u{200b}",
        "é",
    ];
    let ids = e.tokenize(&texts).unwrap();
    assert_eq!(ids[0], vec![2, 3], "empty text is [CLS] [SEP]");
    assert_eq!(ids[1], vec![2, 3], "whitespace is [CLS] [SEP]");
    assert_eq!(
        ids[2],
        vec![2, 34, 35, 36, 37, 3],
        "Chinese characters split one by one"
    );
    let v = e.embed(&texts).unwrap();
    assert_eq!(v.len(), texts.len() * TINY_DIM);
    assert!(v.iter().all(|x| x.is_finite()));
    assert!(
        max_diff(row(&v, 0), row(&v, 1)) < 1e-6,
        "empty = whitespace"
    );
    assert!(e.embed(&[]).unwrap().is_empty());
}

#[test]
fn missing_model_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err = Embedder::load(&dir.path().join("nope")).unwrap_err();
    assert_eq!(err.sqlstate, sqlstate::UNDEFINED_FILE);
    assert!(
        err.message.contains("scripts/fetch-embed-model"),
        "{}",
        err.message
    );
    assert!(err.message.contains("--embed-model"), "{}", err.message);
    write_tiny_bert(dir.path()).unwrap();
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = Embedder::load(dir.path()).unwrap_err();
    assert_eq!(err.sqlstate, sqlstate::UNDEFINED_FILE);
    assert!(err.message.contains("tokenizer.json"));
    std::fs::write(dir.path().join("tokenizer.json"), "{not json").unwrap();
    let err = Embedder::load(dir.path()).unwrap_err();
    assert_eq!(err.sqlstate, sqlstate::INVALID_PARAMETER_VALUE);
}
