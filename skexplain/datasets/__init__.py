"""Test functions with exact gradients and the grids of the papers."""

from ._functions import TEST_FUNCTIONS, TestFunction, get_test_function
from ._grids import PAPER_RADII, make_grid, make_paper_problem, paper_grid, valid_radii

__all__ = [
    "PAPER_RADII",
    "TEST_FUNCTIONS",
    "TestFunction",
    "get_test_function",
    "make_grid",
    "make_paper_problem",
    "paper_grid",
    "valid_radii",
]
