"""Faithfulness, robustness and agreement metrics (numpy, vectorised).

These functions are the single definition of each loss: the optimiser in
:mod:`skexplain.optimize` builds its convex program from the same
:func:`robustness_terms` and reports its losses with these functions.
"""

from ._agreement import AgreementResult, agreement_rate
from ._robustness import (
    ROBUSTNESS_METRICS,
    RobustnessTerms,
    average_sensitivity,
    faithfulness_loss,
    local_stability,
    max_sensitivity,
    robustness_loss,
    robustness_terms,
)

__all__ = [
    "ROBUSTNESS_METRICS",
    "AgreementResult",
    "RobustnessTerms",
    "agreement_rate",
    "average_sensitivity",
    "faithfulness_loss",
    "local_stability",
    "max_sensitivity",
    "robustness_loss",
    "robustness_terms",
]
