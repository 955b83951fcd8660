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

    Parameters
    ----------
    message : str
        What happened and what to try.
    status : str or None, default=None
        The solver's status string (e.g. ``"infeasible"``, ``"solver_error"``).
    solver : str or None, default=None
        The solver that was used.

    Attributes
    ----------
    status : str or None
        The cvxpy status string (e.g. ``"infeasible"``, ``"solver_error"``).
    solver : str
        The solver that was used.

    Examples
    --------
    >>> from skexplain.exceptions import SolverError
    >>> err = SolverError("The SCS solver returned status 'infeasible'.",
    ...                   status="infeasible", solver="SCS")
    >>> err.status, err.solver
    ('infeasible', 'SCS')
    """

    def __init__(self, message, *, status=None, solver=None):
        super().__init__(message)
        self.status = status
        self.solver = solver


class InaccurateSolutionWarning(UserWarning):
    """The solver stopped short of its documented tolerance.

    The status is then ``"optimal_inaccurate"``: the returned explanations
    meet the faithfulness budget exactly but may miss the optimum by more
    than the solver's tolerance (the message gives the gap where one is
    measured). Try another ``solver`` or tighter ``solver_options``.

    Examples
    --------
    Two PDHG iterations cannot reach the tolerance: ``fit`` warns
    (``InaccurateSolutionWarning``, shown on stderr) and says so in
    ``status_``:

    >>> import numpy as np
    >>> from skexplain import OptimizedExplainer
    >>> X = np.linspace(0, 1, 20)[:, None]
    >>> est = OptimizedExplainer(u=0.2, solver="PDHG", solver_options={"max_iter": 2})
    >>> est.fit(X, np.sin(6 * X)).status_
    <Status.INACCURATE: 'optimal_inaccurate'>
    """


class NoNeighborsWarning(UserWarning):
    """Some points have no neighbour within the radius ``u``.

    Such points contribute nothing to the robustness loss, and the optimiser
    explains them by their gradients.

    Examples
    --------
    The point at 9 is alone within ``u = 1``: ``fit`` warns (shown on
    stderr) and counts it in ``n_isolated_``:

    >>> import numpy as np
    >>> from skexplain import OptimizedExplainer
    >>> X = np.array([[0.0], [0.5], [9.0]])
    >>> OptimizedExplainer(u=1.0).fit(X, np.cos(X)).n_isolated_
    1
    """


class SolverFallbackWarning(UserWarning):
    """The requested solver is not usable here (e.g. MOSEK without licence).

    The solve goes on with another solver (Clarabel), which ``solver_``
    reports.

    Examples
    --------
    >>> from skexplain.exceptions import SolverFallbackWarning
    >>> issubclass(SolverFallbackWarning, UserWarning)
    True
    """


class FiniteDifferenceWarning(UserWarning):
    """Exact input gradients are not available; finite differences are used.

    Raised when an estimator that skexplain differentiates exactly turns out
    to be a variant its exact formula does not reproduce.

    Examples
    --------
    >>> from skexplain.exceptions import FiniteDifferenceWarning
    >>> issubclass(FiniteDifferenceWarning, UserWarning)
    True
    """
