"""OptimizedExplainer and its convex program."""

import pickle
import warnings

import cvxpy as cp
import numpy as np
import pytest

from skexplain import OptimizedExplainer
from skexplain.datasets import get_test_function, make_paper_problem
from skexplain.exceptions import (
    NoNeighborsWarning,
    SolverError,
    SolverFallbackWarning,
)
from skexplain.metrics import faithfulness_loss, robustness_loss
from skexplain.neighbors import radius_neighbor_graph
from skexplain.losses import MaxSensitivity
from skexplain.optimize import (
    AutoSolver,
    ExplanationProblem,
    GlobalBudget,
    Status,
    _conic,
    _solvers,
    get_solver,
)
from skexplain.optimize._reference import pairwise_reference_problem

METRICS = ["max_sensitivity", "local_stability", "average_sensitivity"]


def gradient_sin(X):
    return np.cos(np.asarray(X, dtype=float))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(40, 3))   # connected at u = 1
    return X, gradient_sin(X) * 3 + X


# ------------------------------------------------------------ correctness
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("faithfulness", ["global", "pointwise"])
def test_objective_matches_pairwise_reference(metric, faithfulness):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(14, 2))
    G = np.c_[np.sin(3 * X[:, 0]), X[:, 1] ** 2]
    est = OptimizedExplainer(metric, u=0.8, eta_frac=0.3,
                             faithfulness=faithfulness).fit(X, G)
    eta = 0.3 if faithfulness == "pointwise" else est.eta_
    prob, _ = pairwise_reference_problem(X, G, 0.8, metric, eta,
                                         faithfulness=faithfulness)
    prob.solve(solver="CLARABEL")
    assert est.robustness_loss_ == pytest.approx(prob.value, rel=1e-5, abs=1e-7)


def test_squared_average_sensitivity_matches_reference(data):
    X, G = data
    X, G = X[:15], G[:15]
    est = OptimizedExplainer("average_sensitivity", u=1.5, squared=True).fit(X, G)
    prob, _ = pairwise_reference_problem(X, G, 1.5, "average_sensitivity",
                                         est.eta_, squared=True)
    prob.solve(solver="CLARABEL")
    assert est.robustness_loss_ == pytest.approx(prob.value, rel=1e-5)


@pytest.mark.parametrize("metric", METRICS)
def test_optimum_uses_budget_and_beats_feasible_baselines(metric, data):
    X, G = data
    est = OptimizedExplainer(metric, u=1.0, eta_frac=0.2).fit(X, G)
    E = est.explanations_
    assert est.n_isolated_ == 0 and est.robustness_loss_ > 0
    L_max = np.sum((G - G.mean(0)) ** 2)
    assert est.max_faithfulness_loss_ == pytest.approx(L_max)
    assert est.eta_ == pytest.approx(0.2 * L_max)
    # the budget is active at the optimum (robustness and faithfulness trade off)
    assert faithfulness_loss(G, E) == pytest.approx(est.eta_, rel=1e-5)
    assert faithfulness_loss(G, E) <= est.eta_          # exactly, not to tolerance
    assert est.faithfulness_loss_ == pytest.approx(faithfulness_loss(G, E))
    # no worse than two feasible explanations: the raw gradient, and the
    # gradient shrunk towards the mean just enough to use the budget
    r = robustness_loss(metric, X, E, u=1.0)
    assert r == pytest.approx(est.robustness_loss_)
    shrunk = G + np.sqrt(0.2) * (G.mean(0) - G)
    assert faithfulness_loss(G, shrunk) == pytest.approx(est.eta_)
    assert r <= robustness_loss(metric, X, G, u=1.0) + 1e-6
    assert r <= robustness_loss(metric, X, shrunk, u=1.0) + 1e-6
    assert est.gradient_robustness_loss_ == pytest.approx(
        robustness_loss(metric, X, G, u=1.0))


