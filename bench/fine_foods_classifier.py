"""Fine Foods reviews: is a review 'great'? Logistic regression on sentence
embeddings (the model embeds the text itself: `embed_columns`) against a
hashed bag-of-words baseline, both trained and scored in Augur through SQL,
and the same two pipelines in scikit-learn as the reference.

Train on fine_foods_reviews_train.csv (4,000 reviews), report accuracy on
fine_foods_reviews_test.csv (1,000 reviews); label `score = 'great'`.

- Augur, embeddings: `CREATE MODEL … OPTIONS (model_type = 'logistic_reg',
  embed_columns = ['review'], …) AS SELECT review, great FROM train`, then
  `ml_evaluate` on the raw test text (re-embedded by the model).
- Augur, bag of words: lower-cased letter runs, each word hashed into
  --buckets buckets with `hash_bucketize`, the counts per bucket pivoted into
  columns, `logistic_reg` on them.
- scikit-learn: `StandardScaler` + `LogisticRegression(C=1)` (Augur's
  `l2_reg = 1` with standardised features) on sentence-transformers
  embeddings, and on `CountVectorizer` counts (same tokens, not hashed).

    ~/.cache/st-venv/bin/python bench/fine_foods_classifier.py \
        --augur $CARGO_TARGET_DIR/debug/augur --data ../shared/data --threads 2
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augur_server import start_augur  # noqa: E402

DEFAULT_MODEL = Path(os.environ.get("HOME", ".")) / ".cache/augur/models/all-MiniLM-L6-v2"
TOKENS = r"[^a-z]+"


def bow_table(table, source, buckets):
    counts = ",\n  ".join(
        f"CAST(sum(CASE WHEN b.bucket = {k} THEN 1 ELSE 0 END) AS double) AS w{k}"
        for k in range(buckets))
    return f"""CREATE TABLE {table} AS
WITH docs AS (SELECT row_number() OVER () AS id, review, score FROM {source}),
toks AS (SELECT id, unnest(string_to_array(regexp_replace(lower(review), '{TOKENS}', ' ', 'g'), ' ')) AS tok FROM docs),
b AS (SELECT id, hash_bucketize(tok, {buckets}) AS bucket FROM toks WHERE tok <> '')
SELECT d.id, d.score = 'great' AS great,
  {counts}
FROM docs d LEFT JOIN b ON b.id = d.id GROUP BY d.id, d.score"""


def accuracy(cur, model, query):
    cur.execute(f"SELECT value FROM ml_evaluate('{model}', '{query}') WHERE metric = 'accuracy'")
    return cur.fetchone()[0]


def augur(args, train_csv, test_csv):
    work = Path(tempfile.mkdtemp())
    try:
        data = work / "data"
        data.mkdir()
        shutil.copy(train_csv, data / "ff_train.csv")
        shutil.copy(test_csv, data / "ff_test.csv")
        proc, port = start_augur(args.augur, data, args.threads, args.model)
        try:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=augur dbname=augur",
                                 autocommit=True) as con:
                cur = con.cursor()
                t0 = time.perf_counter()
                cur.execute(
                    "CREATE MODEL ff_embed OPTIONS (model_type = 'logistic_reg', "
                    "input_label_cols = ['great'], embed_columns = ['review'], "
                    "data_split_method = 'no_split') "
                    "AS SELECT review, score = 'great' AS great FROM ff_train")
                emb = accuracy(cur, "ff_embed",
                               "SELECT review, score = ''great'' AS great FROM ff_test")
                t_emb = time.perf_counter() - t0
                t0 = time.perf_counter()
                cur.execute(bow_table("bow_train", "ff_train", args.buckets))
                cur.execute(bow_table("bow_test", "ff_test", args.buckets))
                cur.execute(
                    "CREATE MODEL ff_bow OPTIONS (model_type = 'logistic_reg', "
                    "input_label_cols = ['great'], data_split_method = 'no_split') "
                    "AS SELECT * EXCLUDE (id) FROM bow_train")
                bow = accuracy(cur, "ff_bow", "SELECT * EXCLUDE (id) FROM bow_test")
                t_bow = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(work)
    return emb, t_emb, bow, t_bow


def sklearn_reference(args, train, test):
    from sentence_transformers import SentenceTransformer
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    import torch

    torch.set_num_threads(args.threads)
    y_tr = (train.score == "great").to_numpy()
    y_te = (test.score == "great").to_numpy()
    st = SentenceTransformer(args.model, device="cpu")
    x_tr = st.encode(train.review.tolist(), batch_size=32)
    x_te = st.encode(test.review.tolist(), batch_size=32)
    lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    emb = lr.fit(x_tr, y_tr).score(x_te, y_te)
    cv = CountVectorizer(lowercase=True, token_pattern=r"[a-z]+")
    c_tr = cv.fit_transform(train.review).toarray().astype(np.float64)
    c_te = cv.transform(test.review).toarray().astype(np.float64)
    lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    bow = lr.fit(c_tr, y_tr).score(c_te, y_te)
    return emb, bow, c_tr.shape[1]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--augur", required=True)
    a.add_argument("--data", required=True, help="folder with fine_foods_reviews_{train,test}.csv")
    a.add_argument("--model", default=str(DEFAULT_MODEL))
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--buckets", type=int, default=1024, help="hashed bag-of-words buckets")
    a.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn reference")
    args = a.parse_args()
    train_csv = Path(args.data) / "fine_foods_reviews_train.csv"
    test_csv = Path(args.data) / "fine_foods_reviews_test.csv"
    train, test = pd.read_csv(train_csv), pd.read_csv(test_csv)
    emb, t_emb, bow, t_bow = augur(args, train_csv, test_csv)
    print(f"train {len(train)} reviews, test {len(test)}; share 'great' in test "
          f"{(test.score == 'great').mean():.3f} (majority-class accuracy)")
    print(f"augur logistic_reg on embeddings (embed_columns, all-MiniLM-L6-v2): "
          f"accuracy {emb:.4f} ({t_emb:.0f} s: embed 5,000 reviews, train, evaluate)")
    print(f"augur logistic_reg on hashed bag of words ({args.buckets} buckets): "
          f"accuracy {bow:.4f} ({t_bow:.0f} s)")
    if not args.no_sklearn:
        s_emb, s_bow, vocab = sklearn_reference(args, train, test)
        print(f"scikit-learn LogisticRegression(C=1) on sentence-transformers embeddings: "
              f"accuracy {s_emb:.4f}")
        print(f"scikit-learn LogisticRegression(C=1) on CountVectorizer ({vocab} words): "
              f"accuracy {s_bow:.4f}")


if __name__ == "__main__":
    main()
