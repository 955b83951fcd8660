"""n_jobs, joblib backends (dask) and progress bars: results never depend on them."""

import logging
import sys
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, KFold

from skexplain import OptimizedExplainer, explanation_path
from skexplain.explainers import CLIME, SmoothGrad
from skexplain.metrics import get_explanation_scorer, make_explanation_scorer
from skexplain.reproduction import run_agreement, run_equivalence, run_tradeoff
from skexplain.utils._parallel import parallel_map

pytestmark = pytest.mark.filterwarnings("ignore::skexplain.exceptions.NoNeighborsWarning")

RNG = np.random.default_rng(0)
X = RNG.uniform(-2, 2, size=(40, 2))
G = np.cos(X) + 0.3 * X
GRID = {"eta_frac": [0.05, 0.5], "u": [0.8, 1.2],
        "faithfulness": ["global", "pointwise"]}
SCORING = {"faith": get_explanation_scorer("neg_faithfulness_loss"),
           "robust": make_explanation_scorer("max_sensitivity", u=1.0)}
TIMES = ("fit_time", "solve_time", "seconds")


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in TIMES} for r in rows]


def _grid_search(n_jobs):
    gs = GridSearchCV(OptimizedExplainer(), GRID, scoring=SCORING, refit="robust",
                      cv=KFold(3, shuffle=True, random_state=0), n_jobs=n_jobs)
    gs.fit(X, G)
    return gs


def _grid_results(gs):
    return np.array([gs.cv_results_[f"split{k}_test_{s}"] for k in range(3)
                     for s in ("faith", "robust")])


def _seed0_runs(n_jobs):
    """The seed-0 runs compared across n_jobs and backends."""
    gs = _grid_search(n_jobs)
    path = explanation_path(X, G, [0.0, 0.1, 0.3, 0.6, 1.0], u=1.0, n_jobs=n_jobs)
    sg = SmoothGrad(np.cos, sigma=0.3, n_samples=20, random_state=0, n_jobs=n_jobs).fit(X)
    agreement = run_agreement(dims=(2,), functions=("x2", "sin"), n_jobs=n_jobs)
    return {"grid": _grid_results(gs), "best": gs.best_params_,
            "transform": gs.best_estimator_.transform(X[:7], grad_fn=G[:7]),
            "path": path.explanations, "smoothgrad": sg.transform(X),
            "agreement": _strip(agreement)}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            assert a[key] == b[key], key


@pytest.fixture(scope="module")
def single_process():
    return _seed0_runs(n_jobs=1)


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_results_identical_for_any_n_jobs(n_jobs, single_process):
    _assert_same(_seed0_runs(n_jobs), single_process)


def test_reproduction_runners_identical_for_any_n_jobs():
    kw = dict(datasets=("two_gaussians",), sigma2s=(1.0,), n_perturbations=(10, 40),
              max_points=6)
    one = run_equivalence(**kw, n_jobs=1)
    two = run_equivalence(**kw, n_jobs=2)
    assert _strip(one) == _strip(two)
    assert [r["n"] for r in one] == [10, 40]
    kw = dict(sigmas=[0.1, 1.0], max_points=4, n_samples=30, lipschitz_samples=5)
    assert _strip(run_tradeoff(**kw, n_jobs=1)) == _strip(run_tradeoff(**kw, n_jobs=2))


def test_dask_local_cluster_gives_the_single_process_results(single_process):
    distributed = pytest.importorskip("distributed", reason="needs the 'dask' extra")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        with parallel_config(backend="dask"):
            # tasks really run on the cluster's workers
            pids = set(parallel_map(_pid, [()] * 6, n_jobs=2))
            assert len(pids) >= 1 and _pid() not in pids
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # dask's large-graph notes
                results = _seed0_runs(n_jobs=2)
        assert len(client.scheduler_info()["workers"]) == 2
    _assert_same(results, single_process)


def _pid():
    import os
    return os.getpid()


def test_progress_bar_on_stderr_and_off_by_default(capsys):
    pytest.importorskip("tqdm", reason="needs the 'progress' extra")
    assert list(parallel_map(pow, [(2, 2), (3, 2)], desc="squares")) == [4, 9]
    assert capsys.readouterr().err == ""
    explanation_path(X, G, [0.1, 0.2], u=1.0, verbose=1)
    err = capsys.readouterr().err
    assert "explanation path" in err and "0/1" in err


def test_progress_bar_without_tqdm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    with pytest.raises(ImportError, match=r"skexplain\[progress\]"):
        list(parallel_map(pow, [(2, 2)], verbose=1))
    # verbose=0 never needs it
    assert list(parallel_map(pow, [(2, 2)], verbose=0)) == [4]


