"""The transductive problem split into independent sub-problems.

A point without neighbours has no robustness term: its best explanation is
its gradient (it uses none of the budget, which the other points can use).
With per-point budgets (``faithfulness="pointwise"``) nothing else couples
two connected components of the neighbour graph either, so each component
is a problem of its own. A *global* budget couples all components (the
budget could be moved from one to another), so the points with neighbours
stay one problem.

Small components are grouped, in the order of their smallest point, into
blocks of at least ``MIN_BLOCK_EDGES`` directed edges (one cvxpy problem per
block: compiling a problem per two-point component would cost more than it
saves). Each block is an :class:`ExplanationProgram` of its own, solved from
scratch, so the explanations do not depend on ``n_jobs``.
"""

import warnings

import numpy as np
from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed

from ..exceptions import InaccurateSolutionWarning
from ._program import ExplanationProgram, scaled_deviations, to_caller_units
from ._solvers import worker_options

__all__ = ["TransductiveProblem", "MIN_BLOCK_EDGES"]

#: Smallest number of directed edges in a block of grouped components.
MIN_BLOCK_EDGES = 2000


def _build(G, graph, spec, center, reference):
    robustness, faithfulness, squared = spec
    return ExplanationProgram(G, graph, robustness, faithfulness=faithfulness,
                              squared=squared, center=center, reference=reference)


def _solve_block(G, graph, spec, center, reference, frac, solver, options):
    """Worker: build one block's program from arrays and solve it once."""
    program = _build(G, graph, spec, center, reference)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        return program.solve(frac, solver, worker_options(solver, options))


class TransductiveProblem:
    """min robustness(E) s.t. faithfulness(E) <= eta, solved block by block.

    Parameters
    ----------
    gradients : ndarray of shape (n_samples, n_features)
    graph : NeighborGraph
    robustness : str
    faithfulness : {"global", "pointwise"}
    squared : bool

    Attributes
    ----------
    blocks : list of ndarray of int
        Sorted point indices of each sub-problem (isolated points excluded).
    center : ndarray of shape (n_features,)
        Mean gradient of all points.
    scale : float
        ``sqrt(L_max / n_samples)``.
    max_faithfulness_loss : float
        ``L_max = sum_n ||G_n - mean(G)||^2``.
    point_max_loss : ndarray of shape (n_samples,)
    """

    def __init__(self, gradients, graph, robustness, *, faithfulness="global", squared=False):
        G = np.asarray(gradients, dtype=np.float64)
        self.gradients = G
        self.graph = graph
        self.spec = (robustness, faithfulness, squared)
        self.center = G.mean(axis=0)
        _, unit, point_u = scaled_deviations(G, self.center)
        loss_u = float(point_u.sum())
        self.reference = (unit, loss_u)
        self._point_u = point_u
        self.point_max_loss, self.max_faithfulness_loss = to_caller_units(unit, point_u, loss_u)
        n = G.shape[0]
        self.scale = unit * np.sqrt(loss_u / n) if loss_u > 0 else 1.0
        self.blocks = self._split(graph, faithfulness)
        self._programs = None

    def budgets(self, eta_frac):
        """``(eta, point budgets)`` of ``eta_frac`` in the caller's units,
        computed before the scale is squared (no ``0 * inf`` for huge
        gradients)."""
        unit, loss_u = self.reference
        return to_caller_units(unit, eta_frac * loss_u, eta_frac * self._point_u)

    @staticmethod
    def _split(graph, faithfulness):
        active = ~graph.isolated
        if not active.any():
            return []
        if faithfulness == "global":
            return [np.flatnonzero(active)]
        n_comp, labels = graph.components()
        edges = np.bincount(labels[graph.src], minlength=n_comp)
        # a component starts a new block when the edges before it fill one
        start = np.cumsum(edges) - edges
        group = start // MIN_BLOCK_EDGES
        node_group = np.where(active, group[labels], -1)
        order = np.argsort(node_group, kind="stable")
        order = order[node_group[order] >= 0]
        cuts = np.flatnonzero(np.diff(node_group[order])) + 1
        return np.split(order, cuts)

    def _block_args(self, b):
        return (self.gradients[b], self.graph.subgraph(b), self.spec, self.center,
                self.reference)

    def closed_form(self, eta_frac):
        """The gradients (``eta_frac = 0``) or the mean gradient (``>= 1``)."""
        n = self.gradients.shape[0]
        if eta_frac == 0 or self.reference[1] == 0:
            return self.gradients.copy()
        if eta_frac >= 1:
            return np.tile(self.center, (n, 1))
        return None

    def solve(self, eta_frac, solver, options=None, *, n_jobs=None):
        """Explanations for a budget; returns ``(E, status, stats)``.

        With ``n_jobs`` 1 (or a single block) the block programs are built
        once and kept, so the next call re-solves them without recompiling
        (the explanation path); otherwise each worker builds and solves one
        block from its arrays. Either way the solver runs single-threaded
        (:func:`worker_options`), so the results do not depend on ``n_jobs``.
        """
        closed = self.closed_form(eta_frac)
        if closed is not None:
            return closed, "optimal", {"solver": "closed_form", "solve_time": 0.0,
                                       "compile_time": 0.0, "num_iters": 0, "n_blocks": 0}
        E = self.gradients.copy()       # isolated points keep their gradient
        n_workers = min(max(1, effective_n_jobs(n_jobs)), len(self.blocks))
        if n_workers <= 1:
            if self._programs is None:
                self._programs = [_build(*self._block_args(b)) for b in self.blocks]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InaccurateSolutionWarning)
                results = [p.solve(eta_frac, solver, worker_options(solver, options))
                           for p in self._programs]
        else:
            results = Parallel(n_jobs=n_jobs)(
                delayed(_solve_block)(*self._block_args(b), eta_frac, solver, options)
                for b in self.blocks
            )
        statuses = [r[1] for r in results]
        for b, (Eb, _, _) in zip(self.blocks, results):
            E[b] = Eb
        stats = {
            "solver": solver,
            "solve_time": float(sum(r[2]["solve_time"] for r in results)),
            "compile_time": float(sum(r[2]["compile_time"] for r in results)),
            "num_iters": max((r[2]["num_iters"] or 0) for r in results),
            "n_blocks": len(self.blocks),
        }
        for key in ("gap", "primal_residual", "dual_residual"):  # first-order solver
            if all(key in r[2] for r in results):
                stats[key] = float(max(r[2][key] for r in results))
        bad = [s for s in statuses if s != "optimal"]
        return E, (bad[0] if bad else "optimal"), stats
