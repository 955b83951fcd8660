"""Property-based verification of explanations, for your own CI.

The properties the papers prove (linearity, completeness, Shapley's
axioms, SmoothGrad = C-LIME in expectation, the SmoothGrad Lipschitz bound,
the faithfulness budget of optimised explanations, ...) as plain check
functions that raise ``AssertionError`` (usable without pytest), runners
over hypothesis-drawn cases (:func:`check_explainer`,
:func:`parametrize_with_explanation_checks`, like scikit-learn's
``parametrize_with_checks``), and the hypothesis strategies and
closed-form models they draw from. Any explainer can be checked: a
skexplain one, or any function ``explain(model, X)`` wrapped in
:class:`CallableExplainer`.

hypothesis and pytest are imported only when needed (the ``test`` extra):
the check functions, models and :class:`CallableExplainer` work without
them.
"""

from ._checks import (
    CHECKS,
    check_batch_invariance,
    check_budget,
    check_completeness,
    check_determinism,
    check_dummy,
    check_efficiency,
    check_implementation_invariance,
    check_linear_model,
    check_linearity,
    check_lipschitz_decreases_with_sigma,
    check_pareto_front,
    check_robustness_improves,
    check_smoothgrad_lipschitz,
    check_smoothing_limit,
    check_symmetry,
    check_zero_budget,
)
from ._models import CheckModel, ClosedFormModel, equivalent_networks, make_closed_form_model
from ._runner import (
    CheckReport,
    CheckResult,
    check_explainer,
    parametrize_with_explanation_checks,
)
from ._subject import CallableExplainer, CheckNotApplicable

_STRATEGIES = ("backgrounds", "closed_form_models", "covariances", "points", "sklearn_models")

__all__ = [
    "CHECKS",
    "CallableExplainer",
    "CheckModel",
    "CheckNotApplicable",
    "CheckReport",
    "CheckResult",
    "ClosedFormModel",
    "backgrounds",
    "check_batch_invariance",
    "check_budget",
    "check_completeness",
    "check_determinism",
    "check_dummy",
    "check_efficiency",
    "check_explainer",
    "check_implementation_invariance",
    "check_linear_model",
    "check_linearity",
    "check_lipschitz_decreases_with_sigma",
    "check_pareto_front",
    "check_robustness_improves",
    "check_smoothgrad_lipschitz",
    "check_smoothing_limit",
    "check_symmetry",
    "check_zero_budget",
    "closed_form_models",
    "covariances",
    "equivalent_networks",
    "make_closed_form_model",
    "parametrize_with_explanation_checks",
    "points",
    "sklearn_models",
]


def __getattr__(name):
    # the strategies import hypothesis: only when one is asked for
    if name in _STRATEGIES:
        try:
            from . import _strategies
        except ImportError as exc:
            raise ImportError("skexplain.testing's strategies need hypothesis: "
                              "pip install 'skexplain[test]'.") from exc
        return getattr(_strategies, name)
    raise AttributeError(f"module 'skexplain.testing' has no attribute {name!r}")
