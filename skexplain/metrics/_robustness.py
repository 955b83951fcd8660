"""Faithfulness and robustness losses (Table 2 of Raedler et al.).

Each robustness loss is described once, by :func:`robustness_terms`, as a
weighted edge-norm aggregated per point; both these numpy metrics and the
convex-program builder (:mod:`skexplain.optimize`) read that description.
"""

from dataclasses import dataclass

import numpy as np

from ..neighbors import knn_neighbor_graph, radius_neighbor_graph
from ..utils import check_explanations

__all__ = [
    "ROBUSTNESS_METRICS",
    "RobustnessTerms",
    "robustness_terms",
    "faithfulness_loss",
    "max_sensitivity",
    "local_stability",
    "average_sensitivity",
    "robustness_loss",
]

ROBUSTNESS_METRICS = ("max_sensitivity", "local_stability", "average_sensitivity")

_EDGE_CHUNK = 1 << 16


@dataclass(frozen=True)
class RobustnessTerms:
    """A robustness loss as ``sum_n reduce_{e: src[e] = n} w[e] * ||E_src - E_dst||^p``.

    Attributes
    ----------
    weights : ndarray of shape (n_edges,)
        Non-negative weight of each directed edge of the graph.
    reduction : {"max", "sum"}
        How the weighted edge terms of one point are combined.
    power : {1, 2}
        Power of the edge norm.
    """

    weights: np.ndarray
    reduction: str
    power: int


def robustness_terms(graph, metric, *, squared=False):
    """Describe a robustness loss on a neighbour graph.

    Parameters
    ----------
    graph : NeighborGraph
        Neighbour pairs within radius ``u``.
    metric : {"max_sensitivity", "local_stability", "average_sensitivity"}
        * ``max_sensitivity``: ``max_{n'} ||E_n - E_n'||`` (weights 1, max).
        * ``local_stability``: ``max_{n'} ||E_n - E_n'|| / ||X_n - X_n'||``
          (weights ``1 / distance``, max).
        * ``average_sensitivity``: ``sum_{n'} p_n(n') ||E_n - E_n'||^p`` with
          ``p_n`` uniform over the neighbours of ``n`` (weights ``1/degree``,
          sum).
    squared : bool, default=False
        Only for ``average_sensitivity``: square the distance (``p = 2``), as
        in Table 2 of the paper. The default ``False`` follows the paper's
        appendix C.3 (``p = 1``), which keeps every robustness loss
        homogeneous of degree one in ``E`` and the program a pure SOCP.

    Returns
    -------
    RobustnessTerms
    """
    if metric == "max_sensitivity":
        return RobustnessTerms(np.ones(graph.n_edges), "max", 1)
    if metric == "local_stability":
        if np.any(graph.dist <= 0):
            e = int(np.flatnonzero(graph.dist <= 0)[0])
            raise ValueError(
                "X has duplicated rows (e.g. rows "
                f"{graph.src[e]} and {graph.dst[e]} are identical): "
                "local_stability divides by ||X_n - X_n'|| and is undefined "
                "for them. Remove duplicated rows or use max_sensitivity."
            )
        return RobustnessTerms(1.0 / graph.dist, "max", 1)
    if metric == "average_sensitivity":
        deg = graph.degree.astype(np.float64)
        return RobustnessTerms(1.0 / deg[graph.src], "sum", 2 if squared else 1)
    raise ValueError(
        f"robustness must be one of {ROBUSTNESS_METRICS}; got {metric!r}."
    )


def edge_norms(E, src, dst, E_dst=None):
    """``||E[src] - E_dst[dst]||`` for every edge, in memory-capped chunks."""
    E_dst = E if E_dst is None else E_dst
    out = np.empty(src.shape[0])
    for start in range(0, src.shape[0], _EDGE_CHUNK):
        sl = slice(start, start + _EDGE_CHUNK)
        out[sl] = _safe_row_norms(E[src[sl]] - E_dst[dst[sl]])
    return out


