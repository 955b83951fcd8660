"""A primal-dual first-order solver (PDHG / Chambolle-Pock) for large N.

Solves a block of the problem in its rescaled coordinates::

    min_E  F(K E)   s.t.   E in C

with ``K`` the weighted edge-difference operator (row ``e``: ``w_e (E_src -
E_dst)``), ``F`` the loss of the weighted differences and ``C`` the budget.
The steps are Pock & Chambolle's diagonal preconditioners, so no operator
norm is needed. Every iteration costs O(n_edges x d): one gather per
neighbour pair, one sparse product for ``K^T`` (see :class:`PairOperator`)
and closed-form steps; the points are first relabelled in reverse
Cuthill-McKee order for locality. What depends on the loss (the conjugate's
prox, the primal value) comes from the loss's
:meth:`~skexplain.losses.RobustnessLoss.dual_block`, what depends on the
budget (the projection, the support function) from
:meth:`~skexplain.optimize.Budget.first_order`.

Stopping rule: the iterates are feasible by construction (``E`` in ``C``,
``Z`` in the conjugate's domain), so ``lower = -F*(Z) - sigma_C(-K^T Z)``
is a lower bound of the optimum and ``gap = F(K E) - lower`` bounds the
suboptimality of ``E``. The solver stops when ``gap <= tol * max(lower,
1e-6 * F(K H))``: relative to the optimum (hence to the objective in the
caller's units, which differ by a constant factor), with a floor one
millionth of the gradients' own loss for optima at zero.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

from ..neighbors._graph import unordered_pairs
from ._result import SolveResult, SolveStats, Status
from ._solvers import Solver, register_solver

__all__ = ["ADAPTIVE_MAX_SCALE", "EARLY_CHECKS", "FIRST_ORDER_OPTIONS", "FLOAT32_EDGES",
           "MIDWAY_CHECKS", "PDHGSolver", "PRIMAL_WEIGHT_SCHEDULE", "RELAXATION", "STEP_MARGIN",
           "PairOperator"]

#: Keys accepted in ``solver_options`` with ``solver="PDHG"``.
FIRST_ORDER_OPTIONS = ("tol", "max_iter", "check_every", "primal_weight", "dtype",
                       "relaxation", "step_scale")

#: Points up to which :meth:`PairOperator.preconditioned_norm2` is exact (dense).
_DENSE_NORM_MAX = 200

#: ``dtype="auto"`` works in float32 from this many directed edges on.
FLOAT32_EDGES = 500_000

#: The stopping rule's floor, relative to the loss of the gradients.
ZERO_FLOOR = 1e-6

#: ``primal_weight="auto"``: ``(omega, gap)`` stages, each ``omega`` used
#: once the certified relative gap is at most its ``gap``.
PRIMAL_WEIGHT_SCHEDULE = ((3.0, np.inf), (10.0, 1e-3), (15.0, 1e-5))

#: Default over-relaxation ``rho`` of each PDHG step (``1``: plain PDHG).
RELAXATION = 1.7

#: Iterations before the first regular check (``check_every``) at which the
#: gap is also measured, to stop only (the primal weight's stages move on
#: the regular checks): average sensitivity often converges within 20
#: iterations (N = 100k, ``eta_frac`` 0.05 / 0.2: 9 / 15 iterations to
#: 1e-4), where one iteration at 1M points costs about a second.
EARLY_CHECKS = (5, 10, 15)

#: After the first regular check, also measure the gap halfway between two
#: (iterations 30, 50, ... with ``check_every=20``), to stop only: the
#: budgets of a path start warm and often converge there (20-budget path,
#: max-sensitivity: 1,520 -> 1,380 iterations at 10k, 58.4 s -> 50.8 s at
#: 30k).
MIDWAY_CHECKS = True

#: ``step_scale="auto"``: the estimated squared norm of the preconditioned
#: operator is raised by this share before the steps are scaled to it (the
#: Lanczos estimate approaches the norm from below, within 1 %).
STEP_MARGIN = 0.02

#: ``step_scale="adaptive"``: the largest step scale the rule may take.
ADAPTIVE_MAX_SCALE = 1.6

#: ``step_scale="auto"`` is rounded down to a multiple of this (exact in
#: binary), so that rounding in the estimate does not reach the iterates.
STEP_GRID = 1.0 / 64.0


class PairOperator:
    """``K = diag(w) D`` on a neighbour graph, stored per unordered pair.

    Each pair ``{lo, hi}`` holds the edge ``lo -> hi`` (weight ``w_f``) and/or
    ``hi -> lo`` (weight ``w_b``; 0 where a direction is missing). Both rows
    of ``K`` apply to the same difference ``E_lo - E_hi``, so the forward
    map is one gather per pair and the adjoint
    ``K^T Z = S_lo P - S_hi P`` with ``P = w_f Z_f - w_b Z_b``: two sparse
    sums with one entry per column. Pairs are sorted by ``lo``, so ``S_lo``
    reads ``P`` contiguously.

    Parameters
    ----------
    src, dst : ndarray of int of shape (n_edges,)
        Directed edges (no self-loops).
    w : ndarray of shape (n_edges,)
        Their weights.
    n : int
        Number of points.
    dtype : numpy dtype
        Working precision of the per-pair arrays.
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
        self._tmp = None

    def touch(self, pair_weight):
        """Sum over the rows of ``K`` touching each point of their weight.

        Parameters
        ----------
        pair_weight : ndarray of shape (n_pairs,)

        Returns
        -------
        touch : ndarray of shape (n,)
        """
        pw = np.asarray(pair_weight, dtype=self.dtype)
        return np.asarray(self.S_lo @ pw + self.S_hi @ pw, dtype=np.float64)

    def preconditioned_norm2(self, pair_weight):
        """Estimate ``||Sigma^(1/2) K T^(1/2)||^2`` for Pock & Chambolle's steps.

        With ``sigma_e = omega / (2 w_e)`` per row and ``tau_i = 1 / (omega
        touch_i)`` it is half the largest eigenvalue of the graph's
        normalised Laplacian ``I - D^(-1/2) W D^(-1/2)`` (``W`` the pair
        weights, ``D`` their sums per point), whatever ``omega``: at most
        1 (2 for a bipartite graph), about 0.72 on k-nearest-neighbour
        graphs in D = 8. The Lanczos estimate (scipy's ``eigsh``, relative
        tolerance 1e-2, a fixed start vector; dense for at most
        ``_DENSE_NORM_MAX`` points) approaches it from below.

        Parameters
        ----------
        pair_weight : ndarray of shape (n_pairs,)
            Sum of the weights of each pair's rows of ``K``.

        Returns
        -------
        norm2 : float
            The estimate, or 1.0 (the preconditioners' own bound) if the
            iteration did not converge.
        """
        from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

        c = np.asarray(pair_weight, dtype=self.dtype)
        deg = self.S_lo @ c + self.S_hi @ c
        dm = np.zeros(self.n, self.dtype)
        np.divide(1.0, np.sqrt(deg), out=dm, where=deg > 0)
        if self.n <= _DENSE_NORM_MAX:
            lap = (self.B @ sp.diags(c) @ self.B.T).toarray().astype(np.float64)
            N = dm[:, None] * lap * dm[None, :]
            return float(np.linalg.eigvalsh(N)[-1]) / 2.0
        B, BT = self.B, self.B.T.tocsr()

        def matvec(x):
            y = BT @ (dm * np.ravel(x).astype(self.dtype, copy=False))
            y *= c
            return dm * (B @ y)

        lap = LinearOperator((self.n, self.n), matvec=matvec, dtype=self.dtype)
        v0 = np.random.default_rng(0).standard_normal(self.n).astype(self.dtype)
        try:
            lam = eigsh(lap, k=1, which="LA", tol=1e-2, v0=v0, maxiter=50,
                        return_eigenvectors=False)[0]
        except ArpackError:         # no convergence (or ARPACK's failure): no gain
            return 1.0
        return float(lam) / 2.0

    def diff(self, E, out=None):
        """``E[lo] - E[hi]`` (``E`` already in the working dtype).

        Parameters
        ----------
        E : ndarray of shape (n, d)
        out : ndarray of shape (n_pairs, d), optional

        Returns
        -------
        delta : ndarray of shape (n_pairs, d)
        """
        out = np.empty((self.p, E.shape[1]), E.dtype) if out is None else out
        tmp = self._tmp
        if tmp is None or tmp.shape != out.shape or tmp.dtype != out.dtype:
            tmp = self._tmp = np.empty_like(out)      # reused by every call
        np.take(E, self.hi, axis=0, out=out, mode="clip")
        np.take(E, self.lo, axis=0, out=tmp, mode="clip")
        np.subtract(tmp, out, out=out)
        return out

    def adjoint(self, P):
        """``S_lo P - S_hi P`` for per-pair rows ``P`` (already weighted).

        Parameters
        ----------
        P : ndarray of shape (n_pairs, d)

        Returns
        -------
        KtZ : ndarray of shape (n, d)
        """
        return np.asarray(self.B @ P, dtype=np.float64)


