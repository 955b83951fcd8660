"""Exceptions and warnings raised by skexplain.

Every error that skexplain raises on purpose is either a :class:`ValueError`
(bad input, naming the argument), sklearn's ``InvalidParameterError`` (a bad
constructor parameter, itself a ``ValueError``), ``NotFittedError``, or a
:class:`SolverError` below.
"""

__all__ = [
    "SolverError",
    "InaccurateSolutionWarning",
    "NoNeighborsWarning",
    "SolverFallbackWarning",
    "FiniteDifferenceWarning",
]


class SolverError(RuntimeError):
    """The convex solver failed or reported a problem that is not optimal.

    The message names the solver, the status it returned and what to try.

    Attributes
    ----------
    status : str or None
        The cvxpy status string (e.g. ``"infeasible"``, ``"solver_error"``).
    solver : str
        The solver that was used.
    """

    def __init__(self, message, *, status=None, solver=None):
        super().__init__(message)
        self.status = status
        self.solver = solver


class InaccurateSolutionWarning(UserWarning):
    """The solver stopped with status ``optimal_inaccurate``.

    The returned explanations may violate the faithfulness budget or miss the
    optimum by more than the default tolerances. Try another ``solver`` or
    tighter ``solver_options``.
    """


class NoNeighborsWarning(UserWarning):
    """Some points have no neighbour within the radius ``u``.

    Such points contribute nothing to the robustness loss.
    """


class SolverFallbackWarning(UserWarning):
    """The requested solver is not usable here (e.g. MOSEK without licence)."""


class FiniteDifferenceWarning(UserWarning):
    """Exact input gradients are not available; finite differences are used.

    Raised when an estimator that skexplain differentiates exactly turns out
    to be a variant its exact formula does not reproduce.
    """
