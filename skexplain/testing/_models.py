"""Models with closed-form expectations, and models the checks hand to explainers."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["CheckModel", "ClosedFormModel", "equivalent_networks", "make_closed_form_model"]

KINDS = ("linear", "quadratic", "sin", "exp")


class CheckModel:
    """The model a check hands to an explainer: a prediction and its gradient.

    A third-party explainer (a callable ``explain(model, X)``) calls
    ``model.predict(X)`` (or ``model(X)``) for ``(n,)`` outputs and
    ``model.gradient(X)`` for ``(n, d)`` input gradients; skexplain's
    explainers receive it through :class:`~skexplain.models.FunctionModel`.

    Parameters
    ----------
    predict : callable
        ``X (n, d) -> (n,)``.
    gradient : callable
        ``X (n, d) -> (n, d)``, the exact input gradient of ``predict``.
    name : str, default="model"
        Shown in failure messages.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.testing import CheckModel
    >>> m = CheckModel(lambda X: (X ** 2).sum(axis=1), lambda X: 2 * X, name="square")
    >>> m(np.ones((1, 2))), m.gradient(np.ones((1, 2)))
    (array([2.]), array([[2., 2.]]))
    """

    def __init__(self, predict, gradient, name="model"):
        self._predict, self._gradient, self.name = predict, gradient, name

    def predict(self, X):
        """Model outputs.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Outputs.
        """
        return np.asarray(self._predict(np.asarray(X, dtype=np.float64)), dtype=np.float64)

    def gradient(self, X):
        """Input gradients.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        G : ndarray of shape (n_samples, n_features)
            ``grad f`` at each row.
        """
        return np.asarray(self._gradient(np.asarray(X, dtype=np.float64)), dtype=np.float64)

    def __call__(self, X):
        return self.predict(X)

    def __repr__(self):
        return f"CheckModel({self.name})"

    def as_function_model(self):
        """The same model as a :class:`~skexplain.models.FunctionModel`.

        Returns
        -------
        model : FunctionModel
            With this model's ``predict`` and (exact) ``gradient``.
        """
        from ..models import FunctionModel

        return FunctionModel(predict=self.predict, gradient=self.gradient)


class ClosedFormModel(CheckModel):
    """A function with exact expectations of ``f`` and ``grad f`` under noise.

    ``linear``: ``theta . x + b``; ``quadratic``: ``x' A x + theta . x``;
    ``sin``: ``sin(w . x + b)``; ``exp``: ``exp(w . x)``. Under Gaussian noise
    ``z ~ N(0, Sigma)``, Stein's lemma gives ``E grad f(x + z) =
    Sigma^-1 cov(x + z, f(x + z))``, the limit of SmoothGrad and of C-LIME
    (Agarwal et al., 2021); under uniform noise ``z ~ U[-r, r]^d`` the
    expectations factor over the coordinates (``sin`` and ``exp`` of a
    linear form pick up ``prod_j sinc(w_j r)`` and ``prod_j sinh(w_j r) /
    (w_j r)``), UniGrad's limit.

    Parameters
    ----------
    kind : {"linear", "quadratic", "sin", "exp"}
        The family.
    theta, b, A, w : ndarray or float
        Its coefficients (``A`` of shape ``(d, d)``, the others ``(d,)`` or
        scalar).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.testing import ClosedFormModel
    >>> m = ClosedFormModel("sin", w=np.array([1.0, 0.0]), b=0.0)
    >>> x = np.array([0.0, 0.0])
    >>> m.expected_gradient(x, covariance=np.eye(2)).round(4)   # e^{-1/2} w
    array([0.6065, 0.    ])
    """

    def __init__(self, kind, *, theta=None, b=0.0, A=None, w=None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
        self.kind, self.b = kind, float(b)
        self.theta = None if theta is None else np.asarray(theta, dtype=np.float64)
        self.A = None if A is None else np.asarray(A, dtype=np.float64)
        self.w = None if w is None else np.asarray(w, dtype=np.float64)
        needed = {"linear": ("theta",), "quadratic": ("A", "theta"), "sin": ("w",),
                  "exp": ("w",)}[kind]
        for name in needed:
            if getattr(self, name) is None:
                raise ValueError(f"A {kind} ClosedFormModel needs {name}.")
        super().__init__(self._f, self._grad, name=kind)

    @property
    def n_features(self):
        """Number of input features."""
        return (self.theta if self.theta is not None else self.w).shape[0]

    def _f(self, X):
        k = self.kind
        if k == "linear":
            return X @ self.theta + self.b
        if k == "quadratic":
            return np.einsum("...i,ij,...j->...", X, self.A, X) + X @ self.theta
        if k == "sin":
            return np.sin(X @ self.w + self.b)
        return np.exp(X @ self.w)

    def _grad(self, X):
        k = self.kind
        if k == "linear":
            return np.broadcast_to(self.theta, X.shape).copy()
        if k == "quadratic":
            return X @ (self.A + self.A.T) + self.theta
        if k == "sin":
            return np.cos(X @ self.w + self.b)[..., None] * self.w
        return np.exp(X @ self.w)[..., None] * self.w

    def gradient_bound(self):
        """``sup_x ||grad f(x)||`` (``inf`` for the unbounded families).

        Returns
        -------
        bound : float
            ``||theta||`` (linear), ``||w||`` (sin), ``inf`` otherwise.
        """
        if self.kind == "linear":
            return float(np.linalg.norm(self.theta))
        if self.kind == "sin":
            return float(np.linalg.norm(self.w))
        return np.inf

    def _factor(self, covariance, radius):
        """E[e^{i w.z}] (sin) or E[e^{w.z}] (exp) under the noise."""
        w = self.w
        if covariance is not None:
            s2 = float(w @ np.asarray(covariance) @ w)
            return np.exp(-s2 / 2) if self.kind == "sin" else np.exp(s2 / 2)
        a = w * radius
        safe = np.where(a == 0, 1.0, a)
        if self.kind == "sin":
            return float(np.prod(np.where(a == 0, 1.0, np.sin(safe) / safe)))
        return float(np.prod(np.where(a == 0, 1.0, np.sinh(safe) / safe)))

    def expected_gradient(self, x, *, covariance=None, radius=None):
        """``E grad f(x + z)`` under ``N(0, covariance)`` or ``U[-radius, radius]^d``.

        Parameters
        ----------
        x : ndarray of shape (n_features,) or (n, n_features)
            Points.
        covariance : ndarray of shape (n_features, n_features), optional
            Gaussian noise.
        radius : float, optional
            Uniform noise (exactly one of the two).

        Returns
        -------
        g : ndarray
            The expected gradient, the shape of ``x``.
        """
        _one_noise(covariance, radius)
        x = np.asarray(x, dtype=np.float64)
        if self.kind in ("linear", "quadratic"):     # gradient linear in x, noise mean zero
            return self._grad(x)
        return self._grad(x) * self._factor(covariance, radius)

    def expected_value(self, x, *, covariance=None, radius=None):
        """``E f(x + z)`` under ``N(0, covariance)`` or ``U[-radius, radius]^d``.

        Parameters
        ----------
        x : ndarray of shape (n_features,) or (n, n_features)
            Points.
        covariance : ndarray of shape (n_features, n_features), optional
            Gaussian noise.
        radius : float, optional
            Uniform noise (exactly one of the two).

        Returns
        -------
        v : float or ndarray
            The expected output.
        """
        _one_noise(covariance, radius)
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "linear":
            return self._f(x)
        if self.kind == "quadratic":
            second = (np.asarray(covariance) if covariance is not None
                      else radius ** 2 / 3 * np.eye(self.n_features))
            return self._f(x) + np.trace(self.A @ second)
        return self._f(x) * self._factor(covariance, radius)

    def __repr__(self):
        return f"ClosedFormModel({self.kind!r}, d={self.n_features})"


def _one_noise(covariance, radius):
    if (covariance is None) == (radius is None):
        raise ValueError("Give exactly one of covariance (Gaussian) and radius (uniform).")


def make_closed_form_model(kind, n_features, *, covariance=None, random_state=None):
    """A random member of a closed-form family.

    Parameters
    ----------
    kind : {"linear", "quadratic", "sin", "exp"}
        The family.
    n_features : int
        Input dimension.
    covariance : ndarray of shape (n_features, n_features), optional
        Noise the model will be smoothed with: ``exp`` scales ``w`` so that
        ``w' Sigma w <= 1/2`` (light lognormal tails, finite-sample errors
        near their asymptotic size).
    random_state : int, RandomState instance or None, default=None
        Seeds the coefficients.

    Returns
    -------
    model : ClosedFormModel
        Coefficients standard normal (``A`` scaled by ``1/d``).

    Examples
    --------
    >>> from skexplain.testing import make_closed_form_model
    >>> make_closed_form_model("quadratic", 3, random_state=0)
    ClosedFormModel('quadratic', d=3)
    """
    rng = check_random_state(random_state)
    d = int(n_features)
    theta, b = rng.normal(size=d), float(rng.normal())
    A = rng.normal(size=(d, d)) / d
    w = rng.normal(size=d)
    if kind == "exp":
        s2 = w @ (np.eye(d) if covariance is None else np.asarray(covariance)) @ w
        w = w * min(1.0, np.sqrt(0.5 / s2))
    return ClosedFormModel(kind, theta=theta, b=b, A=A, w=w)


def equivalent_networks(n_features, *, hidden=8, random_state=None):
    """Two different networks computing the same function (implementation invariance).

    A scikit-learn ``MLPRegressor`` fitted on drawn data, and a second one
    whose hidden units are permuted, with one unit split into two halves
    (same input weights, outgoing weight shared): the weights differ, the
    function does not (Sundararajan et al., 2017, "implementation
    invariance").

    Parameters
    ----------
    n_features : int
        Input dimension.
    hidden : int, default=8
        Hidden units of the first network (the second has one more).
    random_state : int, RandomState instance or None, default=None
        Seeds the data and the fit.

    Returns
    -------
    first, second : CheckModel
        The two networks, with their exact input gradients.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.testing import equivalent_networks
    >>> f, g = equivalent_networks(3, random_state=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 3))
    >>> bool(np.allclose(f(X), g(X)))
    True
    """
    from sklearn.neural_network import MLPRegressor

    rng = check_random_state(random_state)
    d = int(n_features)
    X = rng.normal(size=(60, d))
    y = np.sin(X @ rng.normal(size=d)) + 0.1 * (X ** 2).sum(axis=1)
    seed = int(rng.randint(2 ** 31 - 1))
    # few iterations: the weights only need to be generic, not converged (a
    # ConvergenceWarning would be noise here, so the fit is by partial_fit)
    net = MLPRegressor(hidden_layer_sizes=(hidden,), activation="tanh", random_state=seed)
    for _ in range(30):
        net.partial_fit(X, y)
    W1, W2 = net.coefs_
    b1, b2 = net.intercepts_
    perm = rng.permutation(hidden)
    split = int(rng.randint(hidden))
    V1 = np.c_[W1[:, perm], W1[:, perm[split]]]
    c1 = np.r_[b1[perm], b1[perm[split]]]
    V2 = np.r_[W2[perm], W2[perm[split]][None]]
    V2[split] /= 2
    V2[-1] /= 2

    def network(W, c, U, e):
        def f(Z):
            return (np.tanh(Z @ W + c) @ U)[:, 0] + e[0]

        def grad(Z):
            h = np.tanh(Z @ W + c)
            return ((1 - h ** 2) * U[:, 0]) @ W.T
        return f, grad

    f1, g1 = network(W1, b1, W2, b2)
    f2, g2 = network(V1, c1, V2, b2)
    return (CheckModel(f1, g1, name=f"tanh network, {hidden} units"),
            CheckModel(f2, g2, name=f"the same function, {hidden + 1} permuted units"))
