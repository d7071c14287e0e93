#!/usr/bin/env python3
"""Benchmark: every Augur model type against its scikit-learn counterpart, one run.

For each algorithm the same rows, split and hyper-parameters go
  - through Augur's SQL: `CREATE OR REPLACE MODEL ... OPTIONS (...) AS SELECT ...` sent over
    the PostgreSQL wire (psycopg) to an `augur serve` started on a free port with a fresh
    data directory; the fit time is the wall time of that statement (read, encode, train,
    score the held-out rows, save the model), the metric comes from its `metrics` JSON;
  - through scikit-learn: a Pipeline of the usual preprocessing (mean imputation +
    StandardScaler for numbers, OneHotEncoder(handle_unknown='ignore') for text) and the
    estimator; the fit time is Pipeline.fit on pandas frames already in memory, the metric
    is computed on the same held-out rows.
It prints one Markdown table row per algorithm: dataset, rows, metric, both values, both
fit times and the ratio Augur / scikit-learn (above 1: Augur is slower).

Datasets, splits and estimators are those of tests/reference/sklearn_reference.py (telco
churn, CDNOW RFM: the demo tables) and tests/reference/zoo_reference.py (the shared CSVs
caravan_insurance, credit_scoring, oj_purchase). The CSVs are copied into Augur's temporary
data directory before the server starts, as tests/it/reference.rs does, so the server only
reads its own data directory.

Usage (from the repository root; pandas, pyarrow, scikit-learn and psycopg 3 needed):
  cargo build --bin augur
  python3 bench/zoo_vs_sklearn.py [--augur target/debug/augur] [--data ../shared/data] [--repeat 3]
Not a test: it asserts only that both sides saw the same number of rows.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import psycopg
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss, roc_auc_score, root_mean_squared_error
from sklearn.mixture import GaussianMixture
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

DEMO = os.path.join("src", "demo")
SHARED_CSVS = ("caravan_insurance", "credit_scoring", "oj_purchase")

# The RFM table of tests/it/reference.rs (recency in days before the last order in the data).
RFM_SQL = """CREATE TABLE customer_rfm AS
  SELECT customer_id, (SELECT max(order_date) FROM cdnow_orders) - max(order_date) AS recency,
         count(*) AS frequency, sum(dollar_value) AS monetary
  FROM cdnow_orders GROUP BY customer_id"""


# ---- Augur over the wire ---------------------------------------------------------------

class Augur:
    """An `augur serve` on 127.0.0.1:<free port> with fresh data and model directories."""

    def __init__(self, binary, shared_data):
        self.tmp = tempfile.mkdtemp(prefix="augur-zoo-")
        data = os.path.join(self.tmp, "data")
        os.makedirs(data)
        for name in SHARED_CSVS:
            shutil.copy(os.path.join(shared_data, f"{name}.csv"), data)
        self.log = open(os.path.join(self.tmp, "server.log"), "w+")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
             "--model-dir", os.path.join(self.tmp, "models")],
            stdout=self.log, stderr=subprocess.STDOUT)
        port = self._wait_for_port()
        self.conn = psycopg.connect(f"host=127.0.0.1 port={port} dbname=augur user=augur",
                                    autocommit=True)

    def _wait_for_port(self):
        for _ in range(1200):
            self.log.seek(0)
            m = re.search(r"Augur listening on 127\.0\.0\.1:([0-9]+)", self.log.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.log.seek(0)
        sys.exit(f"augur serve did not start:\n{self.log.read()}")

    def execute(self, sql):
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []

    def train(self, sql):
        """Runs a CREATE MODEL statement: (wall seconds, metrics dict, training rows, evaluation rows)."""
        t0 = time.perf_counter()
        row = self.execute(sql)[0]
        seconds = time.perf_counter() - t0
        _model, _version, _algorithm, train_rows, eval_rows, metrics = row
        return seconds, json.loads(metrics), train_rows, eval_rows

    def close(self):
        self.conn.close()
        self.proc.terminate()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def quote(col):
    return '"' + col.replace('"', '""') + '"'


# ---- the same data for scikit-learn ------------------------------------------------------

def load_frames(shared_data):
    """The tables as pandas frames: demo Parquet files, shared CSVs, and RFM as in the references."""
    frames = {name: pd.read_csv(os.path.join(shared_data, f"{name}.csv")) for name in SHARED_CSVS}
    frames["telco_customers"] = pd.read_parquet(os.path.join(DEMO, "telco_customers.parquet"))
    orders = pd.read_parquet(os.path.join(DEMO, "cdnow_orders.parquet"))
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    g = orders.groupby("customer_id", sort=True)
    frames["customer_rfm"] = pd.DataFrame({
        "recency": (orders["order_date"].max() - g["order_date"].max()).dt.days,
        "frequency": g.size(), "monetary": g["dollar_value"].sum()}).reset_index()
    return frames


def preprocessor(X):
    """scikit-learn's standard encoding of a frame, as Augur's defaults: numbers (and 0/1
    flags) mean-imputed and standardised, text one-hot with unseen categories -> zeros."""
    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    cat = [c for c in X.columns if c not in num]
    return ColumnTransformer(
        [("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), num),
         ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat)])


def sk_fit(estimator, X, y=None):
    """Fits preprocessing + estimator: (fitted pipeline, wall seconds of Pipeline.fit)."""
    pipe = Pipeline([("pre", preprocessor(X)), ("model", estimator)])
    t0 = time.perf_counter()
    pipe.fit(X, y)
    return pipe, time.perf_counter() - t0


# ---- metrics: (Augur's metrics key, scikit-learn's value from the fitted pipeline) ----------

def roc_auc(pipe, X, y):
    """Held-out ROC AUC of the positive class (the label's last value in sort order)."""
    m = pipe.named_steps["model"]
    score = pipe.predict_proba(X)[:, 1] if hasattr(m, "predict_proba") else pipe.decision_function(X)
    return roc_auc_score(y == m.classes_[1], score)


def multiclass_log_loss(pipe, X, y):
    return log_loss(y, pipe.predict_proba(X), labels=pipe.named_steps["model"].classes_)


def rmse(pipe, X, y):
    return root_mean_squared_error(y, pipe.predict(X))


def encoded(pipe, X):
    return pipe.named_steps["pre"].transform(X)


def inertia(pipe, X):
    """Within-cluster sum of squared distances to the cluster means, in the encoded space."""
    Z, labels = encoded(pipe, X), pipe.named_steps["model"].labels_
    return sum(float(((Z[labels == c] - Z[labels == c].mean(axis=0)) ** 2).sum())
               for c in np.unique(labels))


def dbscan_summary(pipe, X):
    labels = pipe.named_steps["model"].labels_
    return (len(set(labels) - {-1}), float((labels < 0).mean()))


def mean_log_likelihood(pipe, X):
    return pipe.named_steps["model"].score(encoded(pipe, X))


def explained_variance_ratio(pipe, X):
    return float(pipe.named_steps["model"].explained_variance_ratio_.sum())


METRICS = {  # table label, Augur's metrics key(s), one-line meaning (printed under the table)
    "roc_auc": ("test ROC AUC", "roc_auc",
                "area under the ROC curve of the held-out rows' positive-class scores "
                "(probabilities; decision values for the SVM); higher is better"),
    "log_loss": ("test log loss", "log_loss",
                 "mean cross-entropy of the held-out rows' predicted class probabilities; lower is better"),
    "rmse": ("test RMSE", "rmse", "root mean squared error of the held-out predictions; lower is better"),
    "inertia": ("inertia", "inertia",
                "sum of squared distances of the rows to their cluster's mean in the standardised "
                "feature space; lower is better (same data and k)"),
    "dbscan": ("clusters; noise share", ("num_clusters", "noise_fraction"),
               "clusters found and share of rows labelled noise (the core samples and noise rows "
               "do not depend on the algorithm's visiting order, so both should be equal)"),
    "log_likelihood": ("mean log-likelihood", "log_likelihood",
                       "mean per-row log-density of the fitted mixture on the standardised training "
                       "rows (scikit-learn's score); higher is better"),
    "evr": ("explained variance ratio", "explained_variance_ratio",
            "share of the standardised features' total variance kept by the components; higher is "
            "better, the optimum is fixed by the data"),
}


# ---- one case = one row of the table --------------------------------------------------------

@dataclass
class Case:
    name: str            # the row's label
    table: str           # the Augur table / pandas frame
    features: list       # input columns
    sql: str             # the CREATE MODEL statement
    metric: str          # a METRICS key
    fit_sklearn: Callable  # frames -> (seconds, metric value, training rows, evaluation rows)


def supervised(name, model_type, options, table, label, features, split_sql, split, estimator,
               metric, score):
    """A model with a label, trained on the rows where `split` is false and scored on the
    others; `split_sql` is the same rule in SQL (data_split_method = 'custom')."""
    cols = ", ".join(quote(c) for c in features + [label])
    opts = "".join(f", {k} = {v}" for k, v in options.items())
    sql = (f"CREATE OR REPLACE MODEL zoo_model OPTIONS (model_type = '{model_type}', "
           f"input_label_cols = ['{label}'], data_split_method = 'custom', "
           f"data_split_col = 'is_eval'{opts}) AS SELECT {cols}, {split_sql} AS is_eval FROM {table}")

    def fit_sklearn(frames):
        df = frames[table]
        test = split(df).to_numpy()
        X, y = df[features], df[label].to_numpy()
        pipe, seconds = sk_fit(estimator(), X[~test], y[~test])
        return seconds, score(pipe, X[test], y[test]), int((~test).sum()), int(test.sum())

    return Case(name, table, features, sql, metric, fit_sklearn)


def unsupervised(name, model_type, options, table, features, estimator, metric, score):
    """A clustering or PCA model, fitted on every row of the table (Augur's default for them)."""
    cols = ", ".join(quote(c) for c in features)
    opts = ", ".join(f"{k} = {v}" for k, v in options.items())
    sql = (f"CREATE OR REPLACE MODEL zoo_model OPTIONS (model_type = '{model_type}', {opts}) "
           f"AS SELECT {cols} FROM {table}")

    def fit_sklearn(frames):
        X = frames[table][features]
        pipe, seconds = sk_fit(estimator(), X)
        return seconds, score(pipe, X), len(X), 0

    return Case(name, table, features, sql, metric, fit_sklearn)


def columns(frames, table, *drop):
    return [c for c in frames[table].columns if c not in drop]


# ---- the algorithm families -------------------------------------------------------------------

def telco_split(df):
    return df["customer_id"] % 5 == 0


TELCO_SPLIT_SQL = "customer_id % 5 = 0"


def binary_classifiers(frames):
    """Churn (telco, 7 043 customers): every classifier on the same features and split."""
    feats = columns(frames, "telco_customers", "customer_id", "churn")
    forest = dict(num_parallel_tree=50, max_tree_depth=6, subsample=0.8, colsample_bynode=1.0)
    cases = [
        ("logistic_reg", "logistic_reg", {}, lambda: LogisticRegression(C=1.0, max_iter=5000)),
        ("naive_bayes", "naive_bayes", {}, lambda: GaussianNB(var_smoothing=1e-9)),
        ("decision_tree_classifier depth 6", "decision_tree_classifier", {"max_tree_depth": 6},
         lambda: DecisionTreeClassifier(max_depth=6, random_state=0)),
        ("random_forest_classifier 50 trees, depth 6", "random_forest_classifier", forest,
         lambda: RandomForestClassifier(n_estimators=50, max_depth=6, max_samples=0.8,
                                        max_features=None, random_state=0)),
    ]
    out = [supervised(f"{name} (churn)", mt, opts, "telco_customers", "churn", feats,
                      TELCO_SPLIT_SQL, telco_split, est, "roc_auc", roc_auc)
           for name, mt, opts, est in cases]
    # linear_svm: linfa's SMO takes at most 10 000 rows; OJ purchase as in zoo_reference.py
    oj = "oj_purchase"
    out.append(supervised("linear_svm (OJ purchase)", "linear_svm", {}, oj, "Purchase",
                          columns(frames, oj, "Purchase"), '"WeekofPurchase" % 5 = 0',
                          lambda df: df["WeekofPurchase"] % 5 == 0,
                          lambda: SVC(kernel="linear", C=1.0), "roc_auc", roc_auc))
    return out


def multiclass_classifier(frames):
    """Contract type (3 classes) from the other telco columns, as sklearn_reference.py."""
    feats = ["tenure", "monthly_charges", "total_charges", "paperless_billing",
             "internet_service", "payment_method", "churn"]
    return [supervised("logistic_reg, 3 classes (contract)", "logistic_reg", {}, "telco_customers",
                       "contract", feats, TELCO_SPLIT_SQL, telco_split,
                       lambda: LogisticRegression(C=1.0, max_iter=5000), "log_loss",
                       multiclass_log_loss)]


def regressors(frames):
    """monthly_charges: the linear family on four columns (sklearn_reference.py's
    penalised block: l1_reg/l2_reg -> ElasticNet(alpha=l1+l2, l1_ratio=l1/(l1+l2)), pure L2
    -> Ridge(alpha=l2*n)), the trees on every other column."""
    n_train = int((~telco_split(frames["telco_customers"])).sum())
    linear_feats = ["tenure", "total_charges", "internet_service", "contract"]
    linear = [
        ("linear_reg OLS", "linear_reg", {}, LinearRegression),
        ("linear_reg ridge, l2_reg 0.5", "linear_reg", {"l2_reg": 0.5},
         lambda: Ridge(alpha=0.5 * n_train)),
        ("linear_reg lasso, l1_reg 0.5", "linear_reg", {"l1_reg": 0.5}, lambda: Lasso(alpha=0.5)),
        ("linear_reg elastic net, 0.3 / 0.3", "linear_reg", {"l1_reg": 0.3, "l2_reg": 0.3},
         lambda: ElasticNet(alpha=0.6, l1_ratio=0.5)),
    ]
    tree_feats = columns(frames, "telco_customers", "customer_id", "monthly_charges")
    trees = [
        ("decision_tree_regressor depth 6", "decision_tree_regressor", {"max_tree_depth": 6},
         lambda: DecisionTreeRegressor(max_depth=6, random_state=0)),
        ("random_forest_regressor 50 trees, depth 6", "random_forest_regressor",
         dict(num_parallel_tree=50, max_tree_depth=6, subsample=0.8, colsample_bynode=1.0),
         lambda: RandomForestRegressor(n_estimators=50, max_depth=6, max_samples=0.8,
                                       max_features=None, random_state=0)),
    ]
    return [supervised(f"{name} (charges)", mt, opts, "telco_customers", "monthly_charges", feats,
                       TELCO_SPLIT_SQL, telco_split, est, "rmse", rmse)
            for group, feats in ((linear, linear_feats), (trees, tree_feats))
            for name, mt, opts, est in group]


def clusterings(frames):
    rfm = ["recency", "frequency", "monetary"]
    return [
        unsupervised("kmeans k=4 n_init=10 (RFM)", "kmeans", {"num_clusters": 4, "n_init": 10},
                     "customer_rfm", rfm, lambda: KMeans(n_clusters=4, n_init=10, random_state=0),
                     "inertia", lambda pipe, X: pipe.named_steps["model"].inertia_),
        unsupervised("dbscan eps=0.5 min_samples=5 (RFM)", "dbscan", {"eps": 0.5, "min_samples": 5},
                     "customer_rfm", rfm, lambda: DBSCAN(eps=0.5, min_samples=5), "dbscan",
                     dbscan_summary),
        unsupervised("gaussian_mixture k=3 n_init=10 (telco)", "gaussian_mixture",
                     {"num_clusters": 3, "n_init": 10}, "telco_customers",
                     ["tenure", "monthly_charges", "total_charges"],
                     lambda: GaussianMixture(n_components=3, covariance_type="full", n_init=10,
                                             random_state=0),
                     "log_likelihood", mean_log_likelihood),
        unsupervised("agglomerative ward k=3 (OJ purchase)", "agglomerative",
                     {"num_clusters": 3, "linkage": "'ward'"}, "oj_purchase",
                     columns(frames, "oj_purchase", "Purchase"),
                     lambda: AgglomerativeClustering(n_clusters=3, linkage="ward"), "inertia", inertia),
    ]


def decompositions(frames):
    return [unsupervised("pca 5 components (caravan)", "pca", {"num_principal_components": 5},
                         "caravan_insurance", columns(frames, "caravan_insurance", "Purchase"),
                         lambda: PCA(n_components=5, svd_solver="full"), "evr",
                         explained_variance_ratio)]


FAMILIES = (binary_classifiers, multiclass_classifier, regressors, clusterings, decompositions)


# ---- running and printing ---------------------------------------------------------------------

def fmt(value):
    if isinstance(value, tuple):
        return "; ".join(fmt(v) for v in value)
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer()
                                                 and abs(value) < 1e6):
        return f"{int(value):,}"
    return f"{value:.6g}" if abs(value) < 1e3 else f"{value:,.1f}"