@dataclass
class FirstOrderResult:
    """The raw outcome of :meth:`PDHGSolver.run`.

    Attributes
    ----------
    E : ndarray of shape (n, d)
        Explanations (rescaled coordinates).
    converged : bool
        Whether the relative gap reached ``tol``.
    n_iter : int
    gap : float
        Relative gap at the last check.
    objective, lower_bound : float
        Primal value and the dual lower bound at the last check.
    floor : float
        The relative gap's floor (``ZERO_FLOOR`` times the gradients' loss).
    primal_residual, dual_residual : float
    dual : tuple or None
        ``(permutation, Z)``: the final dual iterate in the solver's point
        order, to warm-start the next budget of a path.
    primal_weight : float or None
        The ``omega`` of the last iterations.
    step_scale : float
        The factor both steps were scaled by (see ``step_scale``; the last
        one with ``"adaptive"``).
    step_rule : {"fixed", "auto", "adaptive"}
        How it was chosen (``"auto"`` also where ``"adaptive"`` fell back
        to the estimate).
    estimate : float or None
        The scale the estimated norm allows (``"auto"`` and ``"adaptive"``).
    """

    E: np.ndarray
    converged: bool
    n_iter: int
    gap: float
    objective: float
    lower_bound: float
    floor: float
    primal_residual: float
    dual_residual: float
    dual: tuple = None
    primal_weight: float = None
    step_scale: float = 1.0
    step_rule: str = "fixed"
    estimate: float = None


