"""Solver selection and status handling, separate from the estimators."""

import functools
import warnings

import cvxpy as cp

from ..exceptions import InaccurateSolutionWarning, SolverError, SolverFallbackWarning

__all__ = [
    "CLARABEL_QDLDL_MAX_SIZE",
    "DEFAULT_SOLVER_OPTIONS",
    "SOLVERS",
    "default_solver_options",
    "mosek_licensed",
    "select_solver",
    "solve_problem",
    "worker_options",
]

#: Solver names accepted by the ``solver`` parameter (case-insensitive).
SOLVERS = ("auto", "CLARABEL", "SCS", "MOSEK", "PDHG")

#: Options passed to a solver for programs below
#: :data:`CLARABEL_QDLDL_MAX_SIZE` explanation entries, unless the user's
#: ``solver_options`` override them. On small programs Clarabel's automatic
#: choice of linear solver (the supernodal, multithreaded ``faer``) measured
#: slower than ``qdldl``: 150 points with all pairs 51 s vs 8 s; 10-NN graphs
#: in D = 8, max-sensitivity, 2 cores: 4.0 s vs 0.9 s at 100 points, 10.1 s vs
#: 6.6 s at 200 (D = 30, 50 points: 10.3 s vs 5.1 s).
DEFAULT_SOLVER_OPTIONS = {"CLARABEL": {"direct_solve_method": "qdldl"}}

#: From this many explanation entries (points x features) on, Clarabel keeps
#: its own choice of linear solver: ``qdldl``'s fill-in grows faster (10-NN,
#: D = 8: 350 points 65 s vs ``faer``'s 21 s; 2,000 points with ~10
#: neighbours each: ``faer`` 91 s, ``qdldl`` had not finished its first
#: iteration after 5 min).
CLARABEL_QDLDL_MAX_SIZE = 2000


def default_solver_options(solver, size=None):
    """The package's default options for ``solver`` on a program of
    ``size`` explanation entries (``None``: small)."""
    if size is not None and size >= CLARABEL_QDLDL_MAX_SIZE:
        return {}
    return dict(DEFAULT_SOLVER_OPTIONS.get(solver, {}))

#: Options that keep a solver on one thread inside a parallel worker (the
#: workers are the parallelism; threads inside them would oversubscribe).
SINGLE_THREAD_OPTIONS = {
    "CLARABEL": {"max_threads": 1},
    "MOSEK": {"mosek_params": {"MSK_IPAR_NUM_THREADS": 1}},
}


def worker_options(solver, options):
    """``options`` with the solver pinned to one thread, unless the user set it."""
    return {**SINGLE_THREAD_OPTIONS.get(solver, {}), **(options or {})}


_OK = {cp.OPTIMAL}
_INACCURATE = {cp.OPTIMAL_INACCURATE}


