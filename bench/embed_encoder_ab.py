"""A/B of the encoders alone (no SQL): sentence-transformers (CPU PyTorch)
and Augur's packed encoder (udfs/embed/examples/throughput.rs), interleaved
run by run on the same texts and thread count, with the load average of
each run: sentences per second of wall time and per CPU second (all
threads; OpenMP's spin-waiting counts as PyTorch's CPU time). For tuning on a shared machine, where only interleaved figures
are comparable; bench/embed_bench.py is the end-to-end (SQL) figure.

    cargo build -p augur-embed --example throughput
    ~/.cache/st-venv/bin/python bench/embed_encoder_ab.py \
        --example $CARGO_TARGET_DIR/debug/examples/throughput \
        --reviews ../shared/data/fine_foods_reviews_test.csv --threads 2 --rounds 3
"""

import argparse
import os
import re
import subprocess
import time
from pathlib import Path

import pandas as pd
import torch
from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = Path(os.environ.get("HOME", ".")) / ".cache/augur/models/all-MiniLM-L6-v2"


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--example", required=True)
    a.add_argument("--reviews", required=True)
    a.add_argument("--model", default=str(DEFAULT_MODEL))
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--rounds", type=int, default=3)
    a.add_argument("--batch-size", type=int, default=32)
    args = a.parse_args()

    texts = pd.read_csv(args.reviews)["review"].tolist()
    n = len(texts)
    torch.set_num_threads(args.threads)
    st = SentenceTransformer(args.model, device="cpu")
    st.encode(texts[:8])
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    st_rates, au_rates = [], []
    for r in range(args.rounds):
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        st.encode(texts, batch_size=args.batch_size)
        st_rates.append(n / (time.perf_counter() - t0))
        st_cpu = n / (time.process_time() - c0)
        out = subprocess.run([args.example, args.reviews, "--model", args.model, "--repeat", "1"],
                             env=env, check=True, capture_output=True, text=True).stdout
        au_rates.append(float(re.search(r"augur ([\d.]+) sentences/s", out).group(1)))
        au_cpu = float(re.search(r"([\d.]+) sentences per CPU s", out).group(1))
        print(f"round {r + 1}: pytorch {st_rates[-1]:.1f}, augur {au_rates[-1]:.1f} sentences/s, "
              f"ratio {au_rates[-1] / st_rates[-1]:.2f}; per CPU second: pytorch {st_cpu:.1f}, "
              f"augur {au_cpu:.1f}, ratio {au_cpu / st_cpu:.2f} (load {load:.2f} -> "
              f"{os.getloadavg()[0]:.2f})", flush=True)
    print(f"best: pytorch {max(st_rates):.1f}, augur {max(au_rates):.1f} sentences/s, "
          f"ratio {max(au_rates) / max(st_rates):.2f}")
    print(out)


if __name__ == "__main__":
    main()
