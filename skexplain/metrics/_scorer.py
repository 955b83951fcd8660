"""Every metric as a scikit-learn scorer: ``scorer(estimator, X, y=None)``.

A scorer explains the ``X`` it is handed with the fitted estimator's
``transform`` (out of sample for :class:`~skexplain.OptimizedExplainer`),
then evaluates a metric; higher is better, so losses are negated
(``neg_...``). Gradients, where a metric needs them, come from

1. the ``y`` handed to the scorer when it is an ``(n, d)`` array (a gradient
   array sliced by the CV splits), else
2. the scorer's own ``grad_fn`` (``make_explanation_scorer(..., grad_fn=f)``),
   else
3. the estimator's ``grad_fn_`` (the callable seen at fit) or, for the
   classic explainers, the gradient of their fitted model.

Per-point metrics are *averaged* over the scored points so that folds of
different sizes are comparable. The neighbourhood radius ``u`` of the
robustness losses defaults to the estimator's ``u``; fix it in the scorer
(``make_explanation_scorer("max_sensitivity", u=1.0)``) when ``u`` itself is
searched, so that all candidates are judged by the same loss.
"""

import numpy as np

from ..losses import LOSSES, get_loss
from ..utils import check_points, compute_gradients
from ._explainer import local_lipschitz_estimate, marginal_faithfulness, neighborhood_robustness
from ._perturbation import (
    comprehensiveness,
    faithfulness_correlation,
    infidelity,
    perturbation_sensitivity,
    relative_input_stability,
    relative_output_stability,
    road,
    sufficiency,
)
from ._robustness import faithfulness_loss, robustness_loss

__all__ = [
    "SCORERS",
    "get_explanation_scorer",
    "get_explanation_scorer_names",
    "make_explanation_scorer",
    "make_tradeoff_scorer",
]


def _final(estimator):
    """The last step of a Pipeline, else the estimator itself."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _model_input(estimator, X):
    """``X`` as the final step sees it (after a Pipeline's transformers)."""
    steps = getattr(estimator, "steps", None)
    if steps:
        for _, step in steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
    return np.asarray(X, dtype=np.float64)


def _gradients(estimator, X, y, grad_fn):
    """The model's gradients at ``X``, through the package's one gradient path
    (:func:`~skexplain.utils.compute_gradients`)."""
    if y is not None and not callable(y) and np.shape(y) == X.shape:
        return compute_gradients(y, X, name="y")
    final = _final(estimator)
    fn = grad_fn if grad_fn is not None else getattr(final, "grad_fn_", None)
    if fn is not None and callable(fn):
        return compute_gradients(fn, X, name="grad_fn")
    model = getattr(final, "model_", None)
    if model is not None:
        return compute_gradients(model, X, name="model", target=getattr(final, "target", None),
                                 batch_size=getattr(final, "batch_size", None))
    raise ValueError(
        "this scorer needs the model's gradients at X: pass an (n, d) gradient "
        "array as y, give the scorer a grad_fn, or fit the estimator with a "
        "gradient callable."
    )


def _takes_gradients(final):
    """Whether ``transform`` needs the gradients at the new points (a class
    attribute of :class:`~skexplain.OptimizedExplainer`)."""
    return bool(getattr(final, "_transform_takes_gradients", False))


def _is_robustness(name):
    return name in LOSSES


def _neighborhood(estimator, params):
    """``u`` or ``n_neighbors`` for a robustness scorer: the scorer's own, else
    the estimator's (``OptimizedExplainer``'s ``n_neighbors``, then ``u``)."""
    unknown = set(params) - {"u", "n_neighbors", "squared", "include_self"}
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)} for a robustness scorer; "
                         "it takes u or n_neighbors, squared and include_self.")
    if "u" in params or "n_neighbors" in params:
        return {"u": params.get("u"), "n_neighbors": params.get("n_neighbors")}
    final = _final(estimator)
    k = getattr(final, "k_", None) or getattr(final, "n_neighbors", None)
    u = getattr(final, "u_", None) or getattr(final, "u", None)
    if k is None and u is None:
        raise ValueError("robustness scorers need a neighbourhood: "
                         "make_explanation_scorer(..., u=...) or (..., n_neighbors=...).")
    return {"u": None, "n_neighbors": k} if k is not None else {"u": u, "n_neighbors": None}


