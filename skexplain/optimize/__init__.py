"""Optimised explanations: the estimator, the convex programs, the solvers."""

from ._explainer import OptimizedExplainer
from ._path import ExplanationPath, explanation_path
from ._program import ExplanationProgram, PointProgramCache
from ._solvers import SOLVERS, mosek_licensed, select_solver, solve_problem

__all__ = [
    "SOLVERS",
    "ExplanationProgram",
    "ExplanationPath",
    "OptimizedExplainer",
    "explanation_path",
    "PointProgramCache",
    "mosek_licensed",
    "select_solver",
    "solve_problem",
]