def test_pointwise_budgets_hold(data):
    X, G = data
    est = OptimizedExplainer(u=1.0, eta_frac=0.3, faithfulness="pointwise").fit(X, G)
    per_point = faithfulness_loss(G, est.explanations_, per_point=True)
    budget = 0.3 * np.sum((G - G.mean(0)) ** 2, axis=1)
    np.testing.assert_allclose(est.point_budgets_, budget)
    assert np.all(per_point <= budget)                  # exactly, not to tolerance


def test_pointwise_zero_budget_rows_are_fixed():
    # on a symmetric grid x**2 has gradient 0 = mean at the origin
    X, G = make_paper_problem("x2", 2)
    est = OptimizedExplainer(u=2, faithfulness="pointwise").fit(X, G)
    origin = np.flatnonzero(np.all(X == 0, axis=1))[0]
    np.testing.assert_allclose(est.explanations_[origin], 0.0, atol=1e-9)


def test_eta_frac_extremes(data):
    X, G = data
    e0 = OptimizedExplainer(u=1.0, eta_frac=0.0).fit(X, G)
    np.testing.assert_array_equal(e0.explanations_, G)
    assert e0.robustness_loss_ == pytest.approx(e0.gradient_robustness_loss_)
    for frac in (1.0, 3.0):
        e1 = OptimizedExplainer(u=1.0, eta_frac=frac).fit(X, G)
        assert e1.robustness_loss_ == 0.0
        np.testing.assert_allclose(e1.explanations_, np.tile(G.mean(0), (40, 1)))
    # just below 1 the solver itself drives the loss towards zero
    near = OptimizedExplainer(u=1.0, eta_frac=0.95).fit(X, G)
    mid = OptimizedExplainer(u=1.0, eta_frac=0.5).fit(X, G)
    assert near.robustness_loss_ < 0.2 * mid.robustness_loss_


def test_absolute_eta_equals_fraction(data):
    X, G = data
    a = OptimizedExplainer(u=1.0, eta_frac=0.25).fit(X, G)
    b = OptimizedExplainer(u=1.0, eta=a.eta_).fit(X, G)
    assert b.eta_frac_ == pytest.approx(0.25)
    np.testing.assert_allclose(a.explanations_, b.explanations_, atol=1e-8)


def test_robustness_decreases_with_budget(data):
    X, G = data
    losses = [OptimizedExplainer(u=1.0, eta_frac=f).fit(X, G).robustness_loss_
              for f in (0.05, 0.2, 0.5, 0.8)]
    assert all(a > b for a, b in zip(losses, losses[1:]))


def test_scale_and_shift_equivariance(data):
    """Huge gradients are rescaled internally: E(cG + b) = c E(G) + b."""
    X, G = data
    base = OptimizedExplainer(u=1.0).fit(X, G).explanations_
    for c in (1e-6, 1e8):
        big = OptimizedExplainer(u=1.0).fit(X, c * G + 5.0).explanations_
        np.testing.assert_allclose((big - 5.0) / c, base, rtol=1e-5, atol=1e-5)


def test_new_eta_resolves_without_recompiling(data):
    X, G = data
    graph = radius_neighbor_graph(X, 1.0)
    prob = ExplanationProblem(G, graph, MaxSensitivity(), GlobalBudget())
    states, solver = [{}], get_solver("CLARABEL")
    E1 = prob.solve(0.2, solver, states=states).explanations
    program = states[0]["conic"].problem
    assert program.is_dpp()
    compiled = program._cache.param_prog
    assert compiled is not None
    E2 = prob.solve(0.4, solver, states=states).explanations
    assert states[0]["conic"].problem._cache.param_prog is compiled   # same compiled program
    assert faithfulness_loss(G, E2) == pytest.approx(0.4 * prob.max_faithfulness_loss,
                                                     rel=1e-5)
    fresh = OptimizedExplainer(u=1.0, eta_frac=0.4).fit(X, G)
    assert fresh.robustness_loss_ == pytest.approx(
        robustness_loss("max_sensitivity", X, E2, u=1.0), rel=1e-6)
    assert not np.allclose(E1, E2)


