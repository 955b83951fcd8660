"""Convex programs for optimised explanations (built once, re-solved per eta).

Both programs work in centred and rescaled coordinates,
``H = (G - mean(G)) / s`` with ``s = sqrt(L_max / N)``: every robustness
loss depends only on differences of explanations and the faithfulness loss
only on ``E - G``, so the shift changes nothing, and the rescaling makes the
program's data O(1) whatever the magnitude of the gradients.
"""

import time

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from ..metrics._robustness import robustness_terms
from ._first_order import FIRST_ORDER_OPTIONS, solve_first_order, warn_if_max_iter
from ._solvers import solve_problem

__all__ = ["ExplanationProgram", "PointProgramCache"]


def _incidence(src, dst, n, weights):
    """Sparse ``(n_edges, n)`` matrix with rows ``w_e (e_src - e_dst)``."""
    m = src.shape[0]
    rows = np.concatenate([np.arange(m), np.arange(m)])
    cols = np.concatenate([src, dst])
    vals = np.concatenate([weights, -weights])
    return sp.csr_matrix((vals, (rows, cols)), shape=(m, n))


def robustness_objective(terms, graph, E):
    """cvxpy objective and constraints of a robustness loss, fully vectorised.

    * ``max`` losses: one second-order cone per directed edge,
      ``w_e ||E_src - E_dst|| <= t_src``, and the objective ``sum(t)``.
    * ``sum`` losses: the two directions of each pair are merged into one
      term with the summed weight (half the cones), ``sum_e c_e ||.||^p``.
    """
    n = graph.n_queries
    if terms.reduction == "max":
        t = cp.Variable(n, nonneg=True)
        D = _incidence(graph.src, graph.dst, n, terms.weights)
        S = sp.csr_matrix(
            (np.ones(graph.n_edges), (np.arange(graph.n_edges), graph.src)),
            shape=(graph.n_edges, n),
        )
        return cp.sum(t), [cp.norm(D @ E, 2, axis=1) <= S @ t]
    lo, hi, a, b = graph.undirected()
    w = np.append(terms.weights, 0.0)       # index -1: a direction not in the graph
    c = w[a] + w[b]
    if terms.power == 1:
        D = _incidence(lo, hi, n, c)
        return cp.sum(cp.norm(D @ E, 2, axis=1)), []
    D = _incidence(lo, hi, n, np.sqrt(c))
    return cp.sum_squares(D @ E), []


#: Largest gradient magnitude the optimisation accepts. Gradients of any
#: magnitude up to this are rescaled internally; beyond it sums and
#: differences of two gradients (the mean, ``G - mean``) can overflow a float.
MAX_GRADIENT = 1e300


def check_gradient_range(G, name):
    """Raise a ValueError naming ``name`` if ``|G|`` exceeds :data:`MAX_GRADIENT`."""
    if G.size and np.max(np.abs(G)) > MAX_GRADIENT:
        raise ValueError(
            f"{name} has entries up to {np.max(np.abs(G)):.3g} in magnitude; the "
            f"optimisation takes gradients up to {MAX_GRADIENT:g} (their means and "
            "differences must not overflow a float). Divide the model's output, or the "
            "gradients, by a constant: the explanations scale with it."
        )
    return G


def scaled_deviations(G, center):
    """``(G - center) / unit``, ``unit`` (the largest absolute deviation, or 1)
    and the rows' squared norms in units of ``unit^2``.

    Squared norms of gradients of magnitude 1e-200 or 1e200 under- or
    overflow; in units of the largest deviation they lie in ``[0, d]``.
    """
    dev = G - center
    unit = float(np.max(np.abs(dev))) if dev.size else 0.0
    unit = unit if unit > 0 else 1.0
    dev_u = dev / unit
    return dev_u, unit, np.einsum("ij,ij->i", dev_u, dev_u)


