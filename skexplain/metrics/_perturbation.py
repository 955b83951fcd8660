"""Metrics from random or masked perturbations of the input, as the peers define them.

* :func:`perturbation_sensitivity`: max- or average-sensitivity of an
  explainer under input noise (Yeh et al. 2019; Captum's ``sensitivity_max``,
  Quantus's ``MaxSensitivity`` / ``AvgSensitivity``);
* :func:`relative_input_stability`, :func:`relative_output_stability` and
  :func:`relative_representation_stability` (Agarwal et al. 2022; Quantus's
  RIS / ROS / RRS);
* :func:`infidelity` (Yeh et al. 2019; Captum's ``infidelity``);
* :func:`faithfulness_correlation` (Bhatt et al. 2020; Quantus's
  ``FaithfulnessCorrelation``);
* :func:`comprehensiveness` and :func:`sufficiency` (DeYoung et al. 2020,
  ERASER), averaged over the fractions of features removed or kept;
* :func:`road`: removal with debiased (conditional-Gaussian) imputation
  (Rong et al. 2022).

Every perturbation is drawn up front from ``random_state`` (so the values do
not depend on ``batch_size``), and the explainer or the model is called on
the stacked perturbed points in blocks of at most ``batch_size`` rows.
"""

import numbers
import warnings

import numpy as np
from sklearn.utils import check_random_state

from ..models import as_model
from ..utils import check_explanations, check_points
from ._explainer import _attribution_fn, _explain, _neighbors, _reference

__all__ = [
    "comprehensiveness",
    "faithfulness_correlation",
    "infidelity",
    "perturbation_sensitivity",
    "relative_input_stability",
    "relative_output_stability",
    "relative_representation_stability",
    "road",
    "sufficiency",
]

_NOISES = ("uniform", "gaussian", "uniform_ball")


def _count(value, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _positive(value, name):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not np.isfinite(value) or not value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}.")
    return float(value)


def _batch(batch_size):
    if batch_size is None:
        return None
    return _count(batch_size, "batch_size")


def _noise(rng, shape, noise, radius):
    """Perturbations of ``shape`` (n, s, d): uniform in the cube
    ``[-radius, radius]^d``, Gaussian with standard deviation ``radius``, or
    uniform in the Euclidean ball of radius ``radius`` (the samplers of
    :func:`local_lipschitz_estimate`, around zero)."""
    if noise not in _NOISES:
        raise ValueError(f"noise must be one of {_NOISES}; got {noise!r}.")
    n, s, d = shape
    return _neighbors(np.zeros((n, d)), s, radius, noise, rng)


def _explain_blocks(fn, Z, batch_size):
    """The explainer on the rows of ``Z``, at most ``batch_size`` rows per call."""
    if batch_size is None or Z.shape[0] <= batch_size:
        return _explain(fn, Z)
    return np.concatenate([_explain(fn, Z[a:a + batch_size])
                           for a in range(0, Z.shape[0], batch_size)])


def _perturbed_explanations(explainer, X, n_samples, radius, noise, random_state, batch_size):
    X = check_points(X)
    fn = _attribution_fn(explainer)
    n_samples = _count(n_samples, "n_samples")
    radius = _positive(radius, "radius")
    batch_size = _batch(batch_size)
    n, d = X.shape
    Z = X[:, None, :] + _noise(check_random_state(random_state), (n, n_samples, d), noise, radius)
    E = _explain_blocks(fn, X, batch_size)
    Ez = _explain_blocks(fn, Z.reshape(-1, d), batch_size).reshape(n, n_samples, d)
    return X, Z, E, Ez