def _explain(estimator, X, y, grad_fn):
    """``(Xm, E, G)``: the points as the final step sees them, their
    explanations, and their base explanations where already computed."""
    Xm = _model_input(estimator, X)
    final = _final(estimator)
    target = getattr(final, "target", None)
    if hasattr(final, "estimators_") or isinstance(target, (list, tuple, np.ndarray)) or (
            isinstance(target, str) and target == "all"):
        raise ValueError(
            f"explanation scorers score one output; {type(final).__name__} explains "
            f"several (target={target!r}). Score each output's estimator, or search "
            "with target=<one label>.")
    G = None
    base = getattr(final, "base_", None)
    if base is not None:          # OptimizedExplainer(model=...): its base explanations
        G = np.asarray(base.transform(Xm), dtype=np.float64)
        E = np.asarray(estimator.transform(X), dtype=np.float64)
    elif _takes_gradients(final):  # OptimizedExplainer on gradients: new points need them
        G = _gradients(estimator, Xm, y, grad_fn)
        E = np.asarray(final.transform(Xm, grad_fn=G), dtype=np.float64)
    else:
        E = np.asarray(estimator.transform(X), dtype=np.float64)
    return Xm, E, G


def _evaluate(metric, estimator, X, y, grad_fn, params, explained=None):
    """Mean per-point value of ``metric`` (a loss: lower is better, except
    marginal_faithfulness)."""
    Xm, E, G = _explain(estimator, X, y, grad_fn) if explained is None else explained
    final = _final(estimator)
    if metric == "faithfulness_loss":
        G = _gradients(estimator, Xm, y, grad_fn) if G is None else G
        return float(np.mean(faithfulness_loss(G, E, per_point=True)))
    if _is_robustness(metric):
        vals = robustness_loss(_scored_loss(metric, final, params), Xm, E,
                               **_neighborhood(estimator, params), per_point=True)
        return float(np.mean(vals))
    kw = {k: v for k, v in params.items()
          if k not in ("u", "n_neighbors", "squared", "include_self")}
    if metric == "local_lipschitz":
        return local_lipschitz_estimate(final, Xm, **kw)
    if metric == "neighborhood_robustness":
        return neighborhood_robustness(final, Xm, **kw)
    if metric in ("sensitivity_max", "sensitivity_avg"):
        return perturbation_sensitivity(final, Xm, reduce=metric[-3:].replace("avg", "mean"),
                                        **kw)
    if metric == "relative_input_stability":
        return relative_input_stability(final, Xm, **kw)
    if metric == "relative_output_stability":
        model = getattr(final, "model_", None)
        if model is None:
            raise ValueError(f"{metric} needs an explainer fitted with a model (model_).")
        return relative_output_stability(final, model, Xm, **kw)
    if metric == "road" and "reference" not in kw:
        raise ValueError("the road scorer needs reference data for its imputation: "
                         "make_explanation_scorer('road', reference=X_train).")
    if metric in _MODEL_METRICS:
        model = getattr(final, "model_", None)
        if model is None:
            raise ValueError(f"{metric} needs an explainer fitted with a model (model_).")
        return _MODEL_METRICS[metric](model, Xm, E, target=getattr(final, "target", None), **kw)
    if metric in ("marginal_faithfulness", "marginal_distance"):
        model = getattr(final, "model_", None)
        if model is None:
            raise ValueError(f"{metric} needs an explainer fitted with a model (model_).")
        sim = "inverse" if metric == "marginal_faithfulness" else "distance"
        return marginal_faithfulness(model, Xm, E, similarity=sim,
                                     target=getattr(final, "target", None), **kw)
    raise ValueError(f"unknown metric {metric!r}; choose from {sorted(_SIGNS)}.")


def _scored_loss(metric, final, params):
    """The loss a robustness scorer evaluates: with the scorer's own options
    when it has any, else the estimator's own loss object when it is the
    same loss (e.g. ``AverageSensitivity(squared=True)``), else the default."""
    options = {k: params[k] for k in ("squared", "include_self") if k in params}
    if options:
        return get_loss(metric, name="metric", **options)
    own = getattr(final, "loss_", None)
    if own is not None and getattr(own, "name", None) == metric:
        return own
    if getattr(final, "robustness", None) == metric:
        return get_loss(metric, name="metric", squared=getattr(final, "squared", None))
    return get_loss(metric, name="metric")


_SIGNS = {
    "faithfulness_loss": -1, "max_sensitivity": -1, "local_stability": -1,
    "average_sensitivity": -1, "local_lipschitz": -1, "neighborhood_robustness": -1,
    "marginal_distance": -1, "marginal_faithfulness": 1,
    "sensitivity_max": -1, "sensitivity_avg": -1, "relative_input_stability": -1,
    "infidelity": -1, "faithfulness_correlation": 1, "comprehensiveness": 1,
    "sufficiency": -1, "relative_output_stability": -1, "road": 1,
}

