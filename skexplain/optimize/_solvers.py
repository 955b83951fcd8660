"""Solvers behind one interface, and the registry the parameters and the CLI read.

A solver takes one block of an :class:`~skexplain.optimize.ExplanationProblem`
(rescaled gradients, scaled neighbour graph, loss, budget), a budget
fraction and a ``state`` dict it may keep things in between calls (a compiled
program, a warm start), and returns a :class:`~skexplain.optimize.SolveResult`
whose status is true: ``"optimal"`` only when the solver's documented
tolerance is met. Backends: :class:`ConicSolver` (cvxpy: Clarabel, SCS,
MOSEK) and :class:`PDHGSolver` (the package's first-order solver);
:class:`AutoSolver` picks by size and tries the next when one fails.
"""

import functools

import numpy as np

from ..exceptions import SolverError
from ._result import Status

__all__ = ["AUTO_FIRST_ORDER_SIZE", "SOLVERS", "AutoSolver", "Solver", "get_solver",
           "mosek_licensed", "register_solver", "solver_names"]

#: Solver name (upper case, plus ``"auto"``) -> factory ``options -> Solver``.
SOLVERS = {}

#: ``solver="auto"`` uses the first-order solver for programs with at least
#: this many explanation entries (points with neighbours x features).
#: Clarabel's cost follows the fill-in of its factorisation, which grows
#: with both (10-NN graphs, max-sensitivity, 2 cores): D = 8: 2 s / 21 s /
#: 129 s at 100 / 200 / 350 points (``benchmarks/bench_first_order.py
#: --crossover``); D = 16, 100 points: 16 s; D = 30: 9 s at 50 points, 96 s
#: at 100; PDHG 0.05-0.3 s on all of these. The paper's grids (at most 125
#: points in D = 4: 500 entries) stay on the conic solvers' 1e-8 accuracy.
AUTO_FIRST_ORDER_SIZE = 1000

#: Tolerance of PDHG when ``solver="auto"`` falls back to it on a small
#: problem whose conic solve failed or was inaccurate.
AUTO_FALLBACK_TOL = 1e-6


def register_solver(name, factory):
    """Make a solver available by name (``solver=name``, the CLI's ``--solver``).

    Parameters
    ----------
    name : str
        The name, matched case-insensitively.
    factory : callable
        ``factory(options) -> Solver``, ``options`` the user's
        ``solver_options`` dict (or ``None``).

    Examples
    --------
    >>> from skexplain.optimize import SOLVERS
    >>> sorted(SOLVERS)
    ['CLARABEL', 'MOSEK', 'PDHG', 'SCS', 'auto']
    """
    SOLVERS["auto" if name.lower() == "auto" else name.upper()] = factory


def solver_names():
    """The registered solver names, ``"auto"`` first.

    Returns
    -------
    names : list of str
        The accepted values of the ``solver`` parameter.

    Examples
    --------
    >>> from skexplain.optimize import solver_names
    >>> solver_names()
    ['auto', 'CLARABEL', 'MOSEK', 'PDHG', 'SCS']
    """
    return ["auto"] + sorted(k for k in SOLVERS if k != "auto")


def get_solver(solver="auto", options=None, *, name="solver"):
    """The solver meant by a name (any case) or an instance.

    Parameters
    ----------
    solver : str or Solver, default="auto"
        A name of :data:`SOLVERS` or a :class:`Solver`.
    options : dict or None
        The user's ``solver_options``: keyword arguments of the backend
        (checked here, errors name ``solver_options``).
    name : str, default="solver"
        The argument's name in error messages.

    Returns
    -------
    solver : Solver
        Configured with ``options``.

    Examples
    --------
    >>> from skexplain.optimize import get_solver
    >>> get_solver("pdhg", {"tol": 1e-6})
    PDHGSolver(tol=1e-06)
    """
    if isinstance(solver, Solver):
        if options:
            raise ValueError("solver_options are for a solver given by name; a Solver "
                             "instance takes its options in its constructor.")
        return solver
    key = str(solver)
    key = "auto" if key.lower() == "auto" else key.upper()
    if not isinstance(solver, str) or key not in SOLVERS:
        raise ValueError(f"The {name!r} parameter must be a Solver or one of "
                         f"{solver_names()} (any case); got {solver!r}.")
    if options is not None and not isinstance(options, dict):
        raise ValueError(f"solver_options must be a dict or None; got {type(options).__name__}.")
    return SOLVERS[key](options)