def perturbation_sensitivity(explainer, X, *, reduce="max", n_samples=200, radius=0.2,
                             noise="uniform", normalize=True, random_state=None,
                             batch_size=None, per_point=False):
    """Sensitivity of an explainer to input noise (max or average over samples).

    ``reduce_s ||phi(x) - phi(x + delta_s)||``: Yeh et al.'s max-sensitivity (``reduce="max"``) and average sensitivity
    (``reduce="mean"``) estimated by Monte Carlo, as Captum and Quantus do,
    divided by ``||phi(x)||`` with ``normalize=True`` (both peers' default;
    Captum replaces a zero norm by 1, and so does this function). Not the
    neighbour-graph losses of :func:`max_sensitivity` /
    :func:`average_sensitivity`, which compare data points with each other.

    The defaults are Quantus 0.5's ``MaxSensitivity`` / ``AvgSensitivity``
    (200 samples, uniform noise in ``[-0.2, 0.2]`` per feature, Frobenius
    norms, divided by the norm of the explanation); Captum's
    ``sensitivity_max`` is ``n_samples=10, radius=0.02``.

    Parameters
    ----------
    explainer : fitted explainer or callable
        Anything with ``transform(X) -> (n, d)``, or a callable doing that.
    X : array-like of shape (n_samples, n_features)
        Points around which to measure.
    reduce : {"max", "mean"}, default="max"
        Max-sensitivity or average sensitivity over the samples.
    n_samples : int, default=200
        Perturbations per point.
    radius : float, default=0.2
        Half-width of the uniform cube (``noise="uniform"``), standard
        deviation (``"gaussian"``) or radius (``"uniform_ball"``).
    noise : {"uniform", "gaussian", "uniform_ball"}, default="uniform"
        Distribution of the perturbations.
    normalize : bool, default=True
        Divide by ``||phi(x)||`` (by 1 where it is zero).
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations.
    batch_size : int or None, default=None
        Largest number of rows per explainer call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean sensitivity, or each point's.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import perturbation_sensitivity
    >>> phi = lambda X: 2.0 * X                      # phi(x + d) - phi(x) = 2 d
    >>> s = perturbation_sensitivity(phi, np.ones((1, 2)), noise="uniform_ball",
    ...                              normalize=False, random_state=0)
    >>> bool(s <= 2 * 0.2)
    True
    """
    if reduce not in ("max", "mean"):
        raise ValueError(f"reduce must be 'max' or 'mean'; got {reduce!r}.")
    X, Z, E, Ez = _perturbed_explanations(explainer, X, n_samples, radius, noise,
                                          random_state, batch_size)
    S = np.linalg.norm(Ez - E[:, None, :], axis=2)
    if normalize:
        size = np.linalg.norm(E, axis=1)
        S = S / np.where(size > 0, size, 1.0)[:, None]
    vals = S.max(axis=1) if reduce == "max" else S.mean(axis=1)
    return vals if per_point else float(vals.mean())


def _relative(A, B, eps_min):
    """``(A - B) / A`` element-wise, a zero of ``A`` replaced by ``eps_min``
    (Quantus's convention; the ratio is otherwise undefined)."""
    return (A - B) / np.where(A == 0, eps_min, A)


def _same_prediction(model, X, Z, output, batch_size):
    """Which perturbed points keep the point's predicted class (argmax output)."""
    adapter = as_model(model, callable_as="predict", output=output)
    n, s, d = Z.shape
    y = np.argmax(adapter.outputs(X, batch_size=batch_size), axis=1)
    yz = np.argmax(adapter.outputs(Z.reshape(-1, d), batch_size=batch_size), axis=1)
    return yz.reshape(n, s) == y[:, None]


def _max_admissible(R, keep, name):
    """Each point's max over its admissible samples; NaN, with one warning,
    for a point none of whose samples keeps the prediction."""
    R = np.where(keep, R, -np.inf)
    vals = R.max(axis=1)
    empty = ~keep.any(axis=1)
    if empty.any():
        warnings.warn(
            f"{name}: every perturbation of {int(empty.sum())} point(s) changed the "
            "model's prediction; their value is nan (use a smaller radius).",
            RuntimeWarning, stacklevel=3)
        vals = np.where(empty, np.nan, vals)
    return vals