def to_caller_units(unit, *values):
    """``value * unit^2`` for each value (inf or 0 only where the true value
    over- or underflows a float; a zero stays 0, never ``0 * inf``)."""
    u = np.float64(unit)
    with np.errstate(over="ignore", under="ignore"):
        return tuple(v * u * u if isinstance(v, np.ndarray) else float(np.float64(v) * u * u)
                     for v in values)


class ExplanationProgram:
    """min robustness(E) s.t. faithfulness(E) <= eta, for fixed X-graph and G.

    The program is compiled on the first :meth:`solve` and re-solved for a new
    ``eta_frac`` without recompiling (it is DPP: ``eta`` is a cvxpy
    Parameter).

    Parameters
    ----------
    gradients : ndarray of shape (n_samples, n_features)
        Model gradients at the points.
    graph : NeighborGraph
        Radius-``u`` neighbour graph of the points.
    robustness : str
        Name of the robustness loss (see :func:`skexplain.metrics.robustness_terms`).
    faithfulness : {"global", "pointwise"}
        ``global``: ``sum_n ||G_n - E_n||^2 <= eta_frac * L_max``.
        ``pointwise``: ``||G_n - E_n||^2 <= eta_frac * ||G_n - mean(G)||^2``
        for every ``n``.
    squared : bool
        Squared distance for average sensitivity.
    center : ndarray of shape (n_features,), optional
        The reference explanation of the budgets, default ``mean(G)``. A
        sub-problem of a larger one (see :class:`TransductiveProblem`)
        passes the whole problem's mean gradient.
    reference : tuple (unit, loss), optional
        ``L_max = loss * unit**2``, the loss the global budget is a fraction
        of (a sub-problem passes its whole problem's), default
        ``sum_n ||G_n - center||^2`` over these points. Kept as a pair so
        that gradients of any magnitude neither over- nor underflow
        (see :func:`scaled_deviations`).

    Attributes
    ----------
    problem : cvxpy.Problem
    max_faithfulness_loss : float
        ``L_max = sum_n ||G_n - mean(G)||^2``.
    point_max_loss : ndarray of shape (n_samples,)
        ``||G_n - mean(G)||^2``.

    Examples
    --------
    Two neighbours with gradients 0 and 2: ``L_max = 2``, so ``eta_frac =
    0.25`` allows ``||G - E||^2 <= 0.5``, spent symmetrically:

    >>> import numpy as np
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> from skexplain.optimize import ExplanationProgram
    >>> graph = radius_neighbor_graph(np.array([[0.0], [1.0]]), u=1.0)
    >>> program = ExplanationProgram(np.array([[0.0], [2.0]]), graph, "max_sensitivity")
    >>> E, status, stats = program.solve(0.25, "CLARABEL")
    >>> E.round(4), status
    (array([[0.5],
           [1.5]]), 'optimal')
    >>> program.solve(0.25, "PDHG")[0].round(4)   # same optimum, first-order
    array([[0.5],
           [1.5]])
    """

    def __init__(self, gradients, graph, robustness, *, faithfulness="global",
                 squared=False, center=None, reference=None):
        G = np.asarray(gradients, dtype=np.float64)
        n, d = G.shape
        self.center = G.mean(axis=0) if center is None else np.asarray(center, dtype=np.float64)
        dev_u, unit, point_u = scaled_deviations(G, self.center)
        own_u = float(point_u.sum())
        self.point_max_loss, self._own_loss = to_caller_units(unit, point_u, own_u)
        # L_max of the whole problem (a block of a larger one gets its parent's)
        ref_unit, ref_u = (unit, own_u) if reference is None else reference
        self.max_faithfulness_loss = to_caller_units(ref_unit, ref_u)[0]
        rms_u = np.sqrt(own_u / n) if own_u > 0 else 1.0
        self.scale = unit * rms_u
        # budgets in the rescaled coordinates, computed without squaring G
        self._point_budget_unit = point_u / rms_u ** 2      # ||H_n||^2
        self._loss_ratio = ((ref_u / own_u) * (ref_unit / unit) ** 2 if own_u > 0
                            else np.inf)                   # L_max / own loss
        self._own_zero = own_u == 0
        self.reference = (ref_unit, ref_u)
        self.gradients = G
        self.faithfulness = faithfulness
        self.graph = graph
        self.terms = robustness_terms(graph, robustness, squared=squared)
        self._H = dev_u / rms_u
        self._free = point_u > 0
        self._problem = None
        self._first_order_start = None

    @property
    def problem(self):
        """The cvxpy problem, built on first use (not needed by ``"PDHG"``)."""
        if self._problem is None:
            self._build()
        return self._problem

    def _build(self):
        H, (n, d), free = self._H, self._H.shape, self._free
        self.E = cp.Variable((n, d))
        objective, constraints = robustness_objective(self.terms, self.graph, self.E)
        if self.faithfulness == "global":
            self.budget = cp.Parameter(nonneg=True, name="eta")
            constraints.append(cp.sum_squares(self.E - H) <= self.budget)
        else:
            # rows whose gradient equals the mean have a zero budget: fix them
            self.budget = cp.Parameter(int(free.sum()), nonneg=True, name="radius")
            if free.any():
                constraints.append(
                    cp.norm(self.E[free] - H[free], 2, axis=1) <= self.budget
                )
            if (~free).any():
                constraints.append(self.E[~free] == H[~free])
        self._problem = cp.Problem(cp.Minimize(objective), constraints)

    def closed_form(self, eta_frac):
        """The solution when no solve is needed, else ``None``.

        ``eta_frac == 0`` (or all gradients equal to the center) leaves only
        ``E = G``; ``eta_frac >= 1``, or a global budget that covers these
        points' whole deviation from the center, makes the constant
        ``center`` feasible, and a constant explanation has zero robustness
        loss, the minimum.
        """
        n = self.gradients.shape[0]
        if eta_frac == 0 or self._own_zero:
            return self.gradients.copy()
        if eta_frac >= 1 or (self.faithfulness == "global"
                             and eta_frac * self._loss_ratio >= 1.0):
            return np.tile(self.center, (n, 1))
        return None

    def solve(self, eta_frac, solver, options=None):
        """Solve for a budget ``eta_frac``; returns ``(E, status, stats)``."""
        E = self.closed_form(eta_frac)
        if E is not None:
            return E, "optimal", {"solver": "closed_form", "solve_time": 0.0,
                                  "compile_time": 0.0, "num_iters": 0}
        if self.faithfulness == "global":
            # (== eta_frac * n in the rescaled coordinates when max_loss is our own)
            budget = float(eta_frac) * self._loss_ratio * self._H.shape[0]
        else:
            budget = np.sqrt(eta_frac * self._point_budget_unit)
        H = self._H
        t0 = time.perf_counter()
        if solver == "PDHG":
            unknown = set(options or {}) - set(FIRST_ORDER_OPTIONS)
            if unknown:
                raise ValueError(
                    f"solver_options {sorted(unknown)} are not options of solver='PDHG'; "
                    f"it takes {list(FIRST_ORDER_OPTIONS)}."
                )
            res = solve_first_order(H, self.graph, self.terms, faithfulness=self.faithfulness,
                                    budget=budget, E0=self._first_order_start,
                                    **(options or {}))
            wall = time.perf_counter() - t0
            warn_if_max_iter(res, stacklevel=4)
            self._first_order_start = res.E   # warm start for the next budget
            E_hat, status = res.E, res.status
            stats = {"solver": solver, "solve_time": wall, "compile_time": 0.0,
                     "num_iters": res.n_iter, "wall_time": wall, "gap": res.gap,
                     "primal_residual": res.primal_residual,
                     "dual_residual": res.dual_residual}
            status = "optimal" if status == "optimal" else "optimal_inaccurate"
        else:
            problem = self.problem
            self.budget.value = budget if self.faithfulness == "global" else budget[self._free]
            status = solve_problem(problem, solver, options, size=self.E.size)
            wall = time.perf_counter() - t0
            st = problem.solver_stats
            stats = {
                "solver": solver,
                "solve_time": float(st.solve_time) if st.solve_time is not None else wall,
                "compile_time": float(problem.compilation_time or 0.0),
                "num_iters": st.num_iters,
                "wall_time": wall,
            }
            E_hat = np.asarray(self.E.value)
        self._budget_value = budget
        D = self._project_on_budget(E_hat - H)
        return self.center + self.scale * (H + D), status, stats

    def _project_on_budget(self, D):
        """Shrink ``E - H`` onto the budget the solver met only to tolerance.

        Interior-point solutions may exceed the budget by ~1e-9 relative.
        ``H + a D`` with ``a <= 1`` moves towards the (feasible) gradients;
        by convexity the robustness loss grows by at most the same relative
        amount, and the returned explanations satisfy the constraint exactly
        (with a 1e-12 margin for rounding in the back-transform).
        """
        margin = 1.0 - 1e-12
        budget = self._budget_value
        if self.faithfulness == "global":
            used = float(np.sum(D ** 2))
            if used > budget * margin:
                D = D * np.sqrt(budget * margin / used)
            return D
        norms = np.linalg.norm(D, axis=1)
        limit = np.zeros(len(D))
        limit[self._free] = budget[self._free] * margin
        over = norms > limit
        D[over] *= (limit[over] / norms[over])[:, None]
        return D


