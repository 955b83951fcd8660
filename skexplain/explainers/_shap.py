"""KernelSHAP (Lundberg & Lee, 2017) with a user-given background."""

from math import comb
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import MODEL_PARAMS_DOC, VERBOSE_DOC, BaseExplainer

__all__ = ["KernelSHAP", "shapley_kernel_weight"]


def shapley_kernel_weight(d, size):
    """Shapley kernel ``(d - 1) / (C(d, s) s (d - s))`` of a coalition of size ``s``.

    Parameters
    ----------
    d : int
        Number of features.
    size : int or array-like of int
        Coalition sizes ``s``, strictly between 0 and ``d``.

    Returns
    -------
    weight : float or ndarray
        The kernel weight of each size.

    Examples
    --------
    >>> float(shapley_kernel_weight(3, 1))
    0.3333333333333333
    """
    size = np.asarray(size)
    num = d - 1.0
    binom = np.vectorize(lambda s: float(comb(d, int(s))))(size)
    return num / (binom * size * (d - size))


def _coalitions(d, n_samples, rng):
    """Coalition matrix ``(S, d)`` of 0/1, regression weights ``(S,)``, exact flag.

    All ``2^d - 2`` proper coalitions with Shapley kernel weights when that
    many fit in ``n_samples`` (then the solution is the exact Shapley value).
    Otherwise the sizes are taken in pairs ``(s, d - s)`` from the smallest
    (where the kernel's mass is): a pair whose coalitions all fit in its
    share of the remaining budget is enumerated, with exact weights (its
    kernel mass split equally); the remaining sizes are sampled (a size
    drawn by kernel mass, members uniformly, with the complement), equal
    weights sharing the remaining mass. Against the exact values this is
    2-5x more accurate than sampling every size (d = 10 and 16, see
    ``benchmarks/bench_kernelshap.py``) and falls smoothly to the exact
    answer as the budget approaches ``2^d - 2``.
    """
    if d < 2:
        return np.zeros((0, d)), np.zeros(0), True
    n_all = 2 ** d - 2
    if d <= 30 and n_all <= n_samples:
        codes = np.arange(1, n_all + 1, dtype=np.int64)
        Z = ((codes[:, None] >> np.arange(d)) & 1).astype(np.float64)
        return Z, shapley_kernel_weight(d, Z.sum(1)), True
    # complete sizes first (s and d - s together, from the smallest, where the
    # kernel's mass is), with exact weights, while their coalitions fit in
    # their share of the budget
    sizes = np.arange(1, d)
    kernel = 1.0 / (sizes * (d - sizes))                     # mass per size, up to a factor
    mass = kernel / kernel.sum()
    rows, weights, left, lo = [], [], n_samples, 1
    while 2 * lo < d:
        hi = d - lo
        count = comb(d, lo) * (2 if hi != lo else 1)
        inner = (sizes >= lo) & (sizes <= hi)
        share = (mass[lo - 1] + (mass[hi - 1] if hi != lo else 0.0)) / mass[inner].sum()
        if left * share < count - 1e-8:
            break
        for size in ((lo, hi) if hi != lo else (lo,)):
            Zs = _all_of_size(d, size)
            rows.append(Zs)
            weights.append(np.full(Zs.shape[0], mass[size - 1] / Zs.shape[0]))
        left -= count
        lo += 1
    hi = d - lo
    if lo <= hi and left >= 2:
        # the rest: paired sampling of the remaining sizes (size by kernel mass,
        # members uniformly, with the complement), equal weights sharing the
        # remaining mass
        n_pairs = left // 2
        rest = sizes[lo - 1:hi]
        p = mass[lo - 1:hi] / mass[lo - 1:hi].sum()
        s = rng.choice(rest, size=n_pairs, p=p)
        keys = rng.random((n_pairs, d))
        ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
        Z = (ranks < s[:, None]).astype(np.float64)
        Z = np.concatenate([Z, 1.0 - Z], axis=0)
        rows.append(Z)
        weights.append(np.full(Z.shape[0], mass[lo - 1:hi].sum() / Z.shape[0]))
    return np.concatenate(rows, axis=0), np.concatenate(weights), False


def _all_of_size(d, size):
    """Every 0/1 row of length ``d`` with ``size`` ones."""
    from itertools import combinations

    idx = np.array(list(combinations(range(d), size)), dtype=np.intp).reshape(-1, size)
    Z = np.zeros((idx.shape[0], d))
    Z[np.arange(idx.shape[0])[:, None], idx] = 1.0
    return Z


def draw_background(background, X, max_background, rng):
    """The background rows: ``background`` checked, or a subsample of ``X``."""
    d = X.shape[1]
    if background is None:
        if X.shape[0] > max_background:
            return X[np.sort(rng.choice(X.shape[0], max_background, replace=False))]
        return X
    B = np.asarray(background, dtype=np.float64)
    B = B[None, :] if B.ndim == 1 else B
    if B.ndim != 2 or B.shape[1] != d or B.shape[0] == 0 or not np.all(np.isfinite(B)):
        raise ValueError(
            f"background must be a finite array of shape (n_background, {d}); got "
            f"shape {B.shape}."
        )
    return B


