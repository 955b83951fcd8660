"""Validation helpers shared by every estimator and metric."""

from ._validation import (
    check_explanations,
    check_gradient_source,
    check_points,
    compute_gradients,
    validate_points,
)

__all__ = ["check_explanations", "check_gradient_source", "check_points",
           "compute_gradients", "validate_points"]