def test_callable_and_array_gradients_agree(data):
    X, _ = data
    a = OptimizedExplainer(u=1.0).fit(X, gradient_sin(X))
    b = OptimizedExplainer(u=1.0).fit(X, grad_fn=gradient_sin)
    c = OptimizedExplainer(u=1.0, grad_fn=gradient_sin).fit(X)
    d = OptimizedExplainer(u=1.0, batch_size=7).fit(X, gradient_sin)
    for est in (b, c, d):
        np.testing.assert_array_equal(est.explanations_, a.explanations_)
    np.testing.assert_array_equal(a.fit_transform(X, gradient_sin(X)), a.explanations_)


# ------------------------------------------------------------ transform
@pytest.mark.parametrize("metric", METRICS)
def test_transform_new_points_budget_and_robustness(metric, data):
    X, G = data
    est = OptimizedExplainer(metric, u=1.0, eta_frac=0.3, grad_fn=lambda Z: np.cos(Z) * 3 + Z)
    est.fit(X, grad_fn=lambda Z: np.cos(Z) * 3 + Z)
    rng = np.random.default_rng(7)
    Xn = rng.uniform(-1.0, 1.0, size=(12, 3))
    Gn = np.cos(Xn) * 3 + Xn
    En = est.transform(Xn)
    mean = G.mean(0)
    budget = 0.3 * np.sum((Gn - mean) ** 2, axis=1)
    assert np.all(np.sum((En - Gn) ** 2, axis=1) <= budget * (1 + 1e-6) + 1e-9)
    # each point is at least as robust against its training neighbours as
    # its raw gradient (the gradient is feasible for its own problem)
    g = radius_neighbor_graph(X, 1.0, X_query=Xn)
    for i in range(len(Xn)):
        sl = slice(g.indptr[i], g.indptr[i + 1])
        nb, dist = g.dst[sl], g.dist[sl]
        if not len(nb):
            continue

        def own(e):
            d = np.linalg.norm(est.explanations_[nb] - e, axis=1)
            if metric == "local_stability":
                d = d / dist
            return d.mean() if metric == "average_sensitivity" else d.max()

        assert own(En[i]) <= own(Gn[i]) + 1e-6


@pytest.mark.parametrize("metric", METRICS)
def test_transform_is_independent_per_point_and_of_n_jobs(metric, data):
    # each point is a fresh solve (no solver state carried from the previous
    # point): bit-identical whatever the rows around it or the workers
    X, G = data
    est = OptimizedExplainer(metric, u=1.0, grad_fn=lambda Z: np.cos(Z) * 3 + Z).fit(X)
    Xn = np.random.default_rng(3).uniform(-1.0, 1.0, size=(12, 3))
    full = est.transform(Xn)
    parts = np.vstack([est.transform(Xn[:4]), est.transform(Xn[4:])])
    rev = est.transform(Xn[::-1])[::-1]
    np.testing.assert_array_equal(full, parts)
    np.testing.assert_array_equal(full, rev)
    for n_jobs in (2, -1):
        est2 = OptimizedExplainer(metric, u=1.0, n_jobs=n_jobs).fit(X, G)
        np.testing.assert_array_equal(est2.transform(Xn, grad_fn=np.cos(Xn) * 3 + Xn), full)


def test_transform_of_training_points_returns_fit(data):
    X, G = data
    est = OptimizedExplainer(u=1.0).fit(X, G)
    np.testing.assert_array_equal(est.transform(X, grad_fn=G), est.explanations_)
    # the same point with a different gradient is solved as a new point
    other = est.transform(X[:2], grad_fn=G[:2] + 1.0)
    assert not np.allclose(other, est.explanations_[:2])


