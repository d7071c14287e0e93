#!/usr/bin/env python3
"""scikit-learn reference values for Augur's ML tests.

Reads src/demo/telco_customers.parquet and src/demo/cdnow_orders.parquet
(built by tests/reference/make_demo_data.py) and writes
tests/reference/reference_values.json with:
  a) churn logistic regression (train: customer_id % 5 != 0, test: % 5 == 0;
     numeric -> mean-impute + StandardScaler, string -> OneHotEncoder (all
     categories, handle_unknown='ignore'), fitted on train only;
     LogisticRegression(C=1.0, max_iter=5000, lbfgs), plus test metrics for C=1e6);
  b) RFM k-means on cdnow orders (recency days vs. the table's max order_date,
     frequency = #orders, monetary = sum dollar_value; StandardScaler;
     KMeans(n_clusters=4, n_init=10, random_state=0), n_init=1 spread over seeds 0..4,
     silhouette on the first 10,000 customers and on all customers);
  c) linear regression of monthly_charges on tenure, total_charges (mean-imputed),
     one-hot internet_service and contract (same split / preprocessing rules).

Run from the repo root:
  $HOME/.cache/augur-venv/bin/python tests/reference/sklearn_reference.py
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, log_loss,
                             mean_absolute_error, precision_score, r2_score,
                             recall_score, roc_auc_score, root_mean_squared_error,
                             silhouette_score)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

DEMO = os.path.join("src", "demo")
OUT = os.path.join("tests", "reference", "reference_values.json")
SCRIPT = "tests/reference/sklearn_reference.py"


def numeric_pipe():
    return Pipeline([("impute", SimpleImputer(strategy="mean")),
                     ("scale", StandardScaler())])


def preprocessor(num_cols, cat_cols):
    return ColumnTransformer(
        [("num", numeric_pipe(), num_cols),
         ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat_cols)],
        verbose_feature_names_out=False)


def split(df):
    test = (df["customer_id"] % 5 == 0).to_numpy()
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def logreg_block(C, X_tr, y_tr, X_te, y_te, names, with_coefs, tol=1e-4, max_iter=5000):
    model = LogisticRegression(C=C, max_iter=max_iter, tol=tol)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X_tr, y_tr)
    converged = not any(issubclass(x.category, ConvergenceWarning) for x in w)
    p = model.predict_proba(X_te)[:, 1]
    pred = (p >= 0.5).astype(int)
    tn, fp, fn, tp = confusion_matrix(y_te, pred, labels=[0, 1]).ravel()
    p_tr = model.predict_proba(X_tr)[:, 1]
    w_vec = model.coef_.ravel()
    # sklearn's objective: C * sum(logloss_i) + 0.5 * ||w||^2 (intercept unpenalised);
    # reported divided by C and n_train, i.e. mean train log loss + ||w||^2 / (2 C n).
    train_ll = log_loss(y_tr, p_tr)
    obj = train_ll + float(w_vec @ w_vec) / (2.0 * C * len(y_tr))
    out = {
        "C": C,
        "solver": "lbfgs",
        "max_iter": max_iter,
        "tol": tol,
        "n_iter": int(model.n_iter_[0]),
        "converged": converged,
        "test": {
            "roc_auc": roc_auc_score(y_te, p),
            "accuracy": accuracy_score(y_te, pred),
            "precision": precision_score(y_te, pred),
            "recall": recall_score(y_te, pred),
            "f1": f1_score(y_te, pred),
            "log_loss": log_loss(y_te, p),
            "confusion": {"tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)},
        },
        "train": {"roc_auc": roc_auc_score(y_tr, p_tr), "log_loss": train_ll,
                  "objective_mean_logloss_plus_l2_over_2Cn": obj},
    }
    if with_coefs:
        out["intercept"] = float(model.intercept_[0])
        out["coefficients"] = {n: float(c) for n, c in zip(names, w_vec)}
    return out, model


def churn_logreg(telco):
    train, test = split(telco)
    feats = [c for c in telco.columns if c not in ("customer_id", "churn")]
    num_cols = [c for c in feats if telco[c].dtype.kind in "if"]
    cat_cols = [c for c in feats if c not in num_cols]
    pre = preprocessor(num_cols, cat_cols)
    X_tr = pre.fit_transform(train[feats])
    X_te = pre.transform(test[feats])
    names = list(pre.get_feature_names_out())
    y_tr = (train["churn"] == "Yes").astype(int).to_numpy()
    y_te = (test["churn"] == "Yes").astype(int).to_numpy()
    num = pre.named_transformers_["num"]
    res = {
        "split": "train: customer_id % 5 != 0, test: customer_id % 5 == 0",
        "positive_class": "churn == 'Yes'",
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "n_train_positive": int(y_tr.sum()),
        "n_test_positive": int(y_te.sum()),
        "numeric_columns": num_cols,
        "string_columns": cat_cols,
        "n_encoded_features": len(names),
        "encoded_feature_names": names,
        "train_impute_means": dict(zip(num_cols, map(float, num.named_steps["impute"].statistics_))),
        "train_scaler_mean": dict(zip(num_cols, map(float, num.named_steps["scale"].mean_))),
        "train_scaler_std_population": dict(zip(num_cols, map(float, num.named_steps["scale"].scale_))),
        "test_total_charges_nulls": int(test["total_charges"].isna().sum()),
        "train_total_charges_nulls": int(train["total_charges"].isna().sum()),
    }
    # Exactly as specified (sklearn defaults, tol=1e-4).
    res["C_1"], _ = logreg_block(1.0, X_tr, y_tr, X_te, y_te, names, True)
    # The one-hot design keeps every category and has an intercept, so it is rank-deficient
    # (the "No internet service" dummies are identical across 7 columns, etc.).  With C=1 the
    # L2 penalty still makes the optimum unique, but the objective is very flat along those
    # directions and lbfgs at tol=1e-4 stops far from it (intercept -0.54 vs -2.21 at the
    # optimum).  Compare coefficients against this converged fit, not against C_1.
    res["C_1_converged"], _ = logreg_block(1.0, X_tr, y_tr, X_te, y_te, names, True,
                                           tol=1e-10, max_iter=100000)
    res["design_rank_with_intercept"] = int(np.linalg.matrix_rank(np.c_[np.ones(len(X_tr)), X_tr]))
    res["design_columns_with_intercept"] = int(X_tr.shape[1] + 1)
    # Nearly unregularised: coefficients are ill-determined (rank deficiency), metrics only.
    res["C_1e6"], _ = logreg_block(1e6, X_tr, y_tr, X_te, y_te, names, False)
    return res


def rfm_kmeans(orders):
    max_date = orders["order_date"].max()
    g = orders.groupby("customer_id", sort=True)
    rfm = pd.DataFrame({
        "last_order": g["order_date"].max(),
        "frequency": g.size(),
        "monetary": g["dollar_value"].sum(),
    })
    rfm["recency"] = (max_date - rfm["last_order"]).dt.days
    X_raw = rfm[["recency", "frequency", "monetary"]].to_numpy(dtype=float)
    scaler = StandardScaler().fit(X_raw)
    X = scaler.transform(X_raw)

    km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X)
    sizes = np.bincount(km.labels_, minlength=4)
    spread = {}
    for seed in range(5):
        spread[str(seed)] = float(KMeans(n_clusters=4, n_init=1, random_state=seed).fit(X).inertia_)

    t0 = time.perf_counter()
    sil_10k = silhouette_score(X[:10000], km.labels_[:10000])
    t_10k = time.perf_counter() - t0
    est_full = t_10k * (len(X) / 10000.0) ** 2
    sil_full = None
    t_full = None
    if est_full < 120:
        t0 = time.perf_counter()
        sil_full = float(silhouette_score(X, km.labels_))
        t_full = time.perf_counter() - t0
    # Timings go to stdout only, so the JSON is reproducible byte for byte.
    print(f"silhouette: first 10000 {t_10k:.1f}s, all {t_full if t_full is None else round(t_full, 1)}s "
          f"(estimated {est_full:.1f}s)")

    def cust(cid):
        r = rfm.loc[cid]
        return {"last_order_date": str(pd.Timestamp(r["last_order"]).date()),
                "recency_days": int(r["recency"]), "frequency": int(r["frequency"]),
                "monetary": round(float(r["monetary"]), 2)}

    return {
        "as_of_date": str(pd.Timestamp(max_date).date()),
        "n_customers": int(len(rfm)),
        "n_orders": int(len(orders)),
        "total_dollar_value": round(float(orders["dollar_value"].sum()), 2),
        "rfm_examples": {str(c): cust(c) for c in (1, 2, 3)},
        "rfm_column_summary": {
            c: {"mean": float(rfm[c].mean()), "min": float(rfm[c].min()), "max": float(rfm[c].max())}
            for c in ("recency", "frequency", "monetary")},
        "scaler_mean": dict(zip(["recency", "frequency", "monetary"], map(float, scaler.mean_))),
        "scaler_std_population": dict(zip(["recency", "frequency", "monetary"], map(float, scaler.scale_))),
        "kmeans_n_init_10_seed_0": {
            "inertia": float(km.inertia_),
            "n_iter": int(km.n_iter_),
            "cluster_sizes_sorted": sorted(map(int, sizes)),
            "cluster_sizes_by_label": list(map(int, sizes)),
            "centroids_standardized_by_label": km.cluster_centers_.tolist(),
            "centroids_original_units_by_label": scaler.inverse_transform(km.cluster_centers_).tolist(),
            "centroid_columns": ["recency", "frequency", "monetary"],
        },
        "kmeans_n_init_1_inertia_by_seed": spread,
        "silhouette_first_10000_customers": float(sil_10k),
        "silhouette_all_customers": sil_full,
    }


def monthly_charges_linreg(telco):
    train, test = split(telco)
    num_cols = ["tenure", "total_charges"]
    cat_cols = ["internet_service", "contract"]
    pre = preprocessor(num_cols, cat_cols)
    X_tr = pre.fit_transform(train[num_cols + cat_cols])
    X_te = pre.transform(test[num_cols + cat_cols])
    y_tr = train["monthly_charges"].to_numpy()
    y_te = test["monthly_charges"].to_numpy()
    lr = LinearRegression().fit(X_tr, y_tr)
    p = lr.predict(X_te)
    p_tr = lr.predict(X_tr)
    return {
        "target": "monthly_charges",
        "features": num_cols + cat_cols,
        "encoded_feature_names": list(pre.get_feature_names_out()),
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "test": {"rmse": root_mean_squared_error(y_te, p),
                 "mae": mean_absolute_error(y_te, p),
                 "r2": r2_score(y_te, p)},
        "train": {"rmse": root_mean_squared_error(y_tr, p_tr), "r2": r2_score(y_tr, p_tr)},
        "note": ("one-hot keeps all categories and the model has an intercept, so the design is "
                 "rank-deficient; sklearn returns the minimum-norm least-squares coefficients. "
                 "Predictions and metrics are unique; the coefficients are not."),
        "intercept_min_norm": float(lr.intercept_),
        "coefficients_min_norm": dict(zip(pre.get_feature_names_out(), map(float, lr.coef_))),
    }


def monthly_charges_penalised(telco):
    """linear_reg with l1_reg / l2_reg: Augur minimises 1/(2n)|y-Xw|^2 + l1|w|_1 + l2/2|w|^2,
    i.e. ElasticNet(alpha=l1+l2, l1_ratio=l1/(l1+l2)); pure L2 is Ridge(alpha=l2*n)."""
    train, test = split(telco)
    num_cols = ["tenure", "total_charges"]
    cat_cols = ["internet_service", "contract"]
    pre = preprocessor(num_cols, cat_cols)
    X_tr = pre.fit_transform(train[num_cols + cat_cols])
    X_te = pre.transform(test[num_cols + cat_cols])
    y_tr = train["monthly_charges"].to_numpy()
    y_te = test["monthly_charges"].to_numpy()
    out = {}
    for l1, l2 in [(0.5, 0.0), (0.0, 0.5), (0.3, 0.3)]:
        if l1 == 0.0:
            m = Ridge(alpha=l2 * len(y_tr)).fit(X_tr, y_tr)
        else:
            m = ElasticNet(alpha=l1 + l2, l1_ratio=l1 / (l1 + l2), tol=1e-10, max_iter=100000).fit(X_tr, y_tr)
        p = m.predict(X_te)
        out[f"l1_{l1}_l2_{l2}"] = {
            "model": type(m).__name__,
            "test": {"rmse": root_mean_squared_error(y_te, p),
                     "mae": mean_absolute_error(y_te, p),
                     "r2": r2_score(y_te, p)},
            "intercept": float(m.intercept_),
            "coefficients": dict(zip(pre.get_feature_names_out(), map(float, m.coef_))),
        }
    # Ridge is solved exactly on both sides, so it is also checked on Augur's own scaling:
    # Augur standardises with the mean and (population) std of the non-NULL training
    # values and then puts NULLs at the mean (0), where SimpleImputer + StandardScaler take
    # the std after imputation (slightly smaller with total_charges' 10 NULL training rows).
    X2_tr, X2_te = X_tr.copy(), X_te.copy()
    for j, c in enumerate(num_cols):
        v = train[c].dropna().to_numpy()
        mu, sd = v.mean(), v.std()
        X2_tr[:, j] = (train[c].fillna(mu).to_numpy() - mu) / sd
        X2_te[:, j] = (test[c].fillna(mu).to_numpy() - mu) / sd
    m = Ridge(alpha=0.5 * len(y_tr)).fit(X2_tr, y_tr)
    p = m.predict(X2_te)
    out["l1_0.0_l2_0.5_std_of_non_null"] = {
        "model": "Ridge",
        "test": {"rmse": root_mean_squared_error(y_te, p),
                 "mae": mean_absolute_error(y_te, p),
                 "r2": r2_score(y_te, p)},
    }
    return out


def contract_multinomial(telco):
    """Multinomial logistic regression (3 classes): predict contract from the other
    columns on the same split; LogisticRegression(C=1) is multinomial with lbfgs."""
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
    train, test = split(telco)
    num_cols = ["tenure", "monthly_charges", "total_charges", "paperless_billing"]
    cat_cols = ["internet_service", "payment_method", "churn"]
    pre = preprocessor(num_cols, cat_cols)
    X_tr = pre.fit_transform(train[num_cols + cat_cols])
    X_te = pre.transform(test[num_cols + cat_cols])
    y_tr = train["contract"].to_numpy()
    y_te = test["contract"].to_numpy()
    m = LogisticRegression(C=1.0, max_iter=10000, tol=1e-10).fit(X_tr, y_tr)
    p = m.predict_proba(X_te)
    pred = m.predict(X_te)
    return {
        "classes": list(m.classes_),
        "features": num_cols + cat_cols,
        "test": {
            "accuracy": float((pred == y_te).mean()),
            "precision": precision_score(y_te, pred, average="macro", zero_division=0),
            "recall": recall_score(y_te, pred, average="macro", zero_division=0),
            "f1": f1_score(y_te, pred, average="macro", zero_division=0),
            "log_loss": log_loss(y_te, p, labels=m.classes_),
            "roc_auc_ovr_macro": roc_auc_score(y_te, p, multi_class="ovr", average="macro"),
        },
    }


def churn_cross_validation(telco):
    """5-fold cross-validated ROC AUC of the churn model on all 7043 customers
    (preprocessing refitted inside each fold). Augur's folds come from a row
    hash, scikit-learn's from a seeded shuffle, so only the mean is comparable."""
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    features = [c for c in telco.columns if c not in ("customer_id", "churn")]
    num_cols = [c for c in features if pd.api.types.is_numeric_dtype(telco[c])]
    cat_cols = [c for c in features if not pd.api.types.is_numeric_dtype(telco[c])]
    X = telco[num_cols + cat_cols]
    y = (telco["churn"] == "Yes").astype(int)
    pipe = make_pipeline(preprocessor(num_cols, cat_cols), LogisticRegression(C=1.0, max_iter=10000, tol=1e-10))
    means = []
    for seed in range(5):
        scores = cross_val_score(pipe, X, y, cv=KFold(5, shuffle=True, random_state=seed), scoring="roc_auc")
        means.append(float(scores.mean()))
    return {"folds": 5, "mean_roc_auc_by_shuffle_seed": means,
            "mean_roc_auc": float(np.mean(means))}


