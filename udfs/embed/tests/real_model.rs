//! The real default model (all-MiniLM-L6-v2) against sentence-transformers'
//! vectors in tests/reference/embed_reference.json (made by
//! tests/reference/embed_reference.py). Needs the model fetched by
//! scripts/fetch-embed-model; without it the test is skipped, except under CI
//! (`CI` set), where it fails.

use augur_embed::{Embedder, default_model_dir};

#[derive(serde::Deserialize)]
struct Reference {
    max_seq_length: usize,
    dim: usize,
    texts: Vec<String>,
    tokens: Vec<usize>,
    vectors: Vec<Vec<f32>>,
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn matches_sentence_transformers() {
    let dir = default_model_dir();
    if !dir.join("model.safetensors").is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "model {} missing: run scripts/fetch-embed-model",
            dir.display()
        );
        eprintln!(
            "skipped: no model in {}; run scripts/fetch-embed-model",
            dir.display()
        );
        return;
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/reference/embed_reference.json"
    ))
    .unwrap();
    let r: Reference = serde_json::from_str(&text).unwrap();
    let e = Embedder::cached(&dir).unwrap();
    assert_eq!(e.dim(), r.dim);
    assert_eq!(e.max_seq_length(), r.max_seq_length);
    let texts: Vec<&str> = r.texts.iter().map(|s| s.as_str()).collect();
    let tokens: Vec<usize> = e
        .tokenize(&texts)
        .unwrap()
        .iter()
        .map(|t| t.len())
        .collect();
    assert_eq!(tokens, r.tokens);
    let got = e.embed(&texts).unwrap();
    let mut worst = 1.0f64;
    for (i, want) in r.vectors.iter().enumerate() {
        let c = cosine(&got[i * r.dim..(i + 1) * r.dim], want);
        worst = worst.min(c);
        assert!(c >= 0.9999, "text {i} ({:?}): cosine {c}", r.texts[i]);
        let max_diff = got[i * r.dim..(i + 1) * r.dim]
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_diff < 1e-4, "text {i}: max abs difference {max_diff}");
    }
    eprintln!("min cosine over {} texts: {worst:.8}", r.texts.len());
    // one text alone gives the same vector as inside a batch
    let alone = e.embed(&texts[..1]).unwrap();
    assert!(cosine(&alone, &got[..r.dim]) > 0.999999);
}
