"""Fitted estimators survive pickle and joblib; the same seed gives the same
explanations whatever n_jobs and batch_size (the chunk size of model calls)."""

import pickle

import joblib
import numpy as np
import pytest
from _estimators import ESTIMATORS, gradient

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


@pytest.mark.parametrize("name", ESTIMATORS)
def test_pickle_and_joblib_round_trips(name, tmp_path):
    est = ESTIMATORS[name]().fit(X)
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


@pytest.mark.parametrize("name", [k for k in ESTIMATORS if k != "OptimizedExplainer"])
def test_same_seed_same_explanations_whatever_n_jobs_and_batch_size(name):
    ref = _explain(ESTIMATORS[name]().fit(X))
    for kw in ({"batch_size": 1}, {"batch_size": 7}, {"n_jobs": 2}, {"n_jobs": 2, "batch_size": 5}):
        np.testing.assert_array_equal(_explain(ESTIMATORS[name](**kw).fit(X)), ref,
                                      err_msg=str(kw))


def test_optimized_explainer_same_whatever_n_jobs_and_batch_size():
    ref = OptimizedExplainer(u=0.8, eta_frac=0.3, faithfulness="pointwise",
                             grad_fn=gradient).fit(X)
    for kw in ({"batch_size": 5}, {"n_jobs": 2}):
        est = OptimizedExplainer(u=0.8, eta_frac=0.3, faithfulness="pointwise",
                                 grad_fn=gradient, **kw).fit(X)
        np.testing.assert_array_equal(est.explanations_, ref.explanations_)
        np.testing.assert_array_equal(est.transform(X_NEW), ref.transform(X_NEW))
