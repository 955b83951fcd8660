"""What the checks need from an explainer, for skexplain's and for anyone's."""

import inspect

import numpy as np
from sklearn.base import clone

__all__ = ["CallableExplainer", "CheckNotApplicable", "as_subject"]

#: What an explainer's attributions are, as the checks read them.
KINDS = {
    "gradient": "an estimate of the (smoothed) input gradient: a linear model's is theta",
    "gradient_x_input": "input times gradient: a linear model's is x * theta",
    "path": "path attributions from a baseline b (Integrated Gradients): complete, "
            "a linear model's is (x - b) * theta",
    "shapley": "interventional Shapley values over background rows",
    "other": "none of these (only the model-free properties apply)",
}


class CheckNotApplicable(Exception):
    """A property that the explainer cannot be checked for, with the reason.

    Raised by a check function; :func:`check_explainer` reports the check
    as skipped with this reason and the pytest runner skips it.

    Examples
    --------
    >>> from skexplain.testing import CheckNotApplicable
    >>> str(CheckNotApplicable("needs a baseline"))
    'needs a baseline'
    """


class CallableExplainer:
    """A third-party explainer, given as a function, described for the checks.

    Parameters
    ----------
    explain : callable
        ``explain(model, X) -> (n, d)`` attributions, where ``model`` is a
        :class:`CheckModel` (``model.predict(X)``, ``model.gradient(X)``).
        If it takes a ``background`` keyword it receives the reference rows
        (Shapley values), if it takes ``baseline`` the baseline point (path
        methods); the properties that need one are skipped otherwise. A
        check that draws none passes the explained rows and the origin.
    kind : {"gradient", "gradient_x_input", "path", "shapley", "other"}, \
            default="other"
        What the attributions are (see ``KINDS``): it decides which
        closed forms apply.
    noise : {"gaussian", "uniform"} or None, default=None
        The perturbation model of a smoothing method: Gaussian
        ``N(0, scale^2 I)`` or uniform ``U[-scale, scale]^d``.
    scale : float or None, default=None
        ``sigma`` (Gaussian) or the radius (uniform) of ``noise``.
    estimator : {"mean_gradient", "least_squares"}, default="mean_gradient"
        How the smoothing method estimates its limit: the mean of sampled
        gradients (SmoothGrad, UniGrad) or a least-squares slope of sampled
        outputs (C-LIME).
    n_samples : int or None, default=None
        Its number of noise samples (the Monte-Carlo tolerances use it).
    deterministic : bool, default=True
        Whether two calls on the same input give the same attributions.
    exact_dummy : bool or None, default=None
        Whether a feature the model ignores gets exactly zero; ``None``:
        true for every kind but ``"other"`` unless ``estimator`` is
        ``"least_squares"`` (a regression gives it a sampling-noise slope).
    name : str or None, default=None
        Shown in reports (default: the function's name).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.testing import CallableExplainer, check_linear_model
    >>> saliency = CallableExplainer(lambda model, X: model.gradient(X), kind="gradient")
    >>> check_linear_model(saliency, random_state=0)     # passes: no AssertionError
    """

    def __init__(self, explain, *, kind="other", noise=None, scale=None,
                 estimator="mean_gradient", n_samples=None, deterministic=True,
                 exact_dummy=None, name=None):
        if not callable(explain):
            raise ValueError(f"explain must be callable; got {type(explain).__name__}.")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}; got {kind!r}.")
        if noise not in (None, "gaussian", "uniform"):
            raise ValueError(f"noise must be None, 'gaussian' or 'uniform'; got {noise!r}.")
        if noise is not None and not (scale is not None and scale > 0 and n_samples):
            raise ValueError("noise needs a positive scale and n_samples.")
        if estimator not in ("mean_gradient", "least_squares"):
            raise ValueError("estimator must be 'mean_gradient' or 'least_squares'; got "
                             f"{estimator!r}.")
        self.explain, self.kind, self.noise, self.scale = explain, kind, noise, scale
        self.estimator, self.n_samples = estimator, n_samples
        self.deterministic, self.exact_dummy = deterministic, exact_dummy
        self.name = name or getattr(explain, "__name__", type(explain).__name__)

    def __repr__(self):
        return f"CallableExplainer({self.name}, kind={self.kind!r})"


