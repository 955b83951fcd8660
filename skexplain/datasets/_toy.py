"""Data sets and models of the SmoothGrad / C-LIME and trade-off papers."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_two_gaussians", "StaircaseFunction"]


def make_two_gaussians(n_samples=1000, *, random_state=None):
    """Agarwal et al.'s simulated data: two Gaussian classes in 2-D.

    Each label ``y`` is 0 or 1 uniformly at random and ``x ~ N(mu_y, I_2)``
    with ``mu_0 = (-1, -1)`` and ``mu_1 = (1, 1)``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    random_state : int, RandomState instance or None, default=None
        Seeds the labels and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        Their integer labels, 0 or 1.

    Examples
    --------
    >>> X, y = make_two_gaussians(4, random_state=0)
    >>> X.shape, sorted(set(y.tolist())) <= [0, 1]
    ((4, 2), True)
    """
    rng = check_random_state(random_state)
    y = rng.randint(0, 2, size=n_samples)
    mu = np.where(y[:, None] == 1, 1.0, -1.0) * np.ones((1, 2))
    return mu + rng.standard_normal((n_samples, 2)), y


class StaircaseFunction:
    """Tan & Tian's section 5.2 toy function (eq. 2), for a step ``delta``.

    With ``k = floor((x1 - x2) / delta)``::

        f(x1, x2) = x1 - n delta   if k = 2n       (gradient (1, 0))
                    x2 + n delta   if k = 2n - 1   (gradient (0, 1))

    ``f`` is continuous, with a gradient that alternates between (1, 0) and
    (0, 1) on diagonal bands of width ``delta``: Gradient and Gradient x
    Input see only one feature, while moving ``x2`` by ``delta`` changes
    ``f``. At the paper's point ``x = (delta, -1.5 delta)``, ``f(x) = 0``.

    Parameters
    ----------
    delta : float, default=1.0
        Width of the bands.

    Examples
    --------
    >>> f = StaircaseFunction(1.0)
    >>> x = np.array([[1.0, -1.5]])
    >>> f(x).tolist(), f.gradient(x).tolist()
    ([0.0], [[1.0, 0.0]])
    >>> f(x + [0.0, 1.0]).tolist()    # x2 + delta = -0.5 -> f = x2 + delta
    [0.5]
    """

    def __init__(self, delta=1.0):
        self.delta = float(delta)

    def _band(self, X):
        X = np.asarray(X, dtype=np.float64)
        k = np.floor((X[:, 0] - X[:, 1]) / self.delta)
        return X, k, np.mod(k, 2) == 0

    def __call__(self, X):
        X, k, even = self._band(X)
        n_even, n_odd = k / 2, (k + 1) / 2
        return np.where(even, X[:, 0] - n_even * self.delta, X[:, 1] + n_odd * self.delta)

    def predict(self, X):
        """The function's values.

        Parameters
        ----------
        X : array-like of shape (n, 2)
            Points.

        Returns
        -------
        values : ndarray of shape (n,)
            ``f(X)``.
        """
        return self(X)

    def gradient(self, X):
        """The exact gradient: ``(1, 0)`` or ``(0, 1)`` by band.

        Parameters
        ----------
        X : array-like of shape (n, 2)
            Points.

        Returns
        -------
        gradients : ndarray of shape (n, 2)
            One-hot rows.
        """
        X, _, even = self._band(X)
        return np.column_stack([even, ~even]).astype(np.float64)

    def point(self):
        """The paper's point ``(delta, -1.5 delta)``.

        Returns
        -------
        x : ndarray of shape (1, 2)
            The point, as one row.
        """
        return np.array([[self.delta, -1.5 * self.delta]])
