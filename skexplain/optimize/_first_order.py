"""A primal-dual first-order solver (PDHG / Chambolle-Pock) for large N.

Solves the same problem as :class:`ExplanationProgram`, in the same centred
and rescaled coordinates ``H = (G - c) / s``::

    min_E  F(D E)   s.t.   E in C

with ``D`` the edge-difference operator (row ``e``: ``E_src - E_dst``),
``F`` the robustness loss of the edge differences and ``C`` the faithfulness
set (one ball ``||E - H||_F^2 <= eta``, or a ball per row). The loss
weights go into the operator (``K = diag(w) D``) and the steps are Pock &
Chambolle's diagonal preconditioners, so no operator norm is needed. Every
iteration costs O(n_edges x d): one gather per neighbour pair, one sparse
product for ``K^T`` (see :class:`_PairOperator`) and closed-form steps; the
points are first relabelled in reverse Cuthill-McKee order for locality.

* max losses (max-sensitivity, local stability):
  ``F(Y) = sum_i max_{e out of i} ||Y_e||``; its conjugate is the indicator
  of ``sum_{e out of i} ||Z_e|| <= 1`` for every ``i``; the prox scales each
  dual vector by the projection of its point's edge-norm vector onto a
  simplex (:class:`_GroupedSimplex`, all points at once, warm-started).
* sum losses (average sensitivity): one dual row per pair;
  ``F(Y) = sum_e ||Y_e||`` (conjugate: a unit ball per pair) or
  ``sum_e ||Y_e||^2`` (prox in closed form).
* ``C``: projection onto one ball (a 1-D Newton solve in the preconditioned
  metric) or onto row balls.

Stopping rule: the iterates are feasible by construction (``E`` in ``C``,
``Z`` in the conjugate's domain), so the primal-dual gap
``F(D E) + F*(Z) + sigma_C(-D^T Z)`` bounds the suboptimality of ``E``; the
solver stops when ``gap <= tol * max(1, |F(D E)|)``.
"""

import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

from ..exceptions import InaccurateSolutionWarning
from ..neighbors._graph import unordered_pairs

__all__ = ["FIRST_ORDER_OPTIONS", "FirstOrderResult", "solve_first_order"]

#: Keys accepted in ``solver_options`` with ``solver="PDHG"``.
FIRST_ORDER_OPTIONS = ("tol", "max_iter", "check_every", "primal_weight", "dtype")


#: ``dtype="auto"`` works in float32 from this many directed edges on.
FLOAT32_EDGES = 500_000


class FirstOrderResult(dict):
    """``E``, ``status``, ``n_iter``, ``gap``, ``objective``, ``dual_objective``,
    ``primal_residual``, ``dual_residual``, ``solve_time``."""

    __getattr__ = dict.__getitem__


