"""Metrics that query an explainer or a model around each point.

* :func:`local_lipschitz_estimate` and :func:`neighborhood_robustness`
  compare the explanation of ``x`` with the explanations of random points
  near ``x`` (Tan & Tian; Agarwal et al.);
* :func:`marginal_contributions` and :func:`marginal_faithfulness` compare an
  explanation with the model's change when one feature is set to a
  reference value (Tan & Tian, Definition 3.4).

All are vectorised over points and samples: the explainer (or model) is
called once on the stacked perturbed points, in its own batches.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ..models import as_model
from ..utils import check_points

__all__ = [
    "local_lipschitz_estimate",
    "marginal_contributions",
    "marginal_faithfulness",
    "neighborhood_robustness",
]


def _attribution_fn(explainer):
    if hasattr(explainer, "transform"):
        return explainer.transform
    if callable(explainer):
        return explainer
    raise ValueError(
        "explainer must be a fitted explainer (with transform) or a callable "
        f"X -> attributions; got {type(explainer).__name__}."
    )


def _explain(fn, X, name="explainer"):
    try:
        E = np.asarray(fn(np.array(X)), dtype=np.float64)   # a copy: fn may write into it
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"{name} raised {type(exc).__name__}: {exc}") from exc
    if E.shape != X.shape or not np.all(np.isfinite(E)):
        raise ValueError(
            f"{name} must return finite attributions of shape {X.shape}; got shape {E.shape}."
        )
    return E


def _check_X(X):
    return check_points(X)


def _neighbors(X, n_samples, scale, distribution, random_state):
    """``(n, n_samples, d)`` random points around each row of ``X``."""
    if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"the number of neighbours must be a positive integer; got {n_samples!r}.")
    if (not isinstance(scale, numbers.Real) or isinstance(scale, bool)
            or not np.isfinite(scale) or not scale > 0):
        raise ValueError(
            f"the neighbourhood scale (sigma, or variance) must be positive and finite; got {scale!r}."
        )
    rng = check_random_state(random_state)
    n, d = X.shape
    if distribution == "uniform":                  # the cube [-scale, scale]^d
        return X[:, None, :] + rng.uniform(-scale, scale, size=(n, n_samples, d))
    Z = rng.standard_normal((n, n_samples, d))
    if distribution == "gaussian":
        Z *= scale
    elif distribution == "uniform_ball":
        Z /= np.linalg.norm(Z, axis=2, keepdims=True)
        Z *= scale * rng.random((n, n_samples, 1)) ** (1.0 / d)
    else:
        raise ValueError(f"distribution must be 'gaussian', 'uniform' or 'uniform_ball'; got "
                         f"{distribution!r}.")
    return X[:, None, :] + Z


def _explain_around(explainer, X, n_samples, scale, distribution, random_state):
    """Explanations of ``X`` and of random neighbours, in one call each."""
    X = _check_X(X)
    fn = _attribution_fn(explainer)
    n, d = X.shape
    Xs = _neighbors(X, n_samples, scale, distribution, random_state)
    E = _explain(fn, X)
    Es = _explain(fn, Xs.reshape(-1, d)).reshape(n, n_samples, d)
    return X, Xs, E, Es


def local_lipschitz_estimate(explainer, X, *, n_samples=50, sigma=0.1, distribution="gaussian",
                             random_state=None, per_point=False):
    """Local Lipschitz estimate ``max_i ||phi(x) - phi(x_i)|| / ||x - x_i||``.

    Tan & Tian's robustness measure (their eq. 4, after Alvarez-Melis &
    Jaakkola): ``x_i`` are ``n_samples`` points drawn around ``x``, from
    ``N(x, sigma^2 I)`` or uniformly in the ball of radius ``sigma``. Lower
    is more robust.

    Parameters
    ----------
    explainer : fitted explainer or callable
        Anything with ``transform(X) -> (n, d)``, or a callable doing that.
        A stochastic explainer is evaluated as it is: with independent noise
        per point, Monte-Carlo noise enters the estimate (use
        ``shared_noise=True`` to measure the smoothed explanation itself).
    X : array-like of shape (n_samples, n_features)
        Points around which to measure.
    n_samples : int, default=50
        Neighbours per point (the paper uses 50).
    sigma : float, default=0.1
        Neighbourhood scale (the paper uses 0.03 on images).
    distribution : {"gaussian", "uniform_ball"}, default="gaussian"
        How the neighbours are drawn.
    random_state : int, RandomState instance or None, default=None
        Seeds the neighbours.
    per_point : bool, default=False
        Return the ``(n,)`` per-point estimates instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean estimate, or each point's.

    Examples
    --------
    >>> import numpy as np
    >>> phi = lambda X: 3.0 * X                       # 3-Lipschitz everywhere
    >>> round(local_lipschitz_estimate(phi, np.zeros((2, 2)), random_state=0), 9)
    3.0
    """
    X, Xs, E, Es = _explain_around(explainer, X, n_samples, sigma, distribution, random_state)
    num = np.linalg.norm(Es - E[:, None, :], axis=2)
    den = np.linalg.norm(Xs - X[:, None, :], axis=2)
    if np.any(den == 0):
        raise ValueError(
            f"sigma={sigma!r} is below the float resolution of X (largest |x| = "
            f"{np.max(np.abs(X)):.3g}): some perturbed points equal their point. Use a "
            "larger sigma or centre and scale X.")
    L = np.max(num / den, axis=1)
    return L if per_point else float(L.mean())


def neighborhood_robustness(explainer, X, *, n_neighbors=10, variance=0.01, ord=1,
                             random_state=None, per_point=False):
    """Agarwal et al.'s robustness: max distance to neighbours' explanations.

    For each ``x``, draws ``n_neighbors`` points ``x' ~ N(x, variance * I)``
    and takes ``max ||phi(x) - phi(x')||_ord``; the result is the mean over
    points (their section 6.3: ``ord=1``, 10 neighbours, variance 0.01).

    Parameters
    ----------
    explainer : fitted explainer or callable
        Anything with ``transform(X) -> (n, d)``, or a callable doing that.
    X : array-like of shape (n_samples, n_features)
        Points around which to measure.
    n_neighbors : int, default=10
        Neighbours drawn per point.
    variance : float, default=0.01
        Their variance around the point.
    ord : {1, 2, inf}, default=1
        The norm of the explanation difference.
    random_state : int, RandomState instance or None, default=None
        Seeds the neighbours.
    per_point : bool, default=False
        Return each point's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean, or each point's largest distance.

    Examples
    --------
    >>> import numpy as np
    >>> neighborhood_robustness(lambda X: np.ones_like(X), np.zeros((3, 2)))
    0.0
    """
    if not np.isfinite(variance) or not variance > 0:
        raise ValueError(f"the neighbourhood scale (variance) must be positive and finite; "
                         f"got {variance!r}.")
    X, _, E, Es = _explain_around(explainer, X, n_neighbors, np.sqrt(variance), "gaussian",
                                  random_state)
    if not (ord in (1, 2) or (isinstance(ord, float) and np.isinf(ord) and ord > 0)):
        raise ValueError(f"ord must be 1, 2 or numpy.inf (a vector norm); got {ord!r}.")
    R = np.max(np.linalg.norm(Es - E[:, None, :], ord=ord, axis=2), axis=1)
    return R if per_point else float(R.mean())


def _reference(reference, X):
    r = np.asarray(reference, dtype=np.float64)
    if r.ndim == 0:
        r = np.full(X.shape[1], float(r))
    if r.shape not in (X.shape, X.shape[1:]) or not np.all(np.isfinite(r)):
        raise ValueError(
            f"reference must be a finite scalar, an array of shape ({X.shape[1]},) or "
            f"of shape {X.shape}; got shape {np.shape(reference)}."
        )
    return np.broadcast_to(r, X.shape)


def marginal_contributions(model, X, *, reference=0.0, target=None, output="auto",
                           batch_size=None):
    """Marginal contributions ``p_i(x) = (f(x) - f(x_{-i})) / (x_i - r_i)`` (Tan & Tian).

    ``x_{-i}`` is ``x`` with feature ``i`` set to the reference ``r_i``.
    Where ``x_i = r_i`` (to within ``sqrt(eps) * max(1, |x_i|)``) the
    quotient is 0/0 and its limit, the partial derivative ``d_i f(x)``, is
    used instead (exact where the model allows it, else finite differences).

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A bare callable is read as the prediction function.
    X : array-like of shape (n_samples, n_features)
        Points.
    reference : float or array-like of shape (n_features,) or (n_samples, n_features)
        The value a removed feature takes (the paper uses 0).
    target : None, "predicted", class label or int, default=None
        Which output to explain (as for :class:`~skexplain.explainers.Gradient`).
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to explain.
    batch_size : int or None, default=None
        Largest number of rows per model call.

    Returns
    -------
    p : ndarray of shape (n_samples, n_features)
        The marginal contribution of each feature at each point.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda X: X[:, 0] * X[:, 1]
    >>> marginal_contributions(f, np.array([[2.0, 3.0]]))
    array([[3., 2.]])
    """
    X = _check_X(X)
    adapter = as_model(model, callable_as="predict", output=output)
    R = _reference(reference, X)
    n, d = X.shape
    cols = adapter.resolve_target(target, X, batch_size=batch_size)
    f = adapter.predict(X, cols, batch_size=batch_size)
    Xi = np.repeat(X[:, None, :], d, axis=1)
    idx = np.arange(d)
    Xi[:, idx, idx] = R
    fi = adapter.predict(Xi.reshape(-1, d), np.repeat(cols, d), batch_size=batch_size)
    delta = X - R
    tiny = np.abs(delta) <= np.sqrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(X))
    P = (f[:, None] - fi.reshape(n, d)) / np.where(tiny, 1.0, delta)
    if np.any(tiny):
        rows = np.flatnonzero(tiny.any(axis=1))
        G = adapter.gradient(X[rows], cols[rows], batch_size=batch_size)
        P[rows] = np.where(tiny[rows], G, P[rows])
    return P


def marginal_faithfulness(model, X, attributions, *, reference=0.0, similarity="inverse",
                          target=None, output="auto", batch_size=None, per_point=False):
    """Tan & Tian's faithfulness ``F = 1 / ||phi(x) - p(x)||_2`` (their eq. 5).

    ``p(x)`` are the marginal contributions (:func:`marginal_contributions`).

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A bare callable is read as the prediction function.
    X : array-like of shape (n_samples, n_features)
        Points.
    attributions : array-like of shape (n_samples, n_features)
        The explanations ``phi(x)`` of the rows of ``X``.
    reference : float or array-like, default=0.0
        As in :func:`marginal_contributions`.
    similarity : {"inverse", "distance"}, default="inverse"
        ``"inverse"``: ``1 / ||phi - p||`` (higher is more faithful; ``inf``
        where they are equal); ``"distance"``: the plain ``||phi - p||``
        (lower is more faithful).
    target : None, "predicted", class label or int, default=None
        Which output to explain.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to explain.
    batch_size : int or None, default=None
        Largest number of rows per model call.
    per_point : bool, default=False
        Return per-point values instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The mean, or each point's value.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda X: X[:, 0] * X[:, 1]
    >>> X = np.array([[2.0, 3.0]])
    >>> marginal_faithfulness(f, X, np.array([[3.0, 0.0]]))   # ||(0, 2)|| = 2
    0.5
    """
    from ..utils import check_explanations

    X = _check_X(X)
    E = check_explanations(attributions, X, name="attributions")
    if similarity not in ("inverse", "distance"):
        raise ValueError(f"similarity must be 'inverse' or 'distance'; got {similarity!r}.")
    P = marginal_contributions(model, X, reference=reference, target=target, output=output,
                               batch_size=batch_size)
    dist = np.linalg.norm(E - P, axis=1)
    if similarity == "distance":
        val = dist
    else:
        with np.errstate(divide="ignore"):
            val = 1.0 / dist
    return val if per_point else float(val.mean())


def neighbourhood_robustness(*args, **kwargs):
    """Deprecated alias of :func:`neighborhood_robustness` (one spelling: neighbor).

    Parameters
    ----------
    *args, **kwargs
        Those of :func:`neighborhood_robustness`.

    Returns
    -------
    float
        :func:`neighborhood_robustness`'s value.
    """
    import warnings

    warnings.warn("neighbourhood_robustness is renamed neighborhood_robustness; the old name "
                  "will be removed.", FutureWarning, stacklevel=2)
    return neighborhood_robustness(*args, **kwargs)

