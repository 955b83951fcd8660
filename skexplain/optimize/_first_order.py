"""A primal-dual first-order solver (PDHG / Chambolle-Pock) for large N.

Solves the same problem as :class:`ExplanationProgram`, in the same centred
and rescaled coordinates ``H = (G - c) / s``::

    min_E  F(D E)   s.t.   E in C

with ``D`` the edge-difference operator (row ``e``: ``E_src - E_dst``),
``F`` the robustness loss of the edge differences and ``C`` the faithfulness
set (one ball ``||E - H||_F^2 <= eta``, or a ball per row). The loss
weights go into the operator (``K = diag(w) D``) and the steps are Pock &
Chambolle's diagonal preconditioners, so no operator norm is needed. Every
iteration costs O(n_edges x d): two sparse products and closed-form steps.

* max losses (max-sensitivity, local stability):
  ``F(Y) = sum_i max_{e out of i} ||Y_e||``; its conjugate is the indicator
  of ``sum_{e out of i} ||Z_e|| <= 1`` for every ``i`` — an l1 ball of the
  edge-norm vector of each point (weighted by the preconditioner), projected
  onto for all points at once by Michelot's fixed-point rule.
* sum losses (average sensitivity): ``F(Y) = sum_e ||Y_e||`` (conjugate: a
  unit ball per edge) or ``sum_e ||Y_e||^2`` (prox in closed form).
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

from ..exceptions import InaccurateSolutionWarning

__all__ = ["FIRST_ORDER_OPTIONS", "FirstOrderResult", "solve_first_order"]

#: Keys accepted in ``solver_options`` with ``solver="PDHG"``.
FIRST_ORDER_OPTIONS = ("tol", "max_iter", "check_every")


class FirstOrderResult(dict):
    """``E``, ``status``, ``n_iter``, ``gap``, ``objective``, ``dual_objective``,
    ``primal_residual``, ``dual_residual``, ``solve_time``."""

    __getattr__ = dict.__getitem__


class _GroupedBall:
    """Projection of each point's edge-norm vector onto ``sum_e a_e t_e <= 1``.

    ``t_e = max(z_e - theta_i a_e, 0)`` with ``theta_i`` found by Michelot's
    fixed-point iteration, all points at once: start from all edges active,
    ``theta = (sum_active a z - 1) / sum_active a^2``, drop the edges with
    ``z_e <= theta a_e`` and repeat; ``theta`` only grows and the active set
    only shrinks, so it ends in at most ``max_degree`` rounds (a handful in
    practice), each O(n_edges).
    """

    def __init__(self, src, a, n):
        self.src, self.a, self.n = src, a, n
        self.a2 = a * a

    def __call__(self, z):
        src, a, n = self.src, self.a, self.n
        az = a * z
        total = np.bincount(src, weights=az, minlength=n)
        over = total > 1.0
        if not over.any():
            return z
        active = over[src]
        theta = np.zeros(n)
        for _ in range(n + 1):
            num = np.bincount(src, weights=np.where(active, az, 0.0), minlength=n) - 1.0
            den = np.bincount(src, weights=np.where(active, self.a2, 0.0), minlength=n)
            theta = np.where(over & (den > 0), num / np.where(den > 0, den, 1.0), 0.0)
            still = active & (z > theta[src] * a)
            if np.array_equal(still, active):
                break
            active = still
        return np.where(over[src], np.maximum(z - theta[src] * a, 0.0), z)


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
            out = H + V / (1.0 + lam * tau)[:, None]
            size = np.sqrt(np.sum((out - H) ** 2))
            return H + (out - H) * min(1.0, radius / size)   # exact feasibility

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


def solve_first_order(H, graph, terms, *, faithfulness, budget, tol=1e-4, max_iter=20000,
                      check_every=20, E0=None):
    """Preconditioned PDHG for ``min F(D E) s.t. E in C`` (rescaled coordinates).

    The weights of the loss go into the operator (row ``e`` of ``K`` is
    ``w_e (e_src - e_dst)``; ``sqrt(c_e)`` for the squared loss) and the
    steps are Pock & Chambolle's diagonal preconditioners
    ``sigma_e = 1 / (2 w_e)``, ``tau_i = 1 / sum_{e touching i} w_e``, which
    need no estimate of ``||K||`` and adapt to the spread of local-stability
    weights.

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
    max_iter : int
    check_every : int
        Iterations between gap evaluations.
    E0 : ndarray, optional
        Starting explanations (projected onto ``C``); default ``H``.

    Returns
    -------
    FirstOrderResult
    """
    t0 = time.perf_counter()
    n, d = H.shape
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"solver_options['tol'] must be a positive number; got {tol!r}.")
    for name, val in (("max_iter", max_iter), ("check_every", check_every)):
        if not isinstance(val, (int, np.integer)) or isinstance(val, bool) or val < 1:
            raise ValueError(f"solver_options[{name!r}] must be a positive integer; got {val!r}.")
    if terms.reduction == "max":
        src, dst, w = graph.src, graph.dst, terms.weights
    else:
        lo, hi, ia, ib = graph.undirected()
        src, dst, w = lo, hi, terms.weights[ia] + terms.weights[ib]
        if terms.power == 2:
            w = np.sqrt(w)
    keep = w > 0
    src, dst, w = src[keep], dst[keep], w[keep]
    m = src.shape[0]
    if m == 0:
        return FirstOrderResult(E=H.copy(), status="optimal", n_iter=0, gap=0.0, objective=0.0,
                                dual_objective=0.0, primal_residual=0.0, dual_residual=0.0,
                                solve_time=time.perf_counter() - t0)
    from ._program import _incidence  # (the conic program's operator; avoids a cycle)

    K = _incidence(src, dst, n, w)
    Kt = K.T.tocsr()
    sigma = 1.0 / (2.0 * w)                                       # per edge
    touch = np.bincount(src, weights=w, minlength=n) + np.bincount(dst, weights=w, minlength=n)
    tau = np.where(touch > 0, 1.0 / np.where(touch > 0, touch, 1.0), 1.0)  # per point
    project, support = _ball_projector(H, faithfulness, budget, tau)

    if terms.reduction == "max":
        root = np.sqrt(sigma)
        ball = _GroupedBall(src, root, n)        # sum_e t_e <= 1 in the sigma^-1 metric

        def primal(Y):
            out = np.zeros(n)
            np.maximum.at(out, src, np.linalg.norm(Y, axis=1))
            return float(out.sum())

        def prox_dual(V):
            z = np.linalg.norm(V, axis=1)
            t = root * ball(z / root)
            return V * np.where(z > 0, t / np.where(z > 0, z, 1.0), 0.0)[:, None]

        def conj(Z):
            return 0.0
    elif terms.power == 1:
        def primal(Y):
            return float(np.sum(np.linalg.norm(Y, axis=1)))

        def prox_dual(V):
            z = np.linalg.norm(V, axis=1)
            return V * np.minimum(1.0, 1.0 / np.where(z > 0, z, 1.0))[:, None]

        def conj(Z):
            return 0.0
    else:
        def primal(Y):
            return float(np.sum(Y * Y))

        def prox_dual(V):
            return V / (1.0 + sigma / 2.0)[:, None]

        def conj(Z):
            return float(np.sum(Z * Z) / 4.0)

    E = project(H.copy() if E0 is None else np.asarray(E0, dtype=np.float64))
    Z = np.zeros((m, d))
    E_bar = E
    status, gap, p_obj, d_obj = "max_iter", np.inf, np.nan, np.nan
    res_p = res_d = np.nan
    sig, ta = sigma[:, None], tau[:, None]
    it = 0
    for it in range(1, max_iter + 1):
        Z_new = prox_dual(Z + sig * (K @ E_bar))
        E_new = project(E - ta * (Kt @ Z_new))
        E_bar = 2.0 * E_new - E
        check = it % check_every == 0 or it == max_iter
        if check:
            res_p = float(np.linalg.norm((E_new - E) / ta))
            res_d = float(np.linalg.norm((Z_new - Z) / sig))
        E, Z = E_new, Z_new
        if check:
            p_obj = primal(K @ E)
            d_obj = -conj(Z) - support(-(Kt @ Z))
            gap = p_obj - d_obj
            if gap <= tol * max(1.0, abs(p_obj)):
                status = "optimal"
                break
    return FirstOrderResult(E=E, status=status, n_iter=it, gap=float(gap), objective=p_obj,
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
