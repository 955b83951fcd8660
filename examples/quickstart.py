"""Quick start: optimised explanations for a scikit-learn style workflow.

Explains a smooth function on random points, compares the optimised
explanations with the raw gradients on both losses, and explains new points.
"""

import numpy as np

from skexplain import OptimizedExplainer
from skexplain.metrics import faithfulness_loss, max_sensitivity


def gradient(X):
    """Gradient of f(x) = sum_d sin(x_d) + 0.15 x_d^2."""
    return np.cos(X) + 0.3 * X


X = np.random.default_rng(0).uniform(-2, 2, size=(200, 3))
G = gradient(X)
print("eta_frac  faithfulness  max-sensitivity")
for frac in (0.0, 0.1, 0.2, 0.5, 1.0):
    E = OptimizedExplainer(u=1.0, eta_frac=frac).fit_transform(X, G)
    print(f"{frac:8.2f}  {faithfulness_loss(G, E):12.3f}  "
          f"{max_sensitivity(X, E, u=1.0):15.3f}")

opt = OptimizedExplainer(u=1.0, eta_frac=0.2, grad_fn=gradient).fit(X)
X_new = np.random.default_rng(1).uniform(-2, 2, size=(5, 3))
print("new points:\n", np.round(opt.transform(X_new), 3))
