"""Local linear surrogates: C-LIME and tabular LIME (no discretisation)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..neighbors._graph import magnitude_unit

from ._base import MODEL_PARAMS_DOC, VERBOSE_DOC, BaseExplainer
from ._smooth import _COMMON_DOC, _correlate, gaussian_factor

__all__ = ["CLIME", "LIME", "weighted_linear_fit"]


def weighted_linear_fit(Z, y, weights=None, alpha=0.0, *, penalty="mean", full=False):
    """Per-point (weighted, ridge) least squares with an unpenalised intercept.

    Solves, for each point ``p`` independently and all points at once,
    ``min_{w, b} sum_k pi_pk (y_pk - b - w . z_pk)^2 + alpha ||w||^2``.
    ``penalty="mean"``: ``pi_pk = weights[p, k] / sum_k weights[p, k]`` (so
    ``alpha`` is on the scale of a *mean* squared error, as in Agarwal et
    al.'s appendix D); ``penalty="sum"``: ``pi = weights`` (as in ``lime``'s
    ``Ridge(alpha)`` with sample weights).

    Parameters
    ----------
    Z : ndarray of shape (n_points, n_samples, n_features)
        The perturbations (regressors) of each point.
    y : ndarray of shape (n_points, n_samples)
        The model's outputs at them.
    weights : ndarray of shape (n_points, n_samples) or None
        ``None``: equal weights.
    alpha : float, default=0.0
        Ridge penalty on ``w`` (not on the intercept).
    penalty : {"mean", "sum"}, default="mean"
        The scale of ``alpha`` (see above).
    full : bool, default=False
        Also return each fit's intercept and weighted R^2.

    Returns
    -------
    coef : ndarray of shape (n_points, n_features)
        The slopes ``w`` of each point's fit.
    intercept : ndarray of shape (n_points,)
        Only with ``full``: ``b``, the fit's value at ``z = 0``.
    r2 : ndarray of shape (n_points,)
        Only with ``full``: ``1 - sum_k pi_k r_k^2 / sum_k pi_k (y_k -
        ybar)^2`` (normalised weights; 1 where ``y`` is constant and fitted
        exactly).

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[[0.0], [1.0], [2.0]]]); y = 3.0 * Z[..., 0] + 1.0
    >>> weighted_linear_fit(Z, y)
    array([[3.]])
    """
    p, S, d = Z.shape
    w = np.ones((p, S)) if weights is None else weights
    pin = w / w.sum(1, keepdims=True)
    pi = pin if penalty == "mean" else w
    zbar = np.einsum("pk,pkd->pd", pin, Z)
    ybar = np.einsum("pk,pk->p", pin, y)
    Zc = Z - zbar[:, None, :]
    yc = y - ybar[:, None]
    Zw = Zc * pi[:, :, None]
    A = np.einsum("pkd,pke->pde", Zw, Zc, optimize=True)  # BLAS; batched matmul is slower
    if alpha:
        A = A + alpha * np.eye(d)
    rhs = np.einsum("pkd,pk->pd", Zw, yc, optimize=True)
    try:
        coef = np.linalg.solve(A, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:  # a degenerate design: minimum-norm solution
        coef = np.einsum("pde,pe->pd", np.linalg.pinv(A), rhs)
    if not full:
        return coef
    intercept = ybar - np.einsum("pd,pd->p", coef, zbar)
    resid = yc - np.einsum("pkd,pd->pk", Zc, coef)
    ss_res = np.einsum("pk,pk->p", pin, resid ** 2)
    ss_tot = np.einsum("pk,pk->p", pin, yc ** 2)
    scale = np.maximum(ss_tot, np.finfo(float).tiny)
    r2 = np.where(ss_tot > 0, 1.0 - ss_res / scale, np.where(ss_res <= 0, 1.0, 0.0))
    return coef, intercept, r2


def _rows_per_fit(n_samples, d):
    """Row budget of one point's surrogate fit: its ``n_samples`` model rows,
    or its ``(d + 1)^2`` normal-equation entries counted in rows of ``d``
    (so that ``batch_size`` also bounds the Gram matrices at large ``d``)."""
    return max(n_samples, (d + 1) ** 2 // max(d, 1))


class CLIME(BaseExplainer):
    __doc__ = """C-LIME (Agarwal et al., 2021): least squares on Gaussian perturbations.

    For each point, draws ``a_k = x + z_k``, ``z_k ~ N(0, Sigma)``, and fits
    ``f(a_k) ~ b + w . a_k`` by unweighted least squares with an intercept;
    the explanation is ``w``. In expectation ``w = Sigma^{-1} cov(a, f(a))``
    (Theorem 1: SmoothGrad's limit too); with a ridge penalty ``alpha`` on
    the *mean* squared error, ``w = (Sigma + alpha I)^{-1} cov(a, f(a))``
    (appendix D). The finite-sample estimate is
    ``(Cov_n(z) + alpha I)^{-1} Cov_n(z, f)`` with 1/n sample covariances.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the prediction function ``X -> (n,)``.
    sigma : float or array-like of shape (n_features,), default=None
        Perturbation standard deviation (``None`` and no covariance: 1.0).
    covariance : array-like of shape (n_features, n_features) or (n_features,), \
            default=None
        Full perturbation covariance instead of ``sigma``.
    alpha : float, default=0.0
        Ridge penalty ``lambda``; ``0`` is the paper's C-LIME and then
        ``n_samples`` must exceed ``n_features``.
""" + _COMMON_DOC.replace("gradient evaluations", "model evaluations") + """
    Attributes
    ----------
    covariance_ : ndarray of shape (n_features, n_features)
    model_ : ModelAdapter
    seed_ : int

    Notes
    -----
    With the same ``random_state``, ``n_samples``, ``shared_noise`` and
    noise, CLIME and :class:`SmoothGrad` use the very same perturbations
    (common random numbers), which makes their difference a low-variance
    estimate of the gap between the two methods.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import CLIME
    >>> f = lambda X: X @ np.array([1.0, -2.0]) + 3.0       # linear: exact
    >>> CLIME(f, sigma=0.5, n_samples=10, random_state=0).fit_transform(
    ...     np.ones((1, 2))).round(12)
    array([[ 1., -2.]])
    """

    _callable_as = "predict"
    _stochastic = True
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "verbose": ["verbose"],
        "sigma": [Interval(Real, 0, None, closed="neither"), "array-like", None],
        "covariance": ["array-like", None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "shared_noise": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, model=None, *, sigma=None, covariance=None, alpha=0.0, n_samples=100,
                 shared_noise=False, random_state=None, target=None, output="auto",
                 batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.sigma = sigma
        self.covariance = covariance
        self.alpha = alpha
        self.n_samples = n_samples
        self.shared_noise = shared_noise
        self.random_state = random_state
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        d = X.shape[1]
        if self.alpha == 0 and self.n_samples <= d:
            raise ValueError(
                f"n_samples={self.n_samples} perturbations cannot determine {d} slopes "
                "and an intercept: use n_samples > n_features or alpha > 0."
            )
        self._factor, self.covariance_ = gaussian_factor(self.sigma, self.covariance, d)

    def _perturbations(self, X):
        return _correlate(self._normals(X, self.n_samples), self._factor)

    def _model_rows_per_point(self):
        return self.n_samples

    def _explain(self, X, columns):
        return self._explain_full(X, columns)[0]

    def _explain_full(self, X, columns):
        # base values: the surrogate's intercept, its prediction at x; scores:
        # its R^2 on the perturbations
        S, d = self.n_samples, X.shape[1]
        out, base, r2 = np.empty_like(X), np.empty(X.shape[0]), np.empty(X.shape[0])
        for a, b in self._point_chunks(X.shape[0], _rows_per_fit(S, d)):
            Z = self._perturbations(X[a:b])
            y = self._predict((X[a:b, None, :] + Z).reshape(-1, d), np.repeat(columns[a:b], S))
            out[a:b], base[a:b], r2[a:b] = weighted_linear_fit(
                Z, y.reshape(b - a, S), alpha=self.alpha, full=True)
        return out, base, r2


class LIME(BaseExplainer):
    __doc__ = """Tabular LIME without discretisation (Ribeiro et al., 2016).

    For each point, draws ``a_k = x + z_k`` with ``z_k ~ N(0, diag(s^2))``
    (``s``: the training standard deviation of each feature), weights each
    by the exponential kernel ``pi_k = exp(-D_k^2 / w^2)`` of the
    standardised distance ``D_k = ||z_k / s||`` and fits a weighted ridge
    regression of ``f(a_k)`` on the standardised perturbations ``z_k / s``
    with an intercept; the coefficients are divided by ``s`` so that the
    explanation is in model units per input unit, like a gradient.

    Differences from the ``lime`` package, by choice: perturbations are
    centred at ``x`` (``sample_around_instance=True``), there is no
    discretisation or feature selection, and the kernel is Tan & Tian's
    ``exp(-D^2 / w^2)`` (``lime`` uses its square root; pass ``kernel_width``
    times ``sqrt(2)`` to match it). The ridge penalty is on the weighted *sum*
    of squares, as in ``lime`` (``Ridge(alpha=1)``).

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the prediction function.
    kernel_width : float or None, default=None
        ``w``; ``None`` means ``0.75 * sqrt(n_features)`` (``lime``'s default).
    alpha : float, default=1.0
        Ridge penalty on the standardised coefficients.
    scale : float, array-like of shape (n_features,) or None, default=None
        ``s``; ``None`` uses the training standard deviation (1 where it is 0).
    n_samples : int, default=1000
        Perturbations (model evaluations) per point.
    shared_noise : bool, default=False
        Whether all points share the same perturbations (common random
        numbers) instead of each getting its own (see :class:`CLIME`).
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations (drawn at ``fit``; ``transform`` is then
        deterministic).
    feature_groups : array-like of shape (n_features,) or None, default=None
        A label per feature (Captum's ``feature_mask``): the features of a
        group move together, ``z_i = s_i u_g`` with one standard normal
        ``u_g`` per group, and the surrogate has one slope ``b_g`` per group
        (the change of ``f`` per standard deviation of the group's joint
        move). Feature ``i`` gets ``b_g / s_i``: the change of ``f`` per unit
        of feature ``i`` when its group moves in proportion to its scales
        (for single-feature groups, exactly the ungrouped explanation).
""" + MODEL_PARAMS_DOC + VERBOSE_DOC + """
    Attributes
    ----------
    scale_ : ndarray of shape (n_features,)
    kernel_width_ : float
    model_ : ModelAdapter

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import LIME
    >>> f = lambda X: X @ np.array([1.0, -2.0])
    >>> lime = LIME(f, alpha=0.0, n_samples=50, random_state=0)
    >>> lime.fit(np.random.default_rng(0).normal(size=(20, 2))).transform(
    ...     np.ones((1, 2))).round(12)
    array([[ 1., -2.]])
    """

    _callable_as = "predict"
    _stochastic = True
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "verbose": ["verbose"],
        "kernel_width": [Interval(Real, 0, None, closed="neither"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "scale": [Interval(Real, 0, None, closed="neither"), "array-like", None],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "shared_noise": ["boolean"],
        "random_state": ["random_state"],
        "feature_groups": ["array-like", None],
    }

    def __init__(self, model=None, *, kernel_width=None, alpha=1.0, scale=None, n_samples=1000,
                 shared_noise=False, random_state=None, feature_groups=None, target=None,
                 output="auto", batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.kernel_width = kernel_width
        self.alpha = alpha
        self.scale = scale
        self.n_samples = n_samples
        self.shared_noise = shared_noise
        self.random_state = random_state
        self.feature_groups = feature_groups
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        from ._ablation import feature_group_masks

        d = X.shape[1]
        self._group_of = np.argmax(feature_group_masks(self.feature_groups, d), axis=0)
        if self.scale is None:
            # in units of the data's magnitude (exact), so squares cannot overflow
            unit = magnitude_unit(X)
            s = (X / unit).std(axis=0) * unit if X.shape[0] > 1 else np.ones(d)
            s = np.where(s > 0, s, 1.0)
        else:
            s = np.asarray(self.scale, dtype=np.float64)
            s = np.full(d, float(s)) if s.ndim == 0 else s
            if s.shape != (d,) or np.any(s <= 0) or not np.all(np.isfinite(s)):
                raise ValueError(f"scale must be positive, scalar or of shape ({d},).")
        self.scale_ = s
        self.kernel_width_ = (0.75 * np.sqrt(d) if self.kernel_width is None
                              else float(self.kernel_width))
        g = int(self._group_of.max()) + 1
        if self.alpha == 0 and self.n_samples <= g:
            raise ValueError(
                f"n_samples={self.n_samples} cannot determine {g} slopes and an intercept "
                "without a penalty: use n_samples > the number of features (or groups) "
                "or alpha > 0."
            )

    def _model_rows_per_point(self):
        return self.n_samples

    def _explain(self, X, columns):
        return self._explain_full(X, columns)[0]

    def _explain_full(self, X, columns):
        # base values: the surrogate's intercept, its prediction at x; scores:
        # its weighted R^2 (lime's ``score``)
        S, d = self.n_samples, X.shape[1]
        grp = self._group_of
        g = int(grp.max()) + 1
        out, base, r2 = np.empty_like(X), np.empty(X.shape[0]), np.empty(X.shape[0])
        for a, b in self._point_chunks(X.shape[0], _rows_per_fit(S, d)):
            Ug = self._normals(X[a:b], S, g)                          # one normal per group
            U = Ug if g == d and np.array_equal(grp, np.arange(d)) else Ug[..., grp]
            pi = np.exp(-(U ** 2).sum(-1) / self.kernel_width_ ** 2)  # (p, S)
            y = self._predict((X[a:b, None, :] + U * self.scale_).reshape(-1, d),
                              np.repeat(columns[a:b], S)).reshape(b - a, S)
            # sum-of-squares penalty: divide alpha by the total weight per point
            coef, base[a:b], r2[a:b] = weighted_linear_fit(Ug, y, pi, self.alpha,
                                                           penalty="sum", full=True)
            out[a:b] = coef[:, grp] / self.scale_
        return out, base, r2

