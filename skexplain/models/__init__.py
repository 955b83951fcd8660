"""Models as explainers see them: batched outputs and input gradients.

:func:`as_model` accepts a gradient callable, a prediction callable, a
:class:`FunctionModel`, a fitted scikit-learn estimator (exact gradients for
MLPs, linear models and RBF kernel machines, finite differences otherwise) or
a ``torch.nn.Module`` (the ``torch`` extra).
"""

from ._base import FD_STEP, ModelAdapter
from ._checks import check_gradient_informative, piecewise_constant_model
from ._function import FunctionModel
from ._resolve import as_model, unwrap_frozen
from ._sklearn import EstimatorModel, sklearn_model
from ._torch import TorchModel

__all__ = [
    "FD_STEP",
    "EstimatorModel",
    "FunctionModel",
    "ModelAdapter",
    "TorchModel",
    "as_model",
    "check_gradient_informative",
    "piecewise_constant_model",
    "sklearn_model",
    "unwrap_frozen",
]
