"""Module-level models and one factory per public estimator, shared by the
persistence and fuzz tests (module-level so that fitted estimators pickle)."""

import numpy as np
from scipy import stats

from skexplain import OptimizedExplainer
from skexplain.explainers import (
    CLIME,
    LIME,
    Gradient,
    GradientXInput,
    IntegratedGradients,
    KernelSHAP,
    KernelSmoothGrad,
    RelEx,
    SmoothGrad,
    UniGrad,
)
from skexplain.models import FunctionModel


def predict(X):
    return np.sin(X).sum(axis=1) + 0.05 * X.sum(axis=1) ** 2


def gradient(X):
    return np.cos(X) + 0.1 * X.sum(axis=1)[:, None]


def proba(X):
    p = 1.0 / (1.0 + np.exp(-predict(X)))
    return np.c_[1.0 - p, p]


def proba_gradient(X, *args):
    return gradient(X)


MODEL = FunctionModel(predict=predict, gradient=gradient)
ESTIMATORS = {
    "Gradient": lambda **kw: Gradient(MODEL, **kw),
    "GradientXInput": lambda **kw: GradientXInput(MODEL, **kw),
    "IntegratedGradients": lambda **kw: IntegratedGradients(MODEL, n_steps=8, **kw),
    "SmoothGrad": lambda **kw: SmoothGrad(MODEL, sigma=0.2, n_samples=10, random_state=0, **kw),
    "UniGrad": lambda **kw: UniGrad(MODEL, radius=0.3, n_samples=10, random_state=0, **kw),
    "KernelSmoothGrad": lambda **kw: KernelSmoothGrad(
        MODEL, sampler=stats.norm(scale=0.2), n_samples=10, random_state=0, **kw),
    "CLIME": lambda **kw: CLIME(MODEL, sigma=0.2, n_samples=30, random_state=0, **kw),
    "LIME": lambda **kw: LIME(MODEL, n_samples=40, random_state=0, **kw),
    "KernelSHAP": lambda **kw: KernelSHAP(MODEL, n_samples=30, random_state=0, **kw),
    "RelEx": lambda **kw: RelEx(FunctionModel(predict=proba), n_noise=4, n_iter=4,
                                random_state=0, **kw),
    "OptimizedExplainer": lambda **kw: OptimizedExplainer(u=0.8, eta_frac=0.3,
                                                          grad_fn=gradient, **kw),
}
