"""The first-order (PDHG) solver against the conic solvers (issue 6)."""

import warnings

import numpy as np
import pytest

from skexplain import OptimizedExplainer
from skexplain.exceptions import InaccurateSolutionWarning, NoNeighborsWarning
from skexplain.optimize._first_order import _GroupedBall

METRICS = ["max_sensitivity", "local_stability", "average_sensitivity"]
pytestmark = pytest.mark.filterwarnings("ignore::skexplain.exceptions.NoNeighborsWarning")


def problem(n=150, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    G = np.c_[np.sin(4 * X[:, 0]), X[:, 1] ** 2, X[:, 2] * X[:, 0]] + 0.1 * rng.normal(
        size=(n, 3))
    return X, G


@pytest.mark.parametrize("faithfulness", ["global", "pointwise"])
@pytest.mark.parametrize("metric", METRICS + ["squared"])
def test_pdhg_matches_clarabel(metric, faithfulness):
    X, G = problem(seed=METRICS.index(metric) if metric in METRICS else 5)
    kw = dict(robustness="average_sensitivity", squared=True) if metric == "squared" else dict(
        robustness=metric)
    ref = OptimizedExplainer(u=0.3, eta_frac=0.2, faithfulness=faithfulness, **kw).fit(X, G)
    fo = OptimizedExplainer(u=0.3, eta_frac=0.2, faithfulness=faithfulness, solver="PDHG",
                            **kw).fit(X, G)
    rel = abs(fo.robustness_loss_ - ref.robustness_loss_) / ref.robustness_loss_
    assert rel <= 1e-4
    assert fo.faithfulness_loss_ <= fo.eta_ * (1 + 1e-6)
    if faithfulness == "pointwise":
        used = np.sum((fo.explanations_ - G) ** 2, axis=1)
        assert np.all(used <= fo.point_budgets_ * (1 + 1e-6))
    stats = fo.solver_stats_
    assert stats["solver"] == "PDHG" and stats["num_iters"] > 0
    assert 0 <= stats["gap"] <= 1e-4 * max(1.0, fo.robustness_loss_ / fo.gradient_scale_)


def test_pdhg_warns_at_max_iter_and_reports():
    X, G = problem()
    with pytest.warns(InaccurateSolutionWarning, match="max_iter"):
        est = OptimizedExplainer(u=0.3, solver="pdhg",
                                 solver_options={"max_iter": 10, "tol": 1e-12}).fit(X, G)
    assert est.status_ == "optimal_inaccurate"
    assert est.solver_stats_["num_iters"] == 10
    assert est.faithfulness_loss_ <= est.eta_      # still feasible
    # new points still work (their small problems go to the conic solver)
    assert est.transform(X[:4] + 1e-3, grad_fn=G[:4]).shape == (4, 3)


def _project_brute(z, a):
    """min ||t - z||^2 s.t. a.t <= 1, t >= 0, by bisection on theta."""
    if a @ z <= 1:
        return z
    lo, hi = 0.0, float(np.max(z / a))
    for _ in range(200):
        th = (lo + hi) / 2
        if a @ np.maximum(z - th * a, 0) > 1:
            lo = th
        else:
            hi = th
    return np.maximum(z - hi * a, 0)


def test_grouped_weighted_ball_projection_by_bisection():
    rng = np.random.default_rng(2)
    src = np.repeat(np.arange(30), rng.integers(1, 7, size=30))
    z = rng.exponential(size=src.size) * rng.choice([0.1, 1.0], size=src.size)
    a = rng.uniform(0.2, 3.0, size=src.size)
    t = _GroupedBall(src, a, 30)(z)
    for i in range(30):
        sel = src == i
        np.testing.assert_allclose(t[sel], _project_brute(z[sel], a[sel]), atol=1e-10)


def test_pdhg_options_are_checked():
    X, G = problem()
    with pytest.raises(ValueError, match="not options of solver='PDHG'"):
        OptimizedExplainer(u=0.3, solver="pdhg", solver_options={"eps_abs": 1e-6}).fit(X, G)
    with pytest.raises(ValueError, match="tol"):
        OptimizedExplainer(u=0.3, solver="pdhg", solver_options={"tol": 0.0}).fit(X, G)
    with pytest.raises(ValueError, match="max_iter"):
        OptimizedExplainer(u=0.3, solver="pdhg", solver_options={"max_iter": 0}).fit(X, G)


def test_knn_graph_is_symmetric_and_sparse():
    from skexplain.neighbors import knn_neighbor_graph
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    g = knn_neighbor_graph(X, 3)
    pairs = set(zip(g.src.tolist(), g.dst.tolist()))
    assert all((j, i) in pairs for i, j in pairs)
    assert g.degree.min() >= 3 and np.all(np.diff(g.src) >= 0)
    # every point's 3 nearest are among its neighbours
    from sklearn.neighbors import NearestNeighbors
    idx = NearestNeighbors(n_neighbors=3).fit(X).kneighbors(return_distance=False)
    assert all((i, int(j)) in pairs for i in range(60) for j in idx[i])
    np.testing.assert_allclose(g.dist, np.linalg.norm(X[g.src] - X[g.dst], axis=1))
    with pytest.raises(ValueError, match="n_neighbors"):
        knn_neighbor_graph(X, 60)
    # a duplicated point keeps its zero-distance edge, in both directions
    Xd = np.vstack([X, X[:1]])
    gd = knn_neighbor_graph(Xd, 2)
    zero = gd.dist == 0
    assert set(zip(gd.src[zero].tolist(), gd.dst[zero].tolist())) == {(0, 60), (60, 0)}