def relative_input_stability(explainer, X, *, model=None, n_samples=200, radius=0.2,
                             noise="uniform", eps_min=1e-6, output="auto", random_state=None,
                             batch_size=None, per_point=False):
    """Relative input stability (Agarwal et al. 2022, eq. 2).

    ``max_x' ||(phi(x) - phi(x')) / phi(x)|| / max(||(x - x') / x||, eps_min)``:
    the largest relative change of the
    explanation per relative change of the input, over perturbed points
    ``x'`` that keep the model's prediction (when ``model`` is given; else
    over all of them). Divisions are element-wise; a zero entry of
    ``phi(x)`` or ``x`` is replaced by ``eps_min`` (Quantus's convention).
    Lower is more stable.

    Quantus 0.5's ``RelativeInputStability`` draws its noise from
    ``U[0.02, 0.2]`` (one-sided) and adds ``eps_min`` to a zero denominator
    instead of the paper's ``max``; here the noise is symmetric by default.

    Parameters
    ----------
    explainer : fitted explainer or callable
        Anything with ``transform(X) -> (n, d)``, or a callable doing that.
    X : array-like of shape (n_samples, n_features)
        Points around which to measure.
    model : classifier, callable or FunctionModel, optional
        When given, perturbations that change its predicted class (argmax
        of its outputs) are left out of the max.
    n_samples : int, default=200
        Perturbations per point.
    radius : float, default=0.2
        Scale of the perturbations (see :func:`perturbation_sensitivity`).
    noise : {"uniform", "gaussian", "uniform_ball"}, default="uniform"
        Distribution of the perturbations.
    eps_min : float, default=1e-6
        Floor of the denominator, and the stand-in for zero entries.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn ``model`` gives its outputs.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations.
    batch_size : int or None, default=None
        Largest number of rows per explainer or model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean RIS, or each point's (NaN, with a warning, where every
        perturbation changed the prediction).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import relative_input_stability
    >>> phi = lambda X: X.copy()                  # relative changes are equal
    >>> float(relative_input_stability(phi, np.ones((2, 3)), random_state=0))
    1.0
    """
    eps_min = _positive(eps_min, "eps_min")
    X, Z, E, Ez = _perturbed_explanations(explainer, X, n_samples, radius, noise,
                                          random_state, batch_size)
    num = np.linalg.norm(_relative(E[:, None, :], Ez, eps_min), axis=2)
    den = np.linalg.norm(_relative(X[:, None, :], Z, eps_min), axis=2)
    R = num / np.maximum(den, eps_min)
    keep = (np.ones(R.shape, dtype=bool) if model is None
            else _same_prediction(model, X, Z, output, _batch(batch_size)))
    vals = _max_admissible(R, keep, "relative_input_stability")
    return vals if per_point else float(np.mean(vals))


def relative_output_stability(explainer, model, X, *, n_samples=200, radius=0.2,
                              noise="uniform", eps_min=1e-6, output="auto", random_state=None,
                              batch_size=None, per_point=False):
    """Relative output stability (Agarwal et al. 2022, eq. 5).

    ``max_x' ||(phi(x) - phi(x')) / phi(x)|| / max(||h(x) - h(x')||, eps_min)``
    with ``h`` the model's outputs (every
    column of ``output``: the paper uses logits, ``output="decision"`` for
    a scikit-learn classifier that has them), over perturbed points that
    keep the predicted class. Lower is more stable.

    Parameters
    ----------
    explainer : fitted explainer or callable
        Anything with ``transform(X) -> (n, d)``, or a callable doing that.
    model : estimator, callable or FunctionModel
        The model whose outputs are ``h``.
    X : array-like of shape (n_samples, n_features)
        Points around which to measure.
    n_samples : int, default=200
        Perturbations per point.
    radius : float, default=0.2
        Scale of the perturbations (see :func:`perturbation_sensitivity`).
    noise : {"uniform", "gaussian", "uniform_ball"}, default="uniform"
        Distribution of the perturbations.
    eps_min : float, default=1e-6
        Floor of the denominator, and the stand-in for zero entries of ``phi(x)``.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn model gives ``h``.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations.
    batch_size : int or None, default=None
        Largest number of rows per explainer or model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean ROS, or each point's.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import relative_output_stability
    >>> h = lambda X: np.c_[X.sum(axis=1), -X.sum(axis=1)]
    >>> phi = lambda X: np.ones_like(X)             # never changes: ROS is 0
    >>> float(relative_output_stability(phi, h, np.ones((2, 3)), random_state=0))
    0.0
    """
    eps_min = _positive(eps_min, "eps_min")
    X, Z, E, Ez = _perturbed_explanations(explainer, X, n_samples, radius, noise,
                                          random_state, batch_size)
    bs = _batch(batch_size)
    adapter = as_model(model, callable_as="predict", output=output)
    n, s, d = Z.shape
    H = adapter.outputs(X, batch_size=bs)
    Hz = adapter.outputs(Z.reshape(-1, d), batch_size=bs).reshape(n, s, -1)
    num = np.linalg.norm(_relative(E[:, None, :], Ez, eps_min), axis=2)
    den = np.linalg.norm(H[:, None, :] - Hz, axis=2)
    R = num / np.maximum(den, eps_min)
    keep = np.argmax(Hz, axis=2) == np.argmax(H, axis=1)[:, None]
    vals = _max_admissible(R, keep, "relative_output_stability")
    return vals if per_point else float(np.mean(vals))


