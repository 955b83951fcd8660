"""Validation helpers shared by every estimator and metric."""

from ._validation import (
    check_explanations,
    check_gradient_source,
    compute_gradients,
)

__all__ = ["check_explanations", "check_gradient_source", "compute_gradients"]