@functools.lru_cache(maxsize=None)
def mosek_licensed():
    """True when MOSEK imports *and* a licence can be checked out.

    The answer is cached for the session. MOSEK is an optional extra
    (``pip install skexplain[mosek]``) that needs a licence of its own.
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


#: ``solver="auto"`` uses the first-order solver for programs with at least
#: this many explanation entries (points with neighbours x features).
#: Clarabel's cost follows the fill-in of its factorisation, which grows
#: with both (10-NN graphs, max-sensitivity, 2 cores): D = 8: 2 s / 21 s /
#: 129 s at 100 / 200 / 350 points (``benchmarks/bench_first_order.py
#: --crossover``); D = 16, 100 points: 16 s; D = 30: 9 s at 50 points, 96 s
#: at 100; PDHG 0.05-0.3 s on all of these. The paper's grids (at most 125
#: points in D = 4: 500 entries) stay on the conic solvers' 1e-8 accuracy.
AUTO_FIRST_ORDER_SIZE = 1000


def select_solver(solver, size=None):
    """Resolve the ``solver`` parameter to a cvxpy solver name.

    ``"auto"`` is ``"PDHG"`` for a program of ``size >=
    AUTO_FIRST_ORDER_SIZE`` explanation entries (points with neighbours x
    features), else MOSEK when it is licensed here,
    else CLARABEL. An explicit
    ``"MOSEK"`` without a usable licence falls back to CLARABEL with a
    :class:`~skexplain.exceptions.SolverFallbackWarning`. ``"PDHG"`` is the
    package's own first-order solver (:mod:`skexplain.optimize._first_order`),
    which needs no cvxpy solver; its options (``tol``, ``max_iter``,
    ``check_every``, ``primal_weight``, ``dtype``) go through
    ``solver_options``.

    Examples
    --------
    >>> from skexplain.optimize import select_solver
    >>> select_solver("auto", size=5000), select_solver("clarabel")
    ('PDHG', 'CLARABEL')
    """
    name = str(solver).upper()
    if name == "PDHG":
        return name
    if name not in {s.upper() for s in SOLVERS}:
        raise ValueError(f"solver must be one of {SOLVERS}; got {solver!r}.")
    if name == "AUTO":
        if size is not None and size >= AUTO_FIRST_ORDER_SIZE:
            return "PDHG"
        return "MOSEK" if mosek_licensed() else "CLARABEL"
    if name == "MOSEK" and not mosek_licensed():
        warnings.warn(
            "solver='MOSEK' was requested but MOSEK is not installed or has no "
            "licence here (install skexplain[mosek] and a licence file); "
            "falling back to CLARABEL.",
            SolverFallbackWarning,
            stacklevel=3,
        )
        return "CLARABEL"
    if name not in cp.installed_solvers():
        raise ValueError(
            f"solver={solver!r} is not installed; installed solvers: "
            f"{cp.installed_solvers()}."
        )
    return name


def solve_problem(problem, solver, options=None, *, size=None):
    """Solve a cvxpy problem, turning bad statuses into clear errors.

    Parameters
    ----------
    problem : cvxpy.Problem
    solver : str
        A resolved solver name (see :func:`select_solver`).
    options : dict or None
        Extra keyword arguments for the solver; they override
        :func:`default_solver_options`.
    size : int, optional
        Number of explanation entries of the program, which chooses the
        default options (see :data:`CLARABEL_QDLDL_MAX_SIZE`).

    Returns
    -------
    status : str
        ``"optimal"`` or ``"optimal_inaccurate"`` (the latter with a
        :class:`~skexplain.exceptions.InaccurateSolutionWarning`).

    Raises
    ------
    SolverError
        When the solver fails or returns any other status.
    """
    hint = (
        "Try another solver (solver='SCS' or 'CLARABEL'), a larger eta_frac, "
        "or check the gradients for extreme values."
    )
    opts = {**default_solver_options(solver, size), **(options or {})}
    try:
        problem.solve(solver=solver, **opts)
    except (TypeError, ValueError) as exc:
        if not options:
            raise
        # cvxpy and the solvers reject unknown or ill-typed settings this way
        raise ValueError(
            f"solver_options {sorted(options)} were rejected by the {solver} solver: "
            f"{exc}"
        ) from exc
    except cp.SolverError as exc:
        raise SolverError(
            f"The {solver} solver failed ({exc}). {hint}",
            status="solver_error", solver=solver,
        ) from exc
    status = problem.status
    if status in _INACCURATE:
        warnings.warn(
            f"The {solver} solver stopped with status '{status}': the solution "
            "may miss the optimum or exceed the faithfulness budget by more "
            f"than the usual tolerance. {hint}",
            InaccurateSolutionWarning,
            stacklevel=3,
        )
    elif status not in _OK:
        raise SolverError(
            f"The {solver} solver returned status '{status}'; no solution is "
            f"returned. {hint}",
            status=status, solver=solver,
        )
    return status