def test_classic_explainers_in_parallel_equal_single_process():
    # common random numbers survive the split over workers
    sg = SmoothGrad(np.cos, sigma=0.2, n_samples=15, random_state=3, n_jobs=2).fit(X)
    sg1 = SmoothGrad(np.cos, sigma=0.2, n_samples=15, random_state=3).fit(X)
    np.testing.assert_array_equal(sg.transform(X), sg1.transform(X))
    def f(Z):
        return np.sin(Z).sum(1)
    cl2 = CLIME(f, sigma=0.2, n_samples=15, random_state=3, n_jobs=2).fit(X).transform(X)
    cl1 = CLIME(f, sigma=0.2, n_samples=15, random_state=3).fit(X).transform(X)
    np.testing.assert_array_equal(cl2, cl1)


def test_solver_options_pin_threads_unless_the_user_sets_them(monkeypatch):
    from skexplain.optimize import _conic

    seen = []

    def record(problem, solver, opts, warm_start, verbose):
        seen.append(opts)
        raise ValueError("recorded")

    monkeypatch.setattr(_conic, "_solve_quietly", record)
    for solver, options in (("CLARABEL", None), ("MOSEK", {}),
                            ("CLARABEL", {"max_threads": 4, "tol_gap_abs": 1e-9}),
                            ("SCS", {"eps_abs": 1e-6})):
        with pytest.raises(ValueError):
            _conic.run_cvxpy(None, solver, options, size=10 ** 6)
    assert seen[0] == {"max_threads": 1}
    assert seen[1]["mosek_params"] == {"MSK_IPAR_NUM_THREADS": 1}
    assert seen[2] == {"max_threads": 4, "tol_gap_abs": 1e-9}
    assert seen[3] == {"eps_abs": 1e-6}


class _RecordingTqdm:
    """A stand-in for tqdm that records what a bar was told."""

    bars = []

    def __init__(self, total=None, desc=None, file=None, leave=None):
        self.total, self.desc, self.updates, self.closed = total, desc, [], False
        _RecordingTqdm.bars.append(self)

    def update(self, n=1):
        self.updates.append(n)

    def close(self):
        self.closed = True


@pytest.fixture
def recording_tqdm(monkeypatch):
    import types

    _RecordingTqdm.bars = []
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=_RecordingTqdm))
    return _RecordingTqdm.bars


@pytest.mark.parametrize("make", [
    lambda **kw: SmoothGrad(np.cos, sigma=0.2, n_samples=5, random_state=0, **kw),
    lambda **kw: CLIME(lambda Z: np.sin(Z).sum(1), sigma=0.2, n_samples=9, random_state=0,
                       **kw),
], ids=["SmoothGrad", "CLIME"])
def test_explainer_progress_counts_points_and_changes_nothing(make, recording_tqdm):
    quiet = make().fit(X).transform(X[:33])
    loud = make(verbose=1).fit(X).transform(X[:33])
    np.testing.assert_array_equal(loud, quiet)
    (bar,) = recording_tqdm
    assert bar.total == 33 and sum(bar.updates) == 33 and len(bar.updates) == 20
    assert bar.closed and "(points)" in bar.desc


def test_optimized_explainer_progress_counts_new_points(recording_tqdm):
    est = OptimizedExplainer(n_neighbors=5, eta_frac=0.3).fit(X, G)
    quiet = est.transform(X[:25] + 0.05, grad_fn=G[:25])
    loud = est.set_params(verbose=1).transform(X[:25] + 0.05, grad_fn=G[:25])
    np.testing.assert_array_equal(loud, quiet)
    (bar,) = recording_tqdm
    assert bar.total == 25 and sum(bar.updates) == 25 and bar.desc.endswith("new points")


def test_path_chunks_run_largest_budgets_first_and_land_at_their_budgets():
    # 13 budgets in no order: three chunks of the grid, dispatched largest
    # budgets first; each budget's explanations come back to its own slot
    # (the budget binds below 1: faithfulness equals eta) whatever n_jobs
    fracs = np.array([0.3, 0.0, 0.02, 0.7, 0.1, 1.0, 0.05, 0.5, 0.2, 0.01, 0.9, 0.4, 0.15])
    one = explanation_path(X, G, fracs, u=1.0, n_jobs=1)
    two = explanation_path(X, G, fracs, u=1.0, n_jobs=2)
    np.testing.assert_array_equal(one.explanations, two.explanations)
    inner = (fracs > 0) & (fracs < 1)
    np.testing.assert_allclose(one.faithfulness_loss[inner], one.eta[inner], rtol=1e-6)
    np.testing.assert_array_equal(one.explanations[fracs == 0][0], G)
