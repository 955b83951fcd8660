"""Hardening, round two: units and magnitudes of X, state, errors that name the argument."""

import warnings

import numpy as np
import pytest

from skexplain import OptimizedExplainer
from skexplain.metrics import robustness_loss

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
G = np.sin(X) + X


def fit_quiet(est, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(*args)


@pytest.mark.parametrize("scale", [1e-170, 1e-40, 1e40, 1e160, 1e300])
def test_units_of_x_do_not_change_the_answer(scale):
    # powers of ten are not exact in binary, so X * scale / scale != X in the
    # last bit: the answers agree to rounding, the graphs exactly
    for kw, kws in (({}, {}), (dict(u=1.0), dict(u=1.0 * scale)),
                    (dict(u="auto"), dict(u="auto"))):
        ref = fit_quiet(OptimizedExplainer(**kw), X, G)
        got = fit_quiet(OptimizedExplainer(**kws), X * scale, G)
        np.testing.assert_allclose(got.explanations_, ref.explanations_, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(got.n_neighbors_, ref.n_neighbors_)
        if kw.get("u") == "auto":
            assert got.u_ == pytest.approx(ref.u_ * scale, rel=1e-12)
    Xn = X[:4] + 0.1
    np.testing.assert_allclose(got.transform(Xn * scale, grad_fn=G[:4]),
                               ref.transform(Xn, grad_fn=G[:4]), rtol=1e-9, atol=1e-12)
    # the metrics: max-sensitivity does not see the units, local stability
    # divides by the distances
    a = robustness_loss("max_sensitivity", X * scale, G, u=1.0 * scale)
    assert a == pytest.approx(robustness_loss("max_sensitivity", X, G, u=1.0), rel=1e-12)
    b = robustness_loss("local_stability", X * scale, G, u=1.0 * scale)
    assert b * scale == pytest.approx(robustness_loss("local_stability", X, G, u=1.0),
                                      rel=1e-9)


def test_distances_that_overflow_are_refused_by_name():
    Xo = np.array([[-1.5e308, 0.0], [1.5e308, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="distances between points overflow"):
        robustness_loss("max_sensitivity", Xo, np.ones_like(Xo), n_neighbors=1)
