"""The property checks: plain functions that raise ``AssertionError``.

Each check draws one case (a model, points, a background...) from
``random_state`` and the keyword parameters, explains it, and compares with
what the property says. :func:`check_explainer` runs each over many cases
with hypothesis; called directly, a check runs one case and needs neither
hypothesis nor pytest.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state

from ._models import equivalent_networks, make_closed_form_model
from ._subject import CheckNotApplicable, as_subject

__all__ = ["CHECKS", "get_check"]


@dataclass(frozen=True)
class Check:
    """A registered property: its function, source and drawn parameters."""

    name: str
    func: object
    source: str
    params: dict = field(default_factory=dict)


#: The registered properties, by name: each a ``Check`` with the check
#: function, its source (paper or axiom) and the parameters hypothesis draws.
CHECKS = {}


def _register(name, source, **params):
    """Add a check; ``params``: keyword -> ("int", lo, hi) | ("float", lo, hi) | ("choice", seq)."""
    def wrap(func):
        CHECKS[name] = Check(name, func, source, params)
        return func
    return wrap


def get_check(name):
    """The registered :class:`Check` called ``name`` (internal)."""
    try:
        return CHECKS[name]
    except KeyError:
        raise ValueError(f"Unknown check {name!r}; the checks are {sorted(CHECKS)}.") from None


def _fail(subject, what, **numbers):
    detail = "; ".join(f"{k} = {np.array2string(np.asarray(v), precision=6)}"
                       for k, v in numbers.items())
    raise AssertionError(f"{subject.name}: {what}" + (f" ({detail})" if detail else ""))


def _need(condition, reason):
    if not condition:
        raise CheckNotApplicable(reason)


def _model_based(subject):
    _need(not subject.is_optimized, "OptimizedExplainer's explanations depend on all the "
          "points jointly, not on the model alone; its own checks cover it")


def _close(a, b, rtol, atol):
    return np.all(np.abs(np.asarray(a) - np.asarray(b)) <= atol + rtol * np.abs(b))


@_register("linearity", "Sundararajan et al. (2017), linearity axiom; Agarwal et al. (2021): "
           "SmoothGrad and C-LIME are linear in f with shared samples",
           n_features=("int", 1, 4), alpha=("float", -3.0, 3.0), beta=("float", -3.0, 3.0))
def check_linearity(explainer, *, random_state=0, n_features=3, alpha=1.5, beta=-0.7):
    """Linearity: the explanation of ``alpha f + beta g`` is ``alpha E_f + beta E_g``.

    Holds for every gradient, path, surrogate and Shapley method whose
    random draws do not depend on the model (skexplain's are seeded by
    their ``random_state``, an unseeded one gets ``0``). Source:
    Sundararajan et al. (2017), linearity axiom; Agarwal et al. (2021).

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        The explainer checked.
    random_state : int, default=0
        Seeds the case: the two models, the points and the background.
    n_features : int, default=3
        Input dimension.
    alpha, beta : float, default=1.5, -0.7
        The combination.

    Raises
    ------
    AssertionError
        When the explanation of the combination differs from the
        combination of the explanations by more than ``1e-9`` of their scale.

    Examples
    --------
    >>> from skexplain.explainers import SmoothGrad
    >>> from skexplain.testing import check_linearity
    >>> check_linearity(SmoothGrad(sigma=0.5, n_samples=20))
    """
    s = as_subject(explainer)
    _model_based(s)
    rng = check_random_state(random_state)
    d = int(n_features)
    f = make_closed_form_model("sin", d, random_state=rng)
    g = make_closed_form_model("quadratic", d, random_state=rng)
    from ._models import CheckModel

    combo = CheckModel(lambda X: alpha * f.predict(X) + beta * g.predict(X),
                       lambda X: alpha * f.gradient(X) + beta * g.gradient(X),
                       name=f"{alpha:g} sin + {beta:g} quadratic")
    X, B = rng.normal(size=(4, d)), rng.normal(size=(3, d))
    base = rng.normal(size=d)
    e_f = s.explain(f, X, background=B, baseline=base)[0]
    e_g = s.explain(g, X, background=B, baseline=base)[0]
    e_c = s.explain(combo, X, background=B, baseline=base)[0]
    expected = alpha * e_f + beta * e_g
    scale = np.abs(alpha * e_f).max() + np.abs(beta * e_g).max() + 1.0
    if not np.all(np.abs(e_c - expected) <= 1e-9 * scale):
        _fail(s, f"not linear in the model: E[{combo.name}] != {alpha:g} E[sin] + "
              f"{beta:g} E[quadratic]", max_difference=np.abs(e_c - expected).max(),
              tolerance=1e-9 * scale)


@_register("linear_model", "Agarwal et al. (2021), Theorem 1 and Proposition 1 (SmoothGrad and "
           "C-LIME recover a linear model); Sundararajan et al. (2017); Lundberg & Lee (2017)",
           n_features=("int", 1, 5), scale=("float", 0.1, 10.0), sigma=("float", 0.01, 3.0),
           full=("choice", (True, False)))
def check_linear_model(explainer, *, random_state=0, n_features=3, scale=5.0, sigma=None,
                       full=False):
    """Proportionality: a linear model ``f = theta x + b`` is explained exactly.

    Gradient estimates (Gradient, SmoothGrad, UniGrad, C-LIME) give
    ``theta`` whatever the noise; input times gradient gives ``x * theta``;
    path methods ``(x - baseline) * theta``; interventional Shapley values
    ``theta * (x - mean_b b)``. Source: Agarwal et al. (2021), Theorem 1 and
    Proposition 1; Sundararajan et al. (2017); Lundberg & Lee (2017).

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        The explainer checked (its ``kind`` decides the closed form).
    random_state : int, default=0
        Seeds ``theta``, ``b``, the points and the background.
    n_features : int, default=3
        Input dimension.
    scale : float, default=5.0
        Spread of the explained points.
    sigma : float or None, default=None
        Noise scale given to skexplain's smoothing explainers (``covariance``
        ``sigma^2 (I + B B' / d)`` if ``full``, else ``sigma^2 I``; UniGrad's
        ``radius``); ``None``: their own.
    full : bool, default=False
        Full or isotropic covariance, with ``sigma``.

    Raises
    ------
    AssertionError
        When an attribution differs from the closed form by more than
        ``1e-6`` relative.

    Examples
    --------
    >>> from skexplain.explainers import CLIME
    >>> from skexplain.testing import check_linear_model
    >>> check_linear_model(CLIME(sigma=0.3, n_samples=20))
    """
    s = as_subject(explainer)
    _model_based(s)
    _need(s.kind in ("gradient", "gradient_x_input", "path", "shapley"),
          f"no closed form for kind {s.kind!r} on a linear model")
    _need(not (s.estimator == "least_squares" and float(s.param("alpha") or 0.0) > 0),
          "ridge C-LIME (alpha > 0) shrinks a linear model's slope by its sample covariance")
    rng = check_random_state(random_state)
    d = int(n_features)
    f = make_closed_form_model("linear", d, random_state=rng)
    X = rng.normal(size=(3, d)) * scale
    B = rng.normal(size=(4, d))
    base = rng.normal(size=d)
    if s.kind == "shapley":
        _need("background" in s.takes, "the callable takes no background")
    if s.kind == "path":
        _need("baseline" in s.takes, "the callable takes no baseline")
    params = {}
    if sigma is not None and not s.is_callable and s.noise == "gaussian":
        M = rng.normal(size=(d, d))
        params = {"sigma": None, "covariance": sigma ** 2 * (
            np.eye(d) + M @ M.T / d if full else np.eye(d))}
    elif sigma is not None and not s.is_callable and s.noise == "uniform":
        params = {"radius": sigma}
    E, info = s.explain(f, X, background=B, baseline=base, params=params)
    if s.kind == "gradient":
        expected = np.tile(f.theta, (len(X), 1))
    elif s.kind == "gradient_x_input":
        expected = X * f.theta
    elif s.kind == "path":
        expected = (X - info["baseline"]) * f.theta
    else:
        expected = (X - np.asarray(info["background"]).mean(axis=0)) * f.theta
    atol = 1e-6 * np.abs(expected).max() + 1e-12
    if not _close(E, expected, 1e-6, atol):
        _fail(s, f"a linear model is not explained by its closed form ({s.kind})",
              theta=f.theta, max_difference=np.abs(E - expected).max())


# error bounds of each integration rule for g(a) = sin(c + a s) on [0, 1]
_RULE_BOUNDS = {
    "riemann_left": lambda s, m: s ** 2 / (2 * m),
    "riemann_right": lambda s, m: s ** 2 / (2 * m),
    "riemann_middle": lambda s, m: s ** 3 / (24 * m ** 2),
    "riemann_trapezoid": lambda s, m: s ** 3 / (12 * (m - 1) ** 2),
    "gauss_legendre": lambda s, m: s ** 3 / (12 * (m - 1) ** 2),
}


@_register("completeness", "Sundararajan et al. (2017), completeness axiom",
           n_features=("int", 1, 4), n_steps=("int", 2, 40),
           kind=("choice", ("sin", "quadratic")))
def check_completeness(explainer, *, random_state=0, n_features=3, n_steps=None, kind="sin",
                       tolerance=None):
    """Completeness: path attributions sum to ``f(x) - f(baseline)``.

    For ``f = sin(w . x + b)`` along the straight path the integrand is
    ``g(a) = s cos(c + a s)``, whose rule errors are bounded in closed form
    (``s^2 / 2m`` for left/right Riemann sums, ``s^3 / 24 m^2`` midpoint,
    ``s^3 / 12 (m-1)^2`` trapezoid, and the trapezoid's bound for
    Gauss-Legendre); for a quadratic the integrand is linear, so midpoint,
    trapezoid and Gauss-Legendre are exact and left/right Riemann sums miss
    by exactly ``|g(1) - g(0)| / 2m``. skexplain's IntegratedGradients is
    held to its rule's bound, other explainers to ``tolerance``. Source: Sundararajan et al.
    (2017), completeness axiom.

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        A path method (``kind="path"``).
    random_state : int, default=0
        Seeds the model, the points and the baseline.
    n_features : int, default=3
        Input dimension.
    n_steps : int or None, default=None
        Steps given to skexplain's IntegratedGradients; ``None``: its own.
    kind : {"sin", "quadratic"}, default="sin"
        The model.
    tolerance : float or None, default=None
        Allowed ``|sum phi - (f(x) - f(b))|`` for explainers without a known
        rule; ``None``: ``1e-6 (1 + |f(x) - f(b)|)``.

    Raises
    ------
    AssertionError
        When the sum misses ``f(x) - f(baseline)`` by more than the bound.

    Examples
    --------
    >>> from skexplain.explainers import IntegratedGradients
    >>> from skexplain.testing import check_completeness
    >>> check_completeness(IntegratedGradients(n_steps=20, method="riemann_middle"))
    """
    s = as_subject(explainer)
    _model_based(s)
    _need(s.kind == "path", "completeness is a property of path methods (kind='path')")
    _need("baseline" in s.takes, "the callable takes no baseline")
    rng = check_random_state(random_state)
    d = int(n_features)
    f = make_closed_form_model(kind, d, random_state=rng)
    X, base = rng.normal(size=(4, d)), rng.normal(size=d)
    params = {"n_steps": int(n_steps)} if n_steps is not None and s.has_param("n_steps") else {}
    E, info = s.explain(f, X, baseline=base, params=params)
    b = np.asarray(info["baseline"], dtype=np.float64)
    exact = f.predict(X) - f.predict(b[None])
    total = E.sum(axis=1)
    method = s.param("method")
    if s.has_param("method") and method in _RULE_BOUNDS:
        m = params.get("n_steps") or s.param("n_steps")
        if kind == "sin":
            bound = _RULE_BOUNDS[method](np.abs((X - b) @ f.w), m)
        elif method in ("riemann_left", "riemann_right"):
            # g(a) = (x - b)' grad f(b + a (x - b)): g(1) - g(0) = (x - b)' (A + A') (x - b)
            delta = X - b
            bound = np.abs(np.einsum("ij,jk,ik->i", delta, f.A + f.A.T, delta)) / (2 * m)
        else:
            bound = np.zeros(len(X))
    else:
        bound = 1e-6 * (1 + np.abs(exact)) if tolerance is None else tolerance
    bound = bound + 1e-9 * (1 + np.abs(exact))
    if not np.all(np.abs(total - exact) <= bound):
        _fail(s, "attributions do not sum to f(x) - f(baseline) within the rule's error bound",
              error=np.abs(total - exact), bound=bound)


def _shapley_case(s, rng, d):
    _need(s.kind == "shapley", "a Shapley-value property (kind='shapley')")
    _need("background" in s.takes, "the callable takes no background")


@_register("efficiency", "Shapley (1953), efficiency; Lundberg & Lee (2017), local accuracy",
           n_features=("int", 1, 8), n_background=("int", 1, 5))
def check_efficiency(explainer, *, random_state=0, n_features=4, n_background=3):
    """Efficiency: Shapley values sum to ``f(x) - mean_b f(b)``.

    On a non-additive model (products of the closed-form families). Source:
    Shapley (1953); Lundberg & Lee (2017), local accuracy.

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        A Shapley method (``kind="shapley"``) taking a background.
    random_state : int, default=0
        Seeds the model, points and background.
    n_features : int, default=4
        Input dimension.
    n_background : int, default=3
        Background rows.

    Raises
    ------
    AssertionError
        When the sum misses by more than ``1e-8`` relative.

    Examples
    --------
    >>> from skexplain.explainers import KernelSHAP
    >>> from skexplain.testing import check_efficiency
    >>> check_efficiency(KernelSHAP(n_samples=40))
    """
    s = as_subject(explainer)
    _model_based(s)
    rng = check_random_state(random_state)
    d = int(n_features)
    _shapley_case(s, rng, d)
    f = _interacting_model(rng, d)
    B, X = rng.normal(size=(int(n_background), d)), rng.normal(size=(3, d))
    E, info = s.explain(f, X, background=B)
    expected = f.predict(X) - f.predict(np.asarray(info["background"])).mean()
    if not _close(E.sum(axis=1), expected, 1e-8, 1e-8 * (1 + np.abs(expected).max())):
        _fail(s, "Shapley values do not sum to f(x) - mean_b f(b)",
              sums=E.sum(axis=1), expected=expected)


def _interacting_model(rng, d, ignore=()):
    """``sin(w . x) * quadratic(x) + x_0``, ignoring the features in ``ignore``."""
    from ._models import CheckModel

    a = make_closed_form_model("sin", d, random_state=rng)
    q = make_closed_form_model("quadratic", d, random_state=rng)
    keep = np.ones(d)
    keep[list(ignore)] = 0.0
    a.w = a.w * keep
    q.A = q.A * np.outer(keep, keep)
    q.theta = q.theta * keep
    first = np.zeros(d)
    first[np.flatnonzero(keep)[:1]] = 1.0

    def f(X):
        return a.predict(X) * q.predict(X) + X @ first

    def grad(X):
        return (a.gradient(X) * q.predict(X)[:, None] + a.predict(X)[:, None] * q.gradient(X)
                + first)
    return CheckModel(f, grad, name="sin x quadratic")


@_register("dummy", "Shapley (1953), dummy (null player); Sundararajan et al. (2017), "
           "sensitivity(b)", n_features=("int", 2, 4))
def check_dummy(explainer, *, random_state=0, n_features=3):
    """Dummy: a feature the model does not use gets exactly zero.

    Holds for exact gradients and their averages, path methods and exact
    Shapley values; not for regression surrogates (C-LIME, LIME), whose
    slope of an unused feature is sampling noise, nor for sampled
    KernelSHAP. Source: Shapley (1953), null player; Sundararajan et al.
    (2017), sensitivity (b).

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        The explainer checked.
    random_state : int, default=0
        Seeds the model, the points and the background.
    n_features : int, default=3
        Input dimension (the last feature is unused).

    Raises
    ------
    AssertionError
        When the unused feature's attribution is not within ``1e-10`` of 0
        (relative to the others).

    Examples
    --------
    >>> from skexplain.explainers import IntegratedGradients
    >>> from skexplain.testing import check_dummy
    >>> check_dummy(IntegratedGradients(n_steps=10))
    """
    s = as_subject(explainer)
    _model_based(s)
    _need(s.exact_dummy, "an unused feature gets an exactly zero attribution only from "
          "gradients, path methods and exact Shapley values (not from regression surrogates)")
    rng = check_random_state(random_state)
    d = int(n_features)
    f = _interacting_model(rng, d, ignore=(d - 1,))
    X, B = rng.normal(size=(4, d)), rng.normal(size=(3, d))
    E = s.explain(f, X, background=B, baseline=rng.normal(size=d))[0]
    scale = np.abs(E).max() + 1e-300
    if not np.all(np.abs(E[:, -1]) <= 1e-10 * scale):
        _fail(s, f"feature {d - 1}, which the model does not use, got a non-zero attribution",
              attributions=E[:, -1])


@_register("symmetry", "Shapley (1953), symmetry", n_features=("int", 3, 5))
def check_symmetry(explainer, *, random_state=0, n_features=3):
    """Symmetry: two features the model treats alike get equal Shapley values.

    ``f`` symmetric in features 0 and 1, points with ``x_0 = x_1`` and a
    background closed under swapping them. Source: Shapley (1953).

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        A Shapley method (``kind="shapley"``) taking a background.
    random_state : int, default=0
        Seeds the model, the points and the background.
    n_features : int, default=3
        Input dimension (at least 3).

    Raises
    ------
    AssertionError
        When ``phi_0 != phi_1`` beyond ``1e-9`` relative.

    Examples
    --------
    >>> from skexplain.explainers import KernelSHAP
    >>> from skexplain.testing import check_symmetry
    >>> check_symmetry(KernelSHAP())
    """
    s = as_subject(explainer)
    _model_based(s)
    rng = check_random_state(random_state)
    d = max(int(n_features), 3)
    _shapley_case(s, rng, d)
    from ._models import CheckModel

    c = rng.normal(size=d)
    c[1] = c[0]

    def f(X):
        return np.sin(X @ c) * X[:, 0] * X[:, 1] + np.cos(X[:, 0] + X[:, 1]) * X[:, -1]

    def grad(X):
        G = np.cos(X @ c)[:, None] * c * (X[:, 0] * X[:, 1])[:, None]
        G[:, 0] += np.sin(X @ c) * X[:, 1]
        G[:, 1] += np.sin(X @ c) * X[:, 0]
        G[:, :2] -= (np.sin(X[:, 0] + X[:, 1]) * X[:, -1])[:, None]
        G[:, -1] += np.cos(X[:, 0] + X[:, 1])
        return G
    X = rng.normal(size=(3, d))
    X[:, 1] = X[:, 0]
    B = rng.normal(size=(3, d))
    Bs = B.copy()
    Bs[:, [0, 1]] = B[:, [1, 0]]
    E = s.explain(CheckModel(f, grad, name="symmetric in x0, x1"), X,
                  background=np.vstack([B, Bs]))[0]
    scale = np.abs(E).max() + 1e-300
    if not np.all(np.abs(E[:, 0] - E[:, 1]) <= 1e-9 * scale):
        _fail(s, "features 0 and 1 are symmetric in the model, point and background but "
              "their Shapley values differ", phi_0=E[:, 0], phi_1=E[:, 1])


@_register("implementation_invariance", "Sundararajan et al. (2017), implementation invariance",
           n_features=("int", 1, 4))
def check_implementation_invariance(explainer, *, random_state=0, n_features=3):
    """Implementation invariance: networks computing one function, one explanation.

    A tanh network and a copy with permuted hidden units, one of them split
    in two (:func:`equivalent_networks`). Source: Sundararajan et al.
    (2017), implementation invariance.

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        The explainer checked.
    random_state : int, default=0
        Seeds the networks, the points and the background.
    n_features : int, default=3
        Input dimension.

    Raises
    ------
    AssertionError
        When the explanations differ by more than ``1e-7`` relative.

    Examples
    --------
    >>> from skexplain.explainers import Gradient
    >>> from skexplain.testing import check_implementation_invariance
    >>> check_implementation_invariance(Gradient())
    """
    s = as_subject(explainer)
    _model_based(s)
    rng = check_random_state(random_state)
    d = int(n_features)
    f, g = equivalent_networks(d, random_state=rng)
    X, B = rng.normal(size=(4, d)), rng.normal(size=(3, d))
    base = rng.normal(size=d)
    e_f = s.explain(f, X, background=B, baseline=base)[0]
    e_g = s.explain(g, X, background=B, baseline=base)[0]
    scale = np.abs(e_f).max() + 1e-12
    if not np.all(np.abs(e_f - e_g) <= 1e-7 * scale):
        _fail(s, "two networks computing the same function got different explanations",
              max_difference=np.abs(e_f - e_g).max(), scale=scale)


def _noise_case(s, rng, d, sigma, full=True):
    """The explainer's noise as ``(kind, covariance or radius, n, params)``."""
    _model_based(s)
    _need(s.noise is not None, "a property of smoothing methods with a known noise "
          "(SmoothGrad, UniGrad, C-LIME, or a CallableExplainer with noise=...)")
    if s.is_callable:
        e = s.explainer
        noise = e.scale ** 2 * np.eye(d) if e.noise == "gaussian" else e.scale
        return e.noise, noise, e.n_samples, {}
    params = {"n_samples": max(int(s.param("n_samples")), 2000)}
    if s.noise == "uniform":
        return "uniform", sigma, params["n_samples"], {**params, "radius": sigma}
    B = rng.normal(size=(d, d))
    cov = sigma ** 2 * (np.eye(d) + B @ B.T / d) if full else sigma ** 2 * np.eye(d)
    return "gaussian", cov, params["n_samples"], {**params, "covariance": cov, "sigma": None}