def relative_representation_stability(explainer, representation, X, *, model=None,
                                      n_samples=200, radius=0.2, noise="uniform", eps_min=1e-6,
                                      output="auto", random_state=None, batch_size=None,
                                      per_point=False):
    """Relative representation stability (Agarwal et al. 2022, eq. 4).

    ``max_x' ||(phi(x) - phi(x')) / phi(x)|| / max(||(L(x) - L(x')) / L(x)||, eps)``
    with ``L`` an internal representation of the model (e.g. a hidden
    layer's activations), over perturbations that keep the prediction when
    ``model`` is given. Divisions are element-wise, zero entries replaced by
    ``eps_min``. Lower is more stable.

    Parameters
    ----------
    explainer : fitted explainer or callable
        Anything with ``transform(X) -> (n, d)``, or a callable doing that.
    representation : callable
        ``X -> (n, m)``: the representation ``L`` (e.g. a torch submodule's
        activations as a numpy array).
    X : array-like of shape (n_samples, n_features)
        Points around which to measure.
    model : classifier, callable or FunctionModel, optional
        When given, perturbations that change its predicted class are left
        out of the max.
    n_samples : int, default=200
        Perturbations per point.
    radius : float, default=0.2
        Scale of the perturbations (see :func:`perturbation_sensitivity`).
    noise : {"uniform", "gaussian", "uniform_ball"}, default="uniform"
        Distribution of the perturbations.
    eps_min : float, default=1e-6
        Floor of the denominator, and the stand-in for zero entries.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn ``model`` gives its outputs.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations.
    batch_size : int or None, default=None
        Largest number of rows per explainer, representation or model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean RRS, or each point's.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import relative_representation_stability
    >>> L = lambda X: 2.0 * X                        # relative changes as the input's
    >>> phi = lambda X: X.copy()
    >>> float(relative_representation_stability(phi, L, np.ones((2, 3)), random_state=0))
    1.0
    """
    eps_min = _positive(eps_min, "eps_min")
    if not callable(representation):
        raise ValueError("representation must be a callable X -> (n, m) array; got "
                         f"{type(representation).__name__}.")
    X, Z, E, Ez = _perturbed_explanations(explainer, X, n_samples, radius, noise,
                                          random_state, batch_size)
    bs = _batch(batch_size)
    n, s, d = Z.shape

    def rep(rows):
        blocks = [rows] if bs is None else [rows[a:a + bs] for a in range(0, len(rows), bs)]
        try:
            out = np.concatenate([np.asarray(representation(b), dtype=np.float64).reshape(
                len(b), -1) for b in blocks])
        except Exception as exc:
            raise ValueError(f"representation raised {type(exc).__name__}: {exc}") from exc
        if not np.all(np.isfinite(out)):
            raise ValueError("representation returned non-finite values.")
        return out

    Lx = rep(X)
    Lz = rep(Z.reshape(-1, d)).reshape(n, s, -1)
    num = np.linalg.norm(_relative(E[:, None, :], Ez, eps_min), axis=2)
    den = np.linalg.norm(_relative(Lx[:, None, :], Lz, eps_min), axis=2)
    R = num / np.maximum(den, eps_min)
    keep = (np.ones(R.shape, dtype=bool) if model is None
            else _same_prediction(model, X, Z, output, bs))
    vals = _max_admissible(R, keep, "relative_representation_stability")
    return vals if per_point else float(np.mean(vals))


def _model_fn(model, X, target, output, batch_size):
    """``f(Z)``: the model's chosen output column for each point's rows."""
    adapter = as_model(model, callable_as="predict", output=output)
    cols = adapter.resolve_target(target, X, batch_size=batch_size)

    def f(Z, rows):
        return adapter.predict(Z, cols[rows], batch_size=batch_size)

    return f


def _setup(model, X, attributions, target, output, batch_size, baseline):
    X = check_points(X)
    A = check_explanations(attributions, X, name="attributions")
    bs = _batch(batch_size)
    f = _model_fn(model, X, target, output, bs)
    B = _reference(baseline, X)
    fx = f(X, np.arange(X.shape[0]))
    return X, A, f, B, fx, bs


