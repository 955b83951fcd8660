"""Fitted scikit-learn estimators as models, with exact input gradients.

Exact gradients: ``MLPRegressor`` / ``MLPClassifier`` (every activation),
linear models (``coef_``/``intercept_``: linear regression, ridge, lasso,
logistic regression, SGD, ...), ``KernelRidge``, ``SVR`` and
``GaussianProcessRegressor`` with an RBF kernel (optionally scaled by a
constant and plus white noise). Every other estimator with ``predict``,
``predict_proba`` or ``decision_function`` gets central finite differences.

Each exact adapter checks its forward pass against the estimator's own
output on the rows it is first given; if they disagree (an unsupported
variant), it falls back to finite differences with a
:class:`~skexplain.exceptions.FiniteDifferenceWarning`.
"""

import warnings

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import is_classifier

from ..exceptions import FiniteDifferenceWarning
from ._base import FD_STEP, ModelAdapter

__all__ = ["EstimatorModel", "sklearn_model"]

_OUTPUTS = ("auto", "predict", "proba", "decision")


def _as_columns(out):
    out = np.asarray(out, dtype=np.float64)
    return out[:, None] if out.ndim == 1 else out


def as_fitted_frame(estimator, X):
    """``X`` as a DataFrame with the estimator's columns if it was fitted on one.

    scikit-learn warns on every call otherwise ("X does not have valid
    feature names").
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and X.shape[1] == len(names):
        import pandas as pd

        return pd.DataFrame(X, columns=names)
    return X


class EstimatorModel(ModelAdapter):
    """Any fitted estimator, through one of its prediction methods.

    Gradients are central finite differences of that method.

    Parameters
    ----------
    estimator : fitted estimator
        The model.
    output : {"predict", "proba", "decision"}
        ``"predict"``, ``"proba"`` (``predict_proba``, one column per class)
        or ``"decision"`` (``decision_function``; a binary classifier's
        single score ``z`` becomes the two columns ``[-z, z]`` so that each
        class has one).
    fd_step : float, default=FD_STEP
        Relative finite-difference step.

    See Also
    --------
    sklearn_model : Picks an exact adapter where one exists.

    Examples
    --------
    A random forest has no exact gradient:

    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skexplain.models import EstimatorModel
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, X[:, 0])
    >>> model = EstimatorModel(forest, "predict")
    >>> model.exact_gradient, model.outputs(X).shape
    (False, (4, 1))
    """

    _own_decision = False  # adapters that compute a decision output themselves

    def __init__(self, estimator, output, *, fd_step=FD_STEP):
        super().__init__(fd_step=fd_step)
        self.estimator = estimator
        self.output = output
        self.classes_ = getattr(estimator, "classes_", None) if output != "predict" else None
        self._method = {
            "predict": "predict", "proba": "predict_proba", "decision": "decision_function",
        }[output]
        if not hasattr(estimator, self._method) and not (
                output == "decision" and self._own_decision):
            raise ValueError(
                f"model {type(estimator).__name__} has no {self._method}; choose another "
                f"output than {output!r}."
            )

    def _raw(self, X):
        out = getattr(self.estimator, self._method)(as_fitted_frame(self.estimator, X))
        if self.output == "decision" and np.ndim(out) == 1 and self.classes_ is not None \
                and len(self.classes_) == 2:
            out = np.column_stack([-out, out])
        return out

    def _outputs(self, X):
        return self._raw(X)


class _ExactModel(EstimatorModel):
    """Common part of the exact adapters: a forward pass and a backward seed.

    Subclasses implement ``_forward(X) -> (outputs (n, k), cache)`` and
    ``_backward(cache, seed) -> (n, d)`` where ``seed`` is the derivative of
    the selected output with respect to the last linear layer ``z``.
    """

    exact_gradient = True

    def __init__(self, estimator, output, *, fd_step=FD_STEP):
        super().__init__(estimator, output, fd_step=fd_step)
        self._verified = False

    # output layer ---------------------------------------------------------
    def _link(self, z):
        """Outputs from the last linear layer ``z`` (n, m) and the seed rule."""
        link = self._link_name
        if link == "identity":
            return z
        if link == "exp":
            return np.exp(z)
        if link == "binary_decision":
            return np.column_stack([-z[:, 0], z[:, 0]])
        if link == "binary_sigmoid":
            p = expit(z[:, 0])
            return np.column_stack([1.0 - p, p])
        if link == "sigmoid":
            return expit(z)
        if link == "softmax":
            return softmax(z, axis=1)
        if link == "ovr":
            s = expit(z)
            return s / s.sum(axis=1, keepdims=True)
        raise AssertionError(link)

    def _seed(self, z, columns):
        """d output[columns] / d z, shape (n, m)."""
        n, m = z.shape
        rows = np.arange(n)
        link = self._link_name
        seed = np.zeros((n, m))
        if link == "identity":
            seed[rows, columns] = 1.0
        elif link == "exp":
            seed[rows, columns] = np.exp(z[rows, columns])
        elif link == "binary_decision":
            seed[:, 0] = np.where(columns == 1, 1.0, -1.0)
        elif link == "binary_sigmoid":
            p = expit(z[:, 0])
            seed[:, 0] = np.where(columns == 1, 1.0, -1.0) * p * (1.0 - p)
        elif link == "sigmoid":
            p = expit(z[rows, columns])
            seed[rows, columns] = p * (1.0 - p)
        elif link == "softmax":
            P = softmax(z, axis=1)
            pc = P[rows, columns]
            seed = -pc[:, None] * P
            seed[rows, columns] += pc
        elif link == "ovr":
            s = expit(z)
            S = s.sum(axis=1, keepdims=True)
            pc = (s[rows, columns] / S[:, 0])[:, None]
            onehot = np.zeros((n, m))
            onehot[rows, columns] = 1.0
            seed = s * (1.0 - s) * (onehot - pc) / S
        return seed

    # adapter interface ------------------------------------------------------
    def _outputs(self, X):
        if not self._verified:
            self._verify(X)
        if self._fallback:
            return self._raw(X)
        z, _ = self._forward(X)
        return self._link(z)

    def _gradient(self, X, columns):
        if not self._verified:
            self._verify(X)
        if self._fallback:
            return self._fd_gradient(X, columns)
        z, cache = self._forward(X)
        return self._backward(cache, self._seed(z, columns))

    def _value_and_gradient(self, X, columns):
        if not self._verified:
            self._verify(X)
        if self._fallback:
            return None
        z, cache = self._forward(X)
        return self._link(z), self._backward(cache, self._seed(z, columns))

    def _verify(self, X):
        """Compare the forward pass with the estimator's own output once."""
        Xc = X[:8]
        ok = False
        if Xc.shape[0]:
            try:
                ref = _as_columns(self._raw(Xc))
                z, _ = self._forward(Xc)
                ours = self._link(z)
                ok = ours.shape == ref.shape and np.allclose(ours, ref, rtol=1e-6, atol=1e-9)
            except Exception:  # an unsupported variant: fall back below
                ok = False
        self._fallback = not ok
        if self._fallback:
            self.exact_gradient = False
            warnings.warn(
                f"the exact gradient of {type(self.estimator).__name__} does not "
                f"reproduce its {self._method} output; using central finite "
                "differences instead.", FiniteDifferenceWarning, stacklevel=4,
            )
        self._verified = Xc.shape[0] > 0


