"""The explanation path: optimised explanations over a grid of budgets."""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from joblib import effective_n_jobs

from ..exceptions import InaccurateSolutionWarning
from ..metrics._robustness import evaluate_terms, faithfulness_loss, robustness_terms
from ..utils import check_points, compute_gradients
from ..utils._parallel import parallel_map
from ._explainer import neighbour_graph
from ._decompose import TransductiveProblem
from ._program import check_gradient_range, to_caller_units
from ._solvers import select_solver, worker_options

__all__ = ["ExplanationPath", "explanation_path"]

_CHUNK = 5  # budgets per program build (and per parallel task)


@dataclass
class ExplanationPath:
    """Explanations and losses along a grid of faithfulness budgets.

    Attributes
    ----------
    eta_fracs : ndarray of shape (k,)
    explanations : ndarray of shape (k, n_samples, n_features)
    faithfulness_loss : ndarray of shape (k,)
        ``sum_n ||grad f(x_n) - E_n||^2`` at each budget (<= eta).
    robustness_loss : ndarray of shape (k,)
    eta : ndarray of shape (k,)
        Absolute budgets ``eta_frac * max_faithfulness_loss``.
    max_faithfulness_loss : float
    status : list of str
    solve_time : ndarray of shape (k,)
        Solver time of each budget (0 for the closed forms at 0 and >= 1).
    build_time : float
        Time to compute the gradients and the neighbour graph (each worker
        then builds the parametrised program once for its budgets).
    total_time : float
    """

    eta_fracs: np.ndarray
    explanations: np.ndarray
    faithfulness_loss: np.ndarray
    robustness_loss: np.ndarray
    eta: np.ndarray
    max_faithfulness_loss: float
    status: list
    solve_time: np.ndarray
    build_time: float
    total_time: float

    def pareto_mask(self):
        """Budgets on the faithfulness/robustness Pareto front (no other is
        at least as good in both losses and better in one)."""
        f, r = self.faithfulness_loss, self.robustness_loss
        tol = 1e-9 * (1.0 + np.abs(f).max() + np.abs(r).max())
        dominated = ((f[None, :] <= f[:, None] + tol) & (r[None, :] <= r[:, None] + tol)
                     & ((f[None, :] < f[:, None] - tol) | (r[None, :] < r[:, None] - tol)))
        return ~dominated.any(axis=1)

    def plot(self, ax=None):
        """Robustness against faithfulness along the path (extra ``plot``)."""
        from ..utils._optional import import_optional

        plt = import_optional("matplotlib.pyplot", "plot")
        ax = plt.gca() if ax is None else ax
        ax.plot(self.faithfulness_loss, self.robustness_loss, "o-")
        for frac, f, r in zip(self.eta_fracs, self.faithfulness_loss, self.robustness_loss):
            ax.annotate(f"{frac:g}", (f, r), fontsize=7)
        ax.set(xlabel="faithfulness loss", ylabel="robustness loss",
               title="explanation path (labels: eta_frac)")
        return ax


def _solve_budgets(spec, fracs):
    """Worker: build the program once and solve it for each budget in ``fracs``."""
    G, graph, robustness, faithfulness, squared, solver, options = spec
    program = TransductiveProblem(G, graph, robustness, faithfulness=faithfulness,
                                  squared=squared)
    Es, status, times = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        for frac in fracs:
            E, st, stats = program.solve(float(frac), solver, worker_options(solver, options),
                                         n_jobs=1)
            Es.append(E)
            status.append(st)
            times.append(stats["solve_time"])
    return Es, status, times, program.reference