def infidelity(model, X, attributions, *, perturbation="gaussian", n_samples=100, scale=0.1,
               baseline=0.0, multiply_by_inputs=False, normalize=False, target=None,
               output="auto", random_state=None, batch_size=None, per_point=False):
    """Infidelity of attributions to the model's changes (Yeh et al. 2019).

    ``E_I[(I . phi(x) - (f(x) - f(x - I)))^2]``: how well the attribution predicts the model's change under random
    perturbations ``I`` of the input; 0 is perfect. Captum's ``infidelity``
    with its ``perturb_func`` replaced by a name:

    * ``"gaussian"``: ``I ~ N(0, scale^2 I)`` (Yeh et al.'s noisy baseline);
    * ``"uniform"``: ``I`` uniform in ``[-scale, scale]^d``;
    * ``"subset"``: ``I = (x - baseline) * m`` with each feature of the mask
      ``m`` on with probability 1/2 (``x - I``: those features at the
      baseline; Ancona et al.'s sensitivity-n);
    * ``"baseline"``: ``I = x - baseline`` (one deterministic sample).

    ``multiply_by_inputs=True`` is for attributions already multiplied by
    ``x - baseline`` (Gradient x Input, Integrated Gradients, SHAP values):
    ``I . phi`` becomes ``sum_i I_i phi_i / (x_i - baseline_i)`` (terms with
    ``x_i = baseline_i`` are 0; only with ``"subset"`` and ``"baseline"``,
    where ``I_i`` is then 0 too). ``normalize=True`` scales the attribution
    by the optimal ``beta = E[I.phi dF] / E[(I.phi)^2]`` first (Captum's
    ``normalize``), which makes the value invariant to the attribution's
    scale.

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A bare callable is read as the prediction function.
    X : array-like of shape (n_samples, n_features)
        Points.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions.
    perturbation : {"gaussian", "uniform", "subset", "baseline"}, default="gaussian"
        How ``I`` is drawn.
    n_samples : int, default=100
        Perturbations per point (1 for ``"baseline"``; Captum's default is 10).
    scale : float, default=0.1
        Standard deviation or half-width of the noise.
    baseline : float or array-like of shape (n_features,) or (n_samples, n_features)
        The value a removed feature takes (``"subset"``, ``"baseline"``).
    multiply_by_inputs : bool, default=False
        Whether the attributions are multiplied by ``x - baseline`` (see above).
    normalize : bool, default=False
        Scale the attributions by the optimal ``beta`` first.
    target : None, "predicted", class label or int, default=None
        Which output ``f`` is.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to use.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations.
    batch_size : int or None, default=None
        Largest number of rows per model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean infidelity, or each point's.

    Examples
    --------
    The gradient of a linear model predicts its changes exactly:

    >>> import numpy as np
    >>> from skexplain.metrics import infidelity
    >>> w = np.array([1.0, -2.0, 0.5])
    >>> X = np.random.default_rng(0).normal(size=(4, 3))
    >>> float(infidelity(lambda Z: Z @ w, X, np.tile(w, (4, 1)), random_state=0)) < 1e-25
    True
    """
    kinds = ("gaussian", "uniform", "subset", "baseline")
    if perturbation not in kinds:
        raise ValueError(f"perturbation must be one of {kinds}; got {perturbation!r}.")
    if multiply_by_inputs and perturbation not in ("subset", "baseline"):
        raise ValueError(
            "multiply_by_inputs=True needs perturbation='subset' or 'baseline' (with noise, "
            "I_i / (x_i - baseline_i) is unbounded where x_i is near the baseline); got "
            f"perturbation={perturbation!r}.")
    X, A, f, B, fx, _ = _setup(model, X, attributions, target, output, batch_size, baseline)
    n, d = X.shape
    s = 1 if perturbation == "baseline" else _count(n_samples, "n_samples")
    rng = check_random_state(random_state)
    span = X - B
    if perturbation in ("gaussian", "uniform"):
        I = _noise(rng, (n, s, d), perturbation, _positive(scale, "scale"))
        weight = I
    else:
        m = (np.ones((n, s, d)) if perturbation == "baseline"
             else (rng.random((n, s, d)) < 0.5).astype(np.float64))
        I = span[:, None, :] * m
        weight = m if multiply_by_inputs else I
    rows = np.repeat(np.arange(n), s)
    dF = fx[:, None] - f((X[:, None, :] - I).reshape(-1, d), rows).reshape(n, s)
    pred = np.einsum("nsd,nd->ns", weight, A)
    if normalize:
        num = np.mean(pred * dF, axis=1)
        den = np.mean(pred * pred, axis=1)
        pred = pred * np.divide(num, den, out=np.zeros_like(num), where=den > 0)[:, None]
    vals = np.mean((pred - dF) ** 2, axis=1)
    return vals if per_point else float(vals.mean())