class _GroupedSimplex:
    """Projection onto ``{t >= 0 : sum_{e in g} t_e <= 1}`` for every group ``g``,
    in the metric ``sum_e (t_e - z_e)^2 / s_e``.

    The solution is ``t_e = max(z_e - theta_g s_e, 0)`` with one ``theta_g``
    per group, found for all groups at once by Newton's method on the
    piecewise-linear ``phi_g(theta) = sum_e max(z_e - theta s_e, 0) - 1``
    (Michelot's rule when started at 0). ``phi_g`` is convex and decreasing,
    so a Newton step from the right lands left of the root and from there
    the iterates increase to it in finitely many steps. Each call starts
    from the previous call's ``theta`` (PDHG's iterates change little): one
    full round of sparse sums, then rounds on the entries of the groups
    whose ``theta`` still moves.

    Parameters
    ----------
    groups : ndarray of int of shape (n_entries,)
        Group of each entry (any order).
    s : ndarray of shape (n_entries,)
        Positive metric weights.
    n : int
        Number of groups.
    """

    def __init__(self, groups, s, n):
        m = groups.shape[0]
        self.groups, self.s, self.n = groups, s, n
        # group sums as one sparse product (entries in the caller's order; the
        # solver numbers points so that a group's entries lie close together)
        self.S = sp.csr_matrix((np.ones(m, s.dtype), (groups, np.arange(m))), shape=(n, m))
        self.theta = np.zeros(n, s.dtype)

    def __call__(self, z):
        """Projected entries (``z >= 0``, in the dtype of ``s``)."""
        groups, s, n, S = self.groups, self.s, self.n, self.S
        theta = self.theta
        # first round on every entry, from the previous call's theta; no
        # "is the group over its bound" pass: a group under it gets a
        # non-positive Newton step, clamped to 0, where it stays
        act = z > np.take(theta, groups) * s
        num, den = S @ (z * act), S @ (s * act)
        idx = None                         # None: every entry (no gathers)
        gi, zi, si = groups, z, s
        for rnd in range(n + 2):
            # Newton step for the groups in play, then keep the entries of the
            # groups whose active set changed (the others are exact: their
            # theta is a fixed point). Comparing active sets, not thetas,
            # is immune to rounding in the sums.
            pos = den > 0
            step = np.maximum((num - 1.0) / np.where(pos, den, 1.0), 0.0) * pos
            theta = (step if idx is None else np.where(self._live(gi), step, theta))
            theta = theta.astype(s.dtype, copy=False)
            new_act = zi > np.take(theta, gi) * si
            if rnd:
                # left of the root from the second step on: active sets only
                # shrink (in exact arithmetic; enforcing it stops rounding
                # from toggling an entry that sits on its breakpoint)
                new_act &= act
            flip = new_act != act
            if not flip.any():
                break
            changed = np.zeros(n, dtype=bool)
            changed[gi[flip]] = True
            keep = np.take(changed, gi)
            idx = np.flatnonzero(keep) if idx is None else idx[keep]
            act, gi = new_act[keep], gi[keep]
            zi, si = z[idx], s[idx]
            num = np.bincount(gi, weights=zi * act, minlength=n)
            den = np.bincount(gi, weights=si * act, minlength=n)
        self.theta = theta
        # theta = 0 for the groups under the bound, where t = z
        out = np.take(theta, groups)
        out *= s
        np.subtract(z, out, out=out)
        return np.maximum(out, 0.0, out=out)

    def _live(self, gi):
        """Groups with an entry in ``gi``."""
        live = np.zeros(self.n, dtype=bool)
        live[gi] = True
        return live


class _PairOperator:
    """``K = diag(w) D`` on a neighbour graph, stored per unordered pair.

    Each pair ``{lo, hi}`` holds the edge ``lo -> hi`` (weight ``w_f``) and/or
    ``hi -> lo`` (weight ``w_b``; 0 where a direction is missing). Both rows
    of ``K`` apply to the same difference ``E_lo - E_hi``, so the forward
    map is one gather per pair and the adjoint
    ``K^T Z = S_lo P - S_hi P`` with ``P = w_f Z_f - w_b Z_b``: two sparse
    sums with one entry per column. Pairs are sorted by ``lo``, so ``S_lo``
    reads ``P`` contiguously.
    """

    def __init__(self, src, dst, w, n, dtype):
        if np.any(src == dst):
            raise ValueError("The neighbour graph has self-loops (src == dst).")
        self.lo, self.hi, a, b = unordered_pairs(src, dst, n)
        p = self.lo.shape[0]
        w0 = np.append(w, 0.0)                  # index -1: a missing direction
        self.w_f, self.w_b = w0[a], w0[b]
        cols = np.arange(p)
        self.S_lo = sp.csr_matrix((np.ones(p, dtype), (self.lo, cols)), shape=(n, p))
        self.S_hi = sp.csr_matrix((np.ones(p, dtype), (self.hi, cols)), shape=(n, p))
        self.B = (self.S_lo - self.S_hi).tocsr()     # D^T on pairs
        self.n, self.p, self.dtype = n, p, dtype

    def touch(self, pair_weight):
        """Sum over the rows of ``K`` touching each point of their weight."""
        pw = np.asarray(pair_weight, dtype=self.dtype)
        return np.asarray(self.S_lo @ pw + self.S_hi @ pw, dtype=np.float64)

    def diff(self, E, out=None):
        """``E[lo] - E[hi]`` (``E`` already in the working dtype)."""
        out = np.empty((self.p, E.shape[1]), E.dtype) if out is None else out
        np.take(E, self.hi, axis=0, out=out, mode="clip")
        np.subtract(np.take(E, self.lo, axis=0, mode="clip"), out, out=out)
        return out

    def adjoint(self, P):
        """``S_lo P - S_hi P`` for per-pair rows ``P`` (already weighted)."""
        return np.asarray(self.B @ P, dtype=np.float64)


