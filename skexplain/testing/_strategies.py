"""Hypothesis strategies for explanation tests (needs the ``test`` extra)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ._models import KINDS, make_closed_form_model

__all__ = ["backgrounds", "closed_form_models", "covariances", "points", "sklearn_models"]

_seeds = st.integers(0, 2 ** 32 - 1)


def closed_form_models(n_features, *, kinds=KINDS, covariance=None):
    """Draw models with closed-form Gaussian and uniform expectations.

    Parameters
    ----------
    n_features : int
        Input dimension.
    kinds : sequence of str, default=("linear", "quadratic", "sin", "exp")
        The families drawn from.
    covariance : ndarray, optional
        The noise the model will be smoothed with (bounds ``exp``'s tails).

    Returns
    -------
    strategy : SearchStrategy of ClosedFormModel
        Random coefficients, one family at a time.

    Examples
    --------
    >>> from hypothesis import given
    >>> from skexplain.testing import closed_form_models
    >>> @given(closed_form_models(3))
    ... def test_gradient_shape(model):
    ...     assert model.n_features == 3
    >>> test_gradient_shape()
    """
    return st.builds(lambda kind, seed: make_closed_form_model(
        kind, n_features, covariance=covariance, random_state=seed),
        st.sampled_from(list(kinds)), _seeds)


def points(n_features, *, min_points=1, max_points=8, bound=5.0):
    """Draw finite points in ``[-bound, bound]^d``.

    Parameters
    ----------
    n_features : int
        Input dimension.
    min_points, max_points : int, default=1, 8
        Number of rows drawn.
    bound : float, default=5.0
        Largest absolute coordinate.

    Returns
    -------
    strategy : SearchStrategy of ndarray of shape (n, n_features)
        Rows that shrink towards zero.

    Examples
    --------
    >>> from hypothesis import given
    >>> from skexplain.testing import points
    >>> @given(points(2, max_points=3))
    ... def test_rows(X):
    ...     assert X.shape[1] == 2 and 1 <= X.shape[0] <= 3
    >>> test_rows()
    """
    return st.integers(min_points, max_points).flatmap(lambda n: arrays(
        np.float64, (n, n_features),
        elements=st.floats(-bound, bound, allow_nan=False, allow_infinity=False)))


def backgrounds(n_features, *, max_rows=6, bound=3.0):
    """Draw background (reference) rows for Shapley values, or a baseline row.

    Parameters
    ----------
    n_features : int
        Input dimension.
    max_rows : int, default=6
        Largest number of rows.
    bound : float, default=3.0
        Largest absolute coordinate.

    Returns
    -------
    strategy : SearchStrategy of ndarray of shape (n, n_features)
        At least one row.

    Examples
    --------
    >>> from hypothesis import given
    >>> from skexplain.testing import backgrounds
    >>> @given(backgrounds(3))
    ... def test_rows(B):
    ...     assert B.shape[0] >= 1
    >>> test_rows()
    """
    return points(n_features, min_points=1, max_points=max_rows, bound=bound)


def covariances(n_features, *, min_scale=0.1, max_scale=2.0, full=None):
    """Draw covariance matrices ``s^2 (I + B B' / d)`` (full) or ``s^2 I``.

    Parameters
    ----------
    n_features : int
        Dimension.
    min_scale, max_scale : float, default=0.1, 2.0
        Range of ``s``.
    full : bool or None, default=None
        Full or isotropic; ``None``: either.

    Returns
    -------
    strategy : SearchStrategy of ndarray of shape (n_features, n_features)
        Symmetric positive definite matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from skexplain.testing import covariances
    >>> @given(covariances(3))
    ... def test_positive(S):
    ...     assert np.all(np.linalg.eigvalsh(S) > 0)
    >>> test_positive()
    """
    def make(scale, seed, is_full):
        if not is_full:
            return scale ** 2 * np.eye(n_features)
        B = np.random.RandomState(seed).normal(size=(n_features, n_features))
        return scale ** 2 * (np.eye(n_features) + B @ B.T / n_features)

    return st.builds(make, st.floats(min_scale, max_scale), _seeds,
                     st.booleans() if full is None else st.just(bool(full)))


def sklearn_models(n_features, *, kinds=("linear", "logistic", "mlp")):
    """Draw small scikit-learn models fitted on drawn data.

    ``linear``: ``Ridge``; ``logistic``: ``LogisticRegression`` (binary);
    ``mlp``: a one-hidden-layer ``MLPRegressor`` (tanh, a few epochs: the
    weights need to be generic, not converged).

    Parameters
    ----------
    n_features : int
        Input dimension.
    kinds : sequence of str, default=("linear", "logistic", "mlp")
        The model types drawn from.

    Returns
    -------
    strategy : SearchStrategy of fitted estimator
        Fitted on 40 rows of ``N(0, I)`` with a drawn non-linear target.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from skexplain.testing import sklearn_models
    >>> @settings(max_examples=3)
    ... @given(sklearn_models(2))
    ... def test_fitted(model):
    ...     assert model.n_features_in_ == 2
    >>> test_fitted()
    """
    def make(kind, seed):
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.neural_network import MLPRegressor

        rng = np.random.RandomState(seed)
        X = rng.normal(size=(40, n_features))
        y = np.sin(X @ rng.normal(size=n_features)) + 0.3 * X[:, 0]
        if kind == "linear":
            return Ridge(alpha=0.1).fit(X, y)
        if kind == "logistic":
            labels = (y > np.median(y)).astype(int)
            return LogisticRegression().fit(X, labels)
        net = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh",
                           random_state=int(seed % (2 ** 31)))
        for _ in range(20):
            net.partial_fit(X, y)
        return net

    return st.builds(make, st.sampled_from(list(kinds)), _seeds)