@_register("smoothing_limit", "Agarwal et al. (2021), Theorem 1 (SmoothGrad = C-LIME in "
           "expectation, Sigma^-1 cov(a, f(a)) by Stein's lemma) and Appendix D (ridge)",
           n_features=("int", 1, 4), sigma=("float", 0.1, 1.5),
           kind=("choice", ("linear", "quadratic", "sin", "exp")), full=("choice", (True, False)),
           omega=("float", 0.3, 3.0))
def check_smoothing_limit(explainer, *, random_state=0, n_features=3, sigma=0.5, kind="sin",
                          full=True, omega=1.5):
    """SmoothGrad and C-LIME estimate the same closed form, within six standard errors.

    Under ``z ~ N(0, Sigma)`` both converge to ``E grad f(x + z) =
    Sigma^-1 cov(x + z, f(x + z))`` (Stein's lemma), ridge C-LIME
    (``alpha``) to ``(Sigma + alpha I)^-1 cov(x + z, f(x + z))``; UniGrad to
    ``E grad f(x + z)``, ``z ~ U[-r, r]^d``. The standard errors are computed
    from an independent sample: the spread of the sampled gradients
    (mean-gradient methods) or the sandwich (influence-function) variance of
    the least-squares slope. skexplain's explainers are run with at least
    2,000 samples and a random full covariance. Source: Agarwal et al.
    (2021), Theorem 1 and Appendix D.

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        A smoothing method with a known noise.
    random_state : int, default=0
        Seeds the model, covariance and points.
    n_features : int, default=3
        Input dimension.
    sigma : float, default=0.5
        Noise scale (skexplain's explainers; a CallableExplainer's own).
    kind : {"linear", "quadratic", "sin", "exp"}, default="sin"
        The closed-form family.
    full : bool, default=True
        A full covariance ``sigma^2 (I + B B' / d)`` or ``sigma^2 I``
        (skexplain's Gaussian explainers).
    omega : float, default=1.5
        For ``kind="sin"``: the frequency along the noise, ``sqrt(w' Sigma
        w)`` (or ``r ||w||``), so that the smoothing visibly damps the
        gradient (by ``exp(-omega^2 / 2)``).

    Raises
    ------
    AssertionError
        When an attribution is more than six standard errors from the limit.

    Examples
    --------
    >>> from skexplain.explainers import SmoothGrad
    >>> from skexplain.testing import check_smoothing_limit
    >>> check_smoothing_limit(SmoothGrad(n_samples=2000))
    """
    s = as_subject(explainer)
    rng = check_random_state(random_state)
    d = int(n_features)
    noise, spread, n, params = _noise_case(s, rng, d, sigma, full)
    cov = spread if noise == "gaussian" else None
    radius = spread if noise == "uniform" else None
    f = make_closed_form_model(kind, d, covariance=cov, random_state=rng)
    if kind == "sin":
        along = np.sqrt(f.w @ cov @ f.w) if cov is not None else radius * np.linalg.norm(f.w)
        f.w = f.w * (omega / along)
    X = rng.normal(size=(3, d))
    E = s.explain(f, X, params=params)[0]
    alpha = float(s.param("alpha") or 0.0) if s.estimator == "least_squares" else 0.0
    M = 100_000
    if noise == "gaussian":
        Z = rng.standard_normal((M, d)) @ np.linalg.cholesky(cov).T
    else:
        Z = rng.uniform(-radius, radius, size=(M, d))
    for i, x in enumerate(X):
        truth = f.expected_gradient(x, covariance=cov, radius=radius)
        if s.estimator == "least_squares":
            # sandwich variance of the (ridge) least-squares slope with intercept
            c = cov @ truth                                   # cov(a, f(a)) by Stein
            inv = np.linalg.inv(cov + alpha * np.eye(d))
            target = inv @ c
            fc = f.predict(x + Z) - f.expected_value(x, covariance=cov)
            psi = (Z * fc[:, None] - c - (Z * (Z @ target)[:, None] - cov @ target)) @ inv.T
            se = psi.std(axis=0) / np.sqrt(n)
        else:
            target = truth
            se = f.gradient(x + Z).std(axis=0) / np.sqrt(n)
        tol = 6 * se + 1e-8 * (1 + np.abs(target))
        if not np.all(np.abs(E[i] - target) <= tol):
            _fail(s, f"attributions are more than six standard errors from the {noise} "
                  f"smoothing limit of a {kind} model", attribution=E[i], limit=target,
                  standard_error=se)


