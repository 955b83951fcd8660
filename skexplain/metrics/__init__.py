"""Faithfulness, robustness and agreement metrics (numpy, vectorised).

Losses of explanation arrays on a neighbour graph (max-sensitivity, local
stability, average sensitivity, faithfulness to the gradient), a tie-aware
agreement rate, and metrics that query an explainer or a model around each
point (local Lipschitz estimate, neighbourhood robustness, marginal
faithfulness), and the evaluation of saliency masks against a classifier
(class retrieval, deletion/preservation, rank similarity), and the
perturbation metrics as Captum and Quantus define them (noise sensitivity,
relative input/output stability, infidelity, faithfulness correlation,
comprehensiveness and sufficiency).

The robustness losses are the objects of :mod:`skexplain.losses`, which
the optimiser in :mod:`skexplain.optimize` solves with; these functions
evaluate them from points and explanations.
"""

from ._agreement import AgreementResult, agreement_rate
from ._scorer import (
    SCORERS,
    get_explanation_scorer,
    get_explanation_scorer_names,
    make_explanation_scorer,
    make_tradeoff_scorer,
)
from ._explainer import (
    local_lipschitz_estimate,
    marginal_contributions,
    marginal_faithfulness,
    neighborhood_robustness,
    neighbourhood_robustness,  # noqa: F401 - deprecated alias, not in __all__
)
from ._perturbation import (
    comprehensiveness,
    faithfulness_correlation,
    infidelity,
    perturbation_sensitivity,
    relative_input_stability,
    relative_output_stability,
    relative_representation_stability,
    road,
    sufficiency,
)
from ._relevance import (
    class_retrieval_rate,
    deletion_auc,
    normalize_saliency,
    preservation_auc,
    relevance_score,
    spearman_similarity,
    topk_intersection,
)
from ._robustness import (
    ROBUSTNESS_METRICS,
    average_sensitivity,
    faithfulness_loss,
    local_stability,
    max_sensitivity,
    robustness_loss,
)

__all__ = [
    "ROBUSTNESS_METRICS",
    "SCORERS",
    "AgreementResult",
    "agreement_rate",
    "average_sensitivity",
    "class_retrieval_rate",
    "comprehensiveness",
    "deletion_auc",
    "faithfulness_correlation",
    "faithfulness_loss",
    "get_explanation_scorer",
    "get_explanation_scorer_names",
    "infidelity",
    "local_lipschitz_estimate",
    "local_stability",
    "make_explanation_scorer",
    "make_tradeoff_scorer",
    "marginal_contributions",
    "marginal_faithfulness",
    "max_sensitivity",
    "neighborhood_robustness",
    "normalize_saliency",
    "perturbation_sensitivity",
    "preservation_auc",
    "relative_input_stability",
    "relative_output_stability",
    "relative_representation_stability",
    "relevance_score",
    "road",
    "robustness_loss",
    "spearman_similarity",
    "sufficiency",
    "topk_intersection",
]
