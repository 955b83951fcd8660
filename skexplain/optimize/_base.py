"""Base explanations: what the optimised explanations stay faithful to.

The faithfulness term of the optimisation is ``||B(x_n) - E_n||^2`` with
``B`` the *base* explanation: the model's input gradient (``base="gradient"``,
the paper's choice) or any explainer of :mod:`skexplain.explainers`
(SmoothGrad, KernelSHAP, LIME, ...), so that any attribution method can be
made robust at a chosen faithfulness cost.
"""

import numpy as np
from sklearn.base import clone

from ..explainers import BaseExplainer, Gradient
from ..models import FunctionModel, ModelAdapter
from ..models._resolve import unwrap_frozen
from ..models._torch import is_torch_module

__all__ = ["fit_base", "looks_like_model"]


def looks_like_model(obj):
    """Whether ``obj`` is a model (not gradients, not a gradient function).

    Parameters
    ----------
    obj : object
        What the user passed.

    Returns
    -------
    bool
        ``True`` for a model adapter, a torch module, a FrozenEstimator or
        anything with ``predict``, ``predict_proba`` or ``decision_function``.
    """
    obj = unwrap_frozen(obj)
    return (isinstance(obj, ModelAdapter) or is_torch_module(obj)
            or any(hasattr(obj, m) for m in ("predict", "predict_proba", "decision_function")))


def fit_base(X, *, model, base="gradient", target=None, output="auto", batch_size=None,
             n_jobs=None, verbose=0):
    """The fitted base explainer of ``model`` on ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated points.
    model : object
        Anything :func:`~skexplain.models.as_model` accepts; a bare callable
        is read as the prediction function.
    base : "gradient" or BaseExplainer, default="gradient"
        ``"gradient"``: the model's input gradient (a :class:`Gradient`
        explainer). An explainer instance: a clone of it, given ``model``
        when it has none (its own ``model``, if set, is kept as it is) and
        ``target`` when it has none.
    target, output, batch_size, n_jobs
        As for the explainers.
    verbose : int, default=0
        Given to a base explainer that has ``verbose`` and leaves it at 0.

    Returns
    -------
    base : BaseExplainer
        Fitted on ``X``; ``base.transform(X_new)`` gives base explanations.

    Raises
    ------
    ValueError
        For another ``base``, or a model without a usable gradient with
        ``base="gradient"``.
    """
    from ..explainers._base import _is_multi_target

    if _is_multi_target(target) or _is_multi_target(getattr(base, "target", None)):
        raise ValueError(
            "the base explanations are of one output: give the outputs as the "
            "OptimizedExplainer's target (target='all' or a list), not the base "
            f"explainer's (got target={getattr(base, 'target', target)!r}).")
    if callable(model) and not looks_like_model(model) and not isinstance(model, FunctionModel):
        model = FunctionModel(predict=model)    # a bare callable is the prediction function
    if isinstance(base, str) and base == "gradient":
        explainer = Gradient(model, target=target, output=output,
                             batch_size=10000 if batch_size is None else batch_size,
                             n_jobs=n_jobs)
    elif isinstance(base, BaseExplainer):
        explainer = clone(base)
        # clone unfits an estimator parameter: hand the (fitted) objects back
        explainer.set_params(model=base.model if base.model is not None else model)
        if explainer.get_params().get("target") is None and target is not None:
            explainer.set_params(target=target)
        if verbose and explainer.get_params().get("verbose", None) == 0:
            explainer.set_params(verbose=verbose)
    else:
        raise ValueError(
            "base must be 'gradient' or an explainer instance of skexplain.explainers "
            f"(e.g. SmoothGrad(sigma=0.3), KernelSHAP()); got {base!r}.")
    if explainer.model is None:
        raise ValueError("OptimizedExplainer needs a model for its base explanations: "
                         "OptimizedExplainer(model=...).")
    return explainer.fit(X)


def base_explanations(explainer, X):
    """``explainer.transform(X)`` as float64 (base explanations of new points)."""
    return np.asarray(explainer.transform(X), dtype=np.float64)