LIPSCHITZ_CONSTANT = np.sqrt(2 / np.pi)


@_register("smoothgrad_lipschitz", "Agarwal et al. (2021), Theorem 2, with the constant "
           "corrected to sqrt(2/pi) grad_max / sigma", n_features=("int", 1, 4),
           sigma=("float", 0.1, 2.0), step=("float", 1e-3, 2.0), omega=("float", 0.3, 4.0))
def check_smoothgrad_lipschitz(explainer, *, random_state=0, n_features=3, sigma=0.5,
                               step=0.5, omega=1.0):
    """SmoothGrad is Lipschitz with constant ``sqrt(2/pi) grad_max / sigma``.

    ``||SG(x) - SG(x')|| <= sqrt(2/pi) grad_max / sigma ||x - x'||`` for a
    model with ``||grad f|| <= grad_max``, checked on random pairs of a
    ``sin(w . x + b)`` model, plus the Monte-Carlo error of the difference
    (shared noise: ``6 H ||x - x'|| / sqrt(n)``, ``H = ||w||^2``;
    independent noise: ``6 sqrt(2) grad_max / sqrt(n)``). Agarwal et al.'s
    Theorem 2 states ``grad_max / (2 sigma)``, which a sine violates (its
    Lemma 5 drops a factor 2 of the total variation); ``sqrt(2/pi)`` is the
    exact constant. Source: Agarwal et al. (2021), Theorem 2, corrected.

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        A Gaussian mean-gradient method (SmoothGrad) with isotropic noise.
    random_state : int, default=0
        Seeds the model and the pairs.
    n_features : int, default=3
        Input dimension.
    sigma : float, default=0.5
        Noise standard deviation (skexplain's SmoothGrad).
    step : float, default=0.5
        Distance between the points of a pair.
    omega : float, default=1.0
        ``sigma ||w||``: the model's frequency in units of the noise (the
        bound is tightest near 1, where SmoothGrad's slope is
        ``exp(-1/2) ||w|| / sigma``, above the paper's ``1 / (2 sigma)``).

    Raises
    ------
    AssertionError
        When a pair's explanations are further apart than the bound.

    Examples
    --------
    >>> from skexplain.explainers import SmoothGrad
    >>> from skexplain.testing import check_smoothgrad_lipschitz
    >>> check_smoothgrad_lipschitz(SmoothGrad())
    """
    s = as_subject(explainer)
    _model_based(s)
    _need(s.noise == "gaussian" and s.estimator == "mean_gradient",
          "a property of Gaussian mean-gradient smoothing (SmoothGrad)")
    rng = check_random_state(random_state)
    d = int(n_features)
    if s.is_callable:
        sig, n, params, shared = s.explainer.scale, s.explainer.n_samples, {}, False
    else:
        n = max(int(s.param("n_samples")), 20_000)
        sig, shared = sigma, True
        params = {"sigma": sig, "covariance": None, "n_samples": n, "shared_noise": True}
    f = make_closed_form_model("sin", d, random_state=rng)
    f.w = f.w * (omega / sig / np.linalg.norm(f.w))
    grad_max = f.gradient_bound()
    X = rng.normal(size=(5, d))
    U = rng.normal(size=(5, d))
    Xp = X + step * U / np.linalg.norm(U, axis=1, keepdims=True)
    E = s.explain(f, np.vstack([X, Xp]), params=params)[0]
    diff = np.linalg.norm(E[:5] - E[5:], axis=1)
    mc = (6 * grad_max ** 2 * step / np.sqrt(n) if shared
          else 6 * np.sqrt(2) * grad_max / np.sqrt(n))
    bound = LIPSCHITZ_CONSTANT * grad_max / sig * step + mc
    if not np.all(diff <= bound):
        _fail(s, "SmoothGrad moved more than sqrt(2/pi) grad_max / sigma ||x - x'||",
              distances=diff, bound=bound)


