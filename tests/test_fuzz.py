"""Hypothesis fuzzing: random shapes and values into every public estimator
and the loss functions. Each call either returns finite arrays of the right
shape or raises one of the documented exceptions (ValueError, which covers
scikit-learn's InvalidParameterError and NotFittedError, or SolverError)
-- never a raw error from deep inside numpy or cvxpy."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from skexplain import OptimizedExplainer
from skexplain.exceptions import InaccurateSolutionWarning, NoNeighborsWarning, SolverError
from skexplain.metrics import (
    agreement_rate,
    average_sensitivity,
    faithfulness_loss,
    local_stability,
    max_sensitivity,
)

DOCUMENTED = (ValueError, SolverError)

values = st.one_of(
    st.floats(-3, 3),                                         # ordinary
    st.floats(allow_nan=True, allow_infinity=True, width=64),  # anything at all
    st.sampled_from([0.0, 1e-300, -1e300, 1e150]),
)
# mostly well-formed (n, d) inputs, sometimes 1-D, 3-D or empty
inputs = st.one_of(
    arrays(np.float64, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=7),
           elements=st.floats(-3, 3)),
    arrays(np.float64, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=7),
           elements=values),
    arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
           elements=values),
    arrays(np.int64, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),
           elements=st.integers(-5, 5)),
)
FUZZ = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _check_output(E, X):
    E = np.asarray(E)
    assert E.shape == np.shape(X), f"shape {E.shape} for input {np.shape(X)}"
    assert np.all(np.isfinite(E)), "non-finite explanations returned without an error"


@FUZZ
@given(X=inputs)
def test_estimators_return_finite_arrays_or_raise_documented_errors(estimator_name, estimators,
                                                                   X):
    name = estimator_name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            E = estimators[name]().fit(X).transform(X)
        except DOCUMENTED:
            return
    _check_output(E, X)


@FUZZ
@given(X=inputs, E=inputs, u=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                       st.floats(0.1, 5)))
def test_loss_functions_return_finite_numbers_or_raise_documented_errors(X, E, u):
    for loss in (max_sensitivity, local_stability, average_sensitivity):
        try:
            value = loss(X, E, u=u)
        except DOCUMENTED:
            continue
        assert value >= 0          # (not NaN)
        # +inf only where the true value exceeds the float range
        assert np.isfinite(value) or np.max(np.abs(E)) > 1e150
    try:
        value = faithfulness_loss(X, E)
    except DOCUMENTED:
        return
    assert value >= 0      # inf only when the squared distances overflow a float


@FUZZ
@given(A=inputs, B=inputs, k=st.integers(-1, 5))
def test_agreement_rate_fuzz(A, B, k):
    try:
        res = agreement_rate([A, B], top_k=k)
    except DOCUMENTED:
        return
    assert 0.0 <= res.rate <= 1.0


@FUZZ
@given(data=st.data(), eta_frac=st.sampled_from([0.0, 0.05, 0.3, 1.0, 2.0]),
       faithfulness=st.sampled_from(["global", "pointwise"]),
       solver=st.sampled_from(["CLARABEL", "PDHG"]))
def test_optimized_explainer_with_fuzzed_gradients(data, eta_frac, faithfulness, solver):
    # gradients of any value and magnitude: finite explanations within the
    # budget and no NaN in the reported budgets, or a documented error
    n, d = data.draw(st.integers(2, 7)), data.draw(st.integers(1, 3))
    X = np.random.default_rng(n * 10 + d).normal(size=(n, d))
    G = data.draw(arrays(np.float64, (n, d), elements=values))
    est = OptimizedExplainer(u=10.0, eta_frac=eta_frac, faithfulness=faithfulness,
                             solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        warnings.simplefilter("error", RuntimeWarning)        # no numpy overflow noise
        try:
            est.fit(X, G)
        except DOCUMENTED:
            return
    E = est.explanations_
    assert E.shape == G.shape and np.all(np.isfinite(E))
    assert not np.isnan(est.eta_) and not np.any(np.isnan(est.point_budgets_))
    # the budget, measured in units of the largest deviation (exact for any
    # magnitude down to the subnormal range, where floats are 5e-324 apart and
    # a mean like (5e-324 + 0) / 2 is not representable)
    dev = np.max(np.abs(G - G.mean(axis=0)))
    if 1e-290 < dev < np.inf:
        used = np.sum(((G - E) / dev) ** 2)
        allowed = eta_frac * np.sum(((G - G.mean(axis=0)) / dev) ** 2)
        assert used <= allowed * (1 + 1e-6) + 1e-12
