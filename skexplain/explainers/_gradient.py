"""Gradient, Gradient x Input and Integrated Gradients."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import MODEL_PARAMS_DOC, VERBOSE_DOC, BaseExplainer

__all__ = ["Gradient", "GradientXInput", "IntegratedGradients", "integration_rule"]


class Gradient(BaseExplainer):
    __doc__ = """The input gradient ``phi(x) = grad f(x)`` (Baehrens et al., Simonyan et al.).

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the gradient function ``X -> (n, d)``.
""" + MODEL_PARAMS_DOC + """        The model is sent to the workers, so it must pickle.

    Attributes
    ----------
    model_ : ModelAdapter
        The resolved model; ``model_.exact_gradient`` tells whether gradients
        are exact or finite differences.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import Gradient
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> Gradient(lambda X: 2 * X).fit_transform(X)
    array([[0., 2.],
           [4., 6.]])
    """

    def __init__(self, model=None, *, target=None, output="auto", batch_size=10000,
                 n_jobs=None):
        self.model = model
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    def _explain(self, X, columns):
        return self._gradient(X, columns)


class GradientXInput(Gradient):
    """Gradient times input, ``phi(x) = x * grad f(x)`` (element-wise).

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the gradient function ``X -> (n, d)``.
    target : None, "predicted", class label or int, default=None
        Which output to explain (as in :class:`Gradient`).
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to explain.
    batch_size : int, default=10000
        Largest number of input rows handed to the model in one call.
    n_jobs : int or None, default=None
        Joblib workers for :meth:`transform`; results do not depend on it.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import GradientXInput
    >>> GradientXInput(lambda X: 2 * X).fit_transform(np.array([[1.0, 3.0]]))
    array([[ 2., 18.]])
    """

    def _explain(self, X, columns):
        return X * self._gradient(X, columns)


#: Largest n_steps per rule (refused above, with the memory they would take).
MAX_STEPS = {"riemann_left": 10 ** 7, "riemann_right": 10 ** 7, "riemann_middle": 10 ** 7,
             "riemann_trapezoid": 10 ** 7, "gauss_legendre": 1000}

#: Integration steps evaluated together (a constant: Integrated Gradients
#: with more steps sums over blocks of this many, in the same order whatever
#: the batch size).
STEP_BLOCK = 1024

_RULES = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid",
          "gauss_legendre")


def integration_rule(method, n_steps):
    """Return the nodes ``alpha`` in [0, 1] and weights of an ``n_steps``-point rule.

    ``riemann_left/right/middle``: ``n_steps`` equal cells, weight ``1/n``;
    error O(1/n) (middle: O(1/n^2)). ``riemann_trapezoid``: ``n_steps`` nodes
    ``linspace(0, 1, n)`` with half weights at the ends; O(1/n^2), exact for
    integrands linear in alpha (a quadratic model). ``gauss_legendre``:
    exact for polynomials of degree ``2 n - 1``.

    Parameters
    ----------
    method : {"riemann_left", "riemann_right", "riemann_middle", \
            "riemann_trapezoid", "gauss_legendre"}
        The rule.
    n_steps : int
        Number of nodes.

    Returns
    -------
    alphas : ndarray of shape (n_steps,)
        Nodes in [0, 1].
    weights : ndarray of shape (n_steps,)
        Weights, summing to 1.

    Examples
    --------
    >>> a, w = integration_rule("riemann_trapezoid", 3)
    >>> a.tolist(), w.tolist()
    ([0.0, 0.5, 1.0], [0.25, 0.5, 0.25])
    """
    n = int(n_steps)
    limit = MAX_STEPS.get(method)
    if limit is not None and n > limit:
        raise ValueError(
            f"n_steps={n} is too many for {method!r}: at most {limit:,} (the rule's nodes "
            f"alone would take {16 * n / 2 ** 30:.3g} GiB"
            + (", and numpy's Gauss-Legendre nodes O(n^2) memory; 1,000 nodes are exact "
               "for polynomials of degree 1,999)" if method == "gauss_legendre" else ")")
            + ".")
    if method == "riemann_left":
        return np.arange(n) / n, np.full(n, 1.0 / n)
    if method == "riemann_right":
        return np.arange(1, n + 1) / n, np.full(n, 1.0 / n)
    if method == "riemann_middle":
        return (np.arange(n) + 0.5) / n, np.full(n, 1.0 / n)
    if method == "riemann_trapezoid":
        if n < 2:
            raise ValueError("riemann_trapezoid needs n_steps >= 2.")
        w = np.full(n, 1.0 / (n - 1))
        w[[0, -1]] *= 0.5
        return np.linspace(0.0, 1.0, n), w
    if method == "gauss_legendre":
        x, w = np.polynomial.legendre.leggauss(n)
        return 0.5 * (x + 1.0), 0.5 * w
    raise ValueError(f"method must be one of {_RULES}; got {method!r}.")


class IntegratedGradients(BaseExplainer):
    __doc__ = """Integrated Gradients (Sundararajan et al., 2017).

    ``phi_i(x) = (x_i - b_i) * int_0^1 d_i f(b + a (x - b)) da``, with the
    integral replaced by a quadrature rule. Completeness,
    ``sum_i phi_i(x) = f(x) - f(b)``, holds up to the rule's error.

    Parameters
    ----------
    model : estimator, callable, FunctionModel or None, default=None
        A bare callable is read as the gradient function.
    baseline : float, array-like of shape (n_features,) or "mean", default=0.0
        The baseline ``b``; ``"mean"`` is the mean of the training ``X``.
    n_steps : int, default=50
        Number of gradient evaluations per point.
    method : {"riemann_left", "riemann_right", "riemann_middle", \
            "riemann_trapezoid", "gauss_legendre"}, default="riemann_trapezoid"
        Quadrature rule, see :func:`integration_rule`.