def churn_gaussian_nb(telco):
    """Gaussian naive Bayes (var_smoothing 1e-9) on the churn features, same
    preprocessing (standardised numerics, one-hot text) and split as above."""
    from sklearn.naive_bayes import GaussianNB
    train, test = split(telco)
    feats = [c for c in telco.columns if c not in ("customer_id", "churn")]
    num_cols = [c for c in feats if telco[c].dtype.kind in "if"]
    cat_cols = [c for c in feats if c not in num_cols]
    pre = preprocessor(num_cols, cat_cols)
    X_tr = pre.fit_transform(train[feats])
    X_te = pre.transform(test[feats])
    y_tr = (train["churn"] == "Yes").astype(int).to_numpy()
    y_te = (test["churn"] == "Yes").astype(int).to_numpy()
    m = GaussianNB(var_smoothing=1e-9).fit(X_tr, y_tr)
    p = m.predict_proba(X_te)[:, 1]
    pred = m.predict(X_te)
    return {"test": {"accuracy": accuracy_score(y_te, pred), "f1": f1_score(y_te, pred),
                     "roc_auc": roc_auc_score(y_te, p), "log_loss": log_loss(y_te, p)}}


def churn_per_contract(telco):
    """One churn LogisticRegression(C=1, converged) per contract type, each with its own
    preprocessing fitted on that segment's training rows (contract itself is constant
    within a segment and left out); held-out predictions pooled over the segments.
    Augur: CREATE MODEL ... OPTIONS (grouping_cols = ['contract'])."""
    train, test = split(telco)
    feats = [c for c in telco.columns if c not in ("customer_id", "churn", "contract")]
    y_all, p_all, per = [], [], {}
    for seg in sorted(telco["contract"].unique()):
        tr, te = train[train["contract"] == seg], test[test["contract"] == seg]
        num_cols = [c for c in feats if telco[c].dtype.kind in "if"]
        cat_cols = [c for c in feats if c not in num_cols]
        pre = preprocessor(num_cols, cat_cols)
        X_tr, X_te = pre.fit_transform(tr[feats]), pre.transform(te[feats])
        y_tr = (tr["churn"] == "Yes").astype(int).to_numpy()
        y_te = (te["churn"] == "Yes").astype(int).to_numpy()
        m = LogisticRegression(C=1.0, max_iter=100000, tol=1e-10).fit(X_tr, y_tr)
        p = m.predict_proba(X_te)[:, 1]
        per[seg] = {"n_train": int(len(tr)), "n_test": int(len(te)), "roc_auc": roc_auc_score(y_te, p)}
        y_all.append(y_te)
        p_all.append(p)
    y, p = np.concatenate(y_all), np.concatenate(p_all)
    return {"segments": per,
            "pooled_test": {"roc_auc": roc_auc_score(y, p), "accuracy": accuracy_score(y, (p >= 0.5).astype(int)),
                            "log_loss": log_loss(y, p)}}
