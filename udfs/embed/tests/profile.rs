//! Timing of the encoder's stages on the 1,000 Fine Foods test reviews with
//! the real model: tokenizer, the packed CPU path and the padded (candle)
//! path. A profiling aid, not a timed test: ignored by default; speed
//! figures for BENCHMARKS.md come from bench/embed_bench.py.
//!
//!     python3 -c "import csv,json,sys; json.dump([r['review'] for r in csv.DictReader(open(sys.argv[1]))], open('/tmp/reviews.json','w'))" ../shared/data/fine_foods_reviews_test.csv
//!     AUGUR_PROFILE_TEXTS=/tmp/reviews.json RAYON_NUM_THREADS=2 cargo test -p augur-embed --test profile -- --ignored --nocapture

use std::time::Instant;

use augur_embed::{Embedder, default_model_dir};

#[test]
#[ignore]
fn stage_timings() {
    let path =
        std::env::var("AUGUR_PROFILE_TEXTS").expect("AUGUR_PROFILE_TEXTS: a JSON array of texts");
    let texts: Vec<String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let e = Embedder::cached(&default_model_dir()).unwrap();
    let t = Instant::now();
    let ids = e.tokenize(&texts).unwrap();
    let tokenize = t.elapsed().as_secs_f64();
    let tokens: usize = ids.iter().map(Vec::len).sum();
    let padded_tokens: usize = {
        let mut lens: Vec<usize> = ids.iter().map(Vec::len).collect();
        lens.sort();
        lens.chunks(augur_embed::BATCH_SIZE)
            .map(|c| c.len() * c.last().copied().unwrap_or(0))
            .sum()
    };
    eprintln!(
        "{} texts, {tokens} tokens ({padded_tokens} when padded in sorted batches of {}), tokenizer {tokenize:.3} s, {} threads",
        texts.len(),
        augur_embed::BATCH_SIZE,
        rayon::current_num_threads()
    );
    let best = |name: &str, f: &dyn Fn() -> Vec<f32>| -> Vec<f32> {
        let mut times = vec![];
        let mut v = vec![];
        for _ in 0..2 {
            let t = Instant::now();
            v = f();
            times.push(t.elapsed().as_secs_f64());
        }
        let s = times.iter().copied().fold(f64::MAX, f64::min);
        eprintln!(
            "{name}: {s:.2} s, {:.1} sentences/s",
            texts.len() as f64 / s
        );
        v
    };
    let packed = best("packed", &|| e.embed(&texts).unwrap());
    let padded = best("padded (candle)", &|| e.embed_padded_texts(&texts).unwrap());
    let worst = (0..texts.len())
        .map(|i| {
            let (a, b) = (
                &packed[i * e.dim()..(i + 1) * e.dim()],
                &padded[i * e.dim()..(i + 1) * e.dim()],
            );
            a.iter()
                .zip(b)
                .map(|(x, y)| *x as f64 * *y as f64)
                .sum::<f64>()
        })
        .fold(f64::MAX, f64::min);
    eprintln!("min cosine packed vs padded: {worst:.7}");
}
