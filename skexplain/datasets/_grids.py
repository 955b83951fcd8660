"""Equidistant grids on [-5, 5]^D and the radii the paper uses on them."""

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ..neighbors._graph import RADIUS_RTOL
from ._functions import get_test_function

__all__ = ["PAPER_RADII", "make_grid", "make_paper_problem", "paper_grid", "valid_radii"]

#: Radii considered by the paper (appendix A).
PAPER_RADII = (1.0, 2.0, 3.0, 5.0, 10.0)

# points per axis giving N = 80, 81, 125, 81 for D = 1..4 (appendix A)
_PAPER_POINTS_PER_AXIS = {1: 80, 2: 9, 3: 5, 4: 3}


def make_grid(n_per_axis, n_features, *, low=-5.0, high=5.0):
    """Regular grid with ``n_per_axis`` points per axis on ``[low, high]^D``.

    Parameters
    ----------
    n_per_axis : int
        Points per axis.
    n_features : int
        ``D``.
    low, high : float, default=-5.0, 5.0
        The grid's range on every axis.

    Returns
    -------
    X : ndarray of shape (n_per_axis ** n_features, n_features)
        Rows in lexicographic order (the first feature varies slowest).

    Examples
    --------
    >>> from skexplain.datasets import make_grid
    >>> make_grid(2, 2, low=0.0, high=1.0)
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    """
    if int(n_per_axis) < 1 or int(n_features) < 1:
        raise ValueError(
            "n_per_axis and n_features must be positive integers; got "
            f"{n_per_axis!r} and {n_features!r}."
        )
    axis = np.linspace(low, high, int(n_per_axis))
    mesh = np.meshgrid(*([axis] * int(n_features)), indexing="ij")
    return np.stack(mesh, axis=-1).reshape(-1, int(n_features))


def paper_grid(n_features):
    """The paper's grid for ``D = n_features`` in 1..4 (N = 80, 81, 125, 81).

    Parameters
    ----------
    n_features : {1, 2, 3, 4}
        ``D``.

    Returns
    -------
    X : ndarray of shape (N, D)
        The grid on ``[-5, 5]^D`` (Raedler et al., appendix A).

    Examples
    --------
    >>> from skexplain.datasets import paper_grid
    >>> [paper_grid(d).shape for d in (1, 2, 3, 4)]
    [(80, 1), (81, 2), (125, 3), (81, 4)]
    """
    if n_features not in _PAPER_POINTS_PER_AXIS:
        raise ValueError(f"n_features must be 1, 2, 3 or 4; got {n_features!r}.")
    return make_grid(_PAPER_POINTS_PER_AXIS[n_features], n_features)


def valid_radii(X, radii=PAPER_RADII):
    """The radii within which every point of ``X`` has a neighbour.

    On the paper's grids this gives u in {1, 2, 3, 5, 10} for D = 1,
    {2, 3, 5, 10} for D = 2, {3, 5, 10} for D = 3 and {5, 10} for D = 4, as in
    its appendix A.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The points.
    radii : sequence of float, default=PAPER_RADII
        Candidate radii.

    Returns
    -------
    radii : tuple of float
        Those of ``radii`` at least the largest nearest-neighbour distance.

    Examples
    --------
    >>> from skexplain.datasets import paper_grid, valid_radii
    >>> valid_radii(paper_grid(4))
    (5.0, 10.0)
    """
    X = np.asarray(X, dtype=np.float64)
    d1 = NearestNeighbors(n_neighbors=1).fit(X).kneighbors()[0].max()
    return tuple(float(u) for u in radii if d1 <= u * (1.0 + RADIUS_RTOL))


def make_paper_problem(function, n_features):
    """Grid points and exact gradients of one Table 1 function.

    Parameters
    ----------
    function : str
        A name of :data:`TEST_FUNCTIONS`.
    n_features : {1, 2, 3, 4}
        ``D``.

    Returns
    -------
    X : ndarray of shape (N, D)
        :func:`paper_grid` points.
    gradients : ndarray of shape (N, D)
        The function's exact gradients at ``X``.

    Examples
    --------
    >>> from skexplain.datasets import make_paper_problem
    >>> X, G = make_paper_problem("x2", 2)   # f = sum x^2: gradient 2x
    >>> bool((G == 2 * X).all()), X.shape
    (True, (81, 2))
    """
    X = paper_grid(n_features)
    return X, get_test_function(function).gradient(X)