def _safe_row_norms(D):
    """Euclidean row norms that neither overflow (1e200) nor underflow (1e-200)
    in the squares: rows outside a safe range are rescaled by their largest
    entry first. ``inf`` only where the norm itself exceeds the float range.
    (The first-order solver's plain ``_row_norms`` works on data already
    scaled to O(1) and needs no such care in its inner loop.)"""
    sq = np.einsum("ij,ij->i", D, D)
    out = np.sqrt(sq)
    bad = (sq > 1e300) | ((sq < 1e-280) & (sq >= 0))
    if bad.any():
        Db = D[bad]
        m = np.max(np.abs(Db), axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            safe = np.where((m > 0) & np.isfinite(m), m, 1.0)
            scaled = m * np.sqrt(np.einsum("ij,ij->i", Db / safe[:, None], Db / safe[:, None]))
        out[bad] = np.where(np.isfinite(m), scaled, np.inf)
    return out


def evaluate_terms(terms, graph, E, E_dst=None):
    """Per-point value of a robustness loss (0 for points without neighbours)."""
    vals = terms.weights * edge_norms(E, graph.src, graph.dst, E_dst) ** terms.power
    out = np.zeros(graph.n_queries)
    nonempty = np.flatnonzero(graph.degree > 0)
    if nonempty.size:
        ufunc = np.maximum if terms.reduction == "max" else np.add
        out[nonempty] = ufunc.reduceat(vals, graph.indptr[nonempty])
    return out


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


def _robustness(metric, X, explanations, u, n_neighbors, squared, per_point, graph):
    X = _nonempty(check_explanations(X, name="X"), "X")
    E = check_explanations(explanations, X, name="explanations")
    if graph is None:
        if (u is None) == (n_neighbors is None):
            raise ValueError("give exactly one of u (a radius) and n_neighbors (a number of "
                             f"nearest neighbours); got u={u!r}, n_neighbors={n_neighbors!r}.")
        graph = (radius_neighbor_graph(X, u) if n_neighbors is None
                 else knn_neighbor_graph(X, n_neighbors))
    elif graph.n_queries != X.shape[0]:
        raise ValueError(f"graph has {graph.n_queries} query points but X has {X.shape[0]} "
                         "rows: pass the neighbour graph of X.")
    vals = evaluate_terms(robustness_terms(graph, metric, squared=squared), graph, E)
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

    Examples
    --------
    >>> from skexplain.metrics import max_sensitivity
    >>> X = [[0.0], [1.0], [2.0]]
    >>> E = [[0.0], [1.0], [3.0]]
    >>> max_sensitivity(X, E, u=1.0)  # 1 + max(1, 2) + 2
    5.0
    """
    return _robustness("max_sensitivity", X, explanations, u, n_neighbors, False, per_point,
                       graph)


def local_stability(X, explanations, *, u=None, n_neighbors=None, per_point=False,
                    graph=None):
    """Local stability ``sum_n max_{n'} ||E_n - E_n'|| / ||X_n - X_n'||``.

    The maximum runs over the neighbours ``n'`` within radius ``u`` (itself
    excluded). Duplicated rows in ``X`` raise a ``ValueError``.

    Parameters
    ----------
    X, explanations, u, n_neighbors, per_point, graph
        As in :func:`max_sensitivity`.

    Returns
    -------
    float or ndarray of shape (n_samples,)

    Examples
    --------
    >>> from skexplain.metrics import local_stability
    >>> local_stability([[0.0], [2.0]], [[0.0], [1.0]], u=2.0)
    1.0
    """
    return _robustness("local_stability", X, explanations, u, n_neighbors, False, per_point,
                       graph)


def average_sensitivity(X, explanations, *, u=None, n_neighbors=None, squared=False,
                        per_point=False, graph=None):
    """Average sensitivity ``sum_n mean_{n'} ||E_n - E_n'||^p``.

    The mean is uniform over the neighbours within radius ``u`` (itself
    excluded), i.e. ``p_n(n')`` of Table 2.

    Parameters
    ----------
    X, explanations, u, n_neighbors, per_point, graph
        As in :func:`max_sensitivity`.
    squared : bool, default=False
        ``p = 2`` as in the paper's Table 2; the default ``p = 1`` follows its
        appendix C.3 (the formulation that is solved as an SOCP).

    Returns
    -------
    float or ndarray of shape (n_samples,)

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
    return _robustness("average_sensitivity", X, explanations, u, n_neighbors, squared,
                       per_point, graph)


def robustness_loss(metric, X, explanations, *, u=None, n_neighbors=None, squared=False,
                    per_point=False, graph=None):
    """Dispatch to :func:`max_sensitivity`, :func:`local_stability` or
    :func:`average_sensitivity` by name.

    Examples
    --------
    Per point, average sensitivity is the mean distance to the neighbours'
    explanations (point 1: (1 + 2) / 2):

    >>> from skexplain.metrics import robustness_loss
    >>> X, E = [[0.0], [1.0], [2.0]], [[0.0], [1.0], [3.0]]
    >>> robustness_loss("average_sensitivity", X, E, u=1.0, per_point=True)
    array([1. , 1.5, 2. ])
    """
    if metric not in ROBUSTNESS_METRICS:
        raise ValueError(
            f"metric must be one of {ROBUSTNESS_METRICS}; got {metric!r}."
        )
    return _robustness(metric, X, explanations, u, n_neighbors, squared, per_point, graph)
