"""What a solve returns: the status, the statistics, the warnings to raise."""

import warnings
from dataclasses import asdict, dataclass, field
from enum import Enum

from ..exceptions import InaccurateSolutionWarning

__all__ = ["SolveResult", "SolveStats", "Status", "WarningRecord", "emit_warnings"]


class Status(str, Enum):
    """Outcome of a solve: ``"optimal"`` or ``"optimal_inaccurate"``.

    A ``str``, so ``Status.OPTIMAL == "optimal"``. ``OPTIMAL`` means the
    solver met its documented tolerance (see each solver class);
    ``INACCURATE`` that it stopped short of it (the explanations still
    satisfy the faithfulness budget exactly). Failures raise
    :class:`~skexplain.exceptions.SolverError` instead.

    Examples
    --------
    >>> from skexplain.optimize import Status
    >>> Status.OPTIMAL == "optimal", str(Status.INACCURATE)
    (True, 'optimal_inaccurate')
    """

    OPTIMAL = "optimal"
    INACCURATE = "optimal_inaccurate"

    def __str__(self):
        return self.value


@dataclass(frozen=True)
class WarningRecord:
    """A warning to raise later, at the public entry point.

    Attributes
    ----------
    category : type
        A ``Warning`` subclass.
    message : str
        The text.
    """

    category: type
    message: str


def emit_warnings(records, stacklevel=2):
    """Raise each distinct record once, from the caller's frame.

    Parameters
    ----------
    records : iterable of WarningRecord
        The warnings collected while solving.
    stacklevel : int, default=2
        As for :func:`warnings.warn`, counted from the caller of this
        function (2: the caller's caller).
    """
    seen = set()
    for rec in records:
        key = (rec.category, rec.message)
        if key not in seen:
            seen.add(key)
            warnings.warn(rec.message, rec.category, stacklevel=stacklevel + 1)


@dataclass
class SolveStats:
    """Timings and convergence measures of a solve.

    Each parameter is an attribute of the same name.

    Parameters
    ----------
    solve_time : float
        Seconds in the solver.
    compile_time : float
        Seconds building the program (cvxpy compile; 0 for PDHG).
    num_iters : int
        Iterations (the largest over blocks).
    gap : float or None
        Relative optimality gap the status rests on, where the solver
        measures one (PDHG: certified, ``(objective - lower bound) /
        max(lower bound, floor)``; the conic solvers report their own).
    primal_residual, dual_residual : float or None
        PDHG's step residuals at the last check.
    n_blocks : int
        Independent programs solved (0 for a closed form).

    Examples
    --------
    >>> from skexplain.optimize import SolveStats
    >>> SolveStats.combine([SolveStats(solve_time=1.0, num_iters=3, gap=1e-5),
    ...                     SolveStats(solve_time=0.5, num_iters=7)])
    SolveStats(solve_time=1.5, compile_time=0.0, num_iters=7, gap=1e-05, primal_residual=None, dual_residual=None, n_blocks=2)
    """

    solve_time: float = 0.0
    compile_time: float = 0.0
    num_iters: int = 0
    gap: float = None
    primal_residual: float = None
    dual_residual: float = None
    n_blocks: int = 1

    @classmethod
    def combine(cls, parts):
        """Stats of several blocks solved for one budget.

        Parameters
        ----------
        parts : iterable of SolveStats
            One per block.

        Returns
        -------
        stats : SolveStats
            Times summed, the largest iteration count and gap.
        """
        parts = list(parts)

        def worst(key):
            vals = [getattr(p, key) for p in parts if getattr(p, key) is not None]
            return float(max(vals)) if vals else None

        return cls(solve_time=float(sum(p.solve_time for p in parts)),
                   compile_time=float(sum(p.compile_time for p in parts)),
                   num_iters=max((p.num_iters or 0 for p in parts), default=0),
                   gap=worst("gap"), primal_residual=worst("primal_residual"),
                   dual_residual=worst("dual_residual"), n_blocks=len(parts))


@dataclass
class SolveResult:
    """Explanations from one solve, with what the solver reported.

    Each parameter is an attribute of the same name.

    Parameters
    ----------
    explanations : ndarray of shape (n_samples, n_features)
        In the program's coordinates for one block, in the caller's units
        once the problem has put the blocks together.
    status : Status
        ``OPTIMAL`` when the solver's documented tolerance is met.
    solver : str
        The solver that produced the explanations (``"closed_form"`` where
        none was needed).
    stats : SolveStats
        Timings, iterations, the measured gap.
    message : str
        Why the status is not ``OPTIMAL``, and what to try.
    attempts : list of tuple
        ``(solver, status or error, message)`` for every solver tried, in
        order (``solver="auto"`` tries the next one when one fails or is
        inaccurate).
    records : list of WarningRecord
        Warnings for the public entry point to raise.
    certificate : tuple of float or None
        ``(lower_bound, floor)``: a proven lower bound of the block's
        optimum and the floor of the relative gap, in the block's rescaled
        units, where the solver proves one (PDHG).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.optimize import SolveResult, Status
    >>> res = SolveResult(np.zeros((2, 1)), Status.INACCURATE, "PDHG", message="max_iter")
    >>> [(w.category.__name__, w.message) for w in res.warnings()]
    [('InaccurateSolutionWarning', 'max_iter')]
    """

    explanations: object
    status: Status
    solver: str
    stats: SolveStats = field(default_factory=SolveStats)
    message: str = ""
    attempts: list = field(default_factory=list)
    records: list = field(default_factory=list)
    certificate: tuple = None

    @property
    def optimal(self):
        """Whether the status is :attr:`Status.OPTIMAL`."""
        return self.status == Status.OPTIMAL

    def stats_dict(self):
        """The statistics as the ``solver_stats_`` dict of the estimator.

        Returns
        -------
        stats : dict
            ``solver``, the fields of :class:`SolveStats` and ``attempts``.
        """
        out = {"solver": self.solver, **asdict(self.stats)}
        out["attempts"] = list(self.attempts)
        return out

    def warnings(self):
        """List the warnings to raise for this result.

        Returns
        -------
        records : list of WarningRecord
            The collected records, plus an
            :class:`~skexplain.exceptions.InaccurateSolutionWarning` when the
            status is not optimal.
        """
        out = list(self.records)
        if not self.optimal:
            out.append(WarningRecord(InaccurateSolutionWarning, self.message or (
                f"The {self.solver} solver stopped short of its tolerance (status "
                f"'{self.status}'): the explanations meet the faithfulness budget exactly "
                "but may miss the optimum.")))
        return out