class _MLPModel(_ExactModel):
    """``MLPRegressor`` / ``MLPClassifier``: forward and backward passes."""

    _own_decision = True

    def __init__(self, estimator, output, *, fd_step=FD_STEP):
        super().__init__(estimator, output, fd_step=fd_step)
        out = estimator.out_activation_
        if output == "predict":
            if is_classifier(estimator):
                raise ValueError("MLPClassifier: use output='proba' or 'decision'.")
            self._link_name = "exp" if out == "exp" else "identity"
        elif output == "decision":
            self._link_name = "binary_decision" if (
                out == "logistic" and estimator.n_outputs_ == 1) else "identity"
        else:
            self._link_name = {"logistic": "binary_sigmoid" if estimator.n_outputs_ == 1
                               else "sigmoid", "softmax": "softmax"}.get(out, "identity")

    def _raw(self, X):
        if self.output == "decision":  # the last layer before its activation
            z, _ = self._forward(X)
            return self._link(z)
        return super()._raw(X)

    def _forward(self, X):
        est = self.estimator
        act = est.activation
        A = [X]
        h = X
        last = len(est.coefs_) - 1
        for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
            h = h @ W + b
            if i < last:
                if act == "relu":
                    h = np.maximum(h, 0.0)
                elif act == "tanh":
                    h = np.tanh(h)
                elif act == "logistic":
                    h = expit(h)
                A.append(h)
        return h, A

    def _backward(self, A, seed):
        est = self.estimator
        act = est.activation
        delta = seed
        for i in range(len(est.coefs_) - 1, 0, -1):
            delta = delta @ est.coefs_[i].T
            a = A[i]
            if act == "relu":
                delta = delta * (a > 0)
            elif act == "tanh":
                delta = delta * (1.0 - a * a)
            elif act == "logistic":
                delta = delta * a * (1.0 - a)
        return delta @ est.coefs_[0].T


