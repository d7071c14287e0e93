"""Reference values for sql/preprocessing_functions.slt (preprocessing and
data-cleaning functions) from pandas, numpy and scikit-learn, on the demo
table src/demo/telco_customers.parquet (built from telco_churn_ibm.csv; its
total_charges has 11 real NULLs).

Run from the repo root: python tests/reference/preprocessing_reference.py
It prints the values; they are pasted into the .slt file by hand.
"""

import numpy as np
import pandas as pd
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

d = pd.read_parquet("src/demo/telco_customers.parquet").sort_values("customer_id")
first = d["customer_id"] <= 3


def show(name, values):
    print(name, " ".join(f"{v:.6f}" for v in values))


tc = d[["total_charges"]].to_numpy()
# BigQuery's ML.STANDARD_SCALER uses the sample std: sklearn's value * sqrt((n-1)/n)
n = np.count_nonzero(~np.isnan(tc))
std = StandardScaler().fit(tc).transform(tc)[:, 0] * np.sqrt((n - 1) / n)
show("standard_scaler(total_charges) customers 1-3:", std[first])
show("  pandas (x-mean)/std(ddof=1):", ((d.total_charges - d.total_charges.mean()) / d.total_charges.std())[first])
show("min_max_scaler(total_charges) 1-3:", MinMaxScaler().fit(tc).transform(tc)[first.to_numpy(), 0])
show("max_abs_scaler(total_charges) 1-3:", MaxAbsScaler().fit(tc).transform(tc)[first.to_numpy(), 0])
show("robust_scaler(total_charges) 1-3:", RobustScaler().fit(tc).transform(tc)[first.to_numpy(), 0])
show("robust_scaler(tenure) 1-3:", RobustScaler().fit(d[["tenure"]]).transform(d[["tenure"]])[first.to_numpy(), 0])

print("imputer median fill:", f"{d.total_charges.median():.6f}", "mean fill:", f"{d.total_charges.mean():.6f}")

# quantile buckets: split points = numpy inverted_cdf quantiles k/4
splits = np.unique(np.quantile(d.tenure, [0.25, 0.5, 0.75], method="inverted_cdf"))
bins = np.searchsorted(splits, d.tenure, side="right") + 1
print("quantile_bucketize(tenure, 4) splits", splits, "counts", np.bincount(bins)[1:].tolist())

# outliers
tcs = d.total_charges.dropna()
z = (tcs - tcs.mean()).abs() / tcs.std()
print("outlier_zscore(total_charges, 2) count:", int((z > 2).sum()))
mc = d.monthly_charges
for col in ["total_charges", "tenure"]:
    s = d[col].dropna()
    q1, q3 = s.quantile(0.25), s.quantile(0.75)
    print(f"outlier_iqr({col}, 0.5) count:", int(((s < q1 - 0.5 * (q3 - q1)) | (s > q3 + 0.5 * (q3 - q1))).sum()))

# ml_profile: pandas describe / nunique / value_counts
desc = d[["tenure", "monthly_charges", "total_charges"]].describe()
print(desc.to_string())
for col in ["tenure", "monthly_charges", "total_charges", "contract"]:
    print(col, "nulls", int(d[col].isna().sum()), "nunique", d[col].nunique(),
          "top", d[col].value_counts().head(3).to_dict())

# polynomial_expand: PolynomialFeatures(include_bias=False) on (2, 3)
from sklearn.preprocessing import PolynomialFeatures  # noqa: E402

for degree in (2, 3):
    pf = PolynomialFeatures(degree, include_bias=False).fit([[2, 3]])
    print(f"polynomial_expand degree {degree}:", dict(zip(pf.get_feature_names_out(["a", "b"]), pf.transform([[2, 3]])[0])))
print("feature_cross customer 1:", d.loc[d.customer_id == 1, ["contract", "internet_service", "payment_method"]].to_dict("records"))

# robust_scaler options
X = [[1], [2], [3], [4], [10]]
show("robust_scaler quantile_range (10, 90):", RobustScaler(quantile_range=(10, 90)).fit_transform(X).ravel())
show("robust_scaler with_centering=False:", RobustScaler(with_centering=False).fit_transform(X).ravel())
show("robust_scaler with_scaling=False:", RobustScaler(with_scaling=False).fit_transform(X).ravel())
