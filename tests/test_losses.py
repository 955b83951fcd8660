"""Every robustness loss in every form: numpy, cvxpy (joint and per point),
the first-order solver's dual block; the registry; a fourth loss added by a
test alone."""

import cvxpy as cp
import numpy as np
import pytest
from dataclasses import replace

from skexplain import OptimizedExplainer, explanation_path
from skexplain.losses import (
    LOSSES,
    AverageSensitivity,
    LocalStability,
    MaxLoss,
    MaxSensitivity,
    RobustnessLoss,
    SumLoss,
    get_loss,
    register_loss,
)
from skexplain.metrics import (
    average_sensitivity,
    get_explanation_scorer,
    make_explanation_scorer,
    robustness_loss,
)
from skexplain.neighbors import radius_neighbor_graph
from skexplain.optimize import PDHGSolver
from skexplain.optimize._pdhg import PairOperator

pytestmark = pytest.mark.filterwarnings(
    "ignore::skexplain.exceptions.NoNeighborsWarning",
    "ignore:Solution may be inaccurate:UserWarning")      # the reference's cvxpy


class GaussianMax(MaxLoss):
    """A toy fourth loss: max-sensitivity discounted by a Gaussian of the distance."""

    name = "gaussian_max"

    def edge_weights(self, graph):
        return np.exp(-graph.dist ** 2 / (2 * 0.4 ** 2))


def gaussian_weight(dist):
    return np.exp(-dist ** 2 / (2 * 0.4 ** 2))


LOSS_OBJECTS = [MaxSensitivity(), LocalStability(), AverageSensitivity(),
                AverageSensitivity(squared=True), AverageSensitivity(include_self=True),
                AverageSensitivity(squared=True, include_self=True), GaussianMax()]


def graph_with_duplicates_and_isolated(seed, duplicates=True):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(30, 3))
    if duplicates:
        X = np.vstack([X, X[:3]])                        # three duplicated rows
    X = np.vstack([X, [[9.0, 9.0, 9.0], [-9.0, 0.0, 0.0]]])   # two isolated points
    E = rng.normal(size=X.shape)
    return X, E, radius_neighbor_graph(X, 0.7)


def brute_loss(loss, X, E, u, brute):
    if isinstance(loss, GaussianMax):
        out = np.zeros(len(X))
        for i in range(len(X)):
            vals = [gaussian_weight(np.linalg.norm(X[i] - X[j])) * np.linalg.norm(E[i] - E[j])
                    for j in range(len(X)) if j != i and np.linalg.norm(X[i] - X[j]) <= u]
            out[i] = max(vals) if vals else 0.0
        return out
    return brute(X, E, u, loss.name, getattr(loss, "squared", False),
                 getattr(loss, "include_self", False))


@pytest.mark.parametrize("loss", LOSS_OBJECTS, ids=repr)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_form_gives_the_same_value(loss, seed, brute):
    X, E, graph = graph_with_duplicates_and_isolated(seed, duplicates=loss.name != "local_stability")
    assert graph.isolated[-2:].all() and graph.n_edges > 0
    # numpy, per point and in total, against loops over pairs
    per_point = loss.point_values(graph, E)
    np.testing.assert_allclose(per_point, brute_loss(loss, X, E, 0.7, brute), rtol=1e-12,
                               atol=1e-14)
    total = loss.value(graph, E)
    assert total == pytest.approx(per_point.sum(), rel=1e-14)
    # cvxpy: the joint objective at E (the max losses' epigraph variables
    # minimised with E fixed)
    w = loss.edge_weights(graph)
    Ev = cp.Variable(E.shape)
    objective, constraints = loss.cvxpy_objective(graph, w, Ev)
    prob = cp.Problem(cp.Minimize(objective), constraints + [Ev == E])
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert prob.value == pytest.approx(total, rel=1e-7)
    # the first-order solver's primal value, from the pair differences
    op = PairOperator(graph.src, graph.dst, w, len(X), np.float64)
    block = loss.dual_block(op, 3.0, np.float64)
    assert block.primal(op.diff(E)) == pytest.approx(total, rel=1e-12)
    # per point: each point's own term against fixed neighbours
    e = cp.Variable(E.shape[1])
    for i in np.flatnonzero(graph.degree > 0)[:8]:
        sl = slice(graph.indptr[i], graph.indptr[i + 1])
        nb, wi = graph.dst[sl], w[sl]
        if loss.power == 1:
            WE = cp.Parameter((nb.size, E.shape[1]), value=wi[:, None] * E[nb])
            wp = cp.Parameter((nb.size, 1), nonneg=True, value=wi[:, None])
            expr = loss.cvxpy_point_objective(e, WE, wp)
            e.value = E[i]
            assert expr.value == pytest.approx(per_point[i], rel=1e-10)
            assert loss.point_closed_form(E[i], 1.0, E[nb], wi) is None
        else:
            # the closed form is the minimiser over the ball: check with cvxpy
            g, r = E[i], 0.3
            got = loss.point_closed_form(g, r, E[nb], wi)
            ref = cp.Problem(cp.Minimize(sum(wi[k] * cp.sum_squares(e - E[nb][k])
                                             for k in range(nb.size))),
                             [cp.norm(e - g) <= r])
            ref.solve(solver="CLARABEL")
            np.testing.assert_allclose(got, e.value, atol=1e-6)


