"""Benchmark: Augur's embed() through SQL against sentence-transformers (CPU
PyTorch), same model, same machine, same thread count, in one run.

Embeds the 1,000 Fine Foods test reviews with both, prints sentences/second
of each (best of --repeat runs, model already loaded), the ratio
Augur/PyTorch, and the minimum cosine between the two sets of vectors
(goal: >= 0.9999 for every review).

    ~/.cache/st-venv/bin/pip install sentence-transformers pandas "psycopg[binary]"
    scripts/fetch-embed-model
    cargo build --bin augur   # the dev profile compiles the encoder's crates at opt-level 3
    ~/.cache/st-venv/bin/python bench/embed_bench.py --augur $CARGO_TARGET_DIR/debug/augur \
        --reviews ../shared/data/fine_foods_reviews_test.csv --threads 2
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import torch
from sentence_transformers import SentenceTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augur_server import start_augur  # noqa: E402

DEFAULT_MODEL = Path(os.environ.get("HOME", ".")) / ".cache/augur/models/all-MiniLM-L6-v2"


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--augur", required=True)
    a.add_argument("--reviews", required=True)
    a.add_argument("--model", default=str(DEFAULT_MODEL))
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--repeat", type=int, default=3)
    a.add_argument("--batch-size", type=int, default=32, help="sentence-transformers batch size")
    args = a.parse_args()

    reviews = pd.read_csv(args.reviews)
    texts = reviews["review"].tolist()
    n = len(texts)

    # sentence-transformers, CPU PyTorch
    torch.set_num_threads(args.threads)
    st = SentenceTransformer(args.model, device="cpu")
    st.encode(texts[:8])
    st_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ref = st.encode(texts, batch_size=args.batch_size, convert_to_numpy=True)
        st_times.append(time.perf_counter() - t0)

    # Augur, through SQL over the wire
    work = Path(tempfile.mkdtemp())
    try:
        data = work / "data"
        data.mkdir()
        shutil.copy(args.reviews, data / "reviews.csv")
        proc, port = start_augur(args.augur, data, args.threads, args.model)
        try:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=augur dbname=augur",
                                 autocommit=True) as con:
                cur = con.cursor()
                cur.execute("SELECT count(embed('warm up'))")
                cur.fetchall()
                au_times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    cur.execute("SELECT count(v) FROM (SELECT embed(review) AS v FROM reviews)")
                    assert cur.fetchone()[0] == n
                    au_times.append(time.perf_counter() - t0)
                cur.execute("SELECT embed(review) FROM reviews")
                got = np.array([r[0] for r in cur.fetchall()], dtype=np.float64)
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(work)

    ref = ref.astype(np.float64)
    cos = (got * ref).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
    st_rate = n / min(st_times)
    au_rate = n / min(au_times)
    print(f"reviews: {n}, threads: {args.threads}, best of {args.repeat}")
    print(f"sentence-transformers {__import__('sentence_transformers').__version__} "
          f"(torch {torch.__version__}, batch {args.batch_size}): {st_rate:.1f} sentences/s")
    print(f"augur embed() over SQL: {au_rate:.1f} sentences/s")
    print(f"ratio augur/pytorch: {au_rate / st_rate:.2f}")
    print(f"cosine augur vs sentence-transformers: min {cos.min():.7f}, mean {cos.mean():.7f}")


if __name__ == "__main__":
    main()
