"""Optimised explanations: the estimator, the problem, budgets and solvers.

* :class:`OptimizedExplainer` (a scikit-learn transformer) and
  :func:`explanation_path` (many budgets) both prepare one
  :class:`ExplanationProblem` and solve it;
* budgets (:class:`GlobalBudget`, :class:`PointwiseBudget`) and solvers
  (:class:`ConicSolver`, :class:`PDHGSolver`, :class:`AutoSolver`) are
  objects behind small interfaces, with registries (:data:`BUDGETS`,
  :data:`SOLVERS`) that parameter validation and the command line read;
* every solve returns a :class:`SolveResult` whose :class:`Status` is true.

The robustness losses are in :mod:`skexplain.losses`.
"""

from ._budgets import BUDGETS, Budget, GlobalBudget, PointwiseBudget, get_budget
from ._conic import ConicSolver, default_solver_options
from ._explainer import OptimizedExplainer
from ._path import ExplanationPath, explanation_path
from ._pdhg import PDHGSolver
from ._problem import ExplanationProblem
from ._result import SolveResult, SolveStats, Status
from ._solvers import (
    SOLVERS,
    AutoSolver,
    Solver,
    get_solver,
    mosek_licensed,
    register_solver,
    solver_names,
)

__all__ = [
    "BUDGETS",
    "SOLVERS",
    "AutoSolver",
    "Budget",
    "ConicSolver",
    "ExplanationPath",
    "ExplanationProblem",
    "GlobalBudget",
    "OptimizedExplainer",
    "PDHGSolver",
    "PointwiseBudget",
    "SolveResult",
    "SolveStats",
    "Solver",
    "Status",
    "default_solver_options",
    "explanation_path",
    "get_budget",
    "get_solver",
    "mosek_licensed",
    "register_solver",
    "solver_names",
]