def churn_trees(telco):
    """Decision tree (max_depth 6) and bagged trees (50 trees, max_depth 6,
    80 % bootstrap rows, every feature at every split) on the churn features,
    same preprocessing and split as churn_logreg; also a standard random forest
    (max_features='sqrt' per split) for comparison. Importances are summed over
    each input column's encoded features."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier
    train, test = split(telco)
    feats = [c for c in telco.columns if c not in ("customer_id", "churn")]
    num_cols = [c for c in feats if telco[c].dtype.kind in "if"]
    cat_cols = [c for c in feats if c not in num_cols]
    pre = preprocessor(num_cols, cat_cols)
    X_tr = pre.fit_transform(train[feats])
    X_te = pre.transform(test[feats])
    names = list(pre.get_feature_names_out())
    owner = []
    for n in names:
        owner.append(n if n in num_cols else next(c for c in cat_cols if n.startswith(c + "_")))
    y_tr = (train["churn"] == "Yes").astype(int).to_numpy()
    y_te = (test["churn"] == "Yes").astype(int).to_numpy()

    def block(m):
        t0 = time.perf_counter()
        m.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - t0
        p = m.predict_proba(X_te)[:, 1]
        pred = m.predict(X_te)
        imp = {}
        for o, v in zip(owner, m.feature_importances_):
            imp[o] = imp.get(o, 0.0) + float(v)
        return {"test": {"accuracy": accuracy_score(y_te, pred), "roc_auc": roc_auc_score(y_te, p),
                         "f1": f1_score(y_te, pred)},
                "importance_gain": imp, "fit_seconds": fit_s}

    return {
        "decision_tree_depth_6": block(DecisionTreeClassifier(max_depth=6, random_state=0)),
        "bagged_trees_50_depth_6": block(RandomForestClassifier(
            n_estimators=50, max_depth=6, max_features=None, max_samples=0.8, random_state=0)),
        "random_forest_sqrt_50_depth_6": block(RandomForestClassifier(
            n_estimators=50, max_depth=6, max_features="sqrt", max_samples=0.8, random_state=0)),
    }


def monthly_charges_trees(telco):
    """Regression tree (max_depth 6) and bagged regression trees (50 trees,
    max_depth 6, 80 % bootstrap rows, every feature at every split) of
    monthly_charges on every other column, same preprocessing and split."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor
    train, test = split(telco)
    feats = [c for c in telco.columns if c not in ("customer_id", "monthly_charges")]
    num_cols = [c for c in feats if telco[c].dtype.kind in "if"]
    cat_cols = [c for c in feats if c not in num_cols]
    pre = preprocessor(num_cols, cat_cols)
    X_tr = pre.fit_transform(train[feats])
    X_te = pre.transform(test[feats])
    y_tr = train["monthly_charges"].to_numpy()
    y_te = test["monthly_charges"].to_numpy()

    def block(m):
        t0 = time.perf_counter()
        m.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - t0
        p = m.predict(X_te)
        return {"test": {"rmse": root_mean_squared_error(y_te, p), "r2": r2_score(y_te, p)},
                "fit_seconds": fit_s}

    return {
        "decision_tree_depth_6": block(DecisionTreeRegressor(max_depth=6, random_state=0)),
        "bagged_trees_50_depth_6": block(RandomForestRegressor(
            n_estimators=50, max_depth=6, max_features=None, max_samples=0.8, random_state=0)),
    }


def main():
    telco = pd.read_parquet(os.path.join(DEMO, "telco_customers.parquet"))
    orders = pd.read_parquet(os.path.join(DEMO, "cdnow_orders.parquet"))
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    with threadpool_limits(limits=1):
        out = {
            "generated_by": {
                "script": SCRIPT,
                "python": sys.version.split()[0],
                "scikit-learn": sklearn.__version__,
                "numpy": np.__version__,
                "pandas": pd.__version__,
                "inputs": ["src/demo/telco_customers.parquet", "src/demo/cdnow_orders.parquet"],
            },
            "churn_logistic_regression": churn_logreg(telco),
            "rfm_kmeans": rfm_kmeans(orders),
            "monthly_charges_linear_regression": monthly_charges_linreg(telco),
            "monthly_charges_penalised_regression": monthly_charges_penalised(telco),
            "contract_multinomial_logistic_regression": contract_multinomial(telco),
            "churn_cross_validation": churn_cross_validation(telco),
            "churn_gaussian_nb": churn_gaussian_nb(telco),
            "churn_per_contract": churn_per_contract(telco),
            "churn_trees": churn_trees(telco),
            "monthly_charges_trees": monthly_charges_trees(telco),
        }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
