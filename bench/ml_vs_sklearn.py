#!/usr/bin/env python3
"""Benchmark: Augur's SQL training against scikit-learn on the same rows, one run.

Builds about one million rows from Augur's demo data (telco churn replicated 142x,
CDNOW RFM customers replicated 43x) as Parquet, then for each algorithm (logistic
regression and a random forest on telco churn, k-means on the CDNOW RFM features) fits
  - Augur, through SQL (`augur sql "CREATE MODEL ..."`, a fresh process), and
  - scikit-learn on the same Parquet file (a fresh Python process: read, encode, fit, score),
and prints wall time, peak memory (max RSS) and the test metric of each, and the ratios.
Both sides are measured end to end from the Parquet file to a fitted, scored model.

Usage (from the repository root; needs pandas, pyarrow, scikit-learn):
  cargo build --release
  python3 bench/ml_vs_sklearn.py --augur target/release/augur [--replicas 142]
      [--forest-replicas 142 --trees 50]   (the forest on its own telco replica;
                                            --trees 0 skips it)

The split is the one Augur's tests use: evaluation rows are customer_id % 5 = 0 (all
replicas of a customer fall on the same side, so no row is both trained and scored).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

LOGREG_SQL = """CREATE MODEL churn_big
OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn'],
         data_split_method = 'custom', data_split_col = 'is_eval')
AS SELECT * EXCLUDE (customer_id, replica), customer_id % 5 = 0 AS is_eval FROM telco_big"""

FOREST_SQL = """CREATE MODEL churn_forest
OPTIONS (model_type = 'random_forest_classifier', input_label_cols = ['churn'],
         data_split_method = 'custom', data_split_col = 'is_eval',
         num_parallel_tree = {trees}, max_tree_depth = 6, subsample = 0.8, colsample_bynode = 0.8)
AS SELECT * EXCLUDE (customer_id, replica), customer_id % 5 = 0 AS is_eval FROM telco_forest"""

KMEANS_SQL = """CREATE MODEL rfm_big OPTIONS (model_type = 'kmeans', num_clusters = 4, n_init = {n_init})
AS SELECT recency, frequency, monetary FROM rfm_big"""


def measured(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, wall seconds, peak RSS MiB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    m = re.search(r"TIME ([0-9.]+) ([0-9]+)", p.stderr)
    return p.stdout, float(m.group(1)), int(m.group(2)) / 1024


def augur(binary, dirs, sql):
    return measured([binary, "--data-dir", dirs[0], "--model-dir", dirs[1], "sql", sql])


def metric_from(stdout, name):
    m = re.search(r'"%s":([-0-9.eE]+)' % name, stdout)
    return float(m.group(1)) if m else float("nan")


# ---- the scikit-learn side, run in a child process ----------------------------------

def sk_churn(path, estimator):
    """Fits estimator on the encoded telco rows; prints the held-out ROC AUC."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = pd.read_parquet(path)
    is_eval = (df["customer_id"] % 5 == 0).to_numpy()
    y = (df["churn"] == "Yes").to_numpy()
    X = df.drop(columns=["customer_id", "replica", "churn"])
    num = [c for c in X.columns if X[c].dtype.kind in "biuf"]
    cat = [c for c in X.columns if c not in num]
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), num),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cat),
    ])
    model = Pipeline([("pre", pre), ("fit", estimator)])
    model.fit(X[~is_eval], y[~is_eval])
    p = model.predict_proba(X[is_eval])[:, 1]
    print(json.dumps({"roc_auc": roc_auc_score(y[is_eval], p)}))


def sk_logreg(path):
    from sklearn.linear_model import LogisticRegression

    sk_churn(path, LogisticRegression(C=1.0, max_iter=500))


def sk_forest(path, trees):
    from sklearn.ensemble import RandomForestClassifier

    # Augur's options: 80 % bootstrap rows per tree, 80 % of the features tried at each split
    sk_churn(path, RandomForestClassifier(n_estimators=trees, max_depth=6, max_samples=0.8,
                                          max_features=0.8, random_state=0))


