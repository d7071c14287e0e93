#!/usr/bin/env python3
"""scikit-learn reference values for the model-zoo algorithms (and logistic
regression on imbalanced and NULL-bearing data), asserted in tests/it/reference.rs.

Inputs: the shared CSVs caravan_insurance, credit_scoring, oj_purchase (folder
given as the first argument, default ../shared/data) and the demo Parquet files
in src/demo/. Writes tests/reference/zoo_reference_values.json.

Preprocessing is Augur's default, fitted on the training rows only: numeric
columns mean-imputed and standardised with the mean and population std of the
observed (non-NULL) values — not scikit-learn's SimpleImputer + StandardScaler,
whose std is taken after imputation and so is smaller when there are NULLs
(on credit_scoring that moves the first PCA variance by 1.1 %); text columns
one-hot over the categories seen in training, NULL (and unseen) -> all zeros.
Splits are rules on column values both sides can evaluate:
  caravan:        test = (MOSTYPE + MGEMLEEF + MOSHOOFD) % 5 == 0
  credit_scoring: test = Age % 5 == 0
  oj_purchase:    test = WeekofPurchase % 5 == 0

Run from the repo root:
  $HOME/.cache/augur-venv/bin/python tests/reference/zoo_reference.py [../shared/data]
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import DBSCAN, AgglomerativeClustering
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

DEMO = os.path.join("src", "demo")
OUT = os.path.join("tests", "reference", "zoo_reference_values.json")


def encode(train, test, features):
    """Augur's encoder: returns (X_train, X_test)."""
    cols_tr, cols_te = [], []
    for c in features:
        if pd.api.types.is_numeric_dtype(train[c]):
            tr = train[c].astype(float)
            mean = tr.mean()
            std = tr.std(ddof=0)  # of the observed values (pandas skips NaN)
            tr = tr.fillna(mean)
            te = test[c].astype(float).fillna(mean)
            if std == 0:
                continue  # constant in training: dropped
            cols_tr.append(((tr - mean) / std).to_numpy())
            cols_te.append(((te - mean) / std).to_numpy())
        else:
            for cat in sorted(train[c].dropna().unique()):
                cols_tr.append((train[c] == cat).fillna(False).to_numpy(dtype=float))
                cols_te.append((test[c] == cat).fillna(False).to_numpy(dtype=float))
    return np.column_stack(cols_tr), np.column_stack(cols_te)


def split(df, test_mask):
    return df[~test_mask].reset_index(drop=True), df[test_mask].reset_index(drop=True)


def classification(y_te, p, score=None):
    score = p if score is None else score
    out = {"accuracy": float(accuracy_score(y_te, (score >= (0.5 if score is p else 0.0)).astype(int))),
           "roc_auc": float(roc_auc_score(y_te, score))}
    if score is p:
        out["log_loss"] = float(log_loss(y_te, p))
    return out


def logreg(df, label, positive, test_mask):
    tr, te = split(df, test_mask)
    feats = [c for c in df.columns if c != label]
    X_tr, X_te = encode(tr, te, feats)
    y_tr = (tr[label] == positive).astype(int).to_numpy()
    y_te = (te[label] == positive).astype(int).to_numpy()
    m = LogisticRegression(C=1.0, max_iter=10000, tol=1e-8).fit(X_tr, y_tr)
    out = classification(y_te, m.predict_proba(X_te)[:, 1])
    out.update(train_rows=int(len(tr)), test_rows=int(len(te)), test_positives=int(y_te.sum()))
    return out


def svm_oj(oj):
    tr, te = split(oj, (oj["WeekofPurchase"] % 5 == 0).to_numpy())
    feats = [c for c in oj.columns if c != "Purchase"]
    X_tr, X_te = encode(tr, te, feats)
    y_tr = (tr["Purchase"] == "MM").astype(int).to_numpy()
    y_te = (te["Purchase"] == "MM").astype(int).to_numpy()
    m = SVC(kernel="linear", C=1.0, tol=1e-3).fit(X_tr, y_tr)
    out = classification(y_te, None, m.decision_function(X_te))
    out.update(train_rows=int(len(tr)), test_rows=int(len(te)), n_support=int(m.n_support_.sum()))
    return out


def rfm(orders):
    max_date = orders["order_date"].max()
    g = orders.groupby("customer_id", sort=True)
    r = pd.DataFrame({"recency": (max_date - g["order_date"].max()).dt.days,
                      "frequency": g.size(), "monetary": g["dollar_value"].sum()})
    X, _ = encode(r, r, ["recency", "frequency", "monetary"])
    return X


