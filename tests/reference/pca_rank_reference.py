#!/usr/bin/env python3
"""scikit-learn reference for PCA on rank-deficient input, asserted in
tests/it/reference.rs (pca_rank_deficient_matches_scikit_learn).

Features of the demo telco_customers table (src/demo): tenure, 2 * tenure
(collinear), monthly_charges, contract and payment_method (one-hot columns,
each group summing to 1), encoded as Augur does (numbers standardised with
the population std, text one-hot over the sorted categories): 10 encoded
columns of rank 7. scikit-learn's PCA(svd_solver='full') with the default
n_components returns all 10 components, the last 3 with (numerically) zero
variance. Writes tests/reference/pca_rank_reference.json.

Run from the repo root:
  $HOME/.cache/augur-venv/bin/python tests/reference/pca_rank_reference.py
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.decomposition import PCA

OUT = os.path.join("tests", "reference", "pca_rank_reference.json")


def main():
    t = pd.read_parquet(os.path.join("src", "demo", "telco_customers.parquet"))
    t["tenure2"] = 2 * t["tenure"]
    cols = []
    for c in ["tenure", "tenure2", "monthly_charges"]:
        v = t[c].astype(float)
        cols.append(((v - v.mean()) / v.std(ddof=0)).to_numpy())
    for c in ["contract", "payment_method"]:
        for cat in sorted(t[c].dropna().unique()):
            cols.append((t[c] == cat).to_numpy(dtype=float))
    X = np.column_stack(cols)
    p = PCA(svd_solver="full").fit(X)
    out = {
        "generated_by": {
            "script": "tests/reference/pca_rank_reference.py",
            "python": sys.version.split()[0],
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "rows": int(X.shape[0]),
        "encoded_features": int(X.shape[1]),
        "rank": int(np.linalg.matrix_rank(X - X.mean(axis=0))),
        "explained_variance": [float(v) for v in p.explained_variance_],
        "explained_variance_ratio": [float(v) for v in p.explained_variance_ratio_],
        "total_explained_variance_ratio_2": float(p.explained_variance_ratio_[:2].sum()),
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
