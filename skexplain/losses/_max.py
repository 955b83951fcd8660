"""Robustness losses that take the largest weighted distance to a neighbour."""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._base import DualBlock, RobustnessLoss, register_loss
from ._simplex import GroupedSimplex

__all__ = ["LocalStability", "MaxLoss", "MaxSensitivity", "incidence"]



def incidence(src, dst, n, weights):
    """Sparse ``(n_edges, n)`` matrix with rows ``w_e (e_src - e_dst)``.

    Parameters
    ----------
    src, dst : ndarray of int of shape (n_edges,)
        The edges.
    n : int
        Number of points.
    weights : ndarray of shape (n_edges,)
        Weight of each row.

    Returns
    -------
    D : scipy.sparse.csr_matrix of shape (n_edges, n)
        Row ``e`` is ``weights[e] * (e_src - e_dst)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.losses import incidence
    >>> incidence(np.array([0]), np.array([2]), 3, np.array([2.0])).toarray()
    array([[ 2.,  0., -2.]])
    """
    m = src.shape[0]
    rows = np.concatenate([np.arange(m), np.arange(m)])
    cols = np.concatenate([src, dst])
    vals = np.concatenate([weights, -weights])
    return sp.csr_matrix((vals, (rows, cols)), shape=(m, n))


def _row_norms(V, dtype=np.float64):
    return np.sqrt(np.einsum("ij,ij->i", V, V, dtype=dtype))


def _check_family(cls, family, power):
    """A subclass of a loss family chooses its weights, never its reduction or
    power: the conic and first-order forms of the family are written for them
    (a max of squared distances would be evaluated one way and solved
    another)."""
    for attr in ("reduction", "power"):
        if getattr(cls, attr) is not getattr(family, attr):
            raise TypeError(
                f"{cls.__name__} overrides {attr!r}: a {family.__name__} combines its "
                f"edges with {family.reduction!r} of {power}; subclass RobustnessLoss "
                "and implement every form for another combination.")


class MaxLoss(RobustnessLoss):
    """A loss ``sum_n max_{n'} w(n, n') ||E_n - E_n'||``.

    The family of max-sensitivity and local stability: subclasses only
    choose the edge weights (:meth:`edge_weights`). It supplies

    * the conic form: one second-order cone per directed edge,
      ``w_e ||E_src - E_dst|| <= t_src``, and ``min sum(t)``;
    * a new point's objective ``max_j w_j ||e - E_j||``;
    * the first-order dual block: the conjugate of ``sum_n max_e ||Y_e||``
      is the indicator of ``sum_{e out of n} ||Z_e|| <= 1`` for every point,
      whose projection scales each dual vector by the projection of its
      point's vector of norms onto a simplex (:class:`GroupedSimplex`).

    Examples
    --------
    A toy loss that discounts far neighbours, usable everywhere a built-in
    loss is (after ``register_loss``):

    >>> import numpy as np
    >>> from skexplain.losses import MaxLoss
    >>> class DiscountedMax(MaxLoss):
    ...     name = "discounted_max"
    ...     def edge_weights(self, graph):
    ...         return 1.0 / (1.0 + graph.dist)
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> g = radius_neighbor_graph(np.array([[0.0], [1.0]]), 1.0)
    >>> DiscountedMax().value(g, np.array([[0.0], [2.0]]))   # 2 * (2 / 2)
    2.0
    """

    reduction = "max"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _check_family(cls, MaxLoss, "the distance itself (power 1)")

    def cvxpy_objective(self, graph, weights, E):
        import cvxpy as cp

        n = graph.n_queries
        t = cp.Variable(n, nonneg=True)
        D = incidence(graph.src, graph.dst, n, weights)
        S = sp.csr_matrix((np.ones(graph.n_edges), (np.arange(graph.n_edges), graph.src)),
                          shape=(graph.n_edges, n))
        return cp.sum(t), [cp.norm(D @ E, 2, axis=1) <= S @ t]

    def cvxpy_point_objective(self, e, WE, w):
        import cvxpy as cp

        # ||w_j E_j - w_j e|| = w_j ||E_j - e||: DPP (parameter x variable)
        d = e.shape[0]
        return cp.max(cp.norm(WE - w @ cp.reshape(e, (1, d), order="C"), 2, axis=1))

    def dual_block(self, pairs, primal_weight, dtype):
        return _MaxDualBlock(pairs, primal_weight, np.dtype(dtype))