def augur_metric(metrics, key):
    if isinstance(key, tuple):
        return tuple(augur_metric(metrics, k) for k in key)
    return float(metrics.get(key, math.nan))


def run_case(aug, frames, case, repeat):
    """Best of `repeat` fits on each side (the machine is shared): one result row."""
    a_times, s_times = [], []
    for _ in range(repeat):
        t, metrics, a_train, a_eval = aug.train(case.sql)
        a_times.append(t)
        t, s_value, s_train, s_eval = case.fit_sklearn(frames)
        s_times.append(t)
    if (a_train, a_eval) != (s_train, s_eval):
        sys.exit(f"{case.name}: Augur trained/evaluated {a_train}/{a_eval} rows, "
                 f"scikit-learn {s_train}/{s_eval}")
    label, key, _ = METRICS[case.metric]
    rows = f"{a_train:,} / {a_eval:,}" if a_eval else f"{a_train:,}"
    return (case.name, case.table, rows, label, augur_metric(metrics, key), s_value,
            min(a_times), min(s_times))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    ap.add_argument("--augur", default=os.path.join(target, "debug", "augur"), help="the augur binary")
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"),
                    help="folder with caravan_insurance.csv, credit_scoring.csv, oj_purchase.csv")
    ap.add_argument("--repeat", type=int, default=3, help="fits per side; the fastest is reported")
    ap.add_argument("--only", help="run only the cases whose name contains this text")
    args = ap.parse_args()

    frames = load_frames(args.data)
    aug = Augur(args.augur, args.data)
    started = time.perf_counter()
    try:
        aug.execute(RFM_SQL)
        cases = [c for family in FAMILIES for c in family(frames)
                 if not args.only or args.only in c.name]
        results = []
        for case in cases:
            results.append(run_case(aug, frames, case, args.repeat))
            r = results[-1]
            print(f"{r[0]}: Augur {fmt(r[4])} in {r[6]:.3f}s, scikit-learn {fmt(r[5])} in {r[7]:.3f}s",
                  file=sys.stderr, flush=True)
    finally:
        aug.close()

    print(f"\n{len(results)} algorithms, best of {args.repeat} fits each, "
          f"{time.perf_counter() - started:.0f}s in all\n")
    print("| algorithm | dataset | rows (train / test) | metric | Augur | scikit-learn "
          "| Augur fit s | sklearn fit s | time ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, table, rows, label, va, vs, ta, ts in results:
        print(f"| {name} | {table} | {rows} | {label} | {fmt(va)} | {fmt(vs)} | {ta:.3f} | {ts:.3f} "
              f"| {ta / ts:.1f}x |")
    print()
    for label, _, meaning in (METRICS[k] for k in dict.fromkeys(c.metric for c in cases)):
        print(f"- {label}: {meaning}")


if __name__ == "__main__":
    main()
