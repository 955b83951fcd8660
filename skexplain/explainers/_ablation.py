"""Feature ablation (occlusion), GradientSHAP (expected gradients) and
Shapley values by permutation sampling."""

from numbers import Integral, Real

import numpy as np
from scipy.special import ndtri
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._base import MODEL_PARAMS_DOC, VERBOSE_DOC, BaseExplainer
from ._shap import draw_background

__all__ = ["FeatureAblation", "GradientSHAP", "ShapleySampling", "feature_group_masks"]


def baseline_row(baseline, X, name="baseline"):
    """A baseline row from a scalar, a row or ``"mean"`` (of the training X);
    the one check behind every explainer's ``baseline``."""
    d = X.shape[1]
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(f"{name} must be a number, an array of shape ({d},) or 'mean'; "
                             f"got {baseline!r}.")
        return X.mean(axis=0)
    b = np.asarray(baseline, dtype=np.float64)
    if b.ndim == 0:
        b = np.full(d, float(b))
    if b.shape != (d,) or not np.all(np.isfinite(b)):
        raise ValueError(f"{name} must be a finite number, an array of shape ({d},) or "
                         f"'mean'; got shape {np.shape(baseline)}.")
    return b


def feature_group_masks(feature_groups, n_features):
    """The ``(n_groups, n_features)`` boolean masks of a group label per feature.

    Parameters
    ----------
    feature_groups : array-like of shape (n_features,) or None
        A label per feature (Captum's ``feature_mask``); features with the
        same label are ablated together. ``None``: every feature alone.
    n_features : int
        Number of features.

    Returns
    -------
    masks : ndarray of bool of shape (n_groups, n_features)
        One row per group, in the order of the sorted labels.

    Examples
    --------
    >>> feature_group_masks([0, 1, 0], 3).astype(int)
    array([[1, 0, 1],
           [0, 1, 0]])
    """
    if feature_groups is None:
        return np.eye(n_features, dtype=bool)
    labels = np.asarray(feature_groups)
    if labels.shape != (n_features,):
        raise ValueError(f"feature_groups must give one label per feature, shape "
                         f"({n_features},); got shape {labels.shape}.")
    _, inv = np.unique(labels, return_inverse=True)
    return inv[None, :] == np.arange(inv.max() + 1)[:, None]


class FeatureAblation(BaseExplainer):
    __doc__ = """Feature ablation (occlusion): the drop when a feature is set to a baseline.

    ``phi_i(x) = f(x) - f(x with the group of feature i at the baseline)``:
    each feature (or each group of ``feature_groups``, Captum's
    ``feature_mask``) is replaced by the baseline in turn; every feature of
    a group gets the group's drop, as in Captum's ``FeatureAblation``. For a
    linear model and single features it is ``w_i (x_i - b_i)``. One model
    pass of ``n_groups + 1`` rows per point, shared by all outputs.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the prediction function.
    baseline : float, array-like of shape (n_features,) or "mean", default=0.0
        The value an ablated feature takes; ``"mean"``: the training mean.
    feature_groups : array-like of shape (n_features,) or None, default=None
        A label per feature; features with the same label are ablated
        together.
""" + MODEL_PARAMS_DOC + """
    Attributes
    ----------
    baseline_ : ndarray of shape (n_features,)
    groups_ : ndarray of bool of shape (n_groups, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import FeatureAblation
    >>> f = lambda X: X @ np.array([2.0, -1.0, 0.5])
    >>> FeatureAblation(f).fit(np.zeros((1, 3))).transform(np.array([[1.0, 1.0, 2.0]]))
    array([[ 2., -1.,  1.]])
    """

    _callable_as = "predict"
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "baseline": "no_validation",
        "feature_groups": ["array-like", None],
    }

    def __init__(self, model=None, *, baseline=0.0, feature_groups=None, target=None,
                 output="auto", batch_size=10000, n_jobs=None):
        self.model = model
        self.baseline = baseline
        self.feature_groups = feature_groups
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    def _fit_extra(self, X):
        self.baseline_ = baseline_row(self.baseline, X)
        self.groups_ = feature_group_masks(self.feature_groups, X.shape[1])

    def _model_rows_per_point(self):
        return self.groups_.shape[0] + 1

    def _explain(self, X, columns):
        M, b = self.groups_, self.baseline_
        g, d = M.shape
        out = np.empty_like(X)
        for a, e in self._point_chunks(X.shape[0], g + 1):
            p = e - a
            R = np.empty((p, g + 1, d))
            R[:, 0] = X[a:e]
            R[:, 1:] = np.where(M[None], b, X[a:e, None, :])
            v = self._predict(R.reshape(-1, d), np.repeat(columns[a:e], g + 1)).reshape(p, g + 1)
            drop = v[:, :1] - v[:, 1:]                              # (p, groups)
            out[a:e] = drop[:, np.argmax(M, axis=0)]                 # each feature's group
        return out


