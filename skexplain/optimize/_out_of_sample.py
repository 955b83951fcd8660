"""New points' small problems, all solved together by a first-order method.

Each new point ``i`` (rescaled gradient ``g_i``, ball radius ``r_i``,
training neighbours ``j`` with fitted explanations ``E_j`` and weights
``w_ij``) has its own problem ::

    min_e  F_i(e) = reduce_j w_ij ||e - E_j||   s.t.  ||e - g_i|| <= r_i

(``reduce``: ``max`` for the max losses, ``sum`` for the sum losses; the
squared sum has a closed form). They are solved at once by preconditioned
PDHG on the stacked variables, and every operation acts on one point's own
rows (element-wise, or sums over its own contiguous edges), so a point's
iterates, its stopping test (its own certified gap) and its answer do not
depend on which other points are solved with it, nor on their order: bit
for bit. A converged point leaves the working set.
"""

import numpy as np

from ..losses import GroupedSimplex, MaxLoss, SumLoss
from ._pdhg import PRIMAL_WEIGHT_SCHEDULE

__all__ = ["batched_supported", "solve_points_first_order"]


def batched_supported(loss):
    """Whether ``loss`` has the forms the batched solver uses (the two families)."""
    return isinstance(loss, (MaxLoss, SumLoss))


def _norms(V):
    return np.sqrt(np.einsum("ij,ij->i", V, V))