# skexplain's explainers: what they are, and their noise (the classes by name,
# so that this module imports none of them)
_SKEXPLAIN = {
    "Gradient": ("gradient", None, None),
    "SmoothGrad": ("gradient", "gaussian", "mean_gradient"),
    "UniGrad": ("gradient", "uniform", "mean_gradient"),
    "KernelSmoothGrad": ("gradient", None, None),
    "CLIME": ("gradient", "gaussian", "least_squares"),
    "GradientXInput": ("gradient_x_input", None, None),
    "IntegratedGradients": ("path", None, None),
    "KernelSHAP": ("shapley", None, None),
    "TreeSHAP": ("other", None, None),
    "LIME": ("other", None, None),
    "RelEx": ("other", None, None),
}


class Subject:
    """An explainer as the checks use it (internal): one interface for all."""

    def __init__(self, explainer):
        self.explainer = explainer
        self.is_callable = isinstance(explainer, CallableExplainer)
        self.is_optimized = type(explainer).__name__ == "OptimizedExplainer"
        if self.is_callable:
            e = explainer
            self.name, self.kind, self.noise = e.name, e.kind, e.noise
            self.estimator = e.estimator
            sig = inspect.signature(e.explain).parameters
            self.takes = {k for k in ("background", "baseline") if k in sig} | (
                {"background", "baseline"} if any(
                    p.kind is p.VAR_KEYWORD for p in sig.values()) else set())
            self.exact_dummy = (e.exact_dummy if e.exact_dummy is not None
                                else e.kind != "other" and e.estimator != "least_squares")
        elif hasattr(explainer, "get_params") and hasattr(explainer, "fit"):
            self.name = type(explainer).__name__
            # a subclass of one of skexplain's explainers is read as its parent
            known = [c.__name__ for c in type(explainer).__mro__ if c.__name__ in _SKEXPLAIN]
            self.kind, self.noise, self.estimator = (_SKEXPLAIN[known[0]] if known
                                                     else ("other", None, None))
            self.is_optimized = any(c.__name__ == "OptimizedExplainer"
                                    for c in type(explainer).__mro__)
            if self.is_optimized:
                self.kind = "optimized"
            self.takes = {"background", "baseline"}
            self.exact_dummy = self.kind in ("gradient", "gradient_x_input", "path",
                                             "shapley") and self.estimator != "least_squares"
        else:
            raise ValueError(
                "explainer must be a skexplain explainer (an estimator with fit and "
                "transform) or a skexplain.testing.CallableExplainer wrapping a function "
                f"explain(model, X); got {type(explainer).__name__}.")

    def has_param(self, name):
        return not self.is_callable and name in self.explainer.get_params(deep=False)

    def param(self, name):
        return self.explainer.get_params(deep=False)[name] if self.has_param(name) else None

    def explain(self, model, X, *, background=None, baseline=None, params=None):
        """Attributions of ``X`` for ``model``; returns ``(E, info)``.

        ``info`` holds the baseline and background actually used (read from
        the fitted explainer when it chose them itself).
        """
        X = np.asarray(X, dtype=np.float64)
        if self.is_callable:
            # a check that draws none gives the callable the explained rows
            # as background and the origin as baseline
            if background is None:
                background = X
            if baseline is None:
                baseline = np.zeros(X.shape[1])
            kw = {}
            if "background" in self.takes:
                kw["background"] = background
            if "baseline" in self.takes:
                kw["baseline"] = baseline
            E = np.asarray(self.explainer.explain(model, X, **kw), dtype=np.float64)
            info = {"background": background, "baseline": baseline}
        else:
            est = clone(self.explainer)
            settings = dict(params or {})
            if self.has_param("model"):
                settings["model"] = model.as_function_model()
            if baseline is not None and self.has_param("baseline"):
                settings["baseline"] = baseline
            if background is not None and self.has_param("background"):
                settings["background"] = background
            # common random numbers: an unseeded explainer gets a seed, the
            # same for every call of a check
            if self.has_param("random_state") and est.get_params()["random_state"] is None \
                    and "random_state" not in settings:
                settings["random_state"] = 0
            est.set_params(**settings)
            est.fit(background if background is not None else X)
            E = np.asarray(est.transform(X), dtype=np.float64)
            info = {"background": getattr(est, "background_", background),
                    "baseline": getattr(est, "baseline_", baseline), "fitted": est}
        if E.shape != X.shape:
            raise AssertionError(f"{self.name} returned attributions of shape {E.shape} for "
                                 f"X of shape {X.shape}; expected {X.shape}.")
        if not np.all(np.isfinite(E)):
            raise AssertionError(f"{self.name} returned non-finite attributions.")
        return E, info


def as_subject(explainer):
    """The :class:`Subject` for ``explainer`` (internal)."""
    return explainer if isinstance(explainer, Subject) else Subject(explainer)