@functools.lru_cache(maxsize=None)
def mosek_licensed():
    """True when MOSEK imports *and* a licence can be checked out.

    The answer is cached for the session. MOSEK is an optional extra
    (``pip install skexplain[mosek]``) that needs a licence of its own.

    Returns
    -------
    bool
    """
    try:
        import mosek
    except ImportError:
        return False
    try:
        with mosek.Env() as env:
            env.checkoutlicense(mosek.feature.pts)
    except Exception:  # any licence failure means: do not use MOSEK
        return False
    return True


class Solver:
    """Base class of the solvers.

    A solver is configured at construction (its options) and solves one
    block at a time with :meth:`solve`. Its status is true: ``"optimal"``
    only when its documented tolerance holds.

    See Also
    --------
    ConicSolver : Clarabel, SCS or MOSEK through cvxpy.
    PDHGSolver : The package's first-order solver.
    AutoSolver : Picks one by size, falls back when one fails.

    Examples
    --------
    Any solver object can be passed where a solver name is accepted:

    >>> import numpy as np
    >>> from skexplain import OptimizedExplainer
    >>> from skexplain.optimize import PDHGSolver
    >>> X = np.linspace(0, 1, 10)[:, None]
    >>> est = OptimizedExplainer(u=0.2, solver=PDHGSolver(tol=1e-6)).fit(X, np.sin(6 * X))
    >>> est.solver_, est.status_ == "optimal", est.solver_stats_["gap"] <= 1e-6
    ('PDHG', True, True)
    """

    #: Name reported in ``solver_`` and the statistics.
    name = None

    def resolve(self, size):
        """The solver to use for a problem of ``size`` entries.

        Parameters
        ----------
        size : int
            Explanation entries of the points with neighbours.

        Returns
        -------
        solver : Solver
            ``self`` except for :class:`AutoSolver`.
        """
        return self

    def solve(self, block, eta_frac, state):
        """Solve one block.

        Parameters
        ----------
        block : Block
            One independent program of an :class:`ExplanationProblem`.
        eta_frac : float
            The budget as a fraction of ``L_max``.
        state : dict
            Kept by the caller between the budgets of a path: the solver may
            store a compiled program or a warm start in it.

        Returns
        -------
        result : SolveResult
            Explanations in the block's coordinates (before the exact
            projection onto the budget).

        Raises
        ------
        SolverError
            When the solver fails.
        """
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


def _objective(block, eta_frac, E_hat):
    """The robustness loss of a solution after projection onto the budget."""
    D = block.budget.project(np.asarray(E_hat, dtype=np.float64) - block.H,
                             block.budget.size(block, eta_frac))
    return block.loss.value(block.graph, block.H + D)


