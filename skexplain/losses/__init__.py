"""Robustness losses as objects, each with all of its forms.

A loss (:class:`RobustnessLoss`) knows its numpy value on a neighbour graph,
its cvxpy form for the conic solvers (joint and per new point) and the dual
block the first-order solver needs. :data:`LOSSES` maps the public names to
the classes; every entry point that takes a robustness loss accepts a name
or an instance.
"""

from ._base import LOSSES, DualBlock, RobustnessLoss, edge_norms, get_loss, register_loss
from ._max import LocalStability, MaxLoss, MaxSensitivity, incidence
from ._simplex import GroupedSimplex
from ._sum import AverageSensitivity, SumLoss

__all__ = [
    "LOSSES",
    "AverageSensitivity",
    "DualBlock",
    "GroupedSimplex",
    "LocalStability",
    "MaxLoss",
    "MaxSensitivity",
    "RobustnessLoss",
    "SumLoss",
    "edge_norms",
    "get_loss",
    "incidence",
    "register_loss",
]
