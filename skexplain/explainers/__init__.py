"""Classic attribution explainers as scikit-learn transformers.

Every explainer takes its model in the constructor, ``Explainer(model)``,
is fitted with ``fit(X)`` (a ``y`` is ignored, scikit-learn's convention for
transformers) and returns an ``(n_samples, n_features)`` attribution array
from ``transform(X)``. Gradient methods: :class:`Gradient`,
:class:`GradientXInput`, :class:`IntegratedGradients`, :class:`SmoothGrad`,
:class:`UniGrad`, :class:`KernelSmoothGrad`, :class:`GradientSHAP`.
Perturbation methods: :class:`CLIME`, :class:`LIME`, :class:`KernelSHAP`,
:class:`FeatureAblation`, :class:`ShapleySampling`; exact Shapley values of tree
ensembles: :class:`TreeSHAP`. Mask learning:
:class:`RelEx`.
"""

from ._ablation import FeatureAblation, GradientSHAP, ShapleySampling, feature_group_masks
from ._base import BaseExplainer
from ._explanation import Explanation
from ._tree import TreeSHAP, tree_leaves
from ._gradient import Gradient, GradientXInput, IntegratedGradients, integration_rule
from ._relex import RelEx
from ._shap import KernelSHAP, shapley_kernel_weight
from ._smooth import KernelSmoothGrad, SmoothGrad, UniGrad, gaussian_factor
from ._surrogate import CLIME, LIME, weighted_linear_fit

__all__ = [
    "BaseExplainer",
    "CLIME",
    "Explanation",
    "FeatureAblation",
    "Gradient",
    "GradientSHAP",
    "GradientXInput",
    "IntegratedGradients",
    "KernelSHAP",
    "KernelSmoothGrad",
    "LIME",
    "RelEx",
    "ShapleySampling",
    "SmoothGrad",
    "TreeSHAP",
    "UniGrad",
    "feature_group_masks",
    "gaussian_factor",
    "integration_rule",
    "shapley_kernel_weight",
    "tree_leaves",
    "weighted_linear_fit",
]
