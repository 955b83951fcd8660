"""The conic backend: the program as a cvxpy problem, solved by Clarabel, SCS or MOSEK."""

import time

import numpy as np

from ..exceptions import SolverError, SolverFallbackWarning
from ._result import SolveResult, SolveStats, Status, WarningRecord
from . import _solvers
from ._solvers import Solver, register_solver

__all__ = ["CLARABEL_QDLDL_MAX_SIZE", "DEFAULT_SOLVER_OPTIONS", "ConicSolver", "PointPrograms",
           "default_solver_options", "run_cvxpy"]

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

#: Options that keep a solver on one thread (the joblib workers are the
#: parallelism, and one thread makes results independent of ``n_jobs``).
SINGLE_THREAD_OPTIONS = {
    "CLARABEL": {"max_threads": 1},
    "MOSEK": {"mosek_params": {"MSK_IPAR_NUM_THREADS": 1}},
}

#: Relative gap within which PDHG's lower bound must certify an SCS answer
#: for its status to be ``"optimal"``.
SCS_CERTIFY_TOL = 1e-4

_HINT = ("Try another solver (solver='PDHG' or 'CLARABEL'), a larger eta_frac, or check "
         "the gradients for extreme values.")


def default_solver_options(solver, size=None):
    """The package's default options for ``solver`` on a program of ``size`` entries.

    Parameters
    ----------
    solver : str
        A cvxpy solver name.
    size : int, optional
        Explanation entries of the program (``None``: small).

    Returns
    -------
    options : dict
        Single-threaded, and Clarabel's ``qdldl`` below
        :data:`CLARABEL_QDLDL_MAX_SIZE` entries.

    Examples
    --------
    >>> from skexplain.optimize import default_solver_options
    >>> default_solver_options("CLARABEL", size=10)
    {'max_threads': 1, 'direct_solve_method': 'qdldl'}
    >>> default_solver_options("CLARABEL", size=10_000)
    {'max_threads': 1}
    """
    out = dict(SINGLE_THREAD_OPTIONS.get(solver, {}))
    if size is None or size < CLARABEL_QDLDL_MAX_SIZE:
        out.update(DEFAULT_SOLVER_OPTIONS.get(solver, {}))
    return out


def run_cvxpy(problem, solver, options=None, *, size=None):
    """Solve a cvxpy problem; return its status, turn failures into clear errors.

    cvxpy's own "Solution may be inaccurate" warning is not raised: the
    status travels in the result, and the public entry point warns once.

    Parameters
    ----------
    problem : cvxpy.Problem
    solver : str
        A cvxpy solver name.
    options : dict or None
        The user's options; they override :func:`default_solver_options`.
        ``warm_start`` and ``verbose`` are cvxpy's own.
    size : int, optional
        Explanation entries of the program (chooses the default options).

    Returns
    -------
    status : Status

    Raises
    ------
    SolverError
        When the solver fails or returns a status other than optimal or
        optimal_inaccurate.
    ValueError
        When the solver rejects ``options`` (the message names
        ``solver_options``).
    """
    import cvxpy as cp

    opts = {**default_solver_options(solver, size), **(options or {})}
    warm_start = bool(opts.pop("warm_start", True))
    verbose = bool(opts.pop("verbose", False))
    try:
        solution, chain, inverse = _solve_quietly(problem, solver, opts, warm_start, verbose)
    except (TypeError, ValueError) as exc:
        if not options:
            raise
        # cvxpy and the solvers reject unknown or ill-typed settings this way
        raise ValueError(f"solver_options {sorted(options)} were rejected by the {solver} "
                         f"solver: {exc}") from exc
    except cp.SolverError as exc:
        raise SolverError(f"The {solver} solver failed ({exc}). {_HINT}",
                          status="solver_error", solver=solver) from exc
    status = solution.status
    if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        problem.unpack(solution)
        _set_stats(problem, chain)
        return Status.OPTIMAL if status == cp.OPTIMAL else Status.INACCURATE
    hint = _HINT
    if status == cp.USER_LIMIT or "limit" in str(status):
        limits = sorted(k for k in (options or {}) if "iter" in k or "time" in k)
        hint = (f"It stopped at a limit you set (solver_options {limits or options!r}): "
                "raise it, or leave solver_options unset for the solver's defaults.")
    raise SolverError(f"The {solver} solver returned status '{status}'; no solution is "
                      f"returned. {hint}", status=status, solver=solver)