class PDHGSolver(Solver):
    """Preconditioned PDHG for ``min F(K E)`` subject to ``E in C``, the large-N solver.

    The weights of the loss go into the operator and the steps are Pock &
    Chambolle's diagonal preconditioners ``sigma_e = omega / (2 w_e)``,
    ``tau_i = 1 / (omega sum_{e touching i} w_e)`` (their product, hence
    convergence, does not depend on the primal weight ``omega``), so no
    estimate of ``||K||`` is needed and the spread of local-stability
    weights is absorbed. ``"optimal"`` means a certified relative gap
    ``<= tol`` (see the module's stopping rule); hitting ``max_iter`` gives
    ``"optimal_inaccurate"`` with the certified gap in the message. Along an
    explanation path each budget starts from the previous solution.

    Parameters
    ----------
    tol : float, default=1e-4
        Relative gap at which to stop; it bounds the relative
        suboptimality of the objective.
    max_iter : int, default=20000
        Most iterations; reaching it gives ``"optimal_inaccurate"``.
    check_every : int, default=20
        Iterations between gap evaluations. Before the first, the gap is
        also measured at iterations 5, 10 and 15 (:data:`EARLY_CHECKS`),
        after it halfway between two (:data:`MIDWAY_CHECKS`), only to stop
        there.
    primal_weight : float or "auto", default="auto"
        ``omega``, the balance of primal and dual step sizes. It changes the
        number of iterations, not the answer. The best fixed value depends
        on the accuracy asked for: on the benchmark problems
        (``benchmarks/bench_first_order.py``, 10k points, max-sensitivity,
        ``relaxation=1``) ``omega`` = 1, 3, 10, 30 needed 680, 300, 480,
        1,300 iterations to a gap of 1e-4 but 5,820, 1,940, 980, 2,320 to
        1e-6. ``"auto"``
        therefore starts at 3, continues with 10 once the certified gap is
        at most 1e-3 and with 15 from 1e-5 (:data:`PRIMAL_WEIGHT_SCHEDULE`;
        the iterates are kept, the steps rebuilt). A number fixes ``omega``.
    dtype : {"auto", "float64", "float32"}, default="auto"
        Precision of the per-edge arrays (the dual variables and edge
        differences, the bulk of the memory traffic). The explanations, the
        projection and the gap are always float64. ``"auto"``: float32 from
        ``FLOAT32_EDGES`` directed edges on.
    relaxation : float, default=1.7
        Over-relaxation ``rho`` in (0, 2): each iteration takes one
        Chambolle-Pock step from ``(E, Z)`` to ``(E_hat, Z_hat)`` and moves
        to ``(E, Z) + rho ((E_hat, Z_hat) - (E, Z))`` (``1``: plain PDHG).
        The certificate is always ``(E_hat, Z_hat)``'s (feasible points), so
        it changes the number of iterations, not the answer. Measured at 10k
        points (D = 8, 10-NN): max-sensitivity 300 -> 180 iterations to
        1e-4 and 2,180 -> 1,300 to 1e-6 (``eta_frac`` 0.6), pointwise 440
        -> 260, local stability 640 -> 380; at 100k 320 -> 200 (26.4 s ->
        19-26 s across runs of a noisy 2-core machine); at 2,000 points 400
        -> 240 (0.75 s -> 0.50 s). 1.9 did as well on those but worse than plain
        PDHG on small random problems with pointwise budgets.
    step_scale : float, "auto" or "adaptive", default="adaptive"
        Factor ``s`` on both steps (``sigma`` and ``tau``). Convergence needs
        ``s^2 ||Sigma^(1/2) K T^(1/2)||^2 <= 1``; the preconditioners
        guarantee the norm is at most 1, so ``1`` is always safe. ``"auto"``
        estimates the norm (:meth:`PairOperator.preconditioned_norm2`, raised
        by :data:`STEP_MARGIN`) and takes the largest ``s >= 1`` it allows,
        rounded down to a multiple of 1/64: about 1.16 on k-nearest-neighbour
        graphs in D = 8, where it saved 11-33 % of the iterations to 1e-4 (17 %
        summed; 10k points, max-sensitivity and local stability at
        ``eta_frac`` 0.05 / 0.2 / 0.6; 1M max-sensitivity: 220 -> 180);
        a path estimates it once per chunk of budgets. ``"adaptive"`` starts
        there and moves ``s`` by PDLP's adaptive step rule (Applegate et al.,
        2021) in the preconditioners' metric: a step is taken only if ``s``
        is at most ``||dE||^2_(1/tau) / (2 |<K^T dZ, dE>|)`` for the move it
        makes (PDLP's limit without its dual term: stricter, and no pass
        over the edges; else it is retried shorter), and the next ``s`` is
        PDLP's update, kept between the estimated scale and
        :data:`ADAPTIVE_MAX_SCALE` and rounded down to 1/64. The global
        bound is set by the graph's worst corner; the moves of the max
        losses' iterates stay far from it (the limit's median was 35-85 on
        10k-point kNN graphs), so ``s`` sits at the cap: 27 % fewer
        iterations to 1e-4 and to 1e-6 at 10k, 160 -> 120 at 100k. Losses
        whose dual block does not ask for it (``DualBlock.adaptive_steps``:
        the sum losses, where the limit stays at 1.3-2 and it did not pay)
        use ``"auto"``. A number above what the norm allows may not converge
        (average sensitivity with a fixed 1.3 did not, at 10k); the certificate,
        hence the status, stays true either way.

    Examples
    --------
    >>> from skexplain.optimize import PDHGSolver
    >>> PDHGSolver(tol=1e-6)
    PDHGSolver(tol=1e-06)
    """

    name = "PDHG"

    def __init__(self, tol=1e-4, max_iter=20000, check_every=20, primal_weight="auto",
                 dtype="auto", relaxation=RELAXATION, step_scale="adaptive"):
        self.tol, self.max_iter, self.check_every = tol, max_iter, check_every
        self.primal_weight, self.dtype, self.relaxation = primal_weight, dtype, relaxation
        self.step_scale = step_scale
        self._check()

    @classmethod
    def from_options(cls, options=None):
        """The solver configured by a ``solver_options`` dict.

        Parameters
        ----------
        options : dict or None
            Keys among :data:`FIRST_ORDER_OPTIONS`.

        Returns
        -------
        solver : PDHGSolver
        """
        unknown = set(options or {}) - set(FIRST_ORDER_OPTIONS)
        if unknown:
            raise ValueError(f"solver_options {sorted(unknown)} are not options of "
                             f"solver='PDHG'; it takes {list(FIRST_ORDER_OPTIONS)}.")
        return cls(**(options or {}))

    def _check(self):
        def bad(key, what):
            return ValueError(f"solver_options[{key!r}] must be {what}; "
                              f"got {getattr(self, key)!r}.")

        tol = self.tol
        if (isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating))
                or not (np.isfinite(tol) and tol > 0)):
            raise bad("tol", "a positive number")
        for key in ("max_iter", "check_every"):
            val = getattr(self, key)
            if not isinstance(val, (int, np.integer)) or isinstance(val, bool) or val < 1:
                raise bad(key, "a positive integer")
        for key, words in (("primal_weight", ("auto",)), ("step_scale", ("auto", "adaptive"))):
            val = getattr(self, key)
            if not (isinstance(val, str) and val in words) and (
                    isinstance(val, bool)
                    or not isinstance(val, (int, float, np.integer, np.floating))
                    or not (np.isfinite(val) and val > 0)):
                raise bad(key, "a positive number or " + " or ".join(map(repr, words)))
        if self.dtype not in ("auto", "float64", "float32", np.float64, np.float32):
            raise bad("dtype", "'auto', 'float64' or 'float32'")
        r = self.relaxation
        if (isinstance(r, bool) or not isinstance(r, (int, float, np.integer, np.floating))
                or not (np.isfinite(r) and 0 < r < 2)):
            raise bad("relaxation", "a number in (0, 2)")

    def solve(self, block, eta_frac, state):
        t0 = time.perf_counter()
        res = self.run(block.H, block.graph, block.weights, block.loss, block.budget,
                       block.budget.size(block, eta_frac), E0=state.get("PDHG"),
                       Z0=state.get("PDHG dual"), candidate=state.pop("candidate", None),
                       scale0=state.get("PDHG step scale"))
        wall = time.perf_counter() - t0
        # warm start for the next budget: the primal and the dual iterates (the
        # dual's domain does not depend on the budget); the primal weight
        # starts again at the schedule's first (resuming at the last one's
        # weight cost 25 % more on a 20-budget path at N = 10k)
        state["PDHG"], state["PDHG dual"] = res.E, res.dual
        if res.dual is not None and res.estimate is not None:
            # the estimated step scale (the graph's, every budget's); a fixed
            # one is not left for a later "auto" solve on this state
            state["PDHG step scale"] = (res.dual[0], res.estimate)
        status = Status.OPTIMAL if res.converged else Status.INACCURATE
        message = "" if res.converged else (
            f"The PDHG solver hit max_iter ({res.n_iter} iterations) before its certified "
            f"relative gap reached tol={self.tol:g} (gap {res.gap:.2e}): the explanations "
            "meet the budget exactly but may miss the optimum by that much. Raise "
            "solver_options['max_iter'] or use solver='CLARABEL'.")
        return SolveResult(
            explanations=res.E, status=status, solver="PDHG",
            stats=SolveStats(solve_time=wall, num_iters=res.n_iter, gap=res.gap,
                             primal_residual=res.primal_residual,
                             dual_residual=res.dual_residual),
            message=message, certificate=(res.lower_bound, res.floor))

    def run(self, H, graph, weights, loss, budget, size, *, E0=None, Z0=None,
            candidate=None, scale0=None):
        """Iterate on one block (rescaled coordinates).

        Parameters
        ----------
        H : ndarray of shape (n, d)
            Rescaled gradients.
        graph : NeighborGraph
            The block's graph (rescaled distances).
        weights : ndarray of shape (n_edges,)
            The loss's edge weights on ``graph``.
        loss : RobustnessLoss
            Supplies the dual block.
        budget : Budget
            Supplies the projection and support function.
        size : float or ndarray
            The budget's size (:meth:`Budget.size`).
        E0 : ndarray, optional
            Starting explanations (projected onto ``C``); default ``H``.
        Z0 : tuple, optional
            A previous run's ``dual`` on the same graph: the starting dual
            iterate (default zero).
        candidate : float, optional
            The objective of another solver's solution: stop as soon as the
            dual lower bound certifies it within ``tol`` (how SCS's answers
            are checked).
        scale0 : tuple, optional
            ``(permutation, step_scale)`` of a previous run on the same graph
            and loss: its ``"auto"`` step scale, not estimated again.

        Returns
        -------
        result : FirstOrderResult
            Explanations, whether the gap reached ``tol``, the gap, the
            objective and its proven lower bound.
        """
        n, d = H.shape
        dtype = self.dtype
        if dtype == "auto":
            dtype = "float32" if graph.n_edges >= FLOAT32_EDGES else "float64"
        work = np.dtype(dtype)
        keep = weights > 0
        src, dst, w = graph.src[keep], graph.dst[keep], weights[keep]
        if src.shape[0] == 0:
            return FirstOrderResult(E=H.copy(), converged=True, n_iter=0, gap=0.0,
                                    objective=0.0, lower_bound=0.0, floor=0.0,
                                    primal_residual=0.0, dual_residual=0.0)
        # Relabel the points in reverse Cuthill-McKee order (neighbours get close
        # indices): the gathers and sparse sums then touch nearby memory. At
        # N = 100k in D = 8 it halves the time of the adjoint's sparse sum.
        A = sp.csr_matrix((np.ones(src.shape[0]), (src, dst)), shape=(n, n))
        perm = reverse_cuthill_mckee((A + A.T).tocsr(), symmetric_mode=True).astype(np.int64)
        rank = np.empty(n, dtype=np.int64)
        rank[perm] = np.arange(n)
        src, dst, H = rank[src], rank[dst], H[perm]
        if budget.per_point:
            size = np.asarray(size, dtype=np.float64)[perm]
        if E0 is not None:
            E0 = np.asarray(E0, dtype=np.float64)[perm]
        op = PairOperator(src, dst, w, n, work)

        def steps(omega):
            # the dual block (its prox uses sigma), the primal steps tau and the
            # budget's projection in the tau-metric all follow omega and the scale
            block = loss.dual_block(op, omega * scale, work)
            touch = op.touch(block.row_weight)
            tau = scale / (omega * np.where(touch > 0, touch, 1.0))
            project, support = budget.first_order(H, size, tau)
            return block, tau[:, None], project, support, scale * omega / 2.0  # sigma_e w_e

        stages = list(PRIMAL_WEIGHT_SCHEDULE if isinstance(self.primal_weight, str)
                      else [(float(self.primal_weight), np.inf)])
        omega = stages.pop(0)[0]
        # the step scale: a number; "auto", the largest the estimated norm
        # allows (cached along a path); "adaptive", PDLP's rule from there up
        # to ADAPTIVE_MAX_SCALE (where the dual block asks for it; else "auto")
        rule = self.step_scale if isinstance(self.step_scale, str) else "fixed"
        cached = scale0 is not None and np.array_equal(scale0[0], perm)
        build, estimate = True, None
        if rule == "fixed":
            scale = float(self.step_scale)
        elif rule == "auto" and cached:
            scale = estimate = float(scale0[1])
        else:
            scale = None                   # from the first block's weights
        if scale is None:
            scale = 1.0
            block, ta, project, support, half = steps(omega)
            estimate = (float(scale0[1]) if cached else
                        _auto_step_scale(op.preconditioned_norm2(block.row_weight)))
            if rule == "adaptive" and block.adaptive_steps:
                build = False              # s multiplies the steps in the loop
            else:
                rule, scale = "auto", estimate
                build = scale != 1.0
        if build:
            block, ta, project, support, half = steps(omega)
        adaptive = rule == "adaptive"
        if adaptive:
            s = safe = estimate            # never below the proven-safe scale
            inv_tau = np.ravel(1.0 / ta)
            dE, dK = np.empty((n, d)), np.empty((n, d))
            n_steps = 0
        floor = ZERO_FLOOR * block.primal(op.diff(H))          # the gradients' own loss

        E = project(H.copy() if E0 is None else E0)
        Z = np.zeros((block.n_blocks, op.p, d), work)
        if Z0 is not None and np.array_equal(Z0[0], perm) and Z0[1].shape == Z.shape:
            Z[...] = Z0[1]
        KtZ = op.adjoint(block.weighted(Z)) if Z0 is not None else np.zeros((n, d))
        rho = float(self.relaxation)
        # (numpy passes, not scipy's BLAS axpy: at N = 2,000 that call cost 2 ms
        # instead of 0.1 ms inside the loop, its thread pool waking beside
        # numpy's on 2 cores: 1.05 s against 0.50 s; at 100k the two were
        # within this machine's run-to-run noise, 20-26 s)
        V = np.empty_like(Z)       # the dual step, projected in place by the prox
        delta = np.empty((op.p, d), work)
        converged, gap, p_obj, lower = False, np.inf, np.nan, np.nan
        res_p = res_d = np.nan
        it = 0
        for it in range(1, self.max_iter + 1):
            regular = it % self.check_every == 0 or it == self.max_iter
            check = regular or (it < self.check_every and it in EARLY_CHECKS) or (
                MIDWAY_CHECKS and it > self.check_every
                and it % self.check_every == self.check_every // 2)
            # one Chambolle-Pock step from (E, Z) to the feasible (E_hat, Z_hat) ...
            E_hat = project(E - (s * ta if adaptive else ta) * KtZ)
            op.diff(((s * half if adaptive else half) * (2.0 * E_hat - E)).astype(
                work, copy=False), out=delta)
            np.add(Z[0], delta, out=V[0])
            if block.n_blocks == 2:                # the reverse direction: -delta
                np.subtract(Z[1], delta, out=V[1])
            Z_hat = block.prox(V)
            KtZ_hat = op.adjoint(block.weighted(Z_hat))
            if check:                              # the certificate is (E_hat, Z_hat)'s
                p_obj = block.primal(op.diff(E_hat))
                lower = -block.conjugate(Z_hat) - support(-KtZ_hat)
                excess, denom = p_obj - lower, max(lower, floor)
                gap = 0.0 if excess <= 0 else (excess / denom if denom > 0 else np.inf)
                converged = gap <= self.tol
                if converged or it == self.max_iter or (
                        candidate is not None and candidate - lower <= self.tol * denom):
                    res_p = float(np.linalg.norm((E_hat - E) / ta))
                    res_d = float(np.sqrt(np.sum(np.asarray(Z_hat - Z, dtype=np.float64) ** 2)))
                    break
            # ... then the over-relaxed move (E, Z) += rho ((E_hat, Z_hat) - (E, Z))
            if adaptive:
                # PDLP's adaptive step (Applegate et al. 2021) in the
                # preconditioners' metric, made stricter (see _step_limit);
                # a step longer than its limit is not taken but retried shorter
                np.subtract(E_hat, E, out=dE)
                np.subtract(KtZ_hat, KtZ, out=dK)
                limit = _step_limit(dE, dK, inv_tau)
                n_steps += 1
                taken = s <= max(limit, safe)
                if np.isfinite(limit):     # (no movement yet: no information)
                    s = _adaptive_step_scale(s, limit, n_steps, safe)
            if adaptive and not taken:
                pass                               # (E, Z) stay
            elif rho == 1.0:
                E, KtZ, Z, V = E_hat, KtZ_hat, Z_hat, Z
            else:
                E = E + rho * (E_hat - E)
                KtZ = KtZ + rho * (KtZ_hat - KtZ)   # K^T is linear
                Z *= (1.0 - rho) / rho      # in place: rho ((1 - rho) / rho Z + Z_hat)
                Z += Z_hat
                Z *= rho
            if regular and stages and gap <= stages[0][1]:
                while stages and gap <= stages[0][1]:
                    omega = stages.pop(0)[0]
                block, ta, project, support, half = steps(omega)
                KtZ = op.adjoint(block.weighted(Z))
                if adaptive:
                    inv_tau = np.ravel(1.0 / ta)
        E_out = np.empty_like(E_hat)
        E_out[perm] = E_hat
        return FirstOrderResult(E=E_out, converged=converged, n_iter=it, gap=float(gap),
                                objective=float(p_obj), lower_bound=float(lower),
                                floor=float(floor), primal_residual=res_p, dual_residual=res_d,
                                dual=(perm, Z_hat), primal_weight=omega,
                                step_scale=s if adaptive else scale, step_rule=rule,
                                estimate=estimate if rule != "fixed" else None)

    def __repr__(self):
        defaults = PDHGSolver.__init__.__defaults__
        keys = ("tol", "max_iter", "check_every", "primal_weight", "dtype", "relaxation",
                "step_scale")
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k, dflt in zip(keys, defaults)
                         if getattr(self, k) != dflt)
        return f"PDHGSolver({args})"


