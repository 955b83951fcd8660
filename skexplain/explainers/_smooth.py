"""Kernel-smoothed gradients: SmoothGrad, UniGrad and KernelSmoothGrad.

All three are Monte-Carlo estimates of the gradient of the smoothed model
``f_mu(x) = E_{z ~ mu}[f(x + z)]`` (Tan & Tian), i.e. of
``E_{z ~ mu}[grad f(x + z)]``, for a Gaussian, a uniform-cube, or any
user-given perturbation distribution ``mu``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import MODEL_PARAMS_DOC, VERBOSE_DOC, BaseExplainer

__all__ = ["KernelSmoothGrad", "SmoothGrad", "UniGrad", "gaussian_factor"]


def gaussian_factor(sigma, covariance, n_features):
    """``(L, Sigma)`` with ``L L^T = Sigma`` from ``sigma`` or ``covariance``.

    ``sigma``: the standard deviation, a scalar or one per feature (the
    variance is ``sigma ** 2``). ``covariance``: a full ``(d, d)`` symmetric
    positive semi-definite matrix or a vector of ``d`` variances. Giving
    both is an error; giving neither means ``sigma = 1``.

    Parameters
    ----------
    sigma : float, array-like of shape (n_features,) or None
        Standard deviation(s).
    covariance : array-like of shape (n_features, n_features) or (n_features,), or None
        Covariance matrix, or its diagonal.
    n_features : int
        ``d``.

    Returns
    -------
    L : ndarray of shape (n_features, n_features)
        A factor with ``L L^T = Sigma`` (noise is ``z @ L.T``).
    Sigma : ndarray of shape (n_features, n_features)
        The covariance.

    Examples
    --------
    >>> L, S = gaussian_factor(0.5, None, 2)
    >>> S.tolist()
    [[0.25, 0.0], [0.0, 0.25]]
    """
    d = n_features
    if sigma is not None and covariance is not None:
        raise ValueError("give sigma or covariance, not both.")
    if covariance is None:
        s = np.asarray(1.0 if sigma is None else sigma, dtype=np.float64)
        if s.ndim == 0:
            s = np.full(d, float(s))
        if s.shape != (d,) or not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError(
                f"sigma must be a positive scalar or a positive array of shape ({d},); "
                f"got {sigma!r}."
            )
        return np.diag(s), np.diag(s ** 2)
    C = np.asarray(covariance, dtype=np.float64)
    if C.ndim == 1:
        if C.shape != (d,) or np.any(C <= 0) or not np.all(np.isfinite(C)):
            raise ValueError(f"covariance given as variances must be positive with shape ({d},).")
        return np.diag(np.sqrt(C)), np.diag(C)
    if C.shape != (d, d) or not np.all(np.isfinite(C)) or not np.allclose(C, C.T):
        raise ValueError(
            f"covariance must be a finite symmetric ({d}, {d}) matrix; got shape {C.shape}."
        )
    w, V = np.linalg.eigh(C)
    if w.min() < -1e-10 * max(w.max(), 1.0):
        raise ValueError("covariance must be positive semi-definite.")
    return V * np.sqrt(np.clip(w, 0.0, None)), C


def _correlate(E, L):
    """``E @ L.T`` for standard normals ``E``; element-wise when ``L`` is diagonal."""
    if np.count_nonzero(L - np.diag(np.diag(L))) == 0:
        E *= np.diag(L)
        return E
    return E @ L.T


class _SampledGradient(BaseExplainer):
    """``phi(x) = mean_k grad f(x + z_k)``; subclasses define ``_noise``."""

    _stochastic = True
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "shared_noise": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _explain(self, X, columns):
        S, d = self.n_samples, X.shape[1]
        out = np.empty_like(X)
        for a, b in self._point_chunks(X.shape[0], S):
            Z = self._noise(X[a:b])                                   # (p, S, d)
            G = self._gradient((X[a:b, None, :] + Z).reshape(-1, d), np.repeat(columns[a:b], S))
            out[a:b] = self._aggregate(G.reshape(b - a, S, d))
        return out

    def _aggregate(self, G):
        """The attribution from the gradients ``(points, samples, d)``."""
        return G.mean(axis=1)


_COMMON_DOC = """
    n_samples : int, default=50
        Number of perturbations (gradient evaluations) per point.
    shared_noise : bool, default=False
        ``False``: every point gets its own perturbations (a hash of the seed
        and the point, so results do not depend on chunking, row order or
        which other rows are explained). ``True``: all points share the same
        ``n_samples`` perturbations (common random numbers), which makes the
        explanation a smooth deterministic function of ``x``.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations (the seed is drawn at ``fit``; ``transform``
        is then deterministic).