class _LinearModel(_ExactModel):
    """Models with ``coef_`` and ``intercept_``: ``z = X coef^T + b``."""

    def __init__(self, estimator, output, *, fd_step=FD_STEP):
        super().__init__(estimator, output, fd_step=fd_step)
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        self._coef = coef
        self._intercept = np.broadcast_to(
            np.asarray(getattr(estimator, "intercept_", 0.0), dtype=np.float64), (coef.shape[0],)
        )
        binary = self.classes_ is not None and len(self.classes_) == 2 and coef.shape[0] == 1
        if output in ("predict",):
            self._link_name = "identity"
        elif output == "decision":
            self._link_name = "binary_decision" if binary else "identity"
        else:  # proba: find the link that reproduces predict_proba
            self._link_name = "binary_sigmoid" if binary else "softmax"

    def _verify(self, X):
        if self.output == "proba" and self._link_name == "softmax" and X.shape[0]:
            z, _ = self._forward(X[:8])
            ref = _as_columns(self._raw(X[:8]))
            s = expit(z)
            if np.allclose(s / s.sum(axis=1, keepdims=True), ref, rtol=1e-6, atol=1e-9):
                self._link_name = "ovr"
        super()._verify(X)

    def _forward(self, X):
        return X @ self._coef.T + self._intercept, None

    def _backward(self, cache, seed):
        return seed @ self._coef


def _rbf_terms(kernel):
    """Decompose a kernel into ``[("rbf", c, length_scale) | ("const", c)]``.

    Supports RBF, ConstantKernel * RBF, sums of those, ConstantKernel and
    WhiteKernel (zero between distinct points). ``None`` if unsupported.
    """
    from sklearn.gaussian_process import kernels as K

    if isinstance(kernel, K.RBF):
        return [("rbf", 1.0, np.asarray(kernel.length_scale, dtype=np.float64))]
    if isinstance(kernel, K.ConstantKernel):
        return [("const", float(kernel.constant_value))]
    if isinstance(kernel, K.WhiteKernel):
        return []
    if isinstance(kernel, K.Sum):
        a, b = _rbf_terms(kernel.k1), _rbf_terms(kernel.k2)
        return None if a is None or b is None else a + b
    if isinstance(kernel, K.Product):
        for const, other in ((kernel.k1, kernel.k2), (kernel.k2, kernel.k1)):
            if isinstance(const, K.ConstantKernel):
                inner = _rbf_terms(other)
                if inner is None:
                    return None
                c = float(const.constant_value)
                return [(t[0], c * t[1], *t[2:]) for t in inner]
    return None


class _RBFExpansionModel(_ExactModel):
    """``f(x) = offset + scale * sum_j k(x, c_j) a_j`` with RBF-type ``k``.

    Used for KernelRidge, SVR and GaussianProcessRegressor. Memory per block
    is ``batch_size x n_centers``.
    """

    _link_name = "identity"

    def __init__(self, estimator, output, centers, weights, terms, *, scale=1.0,
                 offset=0.0, fd_step=FD_STEP):
        super().__init__(estimator, output, fd_step=fd_step)
        self._centers = np.asarray(centers, dtype=np.float64)
        self._weights = _as_columns(weights)
        self._terms = terms
        self._scale = np.asarray(scale, dtype=np.float64)
        self._offset = np.asarray(offset, dtype=np.float64)

    def _forward(self, X):
        C, Wt = self._centers, self._weights
        out = np.zeros((X.shape[0], Wt.shape[1]))
        cache = []
        for term in self._terms:
            if term[0] == "const":
                out += term[1] * Wt.sum(axis=0)
                continue
            _, c, ls = term
            Xs, Cs = X / ls, C / ls
            sq = (Xs ** 2).sum(1)[:, None] + (Cs ** 2).sum(1)[None, :] - 2.0 * Xs @ Cs.T
            Kx = c * np.exp(-0.5 * np.maximum(sq, 0.0))
            out += Kx @ Wt
            cache.append((Kx, ls))
        return out * self._scale + self._offset, (X, cache)

    def _backward(self, cache, seed):
        X, terms = cache
        C, Wt = self._centers, self._weights
        G = np.zeros_like(X)
        a = seed @ Wt.T * self._scale if self._scale.ndim == 0 else (seed * self._scale) @ Wt.T
        for Kx, ls in terms:
            KA = Kx * a                                     # (n, m)
            G -= (KA.sum(1)[:, None] * X - KA @ C) / ls ** 2
        return G


