"""Fitted estimators survive pickle and joblib; the same seed gives the same
explanations whatever n_jobs and batch_size (the chunk size of model calls)."""

import pickle

import joblib
import numpy as np
import pytest

from skexplain import OptimizedExplainer

try:                                  # joblib >= 1.5 depends on it; older ones vendor it
    import cloudpickle
except ImportError:                   # pragma: no cover
    from joblib.externals import cloudpickle

pytestmark = pytest.mark.filterwarnings("ignore::skexplain.exceptions.NoNeighborsWarning")
RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, size=(24, 3))
X_NEW = RNG.uniform(-1, 1, size=(9, 3))


def _explain(est):
    return np.asarray(est.transform(X_NEW))


def test_pickle_and_joblib_round_trips(estimator_name, estimators, tmp_path):
    est = estimators[estimator_name]().fit(X)
    expected = _explain(est)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_explain(back), expected)
    joblib.dump(est, tmp_path / "est.joblib")
    np.testing.assert_array_equal(_explain(joblib.load(tmp_path / "est.joblib")), expected)


def test_a_lambda_gradient_needs_cloudpickle():
    est = OptimizedExplainer(u=0.8, grad_fn=lambda Z: np.cos(Z)).fit(X)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(est)
    back = cloudpickle.loads(cloudpickle.dumps(est))      # what joblib workers use
    np.testing.assert_array_equal(back.transform(X_NEW), est.transform(X_NEW))
    # or keep only arrays: fit on the gradients and pass new gradients to transform
    arrays = OptimizedExplainer(u=0.8).fit(X, np.cos(X))
    back = pickle.loads(pickle.dumps(arrays))
    np.testing.assert_array_equal(back.transform(X_NEW, grad_fn=np.cos(X_NEW)),
                                  est.transform(X_NEW))


def test_same_seed_same_explanations_whatever_n_jobs_and_batch_size(explainer_name,
                                                                    estimators):
    make = estimators[explainer_name]
    ref = _explain(make().fit(X))
    for kw in ({"batch_size": 1}, {"batch_size": 7}, {"n_jobs": 2}, {"n_jobs": 2, "batch_size": 5}):
        np.testing.assert_array_equal(_explain(make(**kw).fit(X)), ref,
                                      err_msg=str(kw))


def test_optimized_explainer_same_whatever_n_jobs_and_batch_size(module_gradient, monkeypatch):
    from skexplain.optimize import _budgets

    # three separate clusters, one block each: fit really runs its blocks in
    # two workers with n_jobs=2
    monkeypatch.setattr(_budgets, "MIN_BLOCK_EDGES", 1)
    rng = np.random.default_rng(5)
    Xc = np.vstack([rng.uniform(-0.4, 0.4, size=(10, 3)) + 5.0 * k for k in range(3)])
    kw0 = dict(u=0.8, eta_frac=0.3, faithfulness="pointwise", grad_fn=module_gradient)
    ref = OptimizedExplainer(**kw0).fit(Xc)
    assert ref.solver_stats_["n_blocks"] == 3
    Xn = Xc[::4] + 0.05
    for kw in ({"batch_size": 5}, {"n_jobs": 2}, {"n_jobs": 2, "solver": "PDHG"}):
        est = OptimizedExplainer(**kw0, **kw).fit(Xc)
        base = ref if "solver" not in kw else OptimizedExplainer(**kw0, solver="PDHG").fit(Xc)
        assert est.solver_stats_["n_blocks"] == 3
        np.testing.assert_array_equal(est.explanations_, base.explanations_)
        np.testing.assert_array_equal(est.transform(Xn), base.transform(Xn))


@pytest.mark.parametrize("make", [
    lambda lr: __import__("skexplain.explainers", fromlist=["x"]).Gradient(lr, target=1),
    lambda lr: __import__("skexplain.explainers", fromlist=["x"]).KernelSHAP(
        lr, n_samples=20, random_state=0, target=1),
    lambda lr: __import__("skexplain.explainers", fromlist=["x"]).SmoothGrad(
        lr, n_samples=5, random_state=0, target=1),
    lambda lr: __import__("skexplain", fromlist=["x"]).OptimizedExplainer(model=lr, target=1),
], ids=["Gradient", "KernelSHAP", "SmoothGrad", "OptimizedExplainer"])
def test_fitted_estimators_round_trip_through_skops(make, tmp_path):
    sio = pytest.importorskip("skops.io")
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    est = make(LogisticRegression(max_iter=500).fit(X, y)).fit(X[::3])
    path = tmp_path / "est.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    # nothing outside skexplain and scikit-learn needs trusting
    assert all(t.startswith(("skexplain.", "sklearn.")) for t in untrusted), untrusted
    with pytest.raises(Exception):                 # refused until trusted
        sio.load(path)
    back = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(back.transform(X[:7]), est.transform(X[:7]))
