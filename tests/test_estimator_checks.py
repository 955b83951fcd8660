"""scikit-learn's estimator checks on OptimizedExplainer itself.

The real class, constructed with its model: ``fit(X, y)`` ignores the
checks' labels or targets, and the base explanations are the gradients of a
fixed smooth function of any number of features (module level: picklable).
Its radius, 1.5, gives the checks' small random data sets (features of order
one) neighbours without making every pair a neighbour; the default
neighbourhood (the 10-nearest-neighbour graph) is checked too.
"""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skexplain import OptimizedExplainer
from skexplain.models import FunctionModel


def smooth_predict(X):
    """f(x) = sum_d sin(x_d) + 0.1 x_d^2."""
    X = np.asarray(X, dtype=np.float64)
    return np.sin(X).sum(axis=1) + 0.1 * (X ** 2).sum(axis=1)


def smooth_gradient(X):
    X = np.asarray(X, dtype=np.float64)
    return np.cos(X) + 0.2 * X


MODEL = FunctionModel(predict=smooth_predict, gradient=smooth_gradient)

ESTIMATORS = [
    OptimizedExplainer(model=MODEL, u=1.5),
    OptimizedExplainer(model=MODEL, robustness="average_sensitivity",
                       faithfulness="pointwise", u=1.5),
    OptimizedExplainer(model=MODEL),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