def _kernel_ridge(est, output, fd_step):
    from sklearn.gaussian_process.kernels import Kernel

    d = est.X_fit_.shape[1]
    if isinstance(est.kernel, str):
        if est.kernel != "rbf":
            return None
        gamma = est.gamma if est.gamma is not None else 1.0 / d
        terms = [("rbf", 1.0, np.float64(1.0 / np.sqrt(2.0 * gamma)))]
    elif isinstance(est.kernel, Kernel):
        terms = _rbf_terms(est.kernel)
        if terms is None:
            return None
    else:
        return None
    return _RBFExpansionModel(est, output, est.X_fit_, est.dual_coef_, terms, fd_step=fd_step)


def _svr(est, output, fd_step):
    if est.kernel != "rbf":
        return None
    gamma = getattr(est, "_gamma", est.gamma)
    if isinstance(gamma, str):
        return None
    terms = [("rbf", 1.0, np.float64(1.0 / np.sqrt(2.0 * gamma)))]
    return _RBFExpansionModel(
        est, output, est.support_vectors_, np.ravel(est.dual_coef_), terms,
        offset=float(np.ravel(est.intercept_)[0]), fd_step=fd_step,
    )


def _gpr(est, output, fd_step):
    terms = _rbf_terms(est.kernel_)
    if terms is None:
        return None
    scale = getattr(est, "_y_train_std", 1.0)
    offset = getattr(est, "_y_train_mean", 0.0)
    return _RBFExpansionModel(
        est, output, est.X_train_, est.alpha_, terms, scale=scale, offset=offset, fd_step=fd_step,
    )


def _default_output(est):
    if is_classifier(est):
        if hasattr(est, "predict_proba"):
            return "proba"
        if hasattr(est, "decision_function"):
            return "decision"
    return "predict"


def sklearn_model(estimator, *, output="auto", fd_step=FD_STEP):
    """Adapter for a fitted scikit-learn estimator (exact gradient if known).

    Parameters
    ----------
    estimator : fitted estimator
        A fitted scikit-learn estimator or Pipeline.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which output to explain. ``"auto"``: ``predict_proba`` for classifiers
        that have it, else ``decision_function``; ``predict`` for regressors.
        For an ``MLPClassifier``, ``"decision"`` is the output layer before its
        logistic/softmax activation (the logits).
    fd_step : float
        Finite-difference step for estimators without exact gradients.

    Returns
    -------
    adapter : ModelAdapter
        An exact adapter for MLPs, linear and logistic models, RBF kernel
        ridge / SVR / Gaussian processes; :class:`EstimatorModel` (finite
        differences) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skexplain.models import sklearn_model
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> model = sklearn_model(LogisticRegression().fit(X, [0, 0, 1, 1]))
    >>> model.exact_gradient, model.outputs(X).shape
    (True, (4, 2))
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {_OUTPUTS}; got {output!r}.")
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise NotFittedError(
            f"model {type(estimator).__name__} is not fitted. If you fitted it, the "
            "estimator received an unfitted copy: scikit-learn's clone (used by "
            "GridSearchCV, cross_validate and Pipeline) copies an estimator passed as a "
            "parameter without its fit. Pass sklearn.frozen.FrozenEstimator(model) "
            "instead, which clone keeps fitted."
        ) from None
    if output == "auto":
        output = _default_output(estimator)
    if output == "predict" and is_classifier(estimator):
        raise ValueError(
            f"{type(estimator).__name__} is a classifier: its predict returns labels, "
            "which have no gradient. Use output='proba' or 'decision'."
        )
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.svm import SVR

    adapter = None
    if isinstance(estimator, (MLPClassifier, MLPRegressor)):
        adapter = _MLPModel(estimator, output, fd_step=fd_step)
    elif isinstance(estimator, KernelRidge) and output == "predict":
        adapter = _kernel_ridge(estimator, output, fd_step)
    elif isinstance(estimator, SVR) and output == "predict":
        adapter = _svr(estimator, output, fd_step)
    elif isinstance(estimator, GaussianProcessRegressor) and output == "predict":
        adapter = _gpr(estimator, output, fd_step)
    elif hasattr(estimator, "coef_") and hasattr(estimator, "intercept_") and not hasattr(
            estimator, "n_support_") and np.ndim(estimator.coef_) in (1, 2) and output in (
            "predict", "decision") + (("proba",) if hasattr(estimator, "predict_proba") else ()):
        adapter = _LinearModel(estimator, output, fd_step=fd_step)
    if adapter is None:
        adapter = EstimatorModel(estimator, output, fd_step=fd_step)
    return adapter