def _step_limit(dE, dK, inv_tau):
    """The largest step scale the adaptive rule allows for a move ``(dE, dZ)``.

    PDLP's limit is ``(||dE||^2_(1/tau) + ||dZ||^2_(1/sigma)) / (2 |<K^T dZ,
    dE>|)`` with the steps at scale 1 (at least 1 here, where the
    preconditioners bound the norm); this leaves out the dual term, so it is
    at most that (stricter) and costs no pass over the edges. On 10k-point
    kNN graphs it gave the same iterations (median limit 35-85 instead of
    63-115 for the max losses, far above the cap either way). ``dK`` is
    ``K^T dZ``; ``inf`` without interaction. (einsum and ``np.sum``, not
    BLAS: the sums do not depend on a thread count.)
    """
    inter = abs(float(np.einsum("ij,ij->", dK, dE)))
    move = float(np.sum(np.einsum("ij,ij->i", dE, dE) * inv_tau))
    return move / (2.0 * inter) if inter > 0 else np.inf


def _adaptive_step_scale(s, limit, k, safe):
    """PDLP's next step scale after step ``k`` from ``s`` and its ``limit``,
    kept in ``[safe, ADAPTIVE_MAX_SCALE]`` (``safe``, the estimated scale, is
    always allowed) and rounded down to a multiple of ``STEP_GRID``, so that
    rounding in ``limit`` (which follows the units and the point order)
    almost never changes the iterates."""
    raw = min((1.0 - (k + 1) ** -0.3) * limit, (1.0 + (k + 1) ** -0.6) * s)
    raw = np.floor(raw / STEP_GRID) * STEP_GRID
    return float(max(min(raw, ADAPTIVE_MAX_SCALE), safe))


def _auto_step_scale(norm2):
    """The largest step scale ``s >= 1`` an estimated ``norm2`` allows, on a grid."""
    if not (np.isfinite(norm2) and norm2 > 0):
        return 1.0
    s = 1.0 / np.sqrt(norm2 * (1.0 + STEP_MARGIN))
    return float(max(1.0, np.floor(s / STEP_GRID) * STEP_GRID))


register_solver("PDHG", PDHGSolver.from_options)