class PointProgramCache:
    """Small per-point programs for out-of-sample explanations, one per size.

    For a new point with gradient ``g`` and training neighbours ``j`` (fitted
    explanations ``E_j``, weights ``w_j``) it solves::

        min_e  reduce_j  w_j ||e - E_j||^p   s.t.  ||e - g|| <= r

    where ``reduce`` is ``max`` or ``sum``. One DPP problem is compiled per
    neighbour count and re-solved with new parameter values; the solver is
    started afresh each time (``warm_start=False``: Clarabel would otherwise
    keep its state from the previous point), so the answer for a point never
    depends on which other points are transformed with it, or in what order.
    """

    def __init__(self, reduction, power, solver, options=None):
        self.reduction = reduction
        self.power = power
        self.solver = solver
        self.options = options
        self._problems = {}

    def _problem(self, k, d):
        key = (k, d)
        if key not in self._problems:
            e = cp.Variable(d)
            WE = cp.Parameter((k, d))          # w_j * E_j, row by row
            w = cp.Parameter((k, 1), nonneg=True)
            g = cp.Parameter(d)
            r = cp.Parameter(nonneg=True)
            # ||w_j E_j - w_j e|| = w_j ||E_j - e||: DPP (parameter x variable)
            weighted = cp.norm(WE - w @ cp.reshape(e, (1, d), order="C"), 2, axis=1)
            obj = cp.max(weighted) if self.reduction == "max" else cp.sum(weighted)
            prob = cp.Problem(cp.Minimize(obj), [cp.norm(e - g, 2) <= r])
            self._problems[key] = (prob, e, WE, w, g, r)
        return self._problems[key]

    def solve(self, g, r, EJ, w):
        """Explanation of one point (all inputs in rescaled coordinates)."""
        if r == 0 or EJ.shape[0] == 0:
            return g.copy(), "optimal"
        if self.reduction == "sum" and self.power == 2:
            # sum_j w_j ||e - E_j||^2 = W ||e - mean_w(E)||^2 + const: the
            # constrained optimum is the weighted mean projected on the ball.
            target = w @ EJ / w.sum()
            step = target - g
            dist = np.linalg.norm(step)
            return (target if dist <= r else g + step * (r / dist)), "optimal"
        prob, e, WEp, wp, gp, rp = self._problem(*EJ.shape)
        WEp.value = w[:, None] * EJ
        wp.value = w[:, None]
        gp.value, rp.value = g, float(r)
        status = solve_problem(prob, self.solver, {"warm_start": False, **(self.options or {})})
        return np.asarray(e.value, dtype=np.float64), status
