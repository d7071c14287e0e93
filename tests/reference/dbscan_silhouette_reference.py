#!/usr/bin/env python3
"""scikit-learn reference for DBSCAN's `silhouette` metric, asserted in
sql/ml_zoo.slt (model `db_sil`).

Data (the same formulas as the slt's CREATE TABLE): 300 rows i = 0..299 in
three groups c = i % 3 centred at (0, 0), (10, 0), (0, 1000), each row offset
by r * (cos 1.7i, 100 sin 1.7i) with r = 1.5 * (i % 7) / 7, plus six far points
that are noise (y in units 100 times x's, so the raw and standardised feature
spaces give different silhouettes). Features standardised with the population std (Augur's default,
StandardScaler's), DBSCAN(eps=0.4, min_samples=4) in that space.

Augur's definition: silhouette_score over the non-noise rows only (noise,
label -1, is not a cluster). The value with noise scored as its own cluster
is printed too, to show the two differ.

Run from the repo root:
  $HOME/.cache/augur-venv/bin/python tests/reference/dbscan_silhouette_reference.py
"""
import numpy as np
import sklearn
from sklearn.cluster import DBSCAN
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

i = np.arange(300)
c = i % 3
r = 1.5 * (i % 7) / 7.0
x = np.where(c == 1, 10.0, 0.0) + r * np.cos(i * 1.7)
y = np.where(c == 2, 1000.0, 0.0) + 100.0 * r * np.sin(i * 1.7)
noise = np.array([[30, 3000], [-15, 2500], [25, -1200], [-20, -2000], [40, 500], [5, 4000]], dtype=float)
X = np.vstack([np.column_stack([x, y]), noise])
Xs = StandardScaler().fit_transform(X)
labels = DBSCAN(eps=0.4, min_samples=4).fit(Xs).labels_
keep = labels >= 0
print("sklearn", sklearn.__version__)
print("rows", len(X), "clusters", len(set(labels[keep])), "noise", int((~keep).sum()))
print("noise_fraction %.6f" % ((~keep).mean()))
print("silhouette (non-noise rows, Augur's) %.6f" % silhouette_score(Xs[keep], labels[keep]))
print("silhouette (noise as a cluster)      %.6f" % silhouette_score(Xs, labels))
print("silhouette (non-noise, raw features) %.6f" % silhouette_score(X[keep], labels[keep]))
