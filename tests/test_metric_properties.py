"""Hypothesis properties of the robustness losses."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skexplain.metrics import robustness_loss

METRIC = st.sampled_from(["max_sensitivity", "local_stability", "average_sensitivity"])


@st.composite
def problems(draw):
    n = draw(st.integers(2, 25))
    d = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    E = rng.normal(scale=draw(st.floats(1e-3, 1e3)), size=(n, d))
    u = draw(st.floats(0.05, 3.0))
    return X, E, u, rng


@settings(max_examples=60, deadline=None)
@given(problems(), METRIC, st.booleans())
def test_equals_pairwise_loops(brute, problem, metric, squared):
    X, E, u, _ = problem
    got = robustness_loss(metric, X, E, u=u, squared=squared, per_point=True)
    np.testing.assert_allclose(got, brute(X, E, u, metric, squared), rtol=1e-10,
                               atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(problems(), METRIC, st.floats(-5, 5))
def test_permutation_invariance_and_homogeneity(problem, metric, c):
    X, E, u, rng = problem
    perm = rng.permutation(len(X))
    base = robustness_loss(metric, X, E, u=u)
    assert np.isclose(robustness_loss(metric, X[perm], E[perm], u=u), base,
                      rtol=1e-10, atol=1e-12)
    # |c|-homogeneous and blind to a common shift of all explanations
    shifted = c * E + rng.normal(size=E.shape[1])
    assert np.isclose(robustness_loss(metric, X, shifted, u=u), abs(c) * base,
                      rtol=1e-8, atol=1e-9 * (1 + base))