def _solve_quietly(problem, solver, opts, warm_start, verbose):
    """``problem.solve`` without cvxpy's warning on inaccurate statuses: its own
    steps (compile, solve, invert), leaving the status to the caller."""
    import cvxpy as cp

    data, chain, inverse = problem.get_problem_data(solver, verbose=verbose, solver_opts=opts)
    t0 = time.time()
    raw = chain.solve_via_data(problem, data, warm_start, verbose, opts)
    problem._solve_time = time.time() - t0
    solution = chain.invert(raw, inverse)
    if solution.status in cp.settings.ERROR:
        raise cp.SolverError(f"Solver '{solver}' failed.")
    return solution, chain, inverse


def _set_stats(problem, chain):
    from cvxpy.problems.problem import SolverStats

    problem._solver_stats = SolverStats.from_dict(problem._solution.attr, chain.solver.name())


class _Program:
    """The cvxpy problem of one block, compiled on the first solve (DPP: the
    budget is a Parameter, so a new budget re-solves without recompiling)."""

    def __init__(self, block):
        import cvxpy as cp

        H, (n, d) = block.H, block.H.shape
        self.E = cp.Variable((n, d))
        objective, constraints = block.loss.cvxpy_objective(block.graph, block.weights, self.E)
        self.budget, budget_constraints, self.set_size = block.budget.cvxpy_constraints(self.E, H)
        self.problem = cp.Problem(cp.Minimize(objective), constraints + budget_constraints)


class ConicSolver(Solver):
    """The program as a second-order cone program, through cvxpy.

    The conic form of the loss (:meth:`RobustnessLoss.cvxpy_objective`)
    and of the budget, compiled once per block and re-solved for each
    budget (DPP). ``"optimal"`` is the solver's own certificate on the
    rescaled program (Clarabel: relative duality gap and residuals below
    1e-8; the data are O(1) whatever the units of ``X`` and the gradients,
    so this is a relative accuracy of the caller's objective); tests check it
    against independent formulations on random problems. Runs
    single-threaded (the joblib workers are the parallelism); Clarabel uses
    ``qdldl`` below :data:`CLARABEL_QDLDL_MAX_SIZE` entries.
    ``"MOSEK"`` without a usable licence falls back to Clarabel with a
    :class:`~skexplain.exceptions.SolverFallbackWarning`.

    SCS is a first-order method whose own "solved" can be far from the
    optimum where the objective is small (measured: up to 9x on random
    problems with the package's defaults), so its answers are checked:
    PDHG's dual lower bound, started from SCS's solution, must certify it
    within ``SCS_CERTIFY_TOL`` (relative, as PDHG's own status), else the
    status is ``"optimal_inaccurate"`` with the certified gap.

    Parameters
    ----------
    backend : {"CLARABEL", "SCS", "MOSEK"}, default="CLARABEL"
        The cvxpy solver.
    options : dict or None, default=None
        Keyword arguments of the backend (``solver_options``).

    Examples
    --------
    >>> from skexplain.optimize import ConicSolver
    >>> ConicSolver("SCS", {"eps_abs": 1e-9})
    ConicSolver('SCS', options={'eps_abs': 1e-09})
    """

    def __init__(self, backend="CLARABEL", options=None):
        self.backend = str(backend).upper()
        self.options = options

    @property
    def name(self):
        """The backend's name."""
        return self.backend

    def _backend(self):
        import cvxpy as cp

        if self.backend == "MOSEK" and not _solvers.mosek_licensed():
            return "CLARABEL", [WarningRecord(
                SolverFallbackWarning,
                "solver='MOSEK' was requested but MOSEK is not installed or has no licence "
                "here (install skexplain[mosek] and a licence file); falling back to CLARABEL.")]
        if self.backend not in cp.installed_solvers():
            raise ValueError(f"solver={self.backend!r} is not installed; installed solvers: "
                             f"{cp.installed_solvers()}.")
        return self.backend, []

    def solve(self, block, eta_frac, state):
        backend, records = self._backend()
        t0 = time.perf_counter()
        program = state.get("conic")
        if program is None:
            program = state["conic"] = _Program(block)
        program.set_size(block.budget.size(block, eta_frac))
        status = run_cvxpy(program.problem, backend, self.options, size=block.size)
        wall = time.perf_counter() - t0
        st = program.problem.solver_stats
        E_hat = program.E.value
        if E_hat is None:
            raise SolverError(f"The {backend} solver returned no solution (status '{status}'). "
                              f"{_HINT}", status=str(status), solver=backend)
        E_hat = np.asarray(E_hat, dtype=np.float64)
        message = "" if status == Status.OPTIMAL else (
            f"The {backend} solver stopped with status 'optimal_inaccurate': the explanations "
            "meet the faithfulness budget exactly but may miss the optimum by more than its "
            "tolerance. Try solver='PDHG' with a small solver_options['tol'], or another "
            "eta_frac.")
        gap = certificate = None
        if backend == "SCS" and status == Status.OPTIMAL:
            gap, certificate = _certify(block, eta_frac, E_hat)
            if gap > SCS_CERTIFY_TOL:
                status = Status.INACCURATE
                message = (
                    f"The SCS solver reported 'optimal', but a dual bound proves its answer "
                    f"up to {gap:.2e} above the optimum (relative; more than "
                    f"{SCS_CERTIFY_TOL:g}): the explanations meet the budget exactly. Use "
                    "solver='CLARABEL' or 'PDHG', or tighten solver_options['eps_abs'] and "
                    "['eps_rel'].")
        return SolveResult(
            explanations=E_hat, status=status, solver=backend,
            stats=SolveStats(
                solve_time=float(st.solve_time) if st.solve_time is not None else wall,
                compile_time=float(program.problem.compilation_time or 0.0),
                num_iters=int(st.num_iters or 0), gap=gap),
            message=message, records=records, certificate=certificate)

    def __repr__(self):
        opts = f", options={self.options!r}" if self.options else ""
        return f"ConicSolver({self.backend!r}{opts})"