class KernelSHAP(BaseExplainer):
    __doc__ = """KernelSHAP: Shapley values by weighted regression on coalitions.

    The value of a coalition ``z`` (0/1 per feature) at ``x`` is the
    interventional expectation ``v(z) = mean_b f(x_z, b_{not z})`` over the
    background rows ``b``. The attributions solve the Shapley-kernel
    weighted least squares ``sum_z k(z) (v(z) - v(0) - phi . z)^2`` subject to
    efficiency, ``sum_i phi_i = f(x) - mean_b f(b)``, which holds exactly.
    The same coalitions are used for every point (so the explanation is
    linear in the model, and all points are solved with one factorisation).
    When all ``2^d - 2`` coalitions fit within ``n_samples`` they are
    enumerated and the result is the exact Shapley value; otherwise the
    coalition sizes whose coalitions fit in their share of the budget
    (smallest and largest first) are enumerated and the others sampled.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the prediction function.
    background : array-like of shape (n_background, n_features) or None, \
            default=None
        Reference rows replacing absent features. ``None``: the training
        ``X`` (at most ``max_background`` rows, drawn with ``random_state``).
        A single row is a baseline.
    n_samples : int or "auto", default="auto"
        Number of coalitions; ``"auto"`` is ``2 d + 2048`` (as ``shap``).
    max_background : int, default=100
        Cap on the background drawn from the training data.
    random_state : int, RandomState instance or None, default=None
        Seeds coalition sampling and the background subsample.
    feature_groups : array-like of shape (n_features,) or None, default=None
        A label per feature (Captum's ``feature_mask``): features with the
        same label are one player, present or absent together, and each
        gets the group's Shapley value (so efficiency holds over the
        groups: ``sum over groups = f(x) - mean_b f(b)``). ``None``: every
        feature is a player.
""" + MODEL_PARAMS_DOC + VERBOSE_DOC + """
    Attributes
    ----------
    background_ : ndarray of shape (n_background, n_features)
    coalitions_ : ndarray of shape (n_coalitions, n_groups)
        Over the groups (the features, without ``feature_groups``).
    exact_ : bool
        Whether all coalitions were enumerated.
    expected_value_ : ndarray of shape (n_outputs,)
        ``mean_b f(b)`` over the background, per model output: the base
        value the attributions of each output add up from
        (``expected_value_[c] + phi.sum() = f(x)[c]``).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import KernelSHAP
    >>> f = lambda X: X[:, 0] * X[:, 1]                 # Shapley: split equally
    >>> shap = KernelSHAP(f, background=np.zeros((1, 2))).fit(np.zeros((1, 2)))
    >>> shap.transform(np.array([[2.0, 3.0]]))
    array([[3., 3.]])
    """

    _callable_as = "predict"
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "verbose": ["verbose"],
        "background": ["array-like", None],
        "n_samples": [Interval(Integral, 2, None, closed="left"), StrOptions({"auto"})],
        "max_background": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "feature_groups": ["array-like", None],
    }

    def __init__(self, model=None, *, background=None, n_samples="auto", max_background=100,
                 random_state=None, feature_groups=None, target=None, output="auto",
                 batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.background = background
        self.n_samples = n_samples
        self.max_background = max_background
        self.random_state = random_state
        self.feature_groups = feature_groups
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        rng = check_random_state(self.random_state)
        d = X.shape[1]
        B = draw_background(self.background, X, self.max_background, rng)
        self.background_ = B
        from ._ablation import feature_group_masks

        self._group_of = np.argmax(feature_group_masks(self.feature_groups, d), axis=0)
        g = int(self._group_of.max()) + 1                 # players: groups (or features)
        n_samples = 2 * g + 2048 if self.n_samples == "auto" else self.n_samples
        Z, w, self.exact_ = _coalitions(g, n_samples, rng)
        self.coalitions_, self._kernel = Z, w
        # KKT matrix of the efficiency-constrained weighted least squares
        K = np.zeros((g + 1, g + 1))
        K[:g, :g] = (Z * w[:, None]).T @ Z
        K[:g, g] = K[g, :g] = 1.0
        self._kkt_pinv = np.linalg.pinv(K)
        self.expected_value_ = self.model_.outputs(B, batch_size=self.batch_size).mean(axis=0)

    def _base_values(self, X, columns):
        return self.expected_value_[columns]

    def _model_rows_per_point(self):
        return (self.coalitions_.shape[0] + 2) * self.background_.shape[0]

    def _explain(self, X, columns):
        Z, B = self.coalitions_, self.background_
        S, m, d, g = Z.shape[0], B.shape[0], X.shape[1], Z.shape[1]
        out = np.empty_like(X)
        Zall = np.concatenate([Z, np.zeros((1, g)), np.ones((1, g))], axis=0)
        Zall = Zall[:, self._group_of]                                         # (S+2, d)
        # coalitions per block: a point's rows (coalitions x background) are
        # built batch_size at a time, so memory is O(batch_size d) even when
        # one point alone makes more rows than that
        per_coal = max(1, self.batch_size // m)
        for a, b in self._point_chunks(X.shape[0], (S + 2) * m):
            p = b - a
            cols = columns[a:b]
            v = np.empty((p, S + 2))
            for c0 in range(0, S + 2, per_coal):
                Zb = Zall[c0:c0 + per_coal]
                R = (Zb[None, :, None, :] * X[a:b, None, None, :]
                     + (1.0 - Zb)[None, :, None, :] * B[None, None, :, :])     # (p, c, m, d)
                vb = self._predict(R.reshape(-1, d), np.repeat(cols, Zb.shape[0] * m))
                v[:, c0:c0 + Zb.shape[0]] = vb.reshape(p, Zb.shape[0], m).mean(axis=2)
            v_empty, v_full, vz = v[:, S], v[:, S + 1], v[:, :S]
            rhs = np.empty((p, g + 1))
            # einsum, not BLAS: a row's result must not depend on how many
            # rows share the product (batch_size / n_jobs), BLAS kernels do
            rhs[:, :g] = np.einsum("ps,sd->pd", vz - v_empty[:, None],
                                   Z * self._kernel[:, None])
            rhs[:, g] = v_full - v_empty
            phi = np.einsum("pk,jk->pj", rhs, self._kkt_pinv)[:, :g]
            out[a:b] = phi[:, self._group_of]
        return out
