"""Test functions with exact gradients, the grids and data sets of the papers."""

from ._functions import TEST_FUNCTIONS, TestFunction, get_test_function
from ._toy import StaircaseFunction, make_two_gaussians
from ._grids import PAPER_RADII, make_grid, make_paper_problem, paper_grid, valid_radii

__all__ = [
    "PAPER_RADII",
    "StaircaseFunction",
    "TEST_FUNCTIONS",
    "TestFunction",
    "get_test_function",
    "make_grid",
    "make_paper_problem",
    "make_two_gaussians",
    "paper_grid",
    "valid_radii",
]