@pytest.mark.parametrize("loss", LOSS_OBJECTS, ids=repr)
def test_dual_block_is_a_valid_dual(loss):
    """Weak duality: for any Z in the conjugate's domain (the prox's output),
    <K^T Z, E> <= F(K E) + F*(Z); the max losses' prox keeps every point's
    dual norms summing to at most 1, average sensitivity's each at most 1."""
    X, E, graph = graph_with_duplicates_and_isolated(3, duplicates=False)
    w = loss.edge_weights(graph)
    op = PairOperator(graph.src, graph.dst, w, len(X), np.float64)
    block = loss.dual_block(op, 3.0, np.float64)
    rng = np.random.default_rng(0)
    for scale in (0.01, 1.0, 100.0):
        V = rng.normal(scale=scale, size=(block.n_blocks, op.p, E.shape[1]))
        Z = block.prox(V.copy())
        if loss.reduction == "max":
            norms = np.linalg.norm(Z, axis=2)
            sums = np.bincount(op.lo, norms[0], len(X)) + np.bincount(op.hi, norms[1], len(X))
            assert np.all(sums <= 1 + 1e-9)
        elif loss.power == 1:
            assert np.all(np.linalg.norm(Z[0], axis=1) <= 1 + 1e-12)
        delta = op.diff(E)
        lhs = float(np.sum(block.weighted(Z) * delta))
        assert lhs <= block.primal(delta) + block.conjugate(Z) + 1e-9 * (1 + abs(lhs))
        # and the adjoint is the transpose of the forward map
        KtZ = op.adjoint(block.weighted(Z))
        assert float(np.sum(KtZ * E)) == pytest.approx(lhs, rel=1e-10, abs=1e-12)


def test_registry_names_instances_and_options():
    assert set(LOSSES) >= {"max_sensitivity", "local_stability", "average_sensitivity"}
    assert get_loss("average_sensitivity", squared=True) == AverageSensitivity(squared=True)
    assert get_loss("max_sensitivity", squared=True) == MaxSensitivity()   # documented: ignored
    own = AverageSensitivity(include_self=True)
    assert get_loss(own) is own and get_loss(own, squared=False) is own
    with pytest.raises(ValueError, match="contradicts"):
        get_loss(AverageSensitivity(), squared=True)
    with pytest.raises(ValueError, match="robustness must be one of .*'nope'"):
        get_loss("nope")
    with pytest.raises(ValueError, match="squared"):
        AverageSensitivity(squared="yes")
    with pytest.raises(TypeError, match="RobustnessLoss subclass"):
        register_loss(int)


def test_a_family_cannot_change_its_reduction_or_power():
    # a "max of squared distances" would be evaluated one way and solved another
    with pytest.raises(TypeError, match="overrides 'power'"):
        class MaxSquared(MaxLoss):
            power = 2
    with pytest.raises(TypeError, match="overrides 'reduction'"):
        class SumAsMax(SumLoss):
            reduction = "max"
    with pytest.raises(NotImplementedError):
        RobustnessLoss().edge_weights(None)


def test_include_self_counts_the_point_in_the_uniform_distribution(brute):
    X = np.array([[0.0], [1.0], [2.0]])
    E = np.array([[0.0], [1.0], [3.0]])
    # point 1 has neighbours 0 and 2: (1 + 2) / 3 with itself, / 2 without
    assert average_sensitivity(X, E, u=1.0, include_self=True, per_point=True).tolist() == [
        0.5, 1.0, 1.0]
    assert average_sensitivity(X, E, u=1.0, per_point=True).tolist() == [1.0, 1.5, 2.0]
    rng = np.random.default_rng(2)
    X, E = rng.uniform(size=(25, 2)), rng.normal(size=(25, 2))
    np.testing.assert_allclose(
        average_sensitivity(X, E, u=0.3, include_self=True, squared=True, per_point=True),
        brute(X, E, 0.3, "average_sensitivity", True, True), rtol=1e-12)


