"""Faithfulness and robustness losses (Table 2 of Raedler et al.).

Each robustness loss is an object of :mod:`skexplain.losses` that owns all
of its forms; these functions evaluate it from points and explanations (the
neighbour graph built from ``u`` or ``n_neighbors``), and the optimiser in
:mod:`skexplain.optimize` solves with the same objects.
"""

import numpy as np

from ..losses import LOSSES, get_loss
from ..neighbors import knn_neighbor_graph, radius_neighbor_graph
from ..utils import check_explanations

__all__ = [
    "ROBUSTNESS_METRICS",
    "faithfulness_loss",
    "max_sensitivity",
    "local_stability",
    "average_sensitivity",
    "robustness_loss",
]

#: The built-in robustness losses (``skexplain.losses.LOSSES`` holds every
#: registered one).
ROBUSTNESS_METRICS = ("max_sensitivity", "local_stability", "average_sensitivity")


def faithfulness_loss(gradients, explanations, *, per_point=False):
    """Faithfulness loss ``sum_n ||grad f(x_n) - E_n||_2^2``.

    Parameters
    ----------
    gradients : array-like of shape (n_samples, n_features)
        Model gradients.
    explanations : array-like of shape (n_samples, n_features)
        Explanations to evaluate.
    per_point : bool, default=False
        Return the per-point squared distances instead of their sum.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        ``inf`` (without a warning) where the squared distances exceed the
        float range, i.e. for differences beyond about ``1e154``.

    Examples
    --------
    >>> from skexplain.metrics import faithfulness_loss
    >>> faithfulness_loss([[1.0, 2.0], [0.0, 0.0]], [[1.0, 0.0], [3.0, 4.0]])
    29.0
    """
    G = _nonempty(check_explanations(gradients, name="gradients"), "gradients")
    E = check_explanations(explanations, G, name="explanations", ref_name="gradients")
    with np.errstate(over="ignore"):      # inf is the true value's float
        sq = np.sum((G - E) ** 2, axis=1)
    return sq if per_point else float(sq.sum())


def _nonempty(A, name):
    if A.shape[0] == 0:
        raise ValueError(f"{name} has 0 sample(s) (shape={A.shape}): a loss needs at least "
                         "one point.")
    return A


def _robustness(loss, X, explanations, u, n_neighbors, per_point, graph):
    X = _nonempty(check_explanations(X, name="X"), "X")
    E = check_explanations(explanations, X, name="explanations")
    if graph is None:
        if (u is None) == (n_neighbors is None):
            raise ValueError("give exactly one of u (a radius) and n_neighbors (a number of "
                             f"nearest neighbours); got u={u!r}, n_neighbors={n_neighbors!r}.")
        graph = (radius_neighbor_graph(X, u) if n_neighbors is None
                 else knn_neighbor_graph(X, n_neighbors))
    elif not hasattr(graph, "n_queries"):
        raise ValueError(f"graph must be a NeighborGraph (skexplain.neighbors); got "
                         f"{type(graph).__name__}.")
    elif graph.n_queries != X.shape[0]:
        raise ValueError(f"graph has {graph.n_queries} query points but X has {X.shape[0]} "
                         "rows: pass the neighbour graph of X.")
    vals = loss.point_values(graph, E)
    return vals if per_point else float(vals.sum())


def max_sensitivity(X, explanations, *, u=None, n_neighbors=None, per_point=False,
                    graph=None):
    """Max-sensitivity ``sum_n max_{||X_n - X_n'|| <= u} ||E_n - E_n'||_2``.

    Neighbours exclude the point itself; a point without neighbours adds 0.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input points.
    explanations : array-like of shape (n_samples, n_features)
        Explanations of the points.
    u : float, optional
        Neighbourhood radius.
    n_neighbors : int, optional
        Instead of ``u``: the ``n_neighbors`` nearest points, symmetrised
        (``knn_neighbor_graph``, the graph of
        ``OptimizedExplainer(n_neighbors=...)``). Give exactly one of ``u``
        and ``n_neighbors`` unless ``graph`` is given.
    per_point : bool, default=False
        Return the per-point maxima instead of their sum.
    graph : NeighborGraph, optional
        Precomputed neighbour graph of ``X`` (then ``u`` and
        ``n_neighbors`` are not used).

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The loss, or each point's term with ``per_point=True``.

    Examples
    --------
    >>> from skexplain.metrics import max_sensitivity
    >>> X = [[0.0], [1.0], [2.0]]
    >>> E = [[0.0], [1.0], [3.0]]
    >>> max_sensitivity(X, E, u=1.0)  # 1 + max(1, 2) + 2
    5.0
    """
    return _robustness(LOSSES["max_sensitivity"](), X, explanations, u, n_neighbors, per_point,
                       graph)


