"""scikit-learn's estimator checks on OptimizedExplainer.

The checks call ``fit(X, y)`` with class labels or regression targets as
``y``, whereas ``OptimizedExplainer`` reads ``y`` as the model's gradients.
``_CheckedExplainer`` is the documented test subclass: it ignores the checks'
``y`` and takes the gradients of a fixed smooth function from ``grad_fn``.
Its radius, 1.5, gives the checks' small random data sets (features of
order one) neighbours without making every pair a neighbour.
"""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skexplain import OptimizedExplainer


def smooth_gradient(X):
    """Gradient of f(x) = sum_d sin(x_d) + 0.1 x_d^2 (module level: picklable)."""
    X = np.asarray(X, dtype=np.float64)
    return np.cos(X) + 0.2 * X


class _CheckedExplainer(OptimizedExplainer):
    """OptimizedExplainer whose fit ignores ``y`` (see module docstring)."""

    def fit(self, X, y=None, *, grad_fn=None):
        return super().fit(X, grad_fn=grad_fn)

    def fit_transform(self, X, y=None, *, grad_fn=None):
        return super().fit_transform(X, grad_fn=grad_fn)


ESTIMATORS = [
    _CheckedExplainer(u=1.5, grad_fn=smooth_gradient),
    _CheckedExplainer(robustness="average_sensitivity", faithfulness="pointwise",
                      u=1.5, grad_fn=smooth_gradient),
]

# Checks that cannot pass, with the reason.
EXPECTED_FAILURES = {}


def _expected_failures(estimator):
    return EXPECTED_FAILURES


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