#: Metrics of the model's changes, scored with the explainer's fitted model.
_MODEL_METRICS = {
    "infidelity": infidelity, "faithfulness_correlation": faithfulness_correlation,
    "comprehensiveness": comprehensiveness, "sufficiency": sufficiency, "road": road,
}


def _sign(name):
    """-1 for a loss (any registered robustness loss too), +1 for a score."""
    if name in _SIGNS:
        return _SIGNS[name]
    return -1 if _is_robustness(name) else None


class _ExplanationScorer:
    """Callable ``(estimator, X, y=None) -> float``, higher is better."""

    def __init__(self, metric, sign, grad_fn, params):
        self.metric, self.sign, self.grad_fn, self.params = metric, sign, grad_fn, params

    def __call__(self, estimator, X, y=None, **kwargs):
        X = check_points(X)
        return self.sign * _evaluate(self.metric, estimator, X, y, self.grad_fn, self.params)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        neg = "neg_" if self.sign < 0 else ""
        return f"make_explanation_scorer({neg + self.metric!r}{args})"


def make_explanation_scorer(metric, *, grad_fn=None, **metric_params):
    """A scorer for one metric (any name of :data:`SCORERS`, with or without ``neg_``).

    Parameters
    ----------
    metric : str
        ``"faithfulness_loss"``, ``"max_sensitivity"``, ``"local_stability"``,
        ``"average_sensitivity"``, ``"local_lipschitz"``,
        ``"neighborhood_robustness"``, ``"marginal_faithfulness"``,
        ``"marginal_distance"``, the perturbation metrics
        ``"sensitivity_max"``, ``"sensitivity_avg"`` (both
        :func:`perturbation_sensitivity`), ``"relative_input_stability"``,
        ``"relative_output_stability"``, ``"infidelity"``,
        ``"faithfulness_correlation"``, ``"comprehensiveness"``,
        ``"sufficiency"``, ``"road"`` (MoRF by default; needs
        ``reference=``) (these six with the explainer's fitted model and
        target), or any robustness loss
        registered in :data:`skexplain.losses.LOSSES`. Losses are negated.
    grad_fn : callable, optional
        Gradient function used when the scorer's ``y`` is not a gradient array.
    **metric_params
        Passed to the metric (``u`` or ``n_neighbors``, ``squared``,
        ``n_samples``, ``sigma``, ``random_state``, ``reference``, ...). A
        robustness loss without ``u`` or ``n_neighbors`` uses the
        estimator's (``OptimizedExplainer``'s ``n_neighbors``, else its
        ``u``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import Gradient
    >>> scorer = make_explanation_scorer("max_sensitivity", u=1.5)
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> g = Gradient(lambda X: 2 * X).fit(X)    # explanations 0, 2, 6
    >>> scorer(g, X)                            # -(2 + 2 + 0) / 3
    -1.3333333333333333
    """
    name = metric[4:] if metric.startswith("neg_") else metric
    if name == "neighbourhood_robustness":           # the old spelling
        import warnings

        warnings.warn("the metric neighbourhood_robustness is renamed neighborhood_robustness; "
                      "the old name will be removed.", FutureWarning, stacklevel=2)
        name = "neighborhood_robustness"
    if _sign(name) is None:
        raise ValueError(f"unknown metric {metric!r}; choose from {get_explanation_scorer_names()}.")
    return _ExplanationScorer(name, _sign(name), grad_fn, metric_params)


class _TradeoffScorer:
    def __init__(self, robustness, max_faithfulness, weight, grad_fn, params):
        self.robustness, self.max_faithfulness = robustness, max_faithfulness
        self.weight, self.grad_fn, self.params = weight, grad_fn, params

    def __call__(self, estimator, X, y=None, **kwargs):
        X = check_points(X)
        Xm, E, G = _explain(estimator, X, y, self.grad_fn)
        G = _gradients(estimator, Xm, y, self.grad_fn) if G is None else G
        r = _evaluate(self.robustness, estimator, X, y, self.grad_fn, self.params,
                      explained=(Xm, E, G))
        f = float(np.mean(faithfulness_loss(G, E, per_point=True)))
        if self.max_faithfulness is None:
            return -(r + self.weight * f)
        # faithfulness as a fraction of L_max on the scored points (eta_frac's scale)
        spread = float(np.mean(faithfulness_loss(G, np.broadcast_to(G.mean(axis=0), G.shape),
                                                 per_point=True)))
        frac = f / spread if spread > 0 else (0.0 if f == 0 else np.inf)
        if frac <= self.max_faithfulness:
            return -r
        # too unfaithful: below the base explanations' own robustness, further
        # below the further over the target (finite: no -inf in a search)
        r_base = _evaluate(self.robustness, estimator, X, y, self.grad_fn, self.params,
                           explained=(Xm, G, G))
        excess = min(frac / self.max_faithfulness, 1e6) if self.max_faithfulness > 0 else 1e6
        return -(r + r_base * (1.0 + excess))