class GradientSHAP(BaseExplainer):
    __doc__ = """GradientSHAP: Shapley values approximated by expected gradients.

    ``E[(x - b) * grad f(b + a (x - b) + e)]``, Lundberg & Lee's approximation of Shapley values for differentiable
    models, as Captum's ``GradientShap``: the expectation over a background
    row ``b``, ``a ~ U(0, 1)`` and optional Gaussian noise ``e ~ N(0,
    sigma^2 I)``, estimated with ``n_samples`` draws per point. In
    expectation the attributions add up to ``f(x) - mean_b f(b)`` (exactly
    Integrated Gradients averaged over the background, for ``sigma = 0``);
    ``expected_value_`` is ``mean_b f(b)`` when the model can predict.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the gradient function.
    background : array-like of shape (n_background, n_features) or None, \
            default=None
        Reference rows; ``None``: the training ``X`` (at most
        ``max_background`` rows, drawn with ``random_state``).
    n_samples : int, default=50
        Draws per point (Captum's default is 5).
    sigma : float, default=0.0
        Standard deviation of the noise added to each path point (Captum's
        ``stdevs``).
    max_background : int, default=100
        Cap on the background drawn from the training data.
    shared_noise : bool, default=False
        ``True``: every point uses the same draws.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws (the seed is drawn at ``fit``).
""" + MODEL_PARAMS_DOC + VERBOSE_DOC + """
    Attributes
    ----------
    background_ : ndarray of shape (n_background, n_features)
    expected_value_ : ndarray of shape (n_outputs,) or None
        ``mean_b f(b)`` per output, or None for a gradient-only model.

    Examples
    --------
    For a linear model and one background row it is exactly ``w (x - b)``:

    >>> import numpy as np
    >>> from skexplain.explainers import GradientSHAP
    >>> w = np.array([2.0, -1.0])
    >>> gs = GradientSHAP(lambda X: np.tile(w, (len(X), 1)), background=np.zeros((1, 2)))
    >>> gs.fit(np.zeros((1, 2))).transform(np.array([[1.0, 3.0]]))
    array([[ 2., -3.]])
    """

    _stochastic = True
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "background": ["array-like", None],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="left")],
        "max_background": [Interval(Integral, 1, None, closed="left")],
        "shared_noise": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, model=None, *, background=None, n_samples=50, sigma=0.0,
                 max_background=100, shared_noise=False, random_state=None, target=None,
                 output="auto", batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.background = background
        self.n_samples = n_samples
        self.sigma = sigma
        self.max_background = max_background
        self.shared_noise = shared_noise
        self.random_state = random_state
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        rng = check_random_state(self.random_state)
        self.background_ = draw_background(self.background, X, self.max_background, rng)
        self.expected_value_ = (
            self.model_.outputs(self.background_, batch_size=self.batch_size).mean(axis=0)
            if self.model_.can_predict else None)

    def _base_values(self, X, columns):
        return None if self.expected_value_ is None else self.expected_value_[columns]

    def _explain(self, X, columns):
        S, d = self.n_samples, X.shape[1]
        B = self.background_
        out = np.empty_like(X)
        for a, e in self._point_chunks(X.shape[0], S):
            # one stream per point: d normals, the background row, alpha
            U = self._uniforms(X[a:e], S, d + 2)
            base = B[np.minimum((U[..., d] * B.shape[0]).astype(np.intp), B.shape[0] - 1)]
            alpha = U[..., d + 1:]
            span = X[a:e, None, :] - base                           # (p, S, d)
            Z = base + alpha * span
            if self.sigma > 0:
                Z = Z + self.sigma * ndtri(U[..., :d])
            G = self._gradient(Z.reshape(-1, d), np.repeat(columns[a:e], S))
            out[a:e] = (span * G.reshape(e - a, S, d)).mean(axis=1)
        return out


