"""
Quick start: a scikit-learn model, a Pipeline and GridSearchCV
================================================================

Train a small MLP in a :class:`~sklearn.pipeline.Pipeline` on scikit-learn's
breast-cancer data, explain it with its gradients, then trade a little
faithfulness for robustness with :class:`~skexplain.OptimizedExplainer`
and choose the budget ``eta_frac`` with :class:`~sklearn.model_selection.GridSearchCV`.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import OptimizedExplainer
from skexplain.explainers import Gradient
from skexplain.metrics import faithfulness_loss, make_tradeoff_scorer, max_sensitivity

X, y = load_breast_cancer(return_X_y=True)
pipe = make_pipeline(StandardScaler(),
                     MLPClassifier((16,), max_iter=1000, random_state=0)).fit(X, y)
print(f"training accuracy {pipe.score(X, y):.3f}")

# %%
# Gradients of the classifier's logit, in the standardised feature space
# (the explainers take any fitted scikit-learn estimator: the MLP's
# gradient is exact, other estimators fall back to finite differences).
Xs = pipe[0].transform(X)[:200]
G = Gradient(pipe[-1], output="decision").fit_transform(Xs)
print("gradients:", G.shape)

# %%
# Optimised explanations: the most robust explanations (max-sensitivity over
# each point's 10 nearest neighbours) whose squared distance to the gradients
# is at most ``eta_frac`` times that of the mean gradient.
fracs = [0.0, 0.05, 0.1, 0.2, 0.4]
faith, robust = [], []
for frac in fracs:
    E = OptimizedExplainer(n_neighbors=10, eta_frac=frac).fit_transform(Xs, G)
    faith.append(faithfulness_loss(G, E))
    robust.append(max_sensitivity(Xs, E, n_neighbors=10))
    print(f"eta_frac={frac:<5} faithfulness loss {faith[-1]:9.2f}  "
          f"max-sensitivity {robust[-1]:9.2f}")

# %%
# Choosing ``eta_frac`` with GridSearchCV: the score is minus
# ``robustness + weight * faithfulness`` (per point; ``max_faithfulness=``
# instead keeps the most robust explanations below a faithfulness target).
# The gradients are passed as ``y``. One split whose train and test sets are
# the same points scores the explanations optimised together (the papers'
# transductive setting); a ``KFold`` would score held-out points, each
# explained on its own by ``transform``.
scorer = make_tradeoff_scorer("max_sensitivity", weight=1.0, n_neighbors=10)
idx = np.arange(len(Xs))
search = GridSearchCV(OptimizedExplainer(n_neighbors=10), {"eta_frac": fracs},
                      scoring=scorer, cv=[(idx, idx)])
search.fit(Xs, G)
for frac, score in zip(fracs, search.cv_results_["mean_test_score"]):
    print(f"eta_frac={frac:<5} score {score:.4f}")
print("chosen:", search.best_params_)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(faith, robust, "o-")
for f, r, frac in zip(faith, robust, fracs):
    ax.annotate(f"{frac:g}", (f, r), textcoords="offset points", xytext=(4, 4))
ax.set(xlabel="faithfulness loss (lower: closer to the gradients)",
       ylabel="max-sensitivity (lower: more robust)", title="eta_frac trade-off")
fig.tight_layout()
plt.show()