def dbscan_rfm(orders):
    X = rfm(orders)
    out = {}
    for eps, ms in [(0.3, 10), (0.5, 5)]:
        labels = DBSCAN(eps=eps, min_samples=ms).fit(X).labels_
        sizes = sorted((int(v) for v in np.bincount(labels[labels >= 0])), reverse=True)
        out[f"eps_{eps}_min_samples_{ms}"] = {
            "num_clusters": len(sizes), "noise_rows": int((labels < 0).sum()),
            "cluster_sizes_desc": sizes, "rows": int(len(X))}
    return out


def mixture_telco(telco):
    feats = ["tenure", "monthly_charges", "total_charges"]
    X, _ = encode(telco, telco, feats)
    out = {}
    for k in (2, 3):
        lls = []
        for seed in range(5):
            g = GaussianMixture(n_components=k, covariance_type="full", n_init=1,
                                random_state=seed).fit(X)
            lls.append(float(g.score(X)))
        best = GaussianMixture(n_components=k, covariance_type="full", n_init=10,
                               random_state=0).fit(X)
        # the best scikit-learn reaches over its initialisations, 10 restarts each
        by_init = {init: float(GaussianMixture(n_components=k, covariance_type="full", n_init=10,
                                               init_params=init, random_state=0).fit(X).score(X))
                   for init in ("kmeans", "k-means++", "random", "random_from_data")}
        out[f"k_{k}"] = {"log_likelihood_n_init_10": float(best.score(X)),
                         "log_likelihood_n_init_10_by_init": by_init,
                         "log_likelihood_best": max(by_init.values()),
                         "bic_n_init_10": float(best.bic(X)),
                         "log_likelihood_n_init_1_by_seed": lls, "rows": int(len(X))}
    return out


def agglomerative_oj(oj):
    feats = [c for c in oj.columns if c != "Purchase"]
    X, _ = encode(oj, oj, feats)
    out = {}
    for linkage in ("ward", "average", "complete", "single"):
        for k in (3,):
            labels = AgglomerativeClustering(n_clusters=k, linkage=linkage).fit(X).labels_
            inertia = 0.0
            for c in range(k):
                pts = X[labels == c]
                inertia += float(((pts - pts.mean(axis=0)) ** 2).sum())
            sizes = sorted((int(v) for v in np.bincount(labels)), reverse=True)
            out[f"{linkage}_k_{k}"] = {"inertia": inertia, "cluster_sizes_desc": sizes,
                                       "rows": int(len(X))}
    return out


def pca_block(df, feats, k):
    X, _ = encode(df, df, feats)
    p = PCA(n_components=k, svd_solver="full").fit(X)
    return {"explained_variance": [float(v) for v in p.explained_variance_],
            "explained_variance_ratio": [float(v) for v in p.explained_variance_ratio_],
            "encoded_features": int(X.shape[1]), "rows": int(len(X))}


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data")
    caravan = pd.read_csv(os.path.join(data, "caravan_insurance.csv"))
    credit = pd.read_csv(os.path.join(data, "credit_scoring.csv"))
    oj = pd.read_csv(os.path.join(data, "oj_purchase.csv"))
    telco = pd.read_parquet(os.path.join(DEMO, "telco_customers.parquet"))
    orders = pd.read_parquet(os.path.join(DEMO, "cdnow_orders.parquet"))
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    with threadpool_limits(limits=1):
        out = {
            "generated_by": {
                "script": "tests/reference/zoo_reference.py",
                "python": sys.version.split()[0],
                "scikit-learn": sklearn.__version__,
                "numpy": np.__version__,
                "pandas": pd.__version__,
            },
            "caravan_logistic_regression": logreg(
                caravan, "Purchase", "Yes",
                ((caravan["MOSTYPE"] + caravan["MGEMLEEF"] + caravan["MOSHOOFD"]) % 5 == 0).to_numpy()),
            "credit_scoring_logistic_regression": logreg(
                credit, "Status", "good", (credit["Age"] % 5 == 0).to_numpy()),
            "oj_linear_svm": svm_oj(oj),
            "rfm_dbscan": dbscan_rfm(orders),
            "telco_gaussian_mixture": mixture_telco(telco),
            "oj_agglomerative": agglomerative_oj(oj),
            "credit_scoring_pca": pca_block(credit, [c for c in credit.columns if c != "Status"], 5),
            "caravan_pca": pca_block(caravan, [c for c in caravan.columns if c != "Purchase"], 5),
        }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