def sk_kmeans(path, n_init):
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    df = pd.read_parquet(path)
    X = StandardScaler().fit_transform(df[["recency", "frequency", "monetary"]].astype(float))
    km = KMeans(n_clusters=4, n_init=n_init, random_state=0).fit(X)
    print(json.dumps({"inertia": km.inertia_}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--augur", default="target/release/augur", help="the augur binary")
    ap.add_argument("--replicas", type=int, default=142, help="telco copies (142 -> 1,000,106 rows)")
    ap.add_argument("--rfm-replicas", type=int, default=43, help="RFM copies (43 -> 1,013,510 rows)")
    ap.add_argument("--n-init", type=int, default=10, help="k-means restarts on both sides")
    ap.add_argument("--trees", type=int, default=50, help="random forest trees on both sides (0 skips the forest)")
    ap.add_argument("--forest-replicas", type=int, default=142, help="telco copies for the forest (its own table)")
    ap.add_argument("--sk-job", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sk_job == "logreg":
        return sk_logreg(args.path)
    if args.sk_job == "forest":
        return sk_forest(args.path, args.trees)
    if args.sk_job == "kmeans":
        return sk_kmeans(args.path, args.n_init)

    tmp = tempfile.mkdtemp(prefix="augur-bench-")
    dirs = (os.path.join(tmp, "data"), os.path.join(tmp, "models"))
    print(f"building the tables in {tmp} ...", flush=True)
    augur(args.augur, dirs, f"CREATE TABLE telco_big AS SELECT t.*, unnest(range(1, {args.replicas + 1})) AS replica FROM telco_customers t")
    augur(args.augur, dirs, f"CREATE TABLE telco_forest AS SELECT t.*, unnest(range(1, {args.forest_replicas + 1})) AS replica FROM telco_customers t")
    augur(args.augur, dirs, """CREATE TABLE rfm AS
        SELECT customer_id,
               CAST((SELECT max(order_date) FROM cdnow_orders) - max(order_date) AS BIGINT) AS recency,
               count(*) AS frequency, sum(dollar_value) AS monetary
        FROM cdnow_orders GROUP BY customer_id""")
    augur(args.augur, dirs, f"CREATE TABLE rfm_big AS SELECT r.*, unnest(range(1, {args.rfm_replicas + 1})) AS replica FROM rfm r")
    rows = {}
    for t in ("telco_big", "telco_forest", "rfm_big"):
        out, _, _ = augur(args.augur, dirs, f"SELECT count(*) AS n FROM {t}")
        rows[t] = int(re.findall(r"\|\s*([0-9]+)\s*\|", out)[-1])

    me = [sys.executable, os.path.abspath(__file__)]
    results = []
    out, t_a, m_a = augur(args.augur, dirs, LOGREG_SQL)
    auc_a = metric_from(out, "roc_auc")
    out, t_s, m_s = measured(me + ["--sk-job", "logreg", "--path", os.path.join(dirs[0], "telco_big.parquet")])
    auc_s = json.loads(out)["roc_auc"]
    results.append(("logistic regression", rows["telco_big"], "test ROC AUC", auc_a, auc_s, t_a, t_s, m_a, m_s))

    if args.trees > 0:
        out, t_a, m_a = augur(args.augur, dirs, FOREST_SQL.format(trees=args.trees))
        auc_a = metric_from(out, "roc_auc")
        out, t_s, m_s = measured(me + ["--sk-job", "forest", "--trees", str(args.trees), "--path", os.path.join(dirs[0], "telco_forest.parquet")])
        auc_s = json.loads(out)["roc_auc"]
        results.append((f"random forest {args.trees} trees depth 6", rows["telco_forest"], "test ROC AUC", auc_a, auc_s, t_a, t_s, m_a, m_s))

    out, t_a, m_a = augur(args.augur, dirs, KMEANS_SQL.format(n_init=args.n_init))
    inertia_a = metric_from(out, "inertia")
    out, t_s, m_s = measured(me + ["--sk-job", "kmeans", "--n-init", str(args.n_init), "--path", os.path.join(dirs[0], "rfm_big.parquet")])
    inertia_s = json.loads(out)["inertia"]
    results.append((f"k-means k=4 n_init={args.n_init}", rows["rfm_big"], "inertia", inertia_a, inertia_s, t_a, t_s, m_a, m_s))

    print()
    print("| algorithm | rows | metric | Augur | scikit-learn | Augur s | sklearn s | time ratio | Augur MiB | sklearn MiB | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, metric, va, vs, ta, ts, ma, ms in results:
        print(f"| {name} | {n:,} | {metric} | {va:.6g} | {vs:.6g} | {ta:.1f} | {ts:.1f} | {ta / ts:.2f}x | {ma:.0f} | {ms:.0f} | {ma / ms:.2f}x |")


if __name__ == "__main__":
    main()
