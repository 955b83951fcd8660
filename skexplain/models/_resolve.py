"""Turn whatever the user passed as ``model`` into a :class:`ModelAdapter`."""

import copy

from sklearn.base import BaseEstimator

from ._base import FD_STEP, ModelAdapter
from ._function import FunctionModel
from ._sklearn import sklearn_model
from ._torch import TorchModel, is_torch_module

__all__ = ["as_model", "unwrap_frozen"]


def unwrap_frozen(model):
    """The estimator a ``sklearn.frozen.FrozenEstimator`` wraps (else ``model``).

    Parameters
    ----------
    model : object
        A model, possibly frozen.

    Returns
    -------
    model : object
        What to explain.

    Examples
    --------
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.linear_model import Ridge
    >>> from skexplain.models import unwrap_frozen
    >>> ridge = Ridge().fit([[0.0], [1.0]], [0.0, 1.0])
    >>> unwrap_frozen(FrozenEstimator(ridge)) is ridge
    True
    """
    if type(model).__name__ == "FrozenEstimator" and hasattr(model, "estimator"):
        return model.estimator
    return model


def as_model(model, *, callable_as="predict", output="auto", target=None, fd_step=FD_STEP):
    """Wrap ``model`` in a :class:`ModelAdapter`.

    Parameters
    ----------
    model : ModelAdapter, estimator, torch module or callable
        A fitted scikit-learn estimator (anything with ``predict``,
        ``predict_proba`` or ``decision_function``), a ``torch.nn.Module``, a
        :class:`FunctionModel`, or a bare callable.
    callable_as : {"predict", "gradient"}, default="predict"
        How to read a bare callable: as the model's prediction function or
        as its gradient function. Gradient explainers pass ``"gradient"``.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which output of a scikit-learn estimator to explain (see
        :func:`~skexplain.models.sklearn_model`).
    target : None, "predicted", class label or int, default=None
        The output explained when no columns are given, so that
        ``adapter.gradient(X)`` is a gradient function (see
        :meth:`ModelAdapter.resolve_target`).
    fd_step : float
        Relative finite-difference step where no exact gradient is known.

    Returns
    -------
    adapter : ModelAdapter
        Batched outputs and gradients with checked shapes and values.

    Examples
    --------
    A linear model's input gradient is its coefficient vector, read from
    ``coef_`` (no finite differences):

    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skexplain.models import as_model
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [1.0, 3.0]])
    >>> model = as_model(LinearRegression().fit(X, X @ [2.0, -1.0]))
    >>> model.exact_gradient
    True
    >>> model.gradient(X[:2], 0).round(6)
    array([[ 2., -1.],
           [ 2., -1.]])
    """
    adapter = _adapter(unwrap_frozen(model), callable_as, output, fd_step)
    if target is not None:
        adapter.target = target
    return adapter


def _adapter(model, callable_as, output, fd_step):
    if isinstance(model, ModelAdapter):
        # a shallow copy: the adapter caches facts (number of outputs) on
        # itself, and an estimator's parameters must not change during fit
        return copy.copy(model)
    if model is None:
        raise ValueError(
            "model is required: pass a fitted scikit-learn estimator, a callable "
            "or a FunctionModel, to the constructor or to fit(X, model)."
        )
    if is_torch_module(model):
        return TorchModel(model, fd_step=fd_step)
    if isinstance(model, BaseEstimator) or any(
        hasattr(model, m) for m in ("predict", "predict_proba", "decision_function")
    ):
        return sklearn_model(model, output=output, fd_step=fd_step)
    if callable(model):
        if callable_as == "gradient":
            return FunctionModel(gradient=model, fd_step=fd_step)
        return FunctionModel(predict=model, fd_step=fd_step)
    raise ValueError(
        "model must be a fitted scikit-learn estimator, a torch module, a "
        f"callable or a FunctionModel; got {type(model).__name__}."
    )