def make_tradeoff_scorer(robustness="max_sensitivity", *, max_faithfulness=None, weight=None,
                         grad_fn=None, **metric_params):
    """Select by robustness *and* faithfulness.

    Either ``max_faithfulness``: robustness subject to a faithfulness target
    on the scale of ``eta_frac``, a fraction of ``L_max`` computed on the
    scored points (``sum_n ||B_n - E_n||^2 / sum_n ||B_n - mean(B)||^2``,
    ``B`` the base explanations: 0 is perfectly faithful, 1 as unfaithful
    as the constant mean explanation). Within the target the score is minus
    the mean robustness loss; beyond it, minus ``robustness + r_B (1 +
    fraction / max_faithfulness)`` with ``r_B`` the base explanations' own
    robustness loss: finite (no ``-inf`` in a search), below every
    feasible candidate at least as robust as the base explanations, and
    lower the further over the target. Or ``weight``: minus ``robustness +
    weight * faithfulness`` (mean per-point losses). Exactly one must be
    given.

    Parameters
    ----------
    robustness : str, default="max_sensitivity"
        A robustness loss (any registered name, with or without ``neg_``).
    max_faithfulness : float, optional
        Largest faithfulness loss accepted, as a fraction of ``L_max`` on the
        scored points (the scale of ``eta_frac``).
    weight : float, optional
        Weight of the faithfulness loss in the combined score.
    grad_fn : callable, optional
        Gradient function used when the scorer's ``y`` is not a gradient
        array.
    **metric_params
        Passed to the robustness loss (``u`` or ``n_neighbors``,
        ``squared``, ``include_self``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import Gradient
    >>> X = np.array([[0.0], [1.0]])
    >>> g = Gradient(lambda X: 2 * X).fit(X)    # exact: faithfulness loss 0
    >>> make_tradeoff_scorer(max_faithfulness=0.0, u=1.5)(g, X, 2 * X)
    -2.0
    >>> # gradients 3x: faithfulness 0.5, 2/9 of L_max (over 0.1): -(2 + 3 (1 + 20/9))
    >>> make_tradeoff_scorer(max_faithfulness=0.1, u=1.5)(g, X, 3 * X)
    -11.666666666666666
    """
    if (max_faithfulness is None) == (weight is None):
        raise ValueError("give exactly one of max_faithfulness and weight.")
    for key, value in (("max_faithfulness", max_faithfulness), ("weight", weight)):
        if value is not None and not (np.isscalar(value) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{key} must be a finite number >= 0; got {value!r}.")
    name = robustness[4:] if robustness.startswith("neg_") else robustness
    if _sign(name) is None or name in ("faithfulness_loss", "marginal_faithfulness",
                                       "marginal_distance"):
        raise ValueError(f"robustness must be a robustness loss; got {robustness!r}.")
    return _TradeoffScorer(name, max_faithfulness, weight, grad_fn, metric_params)


SCORERS = {
    ("neg_" if sign < 0 else "") + name: make_explanation_scorer(name)
    for name, sign in _SIGNS.items()
}


def get_explanation_scorer_names():
    """List the names :func:`get_explanation_scorer` accepts.

    Returns
    -------
    names : list of str
        The built-in scorers and ``neg_<name>`` for every registered
        robustness loss.

    Examples
    --------
    >>> from skexplain.metrics import get_explanation_scorer_names
    >>> "neg_local_stability" in get_explanation_scorer_names()
    True
    """
    return sorted(set(SCORERS) | {"neg_" + name for name in LOSSES})


def get_explanation_scorer(name):
    """The registered scorer called ``name`` (e.g. ``"neg_max_sensitivity"``).

    Parameters
    ----------
    name : str or callable
        A name of :func:`get_explanation_scorer_names`; a callable is
        returned as it is (as scikit-learn's ``get_scorer`` does).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> get_explanation_scorer("neg_max_sensitivity")
    make_explanation_scorer('neg_max_sensitivity')
    """
    if callable(name):
        return name
    if name in SCORERS:
        return SCORERS[name]
    if isinstance(name, str) and name.startswith("neg_") and (
            name[4:] in LOSSES or name == "neg_neighbourhood_robustness"):
        return make_explanation_scorer(name)  # a loss registered later, or the old spelling
    raise ValueError(f"unknown scorer {name!r}; choose from {get_explanation_scorer_names()}.")
