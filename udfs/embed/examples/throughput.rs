//! Encoder throughput without SQL: embeds the `review` column of a CSV file
//! (the 1,000 Fine Foods test reviews) `--repeat` times with the model
//! loaded, and prints sentences/s of each run, the load average, and where
//! the time went (tokenizer, each encoder stage in thread-seconds).
//! `--gemm` also times single-threaded matrix products of the encoder's
//! shapes (GFLOP/s). A profiling aid; bench/embed_encoder_ab.py runs it
//! interleaved with sentence-transformers.
//!
//!     cargo run -p augur-embed --example throughput -- \
//!         ../shared/data/fine_foods_reviews_test.csv [--model DIR] [--repeat 3] [--gemm]
//!
//! `RAYON_NUM_THREADS` sets the thread count; `AUGUR_TOKEN_BUDGET` the
//! tokens per packed batch.

use std::path::PathBuf;
use std::time::Instant;

use augur_embed::{Embedder, Stages, default_model_dir};

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// CPU seconds (user + system, all threads) used by this process so far,
/// from `/proc/self/stat` (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line, in clock ticks (100 per second)
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    if f.len() < 13 {
        return 0.0;
    }
    (f[11] + f[12]) / 100.0
}

fn gemm_rate(m: usize, n: usize, k: usize, transposed_rhs: bool) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * k).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0f32; m * n];
    let (rcs, rrs) = if transposed_rhs {
        (k as isize, 1)
    } else {
        (1, n as isize)
    };
    let run = |c: &mut [f32]| unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            true,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            rcs,
            rrs,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    };
    run(&mut c);
    let reps = (2e9 / (2.0 * (m * n * k) as f64)).ceil() as usize;
    let t = Instant::now();
    for _ in 0..reps {
        run(&mut c);
    }
    2.0 * (m * n * k * reps) as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut csv_path = None;
    let mut model = default_model_dir();
    let mut repeat = 3;
    let mut gemm = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = PathBuf::from(args.next().expect("--model DIR")),
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|r| r.parse().ok())
                    .expect("--repeat N")
            }
            "--gemm" => gemm = true,
            _ => csv_path = Some(a),
        }
    }
    if gemm {
        for (m, n, k) in [
            (512, 1152, 384),
            (512, 384, 384),
            (512, 1536, 384),
            (512, 384, 1536),
        ] {
            println!(
                "gemm {m}x{n}x{k} one thread: {:.1} GFLOP/s (weights out×in), {:.1} GFLOP/s (in×out)",
                gemm_rate(m, n, k, true),
                gemm_rate(m, n, k, false)
            );
        }
    }
    let Some(csv_path) = csv_path else {
        return;
    };
    let mut reader = csv::Reader::from_path(&csv_path).expect("readable CSV");
    let col = reader
        .headers()
        .expect("CSV header")
        .iter()
        .position(|h| h == "review")
        .expect("a review column");
    let texts: Vec<String> = reader
        .records()
        .map(|r| r.expect("CSV record")[col].to_string())
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let e = Embedder::cached(&model).expect("model");
    e.embed(&texts[..8]).expect("warm-up");
    let tokens: usize = e.tokenize(&texts).unwrap().iter().map(Vec::len).sum();
    println!(
        "{} texts, {tokens} tokens, {} threads, token budget {}",
        texts.len(),
        rayon::current_num_threads(),
        std::env::var("AUGUR_TOKEN_BUDGET")
            .unwrap_or_else(|_| augur_embed::TOKEN_BUDGET.to_string())
    );
    let mut all = Stages::default();
    let mut tok_all = 0.0;
    for _ in 0..repeat {
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let (_, tok, stages) = e.embed_profiled(&texts).expect("embed");
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        println!(
            "augur {:.1} sentences/s ({secs:.2} s, {cpu:.1} CPU s: {:.1} sentences per CPU s)  load {}",
            texts.len() as f64 / secs,
            texts.len() as f64 / cpu,
            load_average()
        );
        all.add(&stages);
        tok_all += tok;
    }
    let n = repeat as f64;
    println!("per run: tokenize {:.3} s (wall)", tok_all / n);
    let total = all.total();
    for (name, s) in Stages::NAMES.iter().zip(all.secs) {
        println!(
            "  {name:<24} {:>7.3} thread-s  {:>5.1}%",
            s / n,
            100.0 * s / total
        );
    }
    println!("  {:<24} {:>7.3} thread-s", "total", total / n);
}