""" + MODEL_PARAMS_DOC + VERBOSE_DOC + """
    Attributes
    ----------
    baseline_ : ndarray of shape (n_features,)
    model_ : ModelAdapter

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import IntegratedGradients
    >>> ig = IntegratedGradients(lambda X: 2 * X, n_steps=2)   # f = ||x||^2
    >>> ig.fit_transform(np.array([[1.0, 3.0]]))                # exact: x_i^2
    array([[1., 9.]])
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "verbose": ["verbose"],
        "baseline": [Real, "array-like", StrOptions({"mean"})],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions(set(_RULES))],
    }

    def __init__(self, model=None, *, baseline=0.0, n_steps=50, method="riemann_trapezoid",
                 target=None, output="auto", batch_size=10000, n_jobs=None, verbose=0):
        self.model = model
        self.baseline = baseline
        self.n_steps = n_steps
        self.method = method
        self.target = target
        self.output = output
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_extra(self, X):
        from ._ablation import baseline_row

        self.baseline_ = baseline_row(self.baseline, X)
        self._alphas, self._weights = integration_rule(self.method, self.n_steps)

    def _base_values(self, X, columns):
        # f(baseline): completeness reads sum(phi) = f(x) - f(baseline)
        if not self.model_.can_predict:
            return None
        cols, where = np.unique(columns, return_inverse=True)
        at_baseline = self._predict(np.tile(self.baseline_, (cols.size, 1)), cols)
        return at_baseline[where]

    def _explain(self, X, columns):
        alphas, weights = self._alphas, self._weights
        m, d = alphas.size, X.shape[1]
        out = np.empty_like(X)
        # the steps in fixed blocks of STEP_BLOCK (a constant, so the sum's
        # rounding does not depend on batch_size), points batched around them:
        # memory O(max(batch_size, STEP_BLOCK) d) whatever n_steps
        blocks = [(s, min(s + STEP_BLOCK, m)) for s in range(0, m, STEP_BLOCK)]
        for a, b in self._point_chunks(X.shape[0], min(m, STEP_BLOCK)):
            delta = X[a:b] - self.baseline_                               # (p, d)
            acc = np.zeros_like(delta)
            for s, e in blocks:
                path = self.baseline_ + alphas[None, s:e, None] * delta[:, None, :]
                G = self._gradient(path.reshape(-1, d), np.repeat(columns[a:b], e - s))
                acc += np.einsum("pmd,m->pd", G.reshape(b - a, e - s, d), weights[s:e])
            out[a:b] = delta * acc
        return out