@_register("lipschitz_decreases_with_sigma", "Agarwal et al. (2021), Theorem 2: more noise, "
           "a smaller Lipschitz constant", omega=("float", 0.5, 4.0))
def check_lipschitz_decreases_with_sigma(explainer, *, random_state=0, omega=2.0):
    """The local Lipschitz estimate of SmoothGrad falls as ``sigma`` grows.

    For ``f = sum_i sin(omega x_i + c_i)`` SmoothGrad's Jacobian shrinks by
    ``exp(-omega^2 sigma^2 / 2)``: the estimates at three increasing
    ``sigma`` must decrease, in those ratios within 10 %. Source: Agarwal et
    al. (2021), Theorem 2.

    Parameters
    ----------
    explainer : explainer
        A skexplain explainer with a ``sigma`` parameter (SmoothGrad, C-LIME).
    random_state : int, default=0
        Seeds the model and the points.
    omega : float, default=2.0
        Frequency of the model.

    Raises
    ------
    AssertionError
        When the estimates do not decrease by the expected factors.

    Examples
    --------
    >>> from skexplain.explainers import SmoothGrad
    >>> from skexplain.testing import check_lipschitz_decreases_with_sigma
    >>> check_lipschitz_decreases_with_sigma(SmoothGrad())
    """
    s = as_subject(explainer)
    _model_based(s)
    _need(s.has_param("sigma") and s.estimator == "mean_gradient",
          "needs a Gaussian mean-gradient explainer with a sigma parameter")
    from ..metrics import local_lipschitz_estimate
    from ._models import CheckModel

    rng = check_random_state(random_state)
    d = 3
    c = rng.uniform(0, 2 * np.pi, size=d)
    model = CheckModel(lambda X: np.sin(omega * X + c).sum(axis=1),
                       lambda X: omega * np.cos(omega * X + c), name="sum sin(omega x + c)")
    X = rng.normal(size=(4, d))
    sigmas = np.array([0.3, 0.6, 1.0]) / omega
    L = []
    for sig in sigmas:
        est = s.explain(model, X, params={"sigma": sig, "covariance": None,
                                          "n_samples": 5000, "shared_noise": True})[1]["fitted"]
        L.append(local_lipschitz_estimate(est, X, n_samples=20, sigma=1e-3 / omega,
                                          random_state=1))
    ratios = np.array(L[1:]) / np.array(L[:-1])
    factors = np.exp(-omega ** 2 * np.diff(sigmas ** 2) / 2)
    if not (np.all(np.diff(L) < 0) and np.all(np.abs(ratios / factors - 1) <= 0.1)):
        _fail(s, "the local Lipschitz estimate does not fall with sigma as "
              "exp(-omega^2 sigma^2 / 2)", estimates=L, ratios=ratios, expected=factors)