def test_transform_zero_budget_and_isolated_points(data):
    X, G = data
    est = OptimizedExplainer(u=1.0, eta_frac=0.0).fit(X, G)
    Xn = np.random.default_rng(4).uniform(-1.0, 1.0, size=(5, 3))
    Gn = np.cos(Xn)
    np.testing.assert_array_equal(est.transform(Xn, grad_fn=Gn), Gn)
    est = OptimizedExplainer(u=1.0).fit(X, G)
    far = np.full((2, 3), 100.0)
    with pytest.warns(NoNeighborsWarning, match="Some new points have no training neighbour"):
        out = est.transform(far, grad_fn=np.ones((2, 3)))
    np.testing.assert_array_equal(out, np.ones((2, 3)))


def test_transform_needs_gradients(data):
    X, G = data
    est = OptimizedExplainer(u=1.0).fit(X, G)
    with pytest.raises(ValueError, match="transform needs the gradients"):
        est.transform(X[:3] + 0.01)
    with pytest.raises(ValueError, match="shape"):
        est.transform(X[:3], grad_fn=np.ones((2, 3)))


# ------------------------------------------------------------ bad input
def test_bad_inputs_raise_clear_errors(data):
    X, G = data
    est = OptimizedExplainer(u=1.0)
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(Xnan, G)
    Gnan = G.copy()
    Gnan[3, 1] = np.inf
    with pytest.raises(ValueError, match="y contains NaN or infinite"):
        est.fit(X, Gnan)
    with pytest.raises(ValueError, match="y must have the same shape as X"):
        est.fit(X, G[:, :2])
    with pytest.raises(ValueError, match="y must have the same shape as X"):
        est.fit(X, G[:-1])
    with pytest.raises(ValueError, match="y must be a 2-D"):
        est.fit(X, G[:, 0])
    with pytest.raises(ValueError, match="either as y .* or as grad_fn"):
        est.fit(X, G, grad_fn=gradient_sin)
    with pytest.raises(ValueError, match="needs a model or its gradients"):
        est.fit(X)
    with pytest.raises(ValueError, match="1 sample"):
        est.fit(X[:1], G[:1])
    with pytest.raises(ValueError, match="2D array"):
        est.fit(X[:, 0], G[:, 0])


def test_bad_gradient_functions(data):
    X, _ = data
    est = OptimizedExplainer(u=1.0)

    def raises(Z):
        raise RuntimeError("model exploded")

    with pytest.raises(ValueError, match="grad_fn raised RuntimeError.*model exploded"):
        est.fit(X, grad_fn=raises)
    with pytest.raises(ValueError, match="grad_fn must return an array of shape"):
        est.fit(X, grad_fn=lambda Z: Z[:, :2])
    with pytest.raises(ValueError, match="grad_fn must return a numpy array"):
        est.fit(X, grad_fn=lambda Z: Z.tolist())
    with pytest.raises(ValueError, match="grad_fn returned complex values"):
        est.fit(X, grad_fn=lambda Z: Z * (1 + 2j))
    with pytest.raises(ValueError, match="output of grad_fn contains NaN"):
        est.fit(X, grad_fn=lambda Z: Z * np.nan)


@pytest.mark.parametrize("param, value", [("u", 0.0), ("u", -1.0), ("eta_frac", -0.1),
                                          ("eta", -1.0), ("robustness", "nope"),
                                          ("solver", "GUROBI"),
                                          ("faithfulness", "local")])
def test_invalid_parameters(param, value, data):
    X, G = data
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        OptimizedExplainer(**{param: value}).fit(X, G)


def test_neighborhood_errors_and_warnings(data):
    X, G = data
    with pytest.raises(ValueError, match="No pair of points lies within u=0.001"):
        OptimizedExplainer(u=0.001).fit(X, G)
    Xo = np.vstack([X, [[50.0, 50.0, 50.0], [-50.0, 0.0, 0.0]]])
    Go = np.vstack([G, [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]])
    with pytest.warns(NoNeighborsWarning, match="Some points have no neighbour within the radius"):
        est = OptimizedExplainer(u=1.0).fit(Xo, Go)
    assert est.n_isolated_ == 2
    assert faithfulness_loss(Go, est.explanations_) <= est.eta_ * (1 + 1e-6)