def faithfulness_correlation(model, X, attributions, *, n_subsets=100, subset_size=None,
                             baseline=0.0, target=None, output="auto", random_state=None,
                             batch_size=None, per_point=False):
    """Faithfulness correlation (Bhatt et al. 2020).

    ``corr_S(sum_{i in S} phi_i, f(x) - f(x_S))``: for random subsets ``S`` of ``subset_size`` features, ``x_S`` is ``x``
    with those features at the baseline; the Pearson correlation over the
    subsets of the attribution mass removed and the model's drop. Higher is
    better (1: the attribution ranks every removal's effect linearly).

    Quantus's ``FaithfulnessCorrelation`` defaults (100 runs, a subset of
    224 pixels, a "black" baseline) are for images; here ``subset_size``
    defaults to a quarter of the features.

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A bare callable is read as the prediction function.
    X : array-like of shape (n_samples, n_features)
        Points.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions.
    n_subsets : int, default=100
        Random subsets per point.
    subset_size : int or None, default=None
        Features per subset; ``None``: ``max(1, n_features // 4)``.
    baseline : float or array-like of shape (n_features,) or (n_samples, n_features)
        The value a removed feature takes.
    target : None, "predicted", class label or int, default=None
        Which output ``f`` is.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to use.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsets.
    batch_size : int or None, default=None
        Largest number of rows per model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean correlation, or each point's (NaN, with a warning, where
        the model's drops or the attribution sums do not vary).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import faithfulness_correlation
    >>> w = np.array([3.0, -1.0, 2.0, 0.5])
    >>> X = np.ones((2, 4))
    >>> float(faithfulness_correlation(lambda Z: Z @ w, X, X * w, random_state=0))
    1.0
    """
    X, A, f, B, fx, _ = _setup(model, X, attributions, target, output, batch_size, baseline)
    n, d = X.shape
    s = _count(n_subsets, "n_subsets")
    k = max(1, d // 4) if subset_size is None else _count(subset_size, "subset_size")
    if k > d:
        raise ValueError(f"subset_size must be at most n_features={d}; got {k}.")
    rng = check_random_state(random_state)
    order = np.argsort(rng.random((n, s, d)), axis=2)[..., :k]
    m = np.zeros((n, s, d), dtype=bool)
    np.put_along_axis(m, order, True, axis=2)
    Z = np.where(m, B[:, None, :], X[:, None, :])
    dF = fx[:, None] - f(Z.reshape(-1, d), np.repeat(np.arange(n), s)).reshape(n, s)
    mass = np.einsum("nsd,nd->ns", m.astype(np.float64), A)
    vals = _pearson(mass, dF)
    bad = ~np.isfinite(vals)
    if bad.any():
        warnings.warn(
            f"faithfulness_correlation: for {int(bad.sum())} point(s) the model's drops or "
            "the attribution sums are constant over the subsets; their correlation is nan.",
            RuntimeWarning, stacklevel=2)
    return vals if per_point else float(np.mean(vals))


def _pearson(a, b):
    """Row-wise Pearson correlation; NaN where a row is constant."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    na, nb = np.sqrt((a * a).sum(axis=1)), np.sqrt((b * b).sum(axis=1))
    ok = (na > 0) & (nb > 0)
    r = np.divide((a * b).sum(axis=1), na * nb, out=np.full(a.shape[0], np.nan), where=ok)
    return np.clip(r, -1.0, 1.0)


def _top_k_curve(model, X, attributions, fractions, baseline, keep, target, output,
                 batch_size):
    X, A, f, B, fx, _ = _setup(model, X, attributions, target, output, batch_size, baseline)
    n, d = X.shape
    fr = np.atleast_1d(np.asarray(fractions, dtype=np.float64))
    if fr.ndim != 1 or fr.size == 0 or not np.all((fr > 0) & (fr <= 1)):
        raise ValueError(f"fractions must be numbers in (0, 1]; got {fractions!r}.")
    ks = np.maximum(1, np.round(fr * d).astype(int))
    # rank 0 = largest attribution (ties by index)
    rank = np.empty((n, d), dtype=np.int64)
    np.put_along_axis(rank, np.argsort(-A, axis=1, kind="stable"), np.arange(d)[None, :], 1)
    top = rank[:, None, :] < ks[None, :, None]                  # (n, n_k, d)
    removed = ~top if keep else top
    Z = np.where(removed, B[:, None, :], X[:, None, :])
    fz = f(Z.reshape(-1, d), np.repeat(np.arange(n), ks.size)).reshape(n, ks.size)
    return (fx[:, None] - fz).mean(axis=1)


def comprehensiveness(model, X, attributions, *, fractions=(0.01, 0.05, 0.1, 0.2, 0.5),
                      baseline=0.0, target=None, output="auto", batch_size=None,
                      per_point=False):
    """Comprehensiveness (DeYoung et al. 2020): the drop when the top features are removed.

    ``f(x) - f(x without its top k)``: the top ``k`` features by attribution (largest first, ties by index)
    set to the baseline, averaged over ``k = max(1, round(fraction d))`` for
    each fraction (ERASER's AOPC over 1, 5, 10, 20, 50 %). Higher is better.

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A bare callable is read as the prediction function.
    X : array-like of shape (n_samples, n_features)
        Points.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions.
    fractions : sequence of float in (0, 1], default=(0.01, 0.05, 0.1, 0.2, 0.5)
        Fractions of the features removed.
    baseline : float or array-like of shape (n_features,) or (n_samples, n_features)
        The value a removed feature takes.
    target : None, "predicted", class label or int, default=None
        Which output ``f`` is.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to use.
    batch_size : int or None, default=None
        Largest number of rows per model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean comprehensiveness, or each point's.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import comprehensiveness
    >>> f = lambda Z: Z @ np.array([4.0, 1.0])
    >>> float(comprehensiveness(f, np.ones((1, 2)), [[4.0, 1.0]], fractions=[0.5]))
    4.0
    """
    vals = _top_k_curve(model, X, attributions, fractions, baseline, False, target, output,
                        batch_size)
    return vals if per_point else float(vals.mean())


def sufficiency(model, X, attributions, *, fractions=(0.01, 0.05, 0.1, 0.2, 0.5),
                baseline=0.0, target=None, output="auto", batch_size=None, per_point=False):
    """Sufficiency (DeYoung et al. 2020): the drop when only the top features are kept.

    ``f(x) - f(only its top k)``: every feature but the top ``k`` by attribution set to the baseline,
    averaged over the fractions as in :func:`comprehensiveness`. Lower is
    better (the top features alone keep the prediction).

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A bare callable is read as the prediction function.
    X : array-like of shape (n_samples, n_features)
        Points.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions.
    fractions : sequence of float in (0, 1], default=(0.01, 0.05, 0.1, 0.2, 0.5)
        Fractions of the features kept.
    baseline : float or array-like of shape (n_features,) or (n_samples, n_features)
        The value a removed feature takes.
    target : None, "predicted", class label or int, default=None
        Which output ``f`` is.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to use.
    batch_size : int or None, default=None
        Largest number of rows per model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean sufficiency, or each point's.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import sufficiency
    >>> f = lambda Z: Z @ np.array([4.0, 1.0])
    >>> float(sufficiency(f, np.ones((1, 2)), [[4.0, 1.0]], fractions=[0.5]))
    1.0
    """
    vals = _top_k_curve(model, X, attributions, fractions, baseline, True, target, output,
                        batch_size)
    return vals if per_point else float(vals.mean())


def road(model, X, attributions, reference, *, fractions=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,
                                                          0.8, 0.9),
         order="morf", noise=0.0, ridge=1e-6, target=None, output="auto", random_state=None,
         batch_size=None, per_point=False):
    """ROAD-style removal with debiased imputation (Rong et al. 2022), for tabular data.

    The top (``order="morf"``, most relevant first) or bottom (``"lerf"``)
    ``k`` features by attribution are removed and *imputed* instead of set
    to a constant: by their conditional mean given the kept features under
    a Gaussian fitted to ``reference`` (the tabular counterpart of ROAD's
    noisy linear imputation, which uses an image's neighbouring pixels),
    plus ``noise`` times their conditional standard deviation. Imputing
    avoids the class information a constant fill leaks through the shape of
    the mask. Returns the model's drop ``f(x) - f(x_imputed)`` averaged over
    the fractions: for MoRF higher is better, for LeRF lower is better.

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A bare callable is read as the prediction function.
    X : array-like of shape (n_samples, n_features)
        Points.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions.
    reference : array-like of shape (n_reference, n_features)
        Data the imputation's Gaussian (mean, covariance) is fitted to,
        typically the training set.
    fractions : sequence of float in (0, 1), default=(0.1, ..., 0.9)
        Fractions of the features removed.
    order : {"morf", "lerf"}, default="morf"
        Remove the most or the least relevant features first.
    noise : float, default=0.0
        Standard deviations of conditional noise added to the imputed values.
    ridge : float, default=1e-6
        Added to the covariance's diagonal, relative to its mean variance
        (keeps constant or collinear features solvable).
    target : None, "predicted", class label or int, default=None
        Which output ``f`` is.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to use.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise.
    batch_size : int or None, default=None
        Largest number of rows per model call.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean drop, or each point's.

    Examples
    --------
    Two perfectly correlated features: removing one is undone by imputing
    it from the other, so a linear model does not drop at all:

    >>> import numpy as np
    >>> from skexplain.metrics import road
    >>> t = np.linspace(-1, 1, 50)
    >>> ref = np.c_[t, 2 * t]
    >>> f = lambda Z: Z @ np.array([1.0, 1.0])
    >>> x = np.array([[0.5, 1.0]])
    >>> round(road(f, x, [[1.0, 0.0]], ref, fractions=[0.5]), 6)
    0.0
    """
    if order not in ("morf", "lerf"):
        raise ValueError(f"order must be 'morf' or 'lerf'; got {order!r}.")
    if (not isinstance(noise, numbers.Real) or isinstance(noise, bool) or not np.isfinite(noise)
            or noise < 0):
        raise ValueError(f"noise must be a non-negative number; got {noise!r}.")
    X, A, f, _, fx, _ = _setup(model, X, attributions, target, output, batch_size, 0.0)
    n, d = X.shape
    if d < 2:
        raise ValueError(f"road needs at least 2 features (one removed, one to impute it "
                         f"from); X has {d}.")
    R = check_points(reference, name="reference")
    if R.shape[1] != d or R.shape[0] < 2:
        raise ValueError(f"reference must have at least 2 rows and {d} columns; got shape "
                         f"{R.shape}.")
    fr = np.atleast_1d(np.asarray(fractions, dtype=np.float64))
    if fr.ndim != 1 or fr.size == 0 or not np.all((fr > 0) & (fr < 1)):
        raise ValueError(f"fractions must be numbers in (0, 1); got {fractions!r}.")
    ridge = _positive(ridge, "ridge")
    mu = R.mean(axis=0)
    C = np.cov(R, rowvar=False).reshape(d, d)
    C = C + ridge * max(float(np.trace(C)) / d, np.finfo(float).tiny) * np.eye(d)
    rng = check_random_state(random_state)
    order_idx = np.argsort(-A if order == "morf" else A, axis=1, kind="stable")
    drops = np.empty((n, fr.size))
    for t, k in enumerate(np.clip(np.round(fr * d).astype(int), 1, d - 1)):
        rem, kept = order_idx[:, :k], order_idx[:, k:]                      # (n, k), (n, d-k)
        C_kk = C[kept[:, :, None], kept[:, None, :]]
        C_rk = C[rem[:, :, None], kept[:, None, :]]
        dev = np.take_along_axis(X, kept, axis=1) - mu[kept]
        sol = np.linalg.solve(C_kk, dev[..., None])[..., 0]
        imputed = mu[rem] + np.einsum("nrk,nk->nr", C_rk, sol)
        if noise > 0:
            C_rr = C[rem[:, :, None], rem[:, None, :]]
            cond = C_rr - np.einsum("nrk,nks->nrs", C_rk,
                                    np.linalg.solve(C_kk, np.transpose(C_rk, (0, 2, 1))))
            sd = np.sqrt(np.maximum(np.diagonal(cond, axis1=1, axis2=2), 0.0))
            imputed = imputed + noise * sd * rng.standard_normal(sd.shape)
        Z = X.copy()
        np.put_along_axis(Z, rem, imputed, axis=1)
        drops[:, t] = fx - f(Z, np.arange(n))
    vals = drops.mean(axis=1)
    return vals if per_point else float(vals.mean())
