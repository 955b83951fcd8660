"""skexplain: optimise and evaluate feature-attribution explanations.

scikit-learn compatible: explanations are transformers, metrics are numpy
functions, and :class:`OptimizedExplainer` solves for explanations with a
chosen trade-off between faithfulness and robustness.
"""

__version__ = "0.1.0.dev0"

from . import datasets, explainers, losses, metrics, models, neighbors, plotting  # noqa: E402
from .optimize import OptimizedExplainer, explanation_path  # noqa: E402

__all__ = [
    "OptimizedExplainer", "explanation_path", "datasets", "explainers", "losses", "metrics",
    "models", "neighbors", "plotting",
    "__version__",
]
