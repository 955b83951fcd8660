"""
Quick start: a scikit-learn model, a Pipeline and GridSearchCV
================================================================

Train a small MLP on scikit-learn's breast-cancer data, explain it with its
gradients, trade a little faithfulness for robustness with
:class:`~skexplain.OptimizedExplainer`, and choose the budget ``eta_frac``
with :class:`~sklearn.model_selection.GridSearchCV` on a
:class:`~sklearn.pipeline.Pipeline` (scaler, then explainer) fitted on the
raw data and the labels.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import OptimizedExplainer
from skexplain.metrics import make_tradeoff_scorer
from skexplain.plotting import ComparisonDisplay, FrontDisplay

X, y = load_breast_cancer(return_X_y=True)
scaler = StandardScaler().fit(X)
mlp = MLPClassifier((16,), max_iter=1000, random_state=0).fit(scaler.transform(X), y)
print(f"training accuracy {mlp.score(scaler.transform(X), y):.3f}")

# %%
# Explanations are computed in the standardised feature space: the model is
# the fitted MLP (its input gradient is exact) and ``output="decision"``
# explains its logit. ``FrozenEstimator`` keeps the fitted model fitted when
# GridSearchCV clones the pipeline.
pipe = make_pipeline(StandardScaler(),
                     OptimizedExplainer(model=FrozenEstimator(mlp), output="decision",
                                        n_neighbors=10, eta_frac=0.2))

# %%
# Choosing ``eta_frac`` with GridSearchCV on the pipeline: ``fit(X, y)``
# passes the labels, which the explainer ignores; each held-out fold is
# explained out of sample by ``transform``. The score is minus
# ``robustness + weight * faithfulness`` per point (``max_faithfulness=``
# instead keeps the most robust candidate below a faithfulness target).
fracs = [0.05, 0.1, 0.2, 0.4]
scorer = make_tradeoff_scorer("max_sensitivity", weight=1.0, n_neighbors=10)
search = GridSearchCV(pipe, {"optimizedexplainer__eta_frac": fracs}, scoring=scorer,
                      cv=KFold(3, shuffle=True, random_state=0)).fit(X, y)
for frac, score in zip(fracs, search.cv_results_["mean_test_score"]):
    print(f"eta_frac={frac:<5} mean held-out score {score:.4f}")
best = search.best_estimator_[-1]
print("chosen:", search.best_params_)

# %%
# The whole faithfulness/robustness front on the first 200 points (one
# program, re-solved along the budgets), with the chosen budget circled.
Xs = scaler.transform(X)[:200]
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
front = FrontDisplay.from_estimator(best, Xs, ax=ax)

# %%
# What the optimisation changed: the gradients of the first 40 points and
# their optimised explanations, side by side on one colour scale.
comparison = ComparisonDisplay.from_estimator(best.fit(Xs), Xs, max_rows=40)
plt.show()