class AutoSolver(Solver):
    """Pick a solver by size and try the next one when it fails or is inaccurate.

    Below ``AUTO_FIRST_ORDER_SIZE`` explanation entries (points with
    neighbours x features): MOSEK when it is installed *and* licensed, then
    Clarabel, then PDHG at ``tol = AUTO_FALLBACK_TOL`` started from the best
    solution so far; from that size on PDHG alone (the interior-point
    solvers take minutes to hours there). The first ``"optimal"`` result is
    returned. PDHG stops early once its proven lower bound certifies an
    earlier inaccurate result within its tolerance: that result is then
    returned, as ``"optimal"``, when its objective is the lower. When no result
    is optimal, the inaccurate one with the lowest robustness loss is
    returned; when every solver fails, a :class:`SolverError` listing them.
    Every attempt is recorded (``solver_stats_["attempts"]``).

    Parameters
    ----------
    options : dict or None, default=None
        ``solver_options``: either a dict of dicts keyed by solver name
        (``{"CLARABEL": {...}, "PDHG": {...}}``), or one dict passed to
        every solver that accepts it (a solver that rejects it is left out
        of the chain; if all do, the first error is raised).

    Examples
    --------
    >>> from skexplain.optimize import AutoSolver
    >>> [s.name for s in AutoSolver().candidates(5000)]
    ['PDHG']
    """

    name = "auto"

    def __init__(self, options=None):
        self.options = options
        self._chain = None

    def _nested(self):
        opts = self.options or {}
        return bool(opts) and all(str(k).upper() in SOLVERS for k in opts)

    def candidates(self, size):
        """The solvers tried, in order, for a problem of ``size`` entries.

        Parameters
        ----------
        size : int
            Explanation entries of the points with neighbours.

        Returns
        -------
        solvers : list of Solver
            In the order they are tried.
        """
        if size >= AUTO_FIRST_ORDER_SIZE:
            names = ["PDHG"]
        else:
            names = (["MOSEK"] if mosek_licensed() else []) + ["CLARABEL", "PDHG"]
        nested = self._nested()
        chain, errors = [], []
        for n in names:
            if nested:
                opts = {str(k).upper(): v for k, v in self.options.items()}.get(n)
            else:
                opts = self.options or None
            if n == "PDHG" and len(names) > 1:      # the fallback of a small problem
                opts = {"tol": AUTO_FALLBACK_TOL, **(opts or {})}
            try:
                chain.append(SOLVERS[n](opts))
            except ValueError as exc:
                if nested:
                    raise
                errors.append(exc)
        if not chain:
            raise errors[0]
        return chain

    def resolve(self, size):
        chosen = AutoSolver(self.options)
        chosen._chain = self.candidates(size)
        return chosen

    def solve(self, block, eta_frac, state):
        chain = self._chain if self._chain is not None else self.candidates(block.size)
        attempts, best, errors = [], None, []
        for solver in chain:
            if best is not None and solver.name == "PDHG":
                state["PDHG"] = best[1].explanations         # start from the best so far
                state["candidate"] = best[0]                 # stop once it is certified
            try:
                res = solver.solve(block, eta_frac, state)
            except SolverError as exc:
                attempts.append((solver.name, exc.status or "error", str(exc)))
                errors.append(str(exc))
                continue
            if res.optimal and best is None:      # nothing to compare with
                res.attempts = attempts + [(res.solver, str(res.status), res.message)]
                return res
            obj = _objective(block, eta_frac, res.explanations)
            if res.certificate is not None and best is not None and best[0] <= obj:
                lower, floor = res.certificate
                gap = (best[0] - lower) / max(lower, floor) if best[0] > lower else 0.0
                if gap <= solver.tol:           # the better earlier answer, certified
                    attempts.append((res.solver, "certificate",
                                     f"its lower bound certifies the {best[1].solver} answer "
                                     f"within {gap:.1e} (relative)"))
                    kept = best[1]
                    kept.status, kept.message = Status.OPTIMAL, ""
                    kept.stats.gap = gap
                    kept.attempts = attempts
                    return kept
            attempts.append((res.solver, str(res.status), res.message))
            if res.optimal:
                res.attempts = attempts
                return res
            if best is None or obj < best[0]:
                best = (obj, res)
        if best is None:
            raise SolverError(
                "Every solver tried by solver='auto' failed: " + " | ".join(errors),
                status="solver_error", solver="auto")
        res = best[1]
        res.attempts = attempts
        return res

    def __repr__(self):
        return f"AutoSolver(options={self.options!r})" if self.options else "AutoSolver()"


register_solver("auto", AutoSolver)