""" + MODEL_PARAMS_DOC + VERBOSE_DOC


class SmoothGrad(_SampledGradient):
    __doc__ = """SmoothGrad (Smilkov et al., 2017): gradients averaged over Gaussian noise.

    ``phi(x) = (1/n) sum_k grad f(x + z_k)`` with ``z_k ~ N(0, Sigma)``. In
    expectation this is ``Sigma^{-1} cov(a, f(a))``, ``a ~ N(x, Sigma)``
    (Stein's lemma), the same as C-LIME (Agarwal et al., Theorem 1).
    ``aggregation="mean_square"`` averages the squared gradients instead
    (Captum's ``nt_type="smoothgrad_sq"``), ``"variance"`` takes their
    variance over the noise (VarGrad, Adebayo et al. 2018; Captum's
    ``"vargrad"``: ``mean(g^2) - mean(g)^2``, the 1/n variance).

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the gradient function.
    sigma : float or array-like of shape (n_features,), default=None
        Noise standard deviation (absolute, in input units); the variance
        is ``sigma ** 2``. ``None`` with no ``covariance`` means 1.0.
    covariance : array-like of shape (n_features, n_features) or (n_features,), \
            default=None
        Full noise covariance ``Sigma`` (or its diagonal), instead of sigma.
    aggregation : {"mean", "mean_square", "variance"}, default="mean"
        How the gradients over the noise make the attribution: SmoothGrad,
        SmoothGrad-squared or VarGrad (see above).
""" + _COMMON_DOC + """
    Attributes
    ----------
    covariance_ : ndarray of shape (n_features, n_features)
    model_ : ModelAdapter
    seed_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import SmoothGrad
    >>> theta = np.array([1.0, -2.0])                  # f(x) = theta . x
    >>> sg = SmoothGrad(lambda X: np.tile(theta, (len(X), 1)), sigma=0.5,
    ...                 random_state=0)
    >>> sg.fit_transform(np.zeros((1, 2)))              # exactly theta
    array([[ 1., -2.]])
    """

    _parameter_constraints = {
        **_SampledGradient._parameter_constraints,
        "sigma": [Interval(Real, 0, None, closed="neither"), "array-like", None],
        "covariance": ["array-like", None],
        "aggregation": [StrOptions({"mean", "mean_square", "variance"})],
    }

    def __init__(self, model=None, *, sigma=None, covariance=None, aggregation="mean",
                 n_samples=50, shared_noise=False, random_state=None, target=None,
                 output="auto", batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.sigma = sigma
        self.covariance = covariance
        self.aggregation = aggregation
        self.n_samples = n_samples
        self.shared_noise = shared_noise
        self.random_state = random_state
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        self._factor, self.covariance_ = gaussian_factor(self.sigma, self.covariance, X.shape[1])

    def _noise(self, X):
        return _correlate(self._normals(X, self.n_samples), self._factor)

    def _aggregate(self, G):
        if self.aggregation == "mean_square":
            return (G ** 2).mean(axis=1)
        if self.aggregation == "variance":
            return ((G - G.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)
        return G.mean(axis=1)


class UniGrad(_SampledGradient):
    __doc__ = """UniGrad (Wang et al., 2020): gradients averaged over uniform noise.

    ``phi(x) = (1/n) sum_k grad f(x + z_k)``, ``z_k ~ U([-r, r]^d)``.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the gradient function.
    radius : float or array-like of shape (n_features,), default=1.0
        Half-width ``r`` of the cube (per feature if an array).
""" + _COMMON_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import UniGrad
    >>> ug = UniGrad(lambda X: 3 * X ** 2, radius=1.0, n_samples=20000,
    ...              random_state=0)          # f = x^3: E[3 (x+z)^2] = 3x^2 + r^2
    >>> float(np.round(ug.fit_transform(np.zeros((1, 1)))[0, 0], 2))
    1.0
    """

    _parameter_constraints = {
        **_SampledGradient._parameter_constraints,
        "radius": [Interval(Real, 0, None, closed="neither"), "array-like"],
    }

    def __init__(self, model=None, *, radius=1.0, n_samples=50, shared_noise=False,
                 random_state=None, target=None, output="auto", batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.radius = radius
        self.n_samples = n_samples
        self.shared_noise = shared_noise
        self.random_state = random_state
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        r = np.asarray(self.radius, dtype=np.float64)
        r = np.full(X.shape[1], float(r)) if r.ndim == 0 else r
        if r.shape != (X.shape[1],) or np.any(r <= 0) or not np.all(np.isfinite(r)):
            raise ValueError(f"radius must be positive, scalar or of shape ({X.shape[1]},).")
        self.radius_ = r

    def _noise(self, X):
        return (2.0 * self._uniforms(X, self.n_samples) - 1.0) * self.radius_


class KernelSmoothGrad(_SampledGradient):
    __doc__ = """Gradients averaged over any perturbation distribution (Tan & Tian).

    ``phi(x) = (1/n) sum_k grad f(x + z_k)``, ``z_k ~ mu``: the Monte-Carlo
    gradient of ``f_mu(x) = E_{z ~ mu}[f(x + z)]``. SmoothGrad and UniGrad
    are the Gaussian and uniform cases.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the gradient function.
    sampler : callable or scipy.stats frozen distribution
        Maps independent uniforms to perturbations: ``sampler(U) -> Z`` with
        ``U`` of shape ``(m, n_features)`` in (0, 1) and ``Z`` of the same
        shape (e.g. an inverse CDF, a linear map of normal quantiles). A
        frozen scipy distribution is applied feature-wise through its
        ``ppf``. Feeding uniforms (rather than a generator) keeps each point's
        perturbations a function of the seed and the point.
""" + _COMMON_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from skexplain.explainers import KernelSmoothGrad
    >>> ks = KernelSmoothGrad(lambda X: 3 * X ** 2, sampler=stats.laplace(scale=0.5),
    ...                       n_samples=50000, random_state=0)
    >>> # E[3 (0 + z)^2] = 3 Var(z) = 3 * 2 * 0.5^2
    >>> float(np.round(ks.fit_transform(np.zeros((1, 1)))[0, 0], 1))
    1.5
    """

    _parameter_constraints = {
        **_SampledGradient._parameter_constraints,
        "sampler": "no_validation",
    }

    def __init__(self, model=None, *, sampler=None, n_samples=50, shared_noise=False,
                 random_state=None, target=None, output="auto", batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.sampler = sampler
        self.n_samples = n_samples
        self.shared_noise = shared_noise
        self.random_state = random_state
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        if self.sampler is None or not (callable(self.sampler) or hasattr(self.sampler, "ppf")):
            raise ValueError(
                "sampler is required: a callable U -> Z on (m, n_features) uniforms, "
                f"or a frozen scipy.stats distribution; got {self.sampler!r}."
            )
        self._noise(X[:1])  # check the sampler's output once

    def _noise(self, X):
        p, S, d = X.shape[0], self.n_samples, X.shape[1]
        U = self._uniforms(X, S).reshape(p * S, d)
        fn = self.sampler.ppf if hasattr(self.sampler, "ppf") else self.sampler
        try:
            Z = np.asarray(fn(U), dtype=np.float64)
        except Exception as exc:
            raise ValueError(f"sampler raised {type(exc).__name__}: {exc}") from exc
        if Z.shape != U.shape or not np.all(np.isfinite(Z)):
            raise ValueError(
                f"sampler must map uniforms of shape {U.shape} to finite perturbations of "
                f"the same shape; got shape {Z.shape}."
            )
        return Z.reshape(p, S, d)