class ShapleySampling(BaseExplainer):
    __doc__ = """Shapley values by permutation sampling (Strumbelj & Kononenko, 2010).

    For each of ``n_permutations`` random orders of the features (or of
    the groups of ``feature_groups``), the features are switched from the
    baseline to ``x`` one at a time and each gets the model's change when it
    is switched on; the attribution is the mean over the orders (Captum's
    ``ShapleyValueSampling``). Every order adds up exactly, so
    ``sum_i phi_i = f(x) - f(baseline)`` for any number of orders; with
    ``antithetic=True`` every order is followed by its reverse (which makes
    pairwise interactions split exactly). The orders are a hash of the seed
    and the point, so a point's attribution does not depend on the other
    rows. One model pass of ``n_permutations (n_groups + 1)`` rows per
    point, shared by all outputs.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the prediction function.
    baseline : float, array-like of shape (n_features,) or "mean", default=0.0
        The value of a feature that is "off"; ``"mean"``: the training mean.
    n_permutations : int, default=25
        Orders per point (with ``antithetic``, rounded up to an even number).
    antithetic : bool, default=True
        Follow every order by its reverse.
    feature_groups : array-like of shape (n_features,) or None, default=None
        A label per feature; features with the same label are switched
        together and each gets the group's value.
    random_state : int, RandomState instance or None, default=None
        Seeds the orders (the seed is drawn at ``fit``).
""" + MODEL_PARAMS_DOC + VERBOSE_DOC + """
    Attributes
    ----------
    baseline_ : ndarray of shape (n_features,)
    groups_ : ndarray of bool of shape (n_groups, n_features)

    Examples
    --------
    A product's credit splits equally (exactly, with antithetic orders):

    >>> import numpy as np
    >>> from skexplain.explainers import ShapleySampling
    >>> f = lambda X: X[:, 0] * X[:, 1]
    >>> sv = ShapleySampling(f, n_permutations=2, random_state=0).fit(np.zeros((1, 2)))
    >>> sv.transform(np.array([[2.0, 3.0]]))
    array([[3., 3.]])
    """

    _callable_as = "predict"
    _stochastic = True
    shared_noise = False
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "baseline": "no_validation",
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "antithetic": ["boolean"],
        "feature_groups": ["array-like", None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, model=None, *, baseline=0.0, n_permutations=25, antithetic=True,
                 feature_groups=None, random_state=None, target=None, output="auto",
                 batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.baseline = baseline
        self.n_permutations = n_permutations
        self.antithetic = antithetic
        self.feature_groups = feature_groups
        self.random_state = random_state
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        self.baseline_ = baseline_row(self.baseline, X)
        self.groups_ = feature_group_masks(self.feature_groups, X.shape[1])

    def _n_orders(self):
        k = self.n_permutations
        return k + (k % 2) if self.antithetic else k

    def _model_rows_per_point(self):
        return self._n_orders() * (self.groups_.shape[0] + 1)

    def _orders(self, X):
        """``(p, n_orders, n_groups)`` permutations, a hash of each point."""
        g, k = self.groups_.shape[0], self._n_orders()
        base = k // 2 if self.antithetic else k
        P = np.argsort(self._uniforms(X, base, g), axis=2, kind="stable")
        if self.antithetic:
            P = np.stack([P, P[..., ::-1]], axis=2).reshape(X.shape[0], k, g)
        return P

    def _explain(self, X, columns):
        M, b = self.groups_, self.baseline_
        g, d = M.shape
        k = self._n_orders()
        out = np.empty_like(X)
        for a, e in self._point_chunks(X.shape[0], k * (g + 1)):
            p = e - a
            P = self._orders(X[a:e])                                # (p, k, g)
            # on[t, j]: group j is on after t switches, in each order
            rank = np.empty_like(P)
            np.put_along_axis(rank, P, np.arange(g)[None, None, :], axis=2)
            on = rank[:, :, None, :] < np.arange(g + 1)[None, None, :, None]   # (p,k,g+1,g)
            feat = on[..., np.argmax(M, axis=0)]                    # (p, k, g+1, d)
            R = np.where(feat, X[a:e, None, None, :], b)
            v = self._predict(R.reshape(-1, d),
                              np.repeat(columns[a:e], k * (g + 1))).reshape(p, k, g + 1)
            steps = np.diff(v, axis=2)                              # change at switch t
            # the group switched at step t is P[..., t]
            contrib = np.zeros((p, k, g))
            np.put_along_axis(contrib, P, steps, axis=2)
            out[a:e] = contrib.mean(axis=1)[:, np.argmax(M, axis=0)]
        return out

    def _base_values(self, X, columns):
        rows = np.tile(self.baseline_, (columns.shape[0], 1))
        return self.model_.predict(rows, columns, batch_size=self.batch_size)
