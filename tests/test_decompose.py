"""Splitting the transductive problem into independent sub-problems."""

import warnings

import numpy as np
import pytest

from skexplain import OptimizedExplainer
from skexplain.exceptions import NoNeighborsWarning
from skexplain.metrics import robustness_loss
from skexplain.neighbors import radius_neighbor_graph
from skexplain.losses import get_loss
from skexplain.optimize import ExplanationProblem, PointwiseBudget, _budgets, get_solver

METRICS = ["max_sensitivity", "local_stability", "average_sensitivity"]


def joint(G, graph, metric, budget, eta_frac):
    """The whole problem as one program (isolated points included), Clarabel."""
    class Joint(type(budget)):
        def split(self, graph):
            return [np.arange(graph.n_queries)]

    problem = ExplanationProblem(G, graph, get_loss(metric), Joint())
    return problem.solve(eta_frac, get_solver("CLARABEL")).explanations


def clusters(n_per=(12, 15, 9), gap=10.0, d=2, seed=0):
    """Well separated clusters (one component each at u = 1) plus 2 lone points."""
    rng = np.random.default_rng(seed)
    parts = [rng.uniform(0, 1.2, size=(n, d)) + k * gap for k, n in enumerate(n_per)]
    lone = np.array([[-gap] * d, [-2 * gap] * d], dtype=float)
    X = np.vstack(parts + [lone])
    G = np.c_[np.sin(2 * X[:, 0]), X[:, 1] ** 2 / 50] + rng.normal(scale=0.3, size=(len(X), d))
    return X, G


def test_component_blocks(monkeypatch):
    X, G = clusters()
    g = radius_neighbor_graph(X, 1.0)
    monkeypatch.setattr(_budgets, "MIN_BLOCK_EDGES", 1)
    loss = get_loss("max_sensitivity")
    pointwise = ExplanationProblem(G, g, loss, PointwiseBudget())
    assert [b.tolist() for b in pointwise.blocks] == [
        list(range(0, 12)), list(range(12, 27)), list(range(27, 36))]
    glob = ExplanationProblem(G, g, loss, _budgets.GlobalBudget())
    assert [b.tolist() for b in glob.blocks] == [list(range(36))]
    # with the default threshold the small components are grouped into one block
    monkeypatch.undo()
    grouped = ExplanationProblem(G, g, loss, PointwiseBudget())
    assert [b.tolist() for b in grouped.blocks] == [list(range(36))]


@pytest.mark.parametrize("metric", METRICS)
def test_split_pointwise_equals_joint_program(metric, monkeypatch):
    X, G = clusters()
    monkeypatch.setattr(_budgets, "MIN_BLOCK_EDGES", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        est = OptimizedExplainer(metric, u=1.0, eta_frac=0.3,
                                 faithfulness="pointwise").fit(X, G)
    assert est.solver_stats_["n_blocks"] == 3
    # the joint program on all points, isolated ones included
    g = radius_neighbor_graph(X, 1.0)
    E_joint = joint(G, g, metric, PointwiseBudget(), 0.3)
    r_split = robustness_loss(metric, X, est.explanations_, u=1.0)
    r_joint = robustness_loss(metric, X, E_joint, u=1.0)
    assert r_split == pytest.approx(r_joint, rel=1e-6)
    # every point within its own budget, exactly
    used = np.sum((est.explanations_ - G) ** 2, axis=1)
    assert np.all(used <= est.point_budgets_)
    # isolated points keep their gradient
    np.testing.assert_array_equal(est.explanations_[-2:], G[-2:])


def test_isolated_points_keep_gradient_under_global_budget():
    X, G = clusters()
    G[-2:] = G[:-2].mean(axis=0) + [0.1, -0.1]  # lone points hold little of L_max
    with pytest.warns(NoNeighborsWarning, match="n_isolated_ gives how many"):
        est = OptimizedExplainer("average_sensitivity", u=1.0, eta_frac=0.02).fit(X, G)
    assert est.n_isolated_ == 2
    np.testing.assert_array_equal(est.explanations_[-2:], G[-2:])
    assert est.solver_stats_["n_blocks"] == 1
    # the whole budget goes to the points that can use it
    assert est.faithfulness_loss_ == pytest.approx(est.eta_, rel=1e-6)
    # same optimum as the joint program with the isolated points inside
    g = radius_neighbor_graph(X, 1.0)
    E_joint = joint(G, g, "average_sensitivity", _budgets.GlobalBudget(), 0.02)
    assert est.robustness_loss_ == pytest.approx(
        robustness_loss("average_sensitivity", X, E_joint, u=1.0), rel=1e-6)


@pytest.mark.parametrize("metric", METRICS)
def test_split_results_do_not_depend_on_n_jobs(metric, monkeypatch):
    X, G = clusters()
    monkeypatch.setattr(_budgets, "MIN_BLOCK_EDGES", 1)
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        for n_jobs in (1, 2, -1):
            est = OptimizedExplainer(metric, u=1.0, eta_frac=0.3, faithfulness="pointwise",
                                     n_jobs=n_jobs).fit(X, G)
            fits.append(est.explanations_)
    np.testing.assert_array_equal(fits[0], fits[1])
    np.testing.assert_array_equal(fits[0], fits[2])