def solve_points_first_order(H, radius, indptr, EJ, w, loss, *, tol=1e-5, max_iter=20000,
                             check_every=20, primal_weight=3.0):
    """Solve every point's problem; returns the explanations and who converged.

    Parameters
    ----------
    H : ndarray of shape (n, d)
        Rescaled base explanations (the balls' centres).
    radius : ndarray of shape (n,)
        Ball radii (positive).
    indptr : ndarray of int of shape (n + 1,)
        The edges of point ``i`` are ``indptr[i]:indptr[i + 1]`` (at least one).
    EJ : ndarray of shape (n_edges, d)
        The neighbours' (rescaled) fitted explanations, edge by edge.
    w : ndarray of shape (n_edges,)
        Positive edge weights.
    loss : MaxLoss or SumLoss
        The loss family (its reduction and power).
    tol : float, default=1e-5
        Each point stops at a certified relative gap ``<= tol``: ``(F_i(e) -
        lower_i) / max(lower_i, 1e-6 F_i(g_i))``.
    max_iter, check_every, primal_weight
        As for :class:`PDHGSolver` (``primal_weight="auto"`` is the
        schedule's first weight here: the points stop at ``tol`` before a
        continuation would pay).

    Returns
    -------
    E : ndarray of shape (n, d)
        The explanations (rescaled), inside the balls.
    converged : ndarray of bool of shape (n,)
        Whether each point reached ``tol``.
    """
    n, d = H.shape
    deg = np.diff(indptr)
    owner_all = np.repeat(np.arange(n), deg)
    E_out = np.empty_like(H)
    converged = np.zeros(n, dtype=bool)
    if loss.power == 2:                       # sum of squares: the closed form
        sw = np.add.reduceat(w, indptr[:-1])
        target = np.add.reduceat(w[:, None] * EJ, indptr[:-1]) / sw[:, None]
        step = target - H
        dist = _norms(step)
        scale = np.where(dist > radius, radius / np.where(dist > 0, dist, 1.0), 1.0)
        return H + step * scale[:, None], np.ones(n, dtype=bool)
    is_max = loss.reduction == "max"
    omega = (PRIMAL_WEIGHT_SCHEDULE[0][0] if isinstance(primal_weight, str)
             else float(primal_weight))

    # the working set (active points, their edges in CSR order)
    ids = np.arange(n)
    g, r = H.copy(), radius.astype(np.float64)
    Ej, we = EJ.copy(), w.astype(np.float64)
    own = owner_all.copy()
    starts = indptr[:-1].copy()
    sig = omega / we                                  # sigma_e w_e = omega
    tau = 1.0 / (omega * np.add.reduceat(we, starts))
    floor = 1e-6 * _reduce(we * _norms(g[own] - Ej), starts, is_max)
    # start from the weighted mean of the neighbours' explanations, projected
    # onto the ball (the squared loss's answer: close for the others too)
    mean = np.add.reduceat(we[:, None] * Ej, starts) / np.add.reduceat(we, starts)[:, None]
    step = mean - g
    dist = _norms(step)
    e = g + step * np.where(dist > r, r / np.where(dist > 0, dist, 1.0), 1.0)[:, None]
    # the per-edge arrays in float32 (half the memory traffic); the
    # explanations, the projection and the certificate stay float64
    Ej64, Ej = Ej, Ej.astype(np.float32)
    z = np.zeros_like(Ej)
    V = np.empty_like(Ej)
    e_bar = e
    simplex = GroupedSimplex(own, sig, len(ids)) if is_max else None
    Kt = _adjoint(own, we, len(ids))

    for it in range(1, max_iter + 1):
        # dual: z + sigma (K e_bar - c) (sigma_e w_e = omega on every edge), then
        # the conjugate's projection; buffers swap
        np.take(e_bar.astype(np.float32), own, axis=0, out=V)
        V -= Ej
        V *= omega
        V += z
        zn = _norms(V)
        if is_max:
            t = simplex(zn.astype(np.float64)).astype(np.float32)
        else:
            t = np.minimum(zn, 1.0)
        V *= np.divide(t, zn, out=np.zeros_like(zn), where=zn > 0)[:, None]
        z, V = V, z
        s = np.asarray(Kt @ z, dtype=np.float64)               # K^T z, per point
        e_new = e - tau[:, None] * s
        dev = e_new - g                                        # projection onto the ball
        size = _norms(dev)
        shrink = np.where(size > r, r / np.where(size > 0, size, 1.0), 1.0)
        e_new = g + dev * shrink[:, None]
        e_bar = 2.0 * e_new - e
        e = e_new
        if it % check_every and it != max_iter:
            continue
        primal = _reduce(we * _norms(e[own] - Ej64), starts, is_max)
        z64 = z.astype(np.float64)
        s = np.asarray(Kt @ z64)
        lower = (np.einsum("ij,ij->i", s, g) - r * _norms(s)
                 - np.add.reduceat(we * np.einsum("ij,ij->i", z64, Ej64), starts))
        excess = primal - lower
        denom = np.maximum(lower, floor)
        done = (excess <= 0) | ((denom > 0) & (excess <= tol * denom))
        if it == max_iter:
            done_final = done
            E_out[ids] = e
            converged[ids] = done_final
            break
        if done.any():
            E_out[ids[done]] = e[done]
            converged[ids[done]] = True
            keep = ~done
            if not keep.any():
                break
            edge_keep = keep[own]
            ids, g, r, e, e_bar = ids[keep], g[keep], r[keep], e[keep], e_bar[keep]
            tau, floor = tau[keep], floor[keep]
            Ej, we, z, sig = Ej[edge_keep], we[edge_keep], z[edge_keep], sig[edge_keep]
            Ej64 = Ej64[edge_keep]
            V = np.empty_like(z)
            counts = deg[ids]
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            own = np.repeat(np.arange(len(ids)), counts)
            Kt = _adjoint(own, we, len(ids))
            if is_max:
                theta = simplex.theta[keep]
                simplex = GroupedSimplex(own, sig, len(ids))
                simplex.theta = theta
    return E_out, converged


def _adjoint(own, w, n):
    """``K^T`` as a sparse matrix: row ``i`` sums ``w_e z_e`` over point ``i``'s
    edges, in their order (so a row's sum depends on its own edges only)."""
    import scipy.sparse as sp

    return sp.csr_matrix((w, (own, np.arange(own.shape[0]))), shape=(n, own.shape[0]))


def _reduce(values, starts, is_max):
    return (np.maximum if is_max else np.add).reduceat(values, starts)