def test_duplicated_rows(data):
    X, G = data
    Xd, Gd = np.vstack([X, X[:3]]), np.vstack([G, G[:3]])
    est = OptimizedExplainer("max_sensitivity", u=1.0).fit(Xd, Gd)
    assert np.isfinite(est.explanations_).all()
    with pytest.raises(ValueError, match="duplicated rows"):
        OptimizedExplainer("local_stability", u=1.0).fit(Xd, Gd)


# ------------------------------------------------------------ solvers
def test_solver_selection(monkeypatch, data):
    monkeypatch.setattr(_solvers, "mosek_licensed", lambda: False)
    assert [s.name for s in AutoSolver().candidates(10)] == ["CLARABEL", "PDHG"]
    assert get_solver("scs").name == "SCS"
    X, G = data
    with pytest.warns(SolverFallbackWarning, match="no licence"):
        assert OptimizedExplainer(u=1.0, solver="MOSEK").fit(X, G).solver_ == "CLARABEL"
    monkeypatch.setattr(_solvers, "mosek_licensed", lambda: True)
    assert [s.name for s in AutoSolver().candidates(10)] == ["MOSEK", "CLARABEL", "PDHG"]


def test_unlicensed_mosek_fit_falls_back(monkeypatch, data):
    X, G = data
    monkeypatch.setattr(_solvers, "mosek_licensed", lambda: False)
    with pytest.warns(SolverFallbackWarning):
        est = OptimizedExplainer(u=1.0, solver="MOSEK").fit(X, G)
    assert est.solver_ == "CLARABEL"


def test_scs_gives_same_optimum(data):
    X, G = data
    a = OptimizedExplainer(u=1.0).fit(X, G)
    b = OptimizedExplainer(u=1.0, solver="SCS",
                           solver_options={"eps_abs": 1e-9, "eps_rel": 1e-9}).fit(X, G)
    assert b.solver_ == "SCS"
    assert b.robustness_loss_ == pytest.approx(a.robustness_loss_, rel=1e-4)


class _FakeSolution:
    def __init__(self, status):
        self.status = status


def _fake_solve(status=None, exc=None, seen=None):
    def solve(problem, solver, opts, warm_start, verbose):
        if seen is not None:
            seen.append(dict(opts, solver=solver))
        if exc is not None:
            raise exc
        return _FakeSolution(status), None, None
    return solve


def test_clarabel_linear_solver_follows_the_program_size(monkeypatch):
    # qdldl on small programs, Clarabel's own choice on large ones, one thread
    # always; the user's solver_options win either way
    seen = []
    monkeypatch.setattr(_conic, "_solve_quietly", _fake_solve(exc=cp.SolverError("x"), seen=seen))
    for size, opts in ((_conic.CLARABEL_QDLDL_MAX_SIZE - 1, None),
                       (_conic.CLARABEL_QDLDL_MAX_SIZE, None),
                       (10, {"direct_solve_method": "faer"})):
        with pytest.raises(SolverError):
            _conic.run_cvxpy(None, "CLARABEL", opts, size=size)
    assert seen[0] == {"solver": "CLARABEL", "direct_solve_method": "qdldl", "max_threads": 1}
    assert seen[1] == {"solver": "CLARABEL", "max_threads": 1}
    assert seen[2]["direct_solve_method"] == "faer"
    with pytest.raises(SolverError):
        _conic.run_cvxpy(None, "SCS", size=10)
    assert seen[3] == {"solver": "SCS"}