def explanation_path(X, grad_fn, eta_fracs=None, *, robustness="max_sensitivity", u=2.0,
                     n_neighbors=None, faithfulness="global", squared=False, solver="auto",
                     solver_options=None, batch_size=None, n_jobs=None, verbose=0):
    """Optimised explanations for each budget, building the program once.

    The neighbour graph and the parametrised (DPP) cvxpy problem are built
    once; each budget only changes the value of the budget parameter, so
    cvxpy reuses its compiled problem (Clarabel has no warm start; the
    saving is the compilation). ``eta_frac = 0`` and ``>= 1`` use the
    closed forms (the gradients and the mean gradient).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    grad_fn : callable or array-like of shape (n_samples, n_features)
        Gradients at ``X`` or a callable.
    eta_fracs : array-like, default=None
        Budgets as fractions of ``L_max``; ``None``: 0 and 19 values
        log-spaced from 1e-3 to 1 (20 in all).
    robustness, u, n_neighbors, faithfulness, squared, solver, solver_options, batch_size
        As in :class:`~skexplain.OptimizedExplainer`.
    n_jobs : int or None, default=None
        Workers (joblib, ``sklearn.utils.parallel``): the budgets are split
        in contiguous chunks of 5, and each task builds the program once for
        its chunk. The chunks do not depend on ``n_jobs``, so neither do the
        results (to the last bit).
    verbose : int, default=0
        ``> 0``: a tqdm progress bar over the chunks (extra ``progress``).

    Returns
    -------
    path : ExplanationPath

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 3, 7)[:, None]
    >>> path = explanation_path(X, lambda X: X ** 2, [0.0, 0.5, 1.0], u=0.6)
    >>> bool(np.all(np.diff(path.robustness_loss) <= 1e-9))  # more budget, more robust
    True
    """
    t0 = time.perf_counter()
    X = check_points(X, min_samples=2)
    fracs = (np.r_[0.0, np.logspace(-3, 0, 19)] if eta_fracs is None
             else np.asarray(eta_fracs, dtype=np.float64).ravel())
    if fracs.size == 0 or not np.all(np.isfinite(fracs)) or np.any(fracs < 0):
        raise ValueError("eta_fracs must be a non-empty array of finite values >= 0.")
    G = check_gradient_range(compute_gradients(grad_fn, X, batch_size=batch_size,
                                               name="grad_fn"), "grad_fn")
    _, graph, n_isolated = neighbour_graph(X, u, n_neighbors=n_neighbors, stacklevel=3)
    terms = robustness_terms(graph, robustness, squared=squared)
    slv = select_solver(solver, size=(graph.n_queries - n_isolated) * X.shape[1])
    build = time.perf_counter() - t0
    # Fixed chunks of budgets, whatever n_jobs: the solver reuses its state
    # from one solve to the next within a program, so the chunking (not the
    # number of workers) fixes the results to the last bit.
    chunks = np.array_split(np.arange(fracs.size), -(-fracs.size // _CHUNK))
    n_workers = max(1, min(effective_n_jobs(n_jobs), len(chunks)))
    spec = (G, graph, robustness, faithfulness, squared, slv, solver_options)
    parts = list(parallel_map(_solve_budgets, [(spec, fracs[c]) for c in chunks],
                              n_jobs=n_workers, verbose=verbose, desc="explanation path"))
    Es = [E for part in parts for E in part[0]]
    status = [st for part in parts for st in part[1]]
    times = [t for part in parts for t in part[2]]
    unit, loss_u = parts[0][3]
    # in the caller's units only now: 0 * (an L_max that overflows) is not NaN
    L, eta = to_caller_units(unit, loss_u, fracs * loss_u)
    f_loss = [faithfulness_loss(G, E) for E in Es]
    r_loss = [float(evaluate_terms(terms, graph, E).sum()) for E in Es]
    n_inaccurate = sum(st != "optimal" for st in status)
    if n_inaccurate:
        warnings.warn(f"{n_inaccurate} of {fracs.size} budgets ended with an inaccurate "
                      "solver status.", InaccurateSolutionWarning, stacklevel=2)
    return ExplanationPath(
        eta_fracs=fracs, explanations=np.stack(Es), faithfulness_loss=np.array(f_loss),
        robustness_loss=np.array(r_loss), eta=eta, max_faithfulness_loss=L,
        status=status, solve_time=np.array(times), build_time=build,
        total_time=time.perf_counter() - t0,
    )