class _MaxDualBlock(DualBlock):
    """Dual rows ``Z_f`` (edge ``lo -> hi``, group ``lo``) and ``Z_b``
    (``hi -> lo``, group ``hi``); edges missing in one direction stay 0."""

    n_blocks = 2

    def __init__(self, op, omega, work):
        self.op, self.work = op, work
        has_f, has_b = op.w_f > 0, op.w_b > 0
        sig_f = omega / (2.0 * np.where(has_f, op.w_f, 1.0))
        sig_b = omega / (2.0 * np.where(has_b, op.w_b, 1.0))
        self.row_weight = op.w_f + op.w_b            # two rows of K per pair
        self.adaptive_steps = True      # the prox is a projection (any metric scale)
        self.present = np.concatenate([has_f, has_b])
        self.partial = not self.present.all()
        # the norms of an edge's dual vectors: a per-point simplex in the metric 1/sigma
        self.simplex = GroupedSimplex(np.concatenate([op.lo, op.hi]),
                                      np.concatenate([sig_f, sig_b]).astype(work), op.n)
        self.z = np.empty(2 * op.p, work)
        self.unit = bool(np.all(op.w_f == 1.0) and np.all(op.w_b == 1.0))
        self.same = bool(np.array_equal(op.w_f, op.w_b))  # e.g. local stability's 1/distance
        self.wf_col = op.w_f.astype(work)[:, None]
        self.wb_col = op.w_b.astype(work)[:, None]
        self.P = None
        self.T = None

    def prox(self, V):
        p, z = self.op.p, self.z
        z[:p] = _row_norms(V[0], self.work)
        z[p:] = _row_norms(V[1], self.work)
        if self.partial:
            z[~self.present] = 0.0
        t = self.simplex(z)
        scale = np.divide(t, z, out=t, where=z > 0)     # t <= z (and t = 0 where z = 0)
        V[0] *= scale[:p, None]
        V[1] *= scale[p:, None]
        return V

    def weighted(self, Z):
        if self.P is None:
            self.P = np.empty(Z.shape[1:], self.work)
            self.T = None if self.same else np.empty(Z.shape[1:], self.work)
        P = self.P
        if self.same:
            np.subtract(Z[0], Z[1], out=P)
        else:
            np.multiply(Z[0], self.wf_col, out=P)
        if self.unit:
            return P
        if self.same:
            return np.multiply(P, self.wf_col, out=P)
        return np.subtract(P, np.multiply(Z[1], self.wb_col, out=self.T), out=P)

    def primal(self, delta):
        op = self.op
        norms = _row_norms(delta)
        out = np.zeros(op.n)
        np.maximum.at(out, op.lo, op.w_f * norms)
        np.maximum.at(out, op.hi, op.w_b * norms)
        return float(out.sum())


@register_loss
@dataclass(frozen=True)
class MaxSensitivity(MaxLoss):
    """Max-sensitivity, ``sum_n max_{n'} ||E_n - E_n'||_2`` (Raedler et al., Table 2).

    The maximum runs over the neighbours ``n'`` of ``n`` (within radius
    ``u``, or its nearest points), the point itself excluded; every edge
    has weight 1.

    See Also
    --------
    skexplain.metrics.max_sensitivity : The same loss from points and explanations.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.losses import MaxSensitivity
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> g = radius_neighbor_graph(np.array([[0.0], [1.0], [2.0]]), 1.0)
    >>> MaxSensitivity().value(g, np.array([[0.0], [1.0], [3.0]]))   # 1 + 2 + 2
    5.0
    """

    name = "max_sensitivity"
    distance_degree = 0

    def edge_weights(self, graph):
        return np.ones(graph.n_edges)


@register_loss
@dataclass(frozen=True)
class LocalStability(MaxLoss):
    """Local stability, ``sum_n max_{n'} ||E_n - E_n'|| / ||X_n - X_n'||`` (Table 2).

    Edge weights ``1 / distance``; undefined for duplicated rows (distance
    0), which raise a ``ValueError`` naming them. The optimiser passes a
    graph whose distances are divided by a typical neighbour distance, so
    the weights it solves with are O(1) whatever the units of ``X``.

    See Also
    --------
    skexplain.metrics.local_stability : The same loss from points and explanations.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.losses import LocalStability
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> g = radius_neighbor_graph(np.array([[0.0], [2.0]]), 2.0)
    >>> LocalStability().value(g, np.array([[0.0], [1.0]]))   # 2 * 1 / 2
    1.0
    """

    name = "local_stability"
    distance_degree = -1

    def edge_weights(self, graph):
        if np.any(graph.dist <= 0):
            e = int(np.flatnonzero(graph.dist <= 0)[0])
            raise ValueError(
                "X has duplicated rows (e.g. rows "
                f"{graph.src[e]} and {graph.dst[e]} are identical): "
                "local_stability divides by ||X_n - X_n'|| and is undefined "
                "for them. Remove duplicated rows or use max_sensitivity."
            )
        return 1.0 / graph.dist
