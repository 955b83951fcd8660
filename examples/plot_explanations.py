"""
Looking at explanations: Explanation objects and plots
=======================================================

Every explainer's ``explain(X)`` returns an
:class:`~skexplain.explainers.Explanation`: the attributions with the rows,
feature and output names, the base value the attributions add up from and
the method's parameters. It slices like an array (rows, features by name,
outputs), converts to a pandas DataFrame, and feeds the Display classes of
:mod:`skexplain.plotting`.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from skexplain import OptimizedExplainer
from skexplain.explainers import Gradient, KernelSHAP, SmoothGrad, TreeSHAP
from skexplain.plotting import (
    AgreementDisplay,
    AttributionBarDisplay,
    BeeswarmDisplay,
    WaterfallDisplay,
)

# %%
# Exact SHAP values of a random forest (TreeSHAP reads them off the trees),
# for a DataFrame: the feature names come along.
data = load_diabetes(as_frame=True)
X, y = data.data, data.target
forest = RandomForestRegressor(n_estimators=100, random_state=0).fit(X, y)
shap = TreeSHAP(forest, random_state=0).fit(X)
e = shap.explain(X.iloc[:300])
print(e)
print(e[:3, ["bmi", "s5"]].to_frame())
print("base value + sum of attributions = prediction:",
      float(e[0].base_values + e[0].values.sum()), float(forest.predict(X.iloc[:1])[0]))

# %%
# Global importance (mean absolute SHAP value) and every row's attribution coloured
# by the feature's value.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
bar = AttributionBarDisplay.from_explanation(e, ax=ax1)
swarm = BeeswarmDisplay.from_explanation(e, ax=ax2)

# %%
# One prediction, step by step from the average prediction.
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
waterfall = WaterfallDisplay.from_explanation(e, index=0, ax=ax)

# %%
# All classes at once: ``target="all"`` gives attributions of shape
# (n_samples, n_features, n_classes), one output per class, computed from
# the same coalitions; the bars stack the classes.
Xi, yi = load_iris(return_X_y=True, as_frame=True)
names = load_iris().target_names
clf = LogisticRegression(max_iter=1000).fit(Xi, names[yi])
e3 = KernelSHAP(clf, target="all", random_state=0).fit(Xi).explain(Xi)
print(e3.values.shape, list(e3.output_names))
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
classes = AttributionBarDisplay.from_explanation(e3, ax=ax)

# %%
# Do different explainers agree on the most important feature? A small MLP
# on the standardised diabetes data, explained by its gradient, SmoothGrad,
# KernelSHAP and the optimised (robust) explanations.
Xs = StandardScaler().fit_transform(X)
mlp = MLPRegressor(hidden_layer_sizes=(32,), max_iter=2000, random_state=0).fit(
    Xs, (y - y.mean()) / y.std())
rows = Xs[:200]
sets = {
    "gradient": Gradient(mlp).fit(Xs).transform(rows),
    "SmoothGrad": SmoothGrad(mlp, sigma=0.3, n_samples=50, random_state=0).fit(Xs).transform(
        rows),
    "KernelSHAP": KernelSHAP(mlp, random_state=0).fit(Xs).transform(rows),
    "optimised": OptimizedExplainer(model=mlp, eta_frac=0.3).fit_transform(rows),
}
fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
agreement = AgreementDisplay.from_explanations(sets, ax=ax)
print(agreement.rates.round(2))
plt.show()