def _ball_projector(H, faithfulness, budget, tau):
    """``prox`` of the faithfulness indicator in the metric ``diag(1/tau)``,
    and the support function of the set."""
    if faithfulness == "global":
        radius = float(np.sqrt(budget))

        def project(E):
            V = E - H
            sq = np.sum(V * V, axis=1)
            if sq.sum() <= radius ** 2:
                return E
            # E_i - H_i = V_i / (1 + lam tau_i), sum ||.||^2 = radius^2 (Newton in lam)
            lam = 0.0
            for _ in range(100):
                f = 1.0 + lam * tau
                g = np.sum(sq / f ** 2) - radius ** 2
                if g <= 1e-14 * radius ** 2:
                    break
                lam -= g / np.sum(-2.0 * sq * tau / f ** 3)
            out = V / (1.0 + lam * tau)[:, None]
            size = np.sqrt(np.sum(out * out))
            return H + out * min(1.0, radius / size)   # exact feasibility

        def support(W):  # sup_{E in C} <W, E>
            return float(np.sum(W * H) + radius * np.sqrt(np.sum(W * W)))
    else:
        radius = np.asarray(budget, dtype=np.float64)

        def project(E):
            V = E - H
            size = np.linalg.norm(V, axis=1)
            scale = np.where(size > radius, radius / np.where(size > 0, size, 1.0), 1.0)
            return H + V * scale[:, None]

        def support(W):
            return float(np.sum(W * H) + np.sum(radius * np.linalg.norm(W, axis=1)))
    return project, support


def _row_norms(V, dtype=np.float64):
    return np.sqrt(np.einsum("ij,ij->i", V, V, dtype=dtype))


def _check_options(tol, max_iter, check_every, primal_weight, dtype):
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"solver_options['tol'] must be a positive number; got {tol!r}.")
    for name, val in (("max_iter", max_iter), ("check_every", check_every)):
        if not isinstance(val, (int, np.integer)) or isinstance(val, bool) or val < 1:
            raise ValueError(f"solver_options[{name!r}] must be a positive integer; got {val!r}.")
    if not (np.isscalar(primal_weight) and np.isfinite(primal_weight) and primal_weight > 0):
        raise ValueError("solver_options['primal_weight'] must be a positive number; "
                         f"got {primal_weight!r}.")
    if dtype not in ("auto", "float64", "float32", np.float64, np.float32):
        raise ValueError("solver_options['dtype'] must be 'auto', 'float64' or 'float32'; "
                         f"got {dtype!r}.")
    return dtype