def local_stability(X, explanations, *, u=None, n_neighbors=None, per_point=False,
                    graph=None):
    """Local stability ``sum_n max_{n'} ||E_n - E_n'|| / ||X_n - X_n'||``.

    The maximum runs over the neighbours ``n'`` within radius ``u`` (itself
    excluded). Duplicated rows in ``X`` raise a ``ValueError``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input points.
    explanations : array-like of shape (n_samples, n_features)
        Explanations of the points.
    u : float, optional
        Neighbourhood radius.
    n_neighbors : int, optional
        Instead of ``u``: the ``n_neighbors`` nearest points, symmetrised
        (:func:`~skexplain.neighbors.knn_neighbor_graph`). Give exactly one
        of ``u`` and ``n_neighbors`` unless ``graph`` is given.
    per_point : bool, default=False
        Return each point's term instead of their sum.
    graph : NeighborGraph, optional
        Precomputed neighbour graph of ``X`` (then ``u`` and
        ``n_neighbors`` are not used).

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The loss, or each point's term with ``per_point=True``.

    Examples
    --------
    >>> from skexplain.metrics import local_stability
    >>> local_stability([[0.0], [2.0]], [[0.0], [1.0]], u=2.0)
    1.0
    """
    return _robustness(LOSSES["local_stability"](), X, explanations, u, n_neighbors, per_point,
                       graph)


def average_sensitivity(X, explanations, *, u=None, n_neighbors=None, squared=False,
                        include_self=False, per_point=False, graph=None):
    """Average sensitivity ``sum_n mean_{n'} ||E_n - E_n'||^p``.

    The mean is uniform over the neighbours within radius ``u`` (itself
    excluded), i.e. ``p_n(n')`` of Table 2.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input points.
    explanations : array-like of shape (n_samples, n_features)
        Explanations of the points.
    u : float, optional
        Neighbourhood radius.
    n_neighbors : int, optional
        Instead of ``u``: the ``n_neighbors`` nearest points, symmetrised
        (:func:`~skexplain.neighbors.knn_neighbor_graph`). Give exactly one
        of ``u`` and ``n_neighbors`` unless ``graph`` is given.
    squared : bool, default=False
        ``p = 2`` as in the paper's Table 2; the default ``p = 1`` follows its
        appendix C.3 (the formulation that is solved as an SOCP).
    include_self : bool, default=False
        Count the point itself in ``p_n`` (Table 2's set ``{n' :
        ||X_n - X_n'|| <= u}`` contains ``n``): weights ``1 / (degree + 1)``
        instead of ``1 / degree``; see
        :class:`~skexplain.losses.AverageSensitivity`.
    per_point : bool, default=False
        Return each point's term instead of their sum.
    graph : NeighborGraph, optional
        Precomputed neighbour graph of ``X`` (then ``u`` and
        ``n_neighbors`` are not used).

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The loss, or each point's term with ``per_point=True``.

    Examples
    --------
    >>> from skexplain.metrics import average_sensitivity
    >>> X = [[0.0], [1.0], [2.0]]
    >>> E = [[0.0], [1.0], [3.0]]
    >>> average_sensitivity(X, E, u=1.0)  # 1 + (1 + 2) / 2 + 2
    4.5
    >>> average_sensitivity(X, E, u=1.0, squared=True)  # 1 + (1 + 4) / 2 + 4
    7.5
    """
    loss = get_loss("average_sensitivity", name="average_sensitivity", squared=squared,
                    include_self=include_self)
    return _robustness(loss, X, explanations, u, n_neighbors, per_point, graph)


def robustness_loss(metric, X, explanations, *, u=None, n_neighbors=None, squared=False,
                    per_point=False, graph=None):
    """Any robustness loss, given by name or as a loss object.

    The registered losses (:data:`skexplain.losses.LOSSES`) include
    :func:`max_sensitivity`, :func:`local_stability` and
    :func:`average_sensitivity`; a loss object (e.g.
    ``AverageSensitivity(include_self=True)`` or a loss of your own) is
    evaluated the same way.

    Parameters
    ----------
    metric : str or RobustnessLoss
        A name of :data:`skexplain.losses.LOSSES` or a loss object.
    X : array-like of shape (n_samples, n_features)
        Input points.
    explanations : array-like of shape (n_samples, n_features)
        Explanations of the points.
    u : float, optional
        Neighbourhood radius.
    n_neighbors : int, optional
        Instead of ``u``: the ``n_neighbors`` nearest points, symmetrised
        (:func:`~skexplain.neighbors.knn_neighbor_graph`). Give exactly one
        of ``u`` and ``n_neighbors`` unless ``graph`` is given.
    squared : bool, default=False
        For ``"average_sensitivity"``: ``p = 2`` (ignored by a loss without a
        squared form).
    per_point : bool, default=False
        Return each point's term instead of their sum.
    graph : NeighborGraph, optional
        Precomputed neighbour graph of ``X`` (then ``u`` and
        ``n_neighbors`` are not used).

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The loss, or each point's term with ``per_point=True``.

    Examples
    --------
    Per point, average sensitivity is the mean distance to the neighbours'
    explanations (point 1: (1 + 2) / 2):

    >>> from skexplain.metrics import robustness_loss
    >>> X, E = [[0.0], [1.0], [2.0]], [[0.0], [1.0], [3.0]]
    >>> robustness_loss("average_sensitivity", X, E, u=1.0, per_point=True)
    array([1. , 1.5, 2. ])
    """
    loss = get_loss(metric, name="metric", squared=squared)
    return _robustness(loss, X, explanations, u, n_neighbors, per_point, graph)