def _certify(block, eta_frac, E_hat):
    """Relative gap of a solution proven by PDHG's dual bound, started from it."""
    from ._pdhg import PDHGSolver
    from ._solvers import _objective

    objective = _objective(block, eta_frac, E_hat)
    res = PDHGSolver(tol=SCS_CERTIFY_TOL).run(
        block.H, block.graph, block.weights, block.loss, block.budget,
        block.budget.size(block, eta_frac), E0=E_hat, candidate=objective)
    lower, floor = res.lower_bound, res.floor
    excess, denom = objective - lower, max(lower, floor)
    gap = 0.0 if excess <= 0 else (excess / denom if denom > 0 else np.inf)
    return float(gap), (lower, floor)


class PointPrograms:
    """One new point's program against its fixed training neighbours.

    For a new point with rescaled gradient ``g``, ball radius ``r`` and
    training neighbours ``E_j`` (weights ``w_j``) it solves ``min_e
    L(e; E_J) s.t. ||e - g|| <= r``, ``L`` the point's own term of the loss
    (:meth:`RobustnessLoss.cvxpy_point_objective`, or its closed form). One
    DPP problem is compiled per neighbour count and re-solved with new
    parameter values; the solver starts afresh each time (no warm start), so
    a point's answer never depends on the other points or their order.

    Parameters
    ----------
    loss : RobustnessLoss
    backend : str
        A cvxpy solver name.
    options : dict or None
        Its options.
    """

    def __init__(self, loss, backend, options=None):
        self.loss, self.backend, self.options = loss, backend, options
        self._problems = {}

    def _problem(self, k, d):
        import cvxpy as cp

        key = (k, d)
        if key not in self._problems:
            e = cp.Variable(d)
            WE = cp.Parameter((k, d))          # w_j * E_j, row by row
            w = cp.Parameter((k, 1), nonneg=True)
            g = cp.Parameter(d)
            r = cp.Parameter(nonneg=True)
            obj = self.loss.cvxpy_point_objective(e, WE, w)
            self._problems[key] = (cp.Problem(cp.Minimize(obj), [cp.norm(e - g, 2) <= r]),
                                   e, WE, w, g, r)
        return self._problems[key]

    def solve(self, g, r, EJ, w):
        """Explanation of one point (all inputs in rescaled coordinates).

        Parameters
        ----------
        g : ndarray of shape (d,)
        r : float
        EJ : ndarray of shape (k, d)
        w : ndarray of shape (k,)

        Returns
        -------
        e : ndarray of shape (d,)
        status : Status
        """
        if r == 0 or EJ.shape[0] == 0:
            return g.copy(), Status.OPTIMAL
        closed = self.loss.point_closed_form(g, r, EJ, w)
        if closed is not None:
            return closed, Status.OPTIMAL
        prob, e, WEp, wp, gp, rp = self._problem(*EJ.shape)
        WEp.value = w[:, None] * EJ
        wp.value = w[:, None]
        gp.value, rp.value = g, float(r)
        status = run_cvxpy(prob, self.backend, {"warm_start": False, **(self.options or {})})
        return np.asarray(e.value, dtype=np.float64), status


for _name in ("CLARABEL", "SCS", "MOSEK"):
    register_solver(_name, lambda options, _n=_name: ConicSolver(_n, options))
