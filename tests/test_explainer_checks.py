"""scikit-learn's estimator checks on every classic explainer.

Each real class, constructed with its model (``fit(X, y)`` ignores ``y``,
scikit-learn's convention for transformers), passes every check. The models
are module-level functions (picklable) that accept any number of features.
"""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skexplain.models import FunctionModel
from skexplain.explainers import (
    CLIME,
    LIME,
    Gradient,
    GradientXInput,
    IntegratedGradients,
    FeatureAblation,
    GradientSHAP,
    KernelSHAP,
    KernelSmoothGrad,
    RelEx,
    ShapleySampling,
    SmoothGrad,
    UniGrad,
)


def smooth_predict(X):
    """f(x) = sum_d sin(x_d) + 0.1 x_d^2."""
    return np.sin(X).sum(axis=1) + 0.1 * (X ** 2).sum(axis=1)


def smooth_gradient(X):
    return np.cos(X) + 0.2 * X


def relex_proba(X):
    """A probability in (0, 1): sigmoid(0.3 sum_d sin(x_d))."""
    return 1.0 / (1.0 + np.exp(-0.3 * np.sin(X).sum(axis=1)))


def relex_gradient(X):
    p = relex_proba(X)
    return (0.3 * p * (1 - p))[:, None] * np.cos(X)


def logistic_sampler(U):
    return np.log(U) - np.log1p(-U)


ESTIMATORS = [
    Gradient(smooth_gradient),
    GradientXInput(smooth_gradient),
    IntegratedGradients(smooth_gradient, n_steps=8),
    SmoothGrad(smooth_gradient, sigma=0.3, n_samples=8),
    UniGrad(smooth_gradient, radius=0.3, n_samples=8),
    KernelSmoothGrad(smooth_gradient, sampler=logistic_sampler, n_samples=8),
    CLIME(smooth_predict, sigma=0.3, alpha=0.1, n_samples=16),
    LIME(smooth_predict, n_samples=16),
    KernelSHAP(smooth_predict, n_samples=32, max_background=5),
    FeatureAblation(smooth_predict, feature_groups=None),
    GradientSHAP(smooth_gradient, n_samples=8, max_background=5),
    ShapleySampling(smooth_predict, n_permutations=2),
    RelEx(FunctionModel(predict=relex_proba, gradient=relex_gradient), n_noise=4, n_iter=3),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
