"""Models whose input gradient carries no information: refuse them up front."""

import numpy as np

from ._resolve import unwrap_frozen

__all__ = ["check_gradient_informative", "piecewise_constant_model"]

#: scikit-learn estimators that are piecewise constant in their inputs.
_PIECEWISE_CONSTANT = (
    "DecisionTreeRegressor", "DecisionTreeClassifier", "ExtraTreeRegressor",
    "ExtraTreeClassifier", "RandomForestRegressor", "RandomForestClassifier",
    "ExtraTreesRegressor", "ExtraTreesClassifier", "GradientBoostingRegressor",
    "GradientBoostingClassifier", "HistGradientBoostingRegressor",
    "HistGradientBoostingClassifier", "KNeighborsRegressor", "KNeighborsClassifier",
    "RadiusNeighborsRegressor", "RadiusNeighborsClassifier", "IsolationForest",
)


def _final_step(model):
    model = unwrap_frozen(model)
    steps = getattr(model, "steps", None)
    if steps:
        return _final_step(steps[-1][1])
    return getattr(model, "estimator", model) if type(model).__name__.startswith(
        "Calibrated") else model


def piecewise_constant_model(model):
    """The name of a known piecewise-constant estimator ``model`` is (or ends with).

    Tree ensembles and nearest-neighbour models are step functions of their
    inputs: their gradient is zero almost everywhere.

    Parameters
    ----------
    model : object
        A model (a Pipeline is judged by its last step).

    Returns
    -------
    name : str or None
        The estimator's class name, or ``None`` when it is not a known
        piecewise-constant estimator.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skexplain.models import piecewise_constant_model
    >>> piecewise_constant_model(make_pipeline(StandardScaler(), RandomForestRegressor()))
    'RandomForestRegressor'
    >>> piecewise_constant_model(Ridge()) is None
    True
    """
    name = type(_final_step(model)).__name__
    return name if name in _PIECEWISE_CONSTANT else None


def check_gradient_informative(adapter, model, X, *, target=None, batch_size=None,
                               n_rows=16, what="The explainer"):
    """Raise when the model's input gradient is zero almost everywhere.

    A known piecewise-constant estimator (:func:`piecewise_constant_model`)
    is refused at once. A model without an exact gradient is probed: if the
    finite-difference gradient is exactly zero at three quarters or more of
    up to ``n_rows`` points of ``X`` while the model's output varies over
    them, it is a step function for practical purposes (finite differences
    are 0 on the flats and a spike of ``jump / (2 h)`` at a step).

    Parameters
    ----------
    adapter : ModelAdapter
        The resolved model.
    model : object
        What the user passed (named in the message).
    X : ndarray of shape (n_samples, n_features)
        Points the model will be explained at.
    target : optional
        The explained output.
    batch_size : int or None, default=None
        Rows per model call.
    n_rows : int, default=16
        Points probed (evenly spaced rows of ``X``).
    what : str, default="The explainer"
        Who needs the gradient, for the message.

    Raises
    ------
    ValueError
        Naming the model and the perturbation explainers to use instead.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.models import FunctionModel, check_gradient_informative
    >>> step = FunctionModel(predict=lambda X: np.floor(X).sum(axis=1))
    >>> X = np.linspace(0.05, 4.95, 40).reshape(20, 2)
    >>> check_gradient_informative(step, step, X)
    Traceback (most recent call last):
    ...
    ValueError: FunctionModel has no usable input gradient: its finite-difference gradient is exactly zero at 16 of 16 probed points while its output varies (a step function). The explainer needs gradients and would return zeros. Explain it with a perturbation method instead: TreeSHAP (tree ensembles), KernelSHAP, LIME or CLIME (for OptimizedExplainer: base=TreeSHAP() or base=KernelSHAP(...)).
    """
    advice = ("Explain it with a perturbation method instead: TreeSHAP (tree ensembles), "
              "KernelSHAP, LIME or CLIME (for OptimizedExplainer: base=TreeSHAP() or "
              "base=KernelSHAP(...)).")
    known = piecewise_constant_model(model)
    if known is not None and not adapter.exact_gradient:
        raise ValueError(
            f"{known} is piecewise constant in its inputs (a step function): its input "
            f"gradient is zero almost everywhere, so {what[0].lower() + what[1:]} would "
            f"return zeros. {advice}")
    if adapter.exact_gradient or X.shape[0] == 0:
        return
    idx = np.unique(np.linspace(0, X.shape[0] - 1, min(n_rows, X.shape[0])).astype(int))
    rows = X[idx]
    cols = adapter.resolve_target(target, rows, batch_size=batch_size)
    G = adapter.gradient(rows, cols, batch_size=batch_size)
    zero = np.all(G == 0, axis=1)
    if zero.mean() < 0.75:
        return
    values = adapter.predict(rows, cols, batch_size=batch_size)
    if np.ptp(values) == 0:
        return                        # a constant model: nothing to explain, nothing wrong
    name = type(unwrap_frozen(model)).__name__
    raise ValueError(
        f"{name} has no usable input gradient: its finite-difference gradient is exactly "
        f"zero at {int(zero.sum())} of {len(rows)} probed points while its output varies "
        f"(a step function). {what} needs gradients and would return zeros. {advice}")
