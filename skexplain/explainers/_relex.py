"""RelEx (Lim, Lee & Kim): saliency masks learned on noisy copies of the input.

For each point ``x`` RelEx learns a mask ``m`` in ``[0, 1]^d`` that keeps
the target class probable on masked noisy copies of ``x`` and improbable on
the complementary region (their eq. 11)::

    J(m) = -mean_i log f_c(m * x_i) + lambda_l1 ||m||_1
           + lambda_bg * (-mean_i log(1 - f_c((1 - m) * x_i))),

    x_i = x + N(0, sigma^2 I),   sigma = noise_scale * (max(x) - min(x)).

The masks of all points are optimised together, as one ``(n, d)`` array,
by momentum SGD on the L2-normalised gradient of each point's objective,
with the mask clamped to ``[0, 1]`` after every step.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BaseExplainer
from ._noise import standard_normals, uniforms

__all__ = ["RelEx"]

#: Added inside every logarithm and quotient so that no log(0) occurs.
LOG_EPS = 1e-7
_STREAM = 0x9E3779B97F4A7C15  # odd constant separating the per-iteration noise streams


class RelEx(BaseExplainer):
    """RelEx saliency masks (Lim, Lee & Kim, eq. 11 and supplement S2.1).

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A classifier giving class *probabilities* and their input gradients:
        a fitted ``MLPClassifier`` (exact gradients), any scikit-learn
        classifier with ``predict_proba`` (finite differences), or
        ``FunctionModel(predict=proba_fn, gradient=grad_fn)``. A bare
        callable is read as the probability function (gradients by finite
        differences).
    n_noise : int, default=50
        Noisy copies of each point per iteration (the paper: 100; the
        authors' code: 50).
    noise_scale : float, default=0.1
        Noise standard deviation as a fraction of each point's range
        ``max(x) - min(x)`` (supplement S2.1).
    lambda_l1 : float, default=1e-4
        Weight of ``||m||_1``.
    lambda_bg : float, default=1.0
        Weight of the background term ``-log(1 - f_c((1 - m) * x_i))``.
    n_iter : int, default=50
        SGD iterations.
    learning_rate : float, default=0.1
        SGD step on the normalised gradient. The paper's text says 0.001;
        the authors' code uses 0.1 (with momentum 0.99). With 0.001 the
        masks hardly move from their initial ``[0, 0.01]`` in 50 steps of
        unit-norm gradients, so the default follows the code.
    momentum : float, default=0.9
        Heavy-ball momentum, ``v <- momentum v + g``, ``m <- m - lr v``.
    resample_noise : bool, default=True
        ``True``: fresh noisy copies at every iteration (the authors' code,
        stochastic gradient descent). ``False``: one fixed batch per point
        (the paper's text can be read either way); the objective is then
        deterministic and its history decreases smoothly.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise and the initial masks (uniform on ``[0, 0.01]``).
        Random numbers are keyed by each row, so results do not depend on
        ``batch_size``, ``n_jobs`` or the other rows.
    target : "predicted", None, class label or int, default="predicted"
        The class ``c`` whose mask is learned: by default the class the
        model predicts at ``x`` (the paper's "target class of x0").
    output : {"auto", "proba"}, default="auto"
    batch_size : int, default=10000
        Largest number of model rows per call; each iteration evaluates
        ``2 * n_noise`` rows per point.
    n_jobs : int or None, default=None
        Joblib workers for :meth:`transform`; results do not depend on it.
    verbose : int, default=0
        ``> 0``: a progress bar on stderr counting the explained points
        (extra ``progress``); results do not depend on it.

    Attributes
    ----------
    model_ : ModelAdapter
    seed_ : int

    Notes
    -----
    The gradient of the objective with respect to ``m`` is, with
    ``a_i = m * x_i``, ``b_i = (1 - m) * x_i``, ``p_i = f_c(a_i)``,
    ``q_i = f_c(b_i)``::

        -mean_i x_i * grad f_c(a_i) / (p_i + eps)
        + lambda_l1 sign(m)
        + lambda_bg mean_i x_i * grad f_c(b_i) / (1 - q_i + eps)

    ``eps = 1e-7`` (:data:`LOG_EPS`) also enters both logarithms. Each
    point's gradient is divided by its L2 norm before the momentum step.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skexplain.explainers import RelEx
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0.5, 1.5, size=(200, 4))
    >>> y = (X[:, 0] > 1).astype(int)              # only feature 0 matters
    >>> clf = LogisticRegression(C=100).fit(X, y)
    >>> M = RelEx(clf, n_noise=20, random_state=0).fit(X).transform(X[:3])
    >>> M.shape, bool(M.min() >= 0 and M.max() <= 1)
    ((3, 4), True)
    """

    _callable_as = "predict"
    _stochastic = True
    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "verbose": ["verbose"],
        "n_noise": [Interval(Integral, 1, None, closed="left")],
        "noise_scale": [Interval(Real, 0, None, closed="left")],
        "lambda_l1": [Interval(Real, 0, None, closed="left")],
        "lambda_bg": [Interval(Real, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "resample_noise": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, model=None, *, n_noise=50, noise_scale=0.1, lambda_l1=1e-4,
                 lambda_bg=1.0, n_iter=50, learning_rate=0.1, momentum=0.9,
                 resample_noise=True, random_state=None, target="predicted", output="auto",
                 batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.n_noise = n_noise
        self.noise_scale = noise_scale
        self.lambda_l1 = lambda_l1
        self.lambda_bg = lambda_bg
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.resample_noise = resample_noise
        self.random_state = random_state
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------ public
    def optimize(self, X):
        """Learn the masks and return them with the objective at every iteration.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain.

        Returns
        -------
        masks : ndarray of shape (n_samples, n_features)
            Same as :meth:`transform`.
        loss_history : ndarray of shape (n_samples, n_iter + 1)
            The objective ``J(m) + lambda_l1 ||m||_1 + lambda_bg B(m)`` of
            each point on the noisy batch of each iteration, before each
            step and (last column) at the returned mask.
        """
        X, columns = self._check_transform_input(X)
        return self._masks_and_values(X, columns)

    def _explain(self, X, columns):
        return self._masks_and_values(X, columns)[0]

    # ----------------------------------------------------------- internals
    def _noisy(self, X, t):
        """Noisy copies ``(n, n_noise, d)`` of the rows for iteration ``t``."""
        stream = 0 if not self.resample_noise else t
        seed = (self.seed_ + (stream + 1) * _STREAM) % 2 ** 64
        sigma = self.noise_scale * (X.max(axis=1) - X.min(axis=1))
        Z = standard_normals(X, seed, self.n_noise)
        Z *= sigma[:, None, None]
        Z += X[:, None, :]
        return Z

    def _objective(self, M, Xi, cols, *, gradient=True):
        """Per-point objective and (optionally) its gradient in ``M``."""
        n, S, d = Xi.shape
        flat_cols = np.repeat(cols, S)
        A = (M[:, None, :] * Xi).reshape(n * S, d)
        B = ((1.0 - M)[:, None, :] * Xi).reshape(n * S, d)
        AB = np.concatenate([A, B])
        cols2 = np.concatenate([flat_cols, flat_cols])
        if gradient:  # one model pass for values and gradients where possible
            pq, gAB = self.model_.value_and_gradient(AB, cols2, batch_size=self.batch_size)
        else:
            pq = self.model_.predict(AB, cols2, batch_size=self.batch_size)
        p, q = pq[:n * S].reshape(n, S), pq[n * S:].reshape(n, S)
        _check_probabilities(p, q)
        loss = (-np.log(p + LOG_EPS).mean(axis=1) + self.lambda_l1 * np.abs(M).sum(axis=1)
                - self.lambda_bg * np.log(1.0 - q + LOG_EPS).mean(axis=1))
        if not gradient:
            return loss, None
        gA, gB = gAB[:n * S].reshape(n, S, d), gAB[n * S:].reshape(n, S, d)
        wa = -1.0 / (S * (p + LOG_EPS))                      # d(-mean log p)/dp
        wb = self.lambda_bg / (S * (1.0 - q + LOG_EPS))      # d(-lambda mean log(1-q))/dq
        grad = (np.einsum("ns,nsd->nd", wa, gA * Xi)
                - np.einsum("ns,nsd->nd", wb, gB * Xi)       # dB/dm = -x_i
                + self.lambda_l1 * np.sign(M))
        return loss, grad

    def _masks_and_values(self, X, columns):
        n, d = X.shape
        masks = np.empty((n, d))
        history = np.empty((n, self.n_iter + 1))
        for a, b in self._point_chunks(n, 2 * self.n_noise):
            Xc, cols = X[a:b], columns[a:b]
            M = 0.01 * uniforms(Xc, self.seed_, 1)[:, 0, :]
            V = np.zeros_like(M)
            for t in range(self.n_iter):
                loss, grad = self._objective(M, self._noisy(Xc, t), cols)
                history[a:b, t] = loss
                norm = np.linalg.norm(grad, axis=1, keepdims=True)
                grad /= np.where(norm > 0, norm, 1.0)
                V *= self.momentum
                V += grad
                M -= self.learning_rate * V
                np.clip(M, 0.0, 1.0, out=M)
            history[a:b, -1] = self._objective(
                M, self._noisy(Xc, self.n_iter - 1), cols, gradient=False)[0]
            masks[a:b] = M
        return masks, history


def _check_probabilities(p, q):
    lo = min(p.min(), q.min())
    hi = max(p.max(), q.max())
    if lo < -1e-9 or hi > 1 + 1e-9:
        raise ValueError(
            "RelEx needs class probabilities in [0, 1] from model; it returned values "
            f"in [{lo:.3g}, {hi:.3g}]. Pass a classifier with predict_proba "
            "(output='proba') or FunctionModel(predict=probabilities, gradient=...)."
        )
