"""Shared test models, estimator factories and brute-force references.

Everything here is module level so that fitted estimators pickle. Test
modules reach it through fixtures (and the ``estimator_name`` /
``explainer_name`` parameters generated below); no test module imports
another.
"""

import numpy as np
import pytest
from scipy import stats

from skexplain import OptimizedExplainer
from skexplain.explainers import (
    CLIME,
    LIME,
    FeatureAblation,
    Gradient,
    GradientSHAP,
    GradientXInput,
    IntegratedGradients,
    KernelSHAP,
    KernelSmoothGrad,
    RelEx,
    ShapleySampling,
    SmoothGrad,
    UniGrad,
)
from skexplain.models import FunctionModel


# ----------------------------------------------------------------- models
def predict(X):
    return np.sin(X).sum(axis=1) + 0.05 * X.sum(axis=1) ** 2


def gradient(X):
    return np.cos(X) + 0.1 * X.sum(axis=1)[:, None]


def proba(X):
    p = 1.0 / (1.0 + np.exp(-predict(X)))
    return np.c_[1.0 - p, p]


MODEL = FunctionModel(predict=predict, gradient=gradient)

#: One factory per public estimator (keyword arguments go to the constructor).
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
    "FeatureAblation": lambda **kw: FeatureAblation(MODEL, baseline="mean", **kw),
    "GradientSHAP": lambda **kw: GradientSHAP(MODEL, n_samples=10, random_state=0, **kw),
    "ShapleySampling": lambda **kw: ShapleySampling(MODEL, n_permutations=4, random_state=0,
                                                    **kw),
    "RelEx": lambda **kw: RelEx(FunctionModel(predict=proba), n_noise=4, n_iter=4,
                                random_state=0, **kw),
    "OptimizedExplainer": lambda **kw: OptimizedExplainer(u=0.8, eta_frac=0.3,
                                                          grad_fn=gradient, **kw),
}


# ------------------------------------------------------------ references
def brute_robustness(X, E, u, kind, squared=False, include_self=False):
    """Per-point robustness loss by explicit loops over pairs (independent
    of the package)."""
    n = len(X)
    total = []
    for i in range(n):
        vals = []
        for j in range(n):
            dx = np.linalg.norm(X[i] - X[j])
            if i == j or dx > u:
                continue
            de = np.linalg.norm(E[i] - E[j])
            if kind == "max_sensitivity":
                vals.append(de)
            elif kind == "local_stability":
                vals.append(de / dx)
            else:
                vals.append(de ** 2 if squared else de)
        if not vals:
            total.append(0.0)
        elif kind == "average_sensitivity":
            total.append(np.sum(vals) / (len(vals) + (1 if include_self else 0)))
        else:
            total.append(max(vals))
    return np.array(total)


def rbf_problem(n, d, seed, k=6, width=0.25):
    """Uniform random points in the unit cube and the gradient field of a
    random mixture of ``k`` Gaussian bumps (not a grid: random problems)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    C = rng.uniform(size=(k, d))
    a = rng.normal(size=k) * 3
    diff = X[:, None, :] - C[None]
    w = np.exp(-np.sum(diff ** 2, axis=2) / (2 * width ** 2))
    G = -np.einsum("nk,nkd->nd", a * w, diff) / width ** 2
    return X, G


def reference_optimum(X, G, u, robustness, eta_frac, *, faithfulness="global",
                      squared=False, include_self=False, weight=None):
    """The optimum by the paper's per-pair formulation (one cvxpy constraint
    per pair, written independently of the package's program), solved by
    Clarabel at tight tolerances. ``weight(distance)`` turns max-sensitivity
    into a weighted max. Returns ``(value, status)``."""
    import cvxpy as cp

    n, d = G.shape
    E = cp.Variable((n, d))
    objective, constraints = 0, []
    for i in range(n):
        nbrs = [(j, np.linalg.norm(X[i] - X[j])) for j in range(n)
                if j != i and np.linalg.norm(X[i] - X[j]) <= u]
        if not nbrs:
            continue
        if robustness == "average_sensitivity":
            terms = [cp.sum_squares(E[i] - E[j]) if squared else cp.norm(E[i] - E[j])
                     for j, _ in nbrs]
            objective += sum(terms) / (len(nbrs) + (1 if include_self else 0))
            continue
        t = cp.Variable()
        for j, dist in nbrs:
            w = 1.0 / dist if robustness == "local_stability" else 1.0
            w = weight(dist) if weight is not None else w
            constraints.append(w * cp.norm(E[i] - E[j]) <= t)
        objective += t
    dev = np.sum((G - G.mean(axis=0)) ** 2, axis=1)
    if faithfulness == "global":
        constraints.append(cp.sum_squares(G - E) <= eta_frac * dev.sum())
    else:
        constraints += [cp.sum_squares(G[i] - E[i]) <= eta_frac * dev[i] for i in range(n)]
    prob = cp.Problem(cp.Minimize(objective), constraints)
    # tight tolerances first; Clarabel's defaults (1e-8) where it cannot reach them
    for tol in (1e-10, 1e-8):
        try:
            prob.solve(solver="CLARABEL", tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol,
                       max_iter=500)
        except cp.SolverError:
            continue
        if prob.status == "optimal":
            break
    return (float(prob.value), prob.status) if prob.value is not None else (np.nan, "failed")


# --------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def estimators():
    """Name -> factory of every public estimator."""
    return ESTIMATORS


@pytest.fixture(scope="session")
def brute():
    """:func:`brute_robustness`."""
    return brute_robustness


@pytest.fixture(scope="session")
def module_gradient():
    """The module-level (picklable) gradient of :data:`MODEL`."""
    return gradient


@pytest.fixture(scope="session")
def random_problem():
    """:func:`rbf_problem`."""
    return rbf_problem


@pytest.fixture(scope="session")
def reference():
    """:func:`reference_optimum`."""
    return reference_optimum


def pytest_generate_tests(metafunc):
    """``estimator_name``: every public estimator; ``explainer_name``: the
    classic explainers (all but OptimizedExplainer)."""
    if "estimator_name" in metafunc.fixturenames:
        metafunc.parametrize("estimator_name", list(ESTIMATORS))
    if "explainer_name" in metafunc.fixturenames:
        metafunc.parametrize("explainer_name",
                             [k for k in ESTIMATORS if k != "OptimizedExplainer"])