def solve_first_order(H, graph, terms, *, faithfulness, budget, tol=1e-4, max_iter=20000,
                      check_every=20, primal_weight=3.0, dtype="auto", E0=None):
    """Preconditioned PDHG for ``min F(D E) s.t. E in C`` (rescaled coordinates).

    The weights of the loss go into the operator (row ``e`` of ``K`` is
    ``w_e (e_src - e_dst)``; ``sqrt(c_e)`` for the squared loss) and the
    steps are Pock & Chambolle's diagonal preconditioners
    ``sigma_e = omega / (2 w_e)``, ``tau_i = 1 / (omega sum_{e touching i} w_e)``
    (their product, hence convergence, does not depend on the primal weight
    ``omega``), so no estimate of ``||K||`` is needed and the spread of
    local-stability weights is absorbed.

    Parameters
    ----------
    H : ndarray of shape (n, d)
        Rescaled gradients.
    graph : NeighborGraph
    terms : RobustnessTerms
        Weights, reduction and power of the loss on ``graph``'s edges.
    faithfulness : {"global", "pointwise"}
    budget : float or ndarray of shape (n,)
        ``eta`` (global, a squared radius) or the row radii (pointwise).
    tol : float, default=1e-4
        Relative primal-dual gap at which to stop. The gap bounds the
        suboptimality: the objective is then within ``tol`` (relative) of
        the optimum.
    max_iter : int, default=20000
    check_every : int, default=20
        Iterations between gap evaluations.
    primal_weight : float, default=3.0
        ``omega``, the balance of primal and dual step sizes. It changes the
        number of iterations, not the answer: on the benchmark problems
        (``benchmarks/bench_first_order.py``, 10k points) ``omega = 3``
        needed 2-2.5x fewer iterations than 1 for both max losses and
        ``eta_frac`` from 0.05 to 0.6; 6 was on par, 10 and 0.3 slower.
    dtype : {"auto", "float64", "float32"}, default="auto"
        Precision of the per-edge arrays (the dual variables and edge
        differences, the bulk of the memory traffic). ``float32`` halves
        it; the explanations, the faithfulness projection and the gap are
        always computed in float64, so the stopping rule and the answer's
        accuracy do not change. ``"auto"``: float32 from
        ``FLOAT32_EDGES`` directed edges on (N = 100k, 10-NN: 44 s instead
        of 65 s for max-sensitivity), float64 below (no gain there: the
        arrays fit in cache).
    E0 : ndarray, optional
        Starting explanations (projected onto ``C``); default ``H``.

    Returns
    -------
    FirstOrderResult
    """
    t0 = time.perf_counter()
    n, d = H.shape
    dtype = _check_options(tol, max_iter, check_every, primal_weight, dtype)
    if dtype == "auto":
        dtype = "float32" if graph.n_edges >= FLOAT32_EDGES else "float64"
    work = np.dtype(dtype)
    keep = terms.weights > 0
    src, dst, w = graph.src[keep], graph.dst[keep], terms.weights[keep]
    if src.shape[0] == 0:
        return FirstOrderResult(E=H.copy(), status="optimal", n_iter=0, gap=0.0, objective=0.0,
                                dual_objective=0.0, primal_residual=0.0, dual_residual=0.0,
                                solve_time=time.perf_counter() - t0)
    # Relabel the points in reverse Cuthill-McKee order (neighbours get close
    # indices): the gathers and sparse sums then touch nearby memory. At
    # N = 100k in D = 8 it halves the time of the adjoint's sparse sum.
    A = sp.csr_matrix((np.ones(src.shape[0]), (src, dst)), shape=(n, n))
    perm = reverse_cuthill_mckee((A + A.T).tocsr(), symmetric_mode=True).astype(np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[perm] = np.arange(n)
    src, dst, H = rank[src], rank[dst], H[perm]
    if faithfulness != "global":
        budget = np.asarray(budget, dtype=np.float64)[perm]
    if E0 is not None:
        E0 = np.asarray(E0, dtype=np.float64)[perm]
    op = _PairOperator(src, dst, w, n, work)
    if terms.reduction == "max":
        row_weight = op.w_f + op.w_b           # two rows of K per pair
    else:
        c = op.w_f + op.w_b     # both directions act on the same difference: one row
        if terms.power == 2:
            c = np.sqrt(c)      # sum c ||.||^2 = ||diag(sqrt c) D E||^2
        row_weight = c
    omega = float(primal_weight)
    touch = op.touch(row_weight)
    tau = 1.0 / (omega * np.where(touch > 0, touch, 1.0))
    project, support = _ball_projector(H, faithfulness, budget, tau)
    half = omega / 2.0                                     # sigma_e w_e, every edge

    if terms.reduction == "max":
        # dual: Z_f (edge lo -> hi, group lo) and Z_b (hi -> lo, group hi)
        has_f, has_b = op.w_f > 0, op.w_b > 0
        sig_f = omega / (2.0 * np.where(has_f, op.w_f, 1.0))
        sig_b = omega / (2.0 * np.where(has_b, op.w_b, 1.0))
        # the norms of an edge's dual vectors: a per-point simplex in the metric
        # 1/sigma (edges missing in one direction stay at zero)
        present = np.concatenate([has_f, has_b])
        simplex = _GroupedSimplex(np.concatenate([op.lo, op.hi]),
                                  np.concatenate([sig_f, sig_b]).astype(work), n)
        blocks = 2

        partial = not present.all()
        z = np.empty(2 * op.p, work)

        def prox_dual(V):
            z[:op.p] = _row_norms(V[0], work)
            z[op.p:] = _row_norms(V[1], work)
            if partial:
                z[~present] = 0.0
            t = simplex(z)
            scale = np.divide(t, z, out=t, where=z > 0)   # t <= z (and t = 0 where z = 0)
            V[0] *= scale[:op.p, None]
            V[1] *= scale[op.p:, None]
            return V

        unit = bool(np.all(op.w_f == 1.0) and np.all(op.w_b == 1.0))
        same = bool(np.array_equal(op.w_f, op.w_b))   # e.g. local stability's 1/distance
        wf_col, wb_col = op.w_f.astype(work)[:, None], op.w_b.astype(work)[:, None]
        P = np.empty((op.p, d), work)
        T = None if same else np.empty((op.p, d), work)

        def weighted(Z):
            np.subtract(Z[0], Z[1], out=P) if same else np.multiply(Z[0], wf_col, out=P)
            if unit:
                return P
            if same:
                return np.multiply(P, wf_col, out=P)
            return np.subtract(P, np.multiply(Z[1], wb_col, out=T), out=P)

        def primal(Delta):
            norms = _row_norms(Delta)
            out = np.zeros(n)
            np.maximum.at(out, op.lo, op.w_f * norms)
            np.maximum.at(out, op.hi, op.w_b * norms)
            return float(out.sum())

        def conj(Z):
            return 0.0
    else:
        sig = omega / (2.0 * c)
        blocks = 1
        if terms.power == 1:
            def prox_dual(V):
                z = _row_norms(V[0])
                V[0] *= np.minimum(1.0, 1.0 / np.where(z > 0, z, 1.0)).astype(work)[:, None]
                return V

            def primal(Delta):
                return float(np.sum(c * _row_norms(Delta)))

            def conj(Z):
                return 0.0
        else:
            def prox_dual(V):
                V[0] /= (1.0 + sig / 2.0).astype(work)[:, None]
                return V

            def primal(Delta):
                return float(np.sum(c * c * _row_norms(Delta) ** 2))

            def conj(Z):
                return float(np.sum(np.asarray(Z[0], dtype=np.float64) ** 2) / 4.0)

        c_col = c.astype(work)[:, None]

        def weighted(Z):
            return Z[0] * c_col

    E = project(H.copy() if E0 is None else np.asarray(E0, dtype=np.float64))
    Z = np.zeros((blocks, op.p, d), work)
    V = np.empty_like(Z)       # the next dual iterate (buffers swap each iteration)
    KtZ = np.zeros((n, d))
    E_bar = E
    status, gap, p_obj, d_obj = "max_iter", np.inf, np.nan, np.nan
    res_p = res_d = np.nan
    ta = tau[:, None]
    Delta = np.empty((op.p, d), work)
    it = 0
    for it in range(1, max_iter + 1):
        check = it % check_every == 0 or it == max_iter
        op.diff((half * E_bar).astype(work, copy=False), out=Delta)
        np.add(Z[0], Delta, out=V[0])
        if blocks == 2:                    # the reverse direction: -Delta
            np.subtract(Z[1], Delta, out=V[1])
        Z_new = prox_dual(V)
        KtZ = op.adjoint(weighted(Z_new))
        E_new = project(E - ta * KtZ)
        E_bar = 2.0 * E_new - E
        if check:
            res_p = float(np.linalg.norm((E_new - E) / ta))
            res_d = float(np.sqrt(np.sum(np.asarray(Z_new - Z, dtype=np.float64) ** 2)))
        E, Z, V = E_new, Z_new, Z
        if check:
            p_obj = primal(op.diff(E))
            d_obj = -conj(Z) - support(-KtZ)
            gap = p_obj - d_obj
            if gap <= tol * max(1.0, abs(p_obj)):
                status = "optimal"
                break
    E_out = np.empty_like(E)
    E_out[perm] = E
    return FirstOrderResult(E=E_out, status=status, n_iter=it, gap=float(gap), objective=p_obj,
                            dual_objective=d_obj, primal_residual=res_p, dual_residual=res_d,
                            solve_time=time.perf_counter() - t0)


def warn_if_max_iter(result, stacklevel=3):
    if result.status != "optimal":
        warnings.warn(
            f"The first-order solver stopped after max_iter={result.n_iter} iterations "
            f"with a relative gap of {result.gap / max(1.0, abs(result.objective)):.2e} "
            "(above tol): increase max_iter or tol, or use solver='CLARABEL'.",
            InaccurateSolutionWarning, stacklevel=stacklevel,
        )