@pytest.mark.parametrize("solver", ["CLARABEL", "PDHG"])
def test_include_self_through_the_optimiser(solver, random_problem, reference):
    X, G = random_problem(40, 2, seed=4)
    loss = AverageSensitivity(include_self=True)
    est = OptimizedExplainer(robustness=loss, u=0.3, eta_frac=0.3, solver=solver).fit(X, G)
    ref, status = reference(X, G, 0.3, "average_sensitivity", 0.3, include_self=True)
    assert status == "optimal"
    assert est.robustness_loss_ == pytest.approx(
        average_sensitivity(X, est.explanations_, u=0.3, include_self=True))
    assert abs(est.robustness_loss_ - ref) <= (1e-6 if solver == "CLARABEL" else 1e-4) * ref


@pytest.mark.parametrize("solver", ["CLARABEL", "PDHG"])
def test_a_fourth_loss_is_one_class_and_one_registry_line(solver, monkeypatch, reference):
    """GaussianMax above is the whole of the new loss: after one registry line
    it works through the estimator (fit and transform), the explanation
    path, the metrics, the scorers, Clarabel and PDHG."""
    monkeypatch.setitem(LOSSES, "gaussian_max", GaussianMax)     # the registry line
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, size=(45, 2))
    G = np.c_[np.sin(3 * X[:, 0]), X[:, 1] ** 2] + 0.1 * rng.normal(size=(45, 2))
    est = OptimizedExplainer("gaussian_max", u=0.5, eta_frac=0.25, solver=solver).fit(X, G)
    assert est.status_ == "optimal" and est.solver_ == solver
    ref, status = reference(X, G, 0.5, "gaussian_max", 0.25, weight=gaussian_weight)
    assert status == "optimal"
    tol = 1e-6 if solver == "CLARABEL" else 1e-4
    assert abs(est.robustness_loss_ - ref) <= tol * ref
    assert est.robustness_loss_ < est.gradient_robustness_loss_
    assert est.faithfulness_loss_ <= est.eta_
    # the metric and the scorers evaluate the same loss by name
    assert robustness_loss("gaussian_max", X, est.explanations_, u=0.5) == pytest.approx(
        est.robustness_loss_, rel=1e-12)
    per_point = GaussianMax().point_values(est.graph_, est.explanations_)
    idx = np.arange(45)
    scorer = make_explanation_scorer("gaussian_max", u=0.5)
    Xn = X + 0.01
    En = est.transform(Xn, grad_fn=G)
    assert scorer(est, Xn, G) == pytest.approx(
        -robustness_loss("gaussian_max", Xn, En, u=0.5) / 45, rel=1e-10)
    assert get_explanation_scorer("neg_gaussian_max")(est, X[idx], G) == pytest.approx(
        -np.mean(per_point), rel=1e-6)
    # the path re-solves the same problem along budgets
    path = explanation_path(X, G, [0.0, 0.25, 1.0], robustness="gaussian_max", u=0.5,
                            solver=solver)
    assert path.robustness_loss[1] == pytest.approx(est.robustness_loss_, rel=tol)
    assert path.robustness_loss[0] > path.robustness_loss[1] > path.robustness_loss[2] == 0.0


def test_local_stability_names_duplicated_rows():
    X, E, graph = graph_with_duplicates_and_isolated(0)
    with pytest.raises(ValueError, match="duplicated rows .*rows (0 and 30|30 and 0)"):
        LocalStability().edge_weights(graph)
    g = replace(graph, dist=np.where(graph.dist == 0, 1.0, graph.dist))
    assert np.all(np.isfinite(LocalStability().edge_weights(g)))


def test_pdhg_runs_on_a_loss_object_directly(random_problem):
    # the solver only talks to the loss through its forms
    X, G = random_problem(60, 2, seed=1)
    graph = radius_neighbor_graph(X, 0.25)
    H = (G - G.mean(0)) / np.sqrt(np.mean(np.sum((G - G.mean(0)) ** 2, axis=1)))
    from skexplain.optimize import GlobalBudget
    for loss in (MaxSensitivity(), AverageSensitivity(squared=True)):
        res = PDHGSolver(tol=1e-8).run(H, graph, loss.edge_weights(graph), loss, GlobalBudget(),
                                       0.2 * len(X))
        assert res.converged and res.lower_bound <= res.objective
        assert res.objective == pytest.approx(loss.value(graph, res.E), rel=1e-12)
        assert np.sum((res.E - H) ** 2) <= 0.2 * len(X) * (1 + 1e-12)