def test_conic_solver_passes_the_block_size(monkeypatch):
    seen = []

    def recording(problem, solver, options=None, *, size=None):
        seen.append(size)
        return run(problem, solver, options, size=size)

    run = _conic.run_cvxpy
    monkeypatch.setattr(_conic, "run_cvxpy", recording)
    X = np.random.default_rng(0).normal(size=(40, 3))
    prob = ExplanationProblem(np.cos(X), radius_neighbor_graph(X, 1.0), MaxSensitivity(),
                              GlobalBudget())
    prob.solve(0.3, get_solver("CLARABEL"))
    assert seen == [int((~prob.graph.isolated).sum()) * 3]


def test_solver_status_handling(monkeypatch):
    monkeypatch.setattr(_conic, "_solve_quietly", _fake_solve("infeasible"))
    with pytest.raises(SolverError, match="status 'infeasible'.*Try another solver") as e:
        _conic.run_cvxpy(None, "CLARABEL")
    assert e.value.status == "infeasible"
    monkeypatch.setattr(_conic, "_solve_quietly", _fake_solve(exc=cp.SolverError("boom")))
    with pytest.raises(SolverError, match="failed"):
        _conic.run_cvxpy(None, "CLARABEL")

    class _Unpackable:
        def unpack(self, solution):
            self._solution = type("S", (), {"attr": {}})()

    monkeypatch.setattr(_conic, "_set_stats", lambda problem, chain: None)
    # statuses travel in the result; no warning is raised inside the library
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.setattr(_conic, "_solve_quietly", _fake_solve("optimal_inaccurate"))
        assert _conic.run_cvxpy(_Unpackable(), "SCS") == Status.INACCURATE
        monkeypatch.setattr(_conic, "_solve_quietly", _fake_solve("optimal"))
        assert _conic.run_cvxpy(_Unpackable(), "SCS") == Status.OPTIMAL


def test_infeasible_solve_surfaces_from_fit(monkeypatch, data):
    X, G = data
    monkeypatch.setattr(_conic, "_solve_quietly", _fake_solve("infeasible"))
    with pytest.raises(SolverError, match="infeasible"):
        OptimizedExplainer(u=1.0, solver="CLARABEL").fit(X, G)
    # solver="auto" tries the next solver and records what it did
    est = OptimizedExplainer(u=1.0).fit(X, G)
    assert est.solver_ == "PDHG" and est.status_ == "optimal"
    assert [a[:2] for a in est.solver_stats_["attempts"]] == [("CLARABEL", "infeasible"),
                                                              ("PDHG", "optimal")]


def test_pickle_round_trip(data):
    X, G = data
    est = OptimizedExplainer(u=1.0, grad_fn=gradient_sin).fit(X)
    back = pickle.loads(pickle.dumps(est))
    Xn = X[:5] + 0.05
    np.testing.assert_array_equal(back.transform(Xn), est.transform(Xn))


def test_fitted_attributes_report_solution(data):
    X, G = data
    est = OptimizedExplainer(u=1.0).fit(X, G)
    assert est.status_ == "optimal" and est.solver_ == "CLARABEL"
    s = est.solver_stats_
    assert 0 < s["solve_time"] <= s["fit_time"] and s["num_iters"] > 0
    np.testing.assert_array_equal(
        est.n_neighbors_, radius_neighbor_graph(X, 1.0).degree)


def test_paper_function_gradients_used():
    f = get_test_function("sin_x3")
    X, G = make_paper_problem("sin_x3", 2)
    np.testing.assert_allclose(G, f.gradient(X))


def test_transform_local_stability_duplicate_with_other_gradient(data):
    X, G = data
    est = OptimizedExplainer("local_stability", u=1.0).fit(X, G)
    with pytest.raises(ValueError, match="coincides with a training point"):
        est.transform(X[:1], grad_fn=G[:1] + 1.0)
    np.testing.assert_array_equal(est.transform(X[:1], grad_fn=G[:1]),
                                  est.explanations_[:1])