@_register("batch_invariance", "scikit-learn's estimator contract; skexplain: results do not "
           "depend on batch_size, row order or the other rows", n_features=("int", 1, 4),
           n_points=("int", 2, 12))
def check_batch_invariance(explainer, *, random_state=0, n_features=3, n_points=9):
    """Batch, row-order and subset invariance: a row's explanation is its own.

    Explaining the rows in another order, a subset of them, or with a
    ``batch_size`` of 5 must give each row the same attributions (to
    ``1e-12`` relative).

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        The explainer checked.
    random_state : int, default=0
        Seeds the model, the points and the permutation.
    n_features : int, default=3
        Input dimension.
    n_points : int, default=9
        Rows explained.

    Raises
    ------
    AssertionError
        When a row's attributions change with the others.

    Examples
    --------
    >>> from skexplain.explainers import CLIME
    >>> from skexplain.testing import check_batch_invariance
    >>> check_batch_invariance(CLIME(n_samples=20))
    """
    s = as_subject(explainer)
    rng = check_random_state(random_state)
    d, n = int(n_features), int(n_points)
    if s.is_optimized:
        _optimized_transform_invariance(s, rng, d, n)
        return
    f = make_closed_form_model("sin", d, random_state=rng)
    X, B = rng.normal(size=(n, d)), rng.normal(size=(3, d))
    base = rng.normal(size=d)
    if s.is_callable:
        def run(Z, **kw):
            return s.explain(f, Z, background=B, baseline=base)[0]
    else:
        fitted = s.explain(f, X[:1], background=B, baseline=base)[1]["fitted"]

        def run(Z, batch_size=None):
            est = fitted if batch_size is None else _with(fitted, batch_size=batch_size)
            return np.asarray(est.transform(Z), dtype=np.float64)
    full = run(X)
    perm = rng.permutation(n)
    cases = [("reordered rows", run(X[perm]), full[perm]),
             ("a subset of the rows", run(X[1:n // 2 + 1]), full[1:n // 2 + 1])]
    if s.has_param("batch_size"):
        cases.append(("batch_size=5", run(X, batch_size=5), full))
    for what, got, want in cases:
        if not _close(got, want, 1e-12, 1e-12 * (np.abs(full).max() + 1e-300)):
            _fail(s, f"explanations changed when explaining {what}",
                  max_difference=np.abs(got - want).max())


def _with(fitted, **params):
    import copy

    est = copy.deepcopy(fitted)
    est.set_params(**params)
    return est


@_register("determinism", "scikit-learn's random_state convention; reproducibility",
           n_features=("int", 1, 4))
def check_determinism(explainer, *, random_state=0, n_features=3):
    """Determinism: the same ``random_state`` gives the same explanations.

    Two fits with the same seed must agree exactly; an explainer without a
    ``random_state`` must give the same answer twice (a declared
    non-deterministic callable is skipped).

    Parameters
    ----------
    explainer : explainer or CallableExplainer
        The explainer checked.
    random_state : int, default=0
        Seeds the case (and is the explainer's seed).
    n_features : int, default=3
        Input dimension.

    Raises
    ------
    AssertionError
        When two runs with the same seed differ.

    Examples
    --------
    >>> from skexplain.explainers import LIME
    >>> from skexplain.testing import check_determinism
    >>> check_determinism(LIME(n_samples=30))
    """
    s = as_subject(explainer)
    _need(not (s.is_callable and not s.explainer.deterministic),
          "the callable is declared non-deterministic")
    rng = check_random_state(random_state)
    d = int(n_features)
    if s.is_optimized:
        X, G, _ = _optimized_case(s, rng, 12, d)
        runs = [_with_seed(s, int(random_state)).fit(X, G).explanations_ for _ in range(2)]
    else:
        f = make_closed_form_model("sin", d, random_state=rng)
        X, B = rng.normal(size=(6, d)), rng.normal(size=(3, d))
        params = {"random_state": int(random_state)} if s.has_param("random_state") else {}
        runs = [s.explain(f, X, background=B, params=params)[0] for _ in range(2)]
    if not np.array_equal(runs[0], runs[1]):
        _fail(s, "two runs with the same random_state gave different explanations",
              max_difference=np.abs(runs[0] - runs[1]).max())


def _with_seed(s, seed):
    from sklearn.base import clone

    est = clone(s.explainer)
    if "random_state" in est.get_params():
        est.set_params(random_state=seed)
    extra = {k: v for k, v in (("model", None), ("base", "gradient"))
             if k in est.get_params(deep=False)}
    return est.set_params(**extra)


def _optimized_case(s, rng, n_points, n_features):
    """Points, their gradients and the model; with a fixed radius ``u`` the
    points are scaled so that every one has a neighbour within ``u / 2``."""
    _need(s.is_optimized, "a property of OptimizedExplainer")
    f = make_closed_form_model("sin", n_features, random_state=rng)
    X = rng.normal(size=(n_points, n_features))
    u = s.explainer.get_params(deep=False).get("u")
    if isinstance(u, (int, float)) and not isinstance(u, bool):
        D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(axis=2))
        np.fill_diagonal(D, np.inf)
        X = X * (0.5 * u / D.min(axis=1).max())
    return X, f.gradient(X), f


def _fit_optimized(s, X, G, **params):
    from sklearn.base import clone

    est = clone(s.explainer)
    # the properties are of the optimisation: drawn gradients stand for the
    # base explanations (a configured model and base are not used)
    extra = {k: v for k, v in (("model", None), ("base", "gradient"))
             if k in est.get_params(deep=False)}
    est.set_params(**extra, **params)
    return est.fit(X, G)


@_register("budget", "Tadesse et al., the faithfulness constraint "
           "sum_n ||grad f(x_n) - E_n||^2 <= eta", n_points=("int", 8, 40),
           n_features=("int", 1, 4), eta_frac=("float", 0.0, 1.0))
def check_budget(explainer, *, random_state=0, n_points=25, n_features=2, eta_frac=0.3):
    """The faithfulness budget is met: ``sum_n ||g_n - E_n||^2 <= eta``.

    Recomputed from the explanations in the caller's units, against
    ``eta = eta_frac L_max`` with ``L_max`` the faithfulness loss of the
    mean gradient (per point for ``faithfulness="pointwise"``); exactly, no
    tolerance. Source: the optimisation problem's constraint.

    Parameters
    ----------
    explainer : OptimizedExplainer
        The estimator checked (its loss, neighbourhood and solver).
    random_state : int, default=0
        Seeds the points and the model.
    n_points, n_features : int, default=25, 2
        The problem's size.
    eta_frac : float, default=0.3
        The budget.

    Raises
    ------
    AssertionError
        When the budget is exceeded.

    Examples
    --------
    >>> from skexplain import OptimizedExplainer
    >>> from skexplain.testing import check_budget
    >>> check_budget(OptimizedExplainer(n_neighbors=4))
    """
    s = as_subject(explainer)
    rng = check_random_state(random_state)
    X, G, _ = _optimized_case(s, rng, int(n_points), int(n_features))
    est = _fit_optimized(s, X, G, eta_frac=eta_frac)
    dev = ((G - est.explanations_) ** 2).sum(axis=1)
    mean_dev = ((G - G.mean(axis=0)) ** 2).sum(axis=1)
    if est.get_params()["faithfulness"] == "pointwise":
        if not np.all(dev <= eta_frac * mean_dev):
            _fail(s, "a point's faithfulness budget is exceeded",
                  worst_ratio=np.max(dev / np.maximum(eta_frac * mean_dev, 1e-300)))
    elif not dev.sum() <= eta_frac * mean_dev.sum():
        _fail(s, "the faithfulness budget is exceeded", used=dev.sum(),
              budget=eta_frac * mean_dev.sum())


@_register("robustness_improves", "Tadesse et al.: the gradients are feasible, so the optimum "
           "is at least as robust", n_points=("int", 8, 40), n_features=("int", 1, 4),
           eta_frac=("float", 0.01, 1.0))
def check_robustness_improves(explainer, *, random_state=0, n_points=25, n_features=2,
                              eta_frac=0.3):
    """The optimised explanations are at least as robust as the gradients.

    The gradients meet every budget, so the optimum's robustness loss is
    at most theirs (within ``1e-6`` relative, the solvers' tolerance); both
    are recomputed with the fitted loss on the fitted neighbour graph, and
    the reported ``robustness_loss_`` must be the recomputed value. Source:
    Tadesse et al., the optimisation problem.

    Parameters
    ----------
    explainer : OptimizedExplainer
        The estimator checked.
    random_state : int, default=0
        Seeds the points and the model.
    n_points, n_features : int, default=25, 2
        The problem's size.
    eta_frac : float, default=0.3
        The budget.

    Raises
    ------
    AssertionError
        When the optimum is less robust than the gradients, or misreported.

    Examples
    --------
    >>> from skexplain import OptimizedExplainer
    >>> from skexplain.testing import check_robustness_improves
    >>> check_robustness_improves(OptimizedExplainer(n_neighbors=4))
    """
    s = as_subject(explainer)
    rng = check_random_state(random_state)
    X, G, _ = _optimized_case(s, rng, int(n_points), int(n_features))
    est = _fit_optimized(s, X, G, eta_frac=eta_frac)
    opt = est.loss_.value(est.graph_, est.explanations_)
    grad = est.loss_.value(est.graph_, G)
    if not opt <= grad * (1 + 1e-6) + 1e-12:
        _fail(s, "the optimised explanations are less robust than the gradients",
              optimised=opt, gradients=grad)
    if not np.isclose(est.robustness_loss_, opt, rtol=1e-9, atol=1e-12):
        _fail(s, "robustness_loss_ is not the robustness of explanations_",
              reported=est.robustness_loss_, recomputed=opt)


@_register("zero_budget", "Tadesse et al.: eta = 0 leaves only the base explanations",
           n_points=("int", 8, 30), n_features=("int", 1, 4))
def check_zero_budget(explainer, *, random_state=0, n_points=20, n_features=2):
    """``eta_frac = 0`` returns the base explanations, for fit and for new points.

    Parameters
    ----------
    explainer : OptimizedExplainer
        The estimator checked.
    random_state : int, default=0
        Seeds the points and the model.
    n_points, n_features : int, default=20, 2
        The problem's size.

    Raises
    ------
    AssertionError
        When an explanation differs from its gradient.

    Examples
    --------
    >>> from skexplain import OptimizedExplainer
    >>> from skexplain.testing import check_zero_budget
    >>> check_zero_budget(OptimizedExplainer(n_neighbors=4))
    """
    s = as_subject(explainer)
    rng = check_random_state(random_state)
    X, G, f = _optimized_case(s, rng, int(n_points), int(n_features))
    est = _fit_optimized(s, X, G, eta_frac=0.0)
    Xn = X[:5] * 1.01
    new = est.transform(Xn, grad_fn=f.gradient(Xn))
    for what, got, want in (("fit", est.explanations_, G), ("transform", new, f.gradient(Xn))):
        if not np.array_equal(got, want):
            _fail(s, f"eta_frac=0 did not return the gradients ({what})",
                  max_difference=np.abs(got - want).max())


@_register("pareto_front", "Tadesse et al.: the faithfulness/robustness trade-off is monotone",
           n_points=("int", 10, 30), n_features=("int", 1, 3))
def check_pareto_front(explainer, *, random_state=0, n_points=20, n_features=2):
    """The faithfulness/robustness front is monotone, by fit and along the path.

    As ``eta_frac`` grows (0, 0.02, 0.1, 0.3, 0.6, 1) the robustness loss of
    the fitted explanations does not increase (within ``1e-6`` relative),
    and :func:`~skexplain.explanation_path` with the explainer's loss and
    neighbourhood gives the same front (within ``1e-4`` relative, the
    solvers' tolerance). Source: Tadesse et al., the trade-off curve.

    Parameters
    ----------
    explainer : OptimizedExplainer
        The estimator checked.
    random_state : int, default=0
        Seeds the points and the model.
    n_points, n_features : int, default=20, 2
        The problem's size.

    Raises
    ------
    AssertionError
        When the robustness rises with the budget, or the path disagrees.

    Examples
    --------
    >>> from skexplain import OptimizedExplainer
    >>> from skexplain.testing import check_pareto_front
    >>> check_pareto_front(OptimizedExplainer(n_neighbors=4))
    """
    import inspect

    from ..optimize import explanation_path

    s = as_subject(explainer)
    rng = check_random_state(random_state)
    X, G, _ = _optimized_case(s, rng, int(n_points), int(n_features))
    etas = np.array([0.0, 0.02, 0.1, 0.3, 0.6, 1.0])
    fits = [_fit_optimized(s, X, G, eta_frac=eta) for eta in etas]
    rob = np.array([est.loss_.value(est.graph_, est.explanations_) for est in fits])
    if not np.all(np.diff(rob) <= 1e-6 * np.abs(rob[:-1]) + 1e-12):
        _fail(s, "the robustness loss rises with the budget", eta_fracs=etas, robustness=rob)
    accepted = inspect.signature(explanation_path).parameters
    params = {k: v for k, v in s.explainer.get_params(deep=False).items()
              if k in accepted and k not in ("model", "base", "eta_frac", "grad_fn")}
    path = explanation_path(X, G, etas, **params)
    along = np.array([fits[0].loss_.value(fits[0].graph_, E) for E in path.explanations])
    if not np.allclose(along, rob, rtol=1e-4, atol=1e-9 * (1 + rob.max())):
        _fail(s, "explanation_path's front differs from the fitted explanations'",
              path=along, fitted=rob)


def _optimized_transform_invariance(s, rng, d, n):
    X, G, f = _optimized_case(s, rng, max(n, 12), d)
    est = _fit_optimized(s, X, G)
    Xn = X[rng.randint(len(X), size=n)] * 1.01
    Gn = f.gradient(Xn)
    full = est.transform(Xn, grad_fn=Gn)
    perm = rng.permutation(n)
    half = slice(1, n // 2 + 1)
    for what, got, want in (("reordered rows", est.transform(Xn[perm], grad_fn=Gn[perm]),
                             full[perm]),
                            ("a subset of the rows", est.transform(Xn[half], grad_fn=Gn[half]),
                             full[half])):
        if not np.array_equal(got, want):
            _fail(s, f"transform changed a point's explanation when explaining {what}",
                  max_difference=np.abs(got - want).max())
