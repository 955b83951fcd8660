"""Projected gradient descent (Madry et al.) through the model adapters."""

import numbers

import numpy as np

from ..explainers._noise import draw_seed, uniforms
from ..models import as_model
from ..utils import check_points

__all__ = ["pgd_attack"]


def _project(delta, eps, norm):
    if norm == "inf":
        return np.clip(delta, -eps, eps)
    size = np.linalg.norm(delta, axis=1, keepdims=True)
    return delta * np.minimum(1.0, eps / np.where(size > 0, size, 1.0))


def _direction(grad, norm):
    if norm == "inf":
        return np.sign(grad)
    size = np.linalg.norm(grad, axis=1, keepdims=True)
    return grad / np.where(size > 0, size, 1.0)


def pgd_attack(model, X, y, eps, *, norm="inf", step=None, n_iter=40, target=None,
               random_start=True, clip=None, random_state=None, output="auto",
               batch_size=10000):
    """Adversarial examples by projected gradient descent on the log-probability.

    Untargeted (``target=None``): ascent on ``-log f_y(x)``, the
    cross-entropy of the true class ``y``. Targeted: descent on
    ``-log f_t(x)`` for the class ``target``. Every step moves each point by
    ``step`` along the sign of the gradient (``norm="inf"``) or its
    normalised direction (``norm="l2"``), then projects back onto the
    ``eps``-ball around the clean point and onto ``clip``. All points move
    together (one batched gradient call per iteration).

    Parameters
    ----------
    model : estimator, callable or FunctionModel
        A classifier (its probabilities, ``output="auto"``/``"proba"``) or
        any model whose outputs are per class.
    X : array-like of shape (n_samples, n_features)
        Clean points.
    y : array-like of shape (n_samples,)
        True class labels (or output columns for a model without ``classes_``).
    eps : float
        Radius of the perturbation ball (``eps >= 0``; 0 returns ``X``).
    norm : {"inf", "l2"}, default="inf"
        The attack's norm: ``l_inf`` steps along the gradient's sign, ``l2``
        along its direction.
    step : float, optional
        Step size; default ``2.5 * eps / n_iter`` (Madry et al.).
    n_iter : int, default=40
        Number of gradient steps.
    target : class label, array-like of shape (n_samples,) or None, default=None
        Class to push each point towards (targeted attack).
    random_start : bool, default=True
        Start from a uniform point of the ``l_inf`` ball (or a uniform
        direction at a uniform radius fraction for ``l2``).
    clip : tuple (low, high) or None, default=None
        Valid input range, e.g. ``(0, 1)`` for images.
    random_state : int, RandomState instance or None, default=None
        Seeds the random start (keyed by each row, as the explainers).
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which output of a scikit-learn model to attack, as for the
        explainers (:func:`~skexplain.models.sklearn_model`).
    batch_size : int or None, default=10000
        Rows per model call, as for the explainers.

    Returns
    -------
    X_adv : ndarray of shape (n_samples, n_features)
        ``||X_adv - X|| <= eps`` in the chosen norm, row by row.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[-1.0, 0.0], [1.0, 0.0]] * 10)
    >>> clf = LogisticRegression().fit(X, [0, 1] * 10)
    >>> X_adv = pgd_attack(clf, X[:2], [0, 1], eps=1.5, random_state=0)
    >>> clf.predict(X_adv).tolist()
    [1, 0]
    >>> bool(np.abs(X_adv - X[:2]).max() <= 1.5)
    True
    """
    X = check_points(X)
    if norm not in ("inf", "l2"):
        raise ValueError(f"norm must be 'inf' or 'l2'; got {norm!r}.")
    if not np.isscalar(eps) or not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0; got {eps!r}.")
    if not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer; got {n_iter!r}.")
    step = 2.5 * eps / n_iter if step is None else step
    if not np.isscalar(step) or not np.isfinite(step) or step <= 0 and eps > 0:
        raise ValueError(f"step must be a positive number; got {step!r}.")
    if clip is not None:
        pair = np.asarray(clip, dtype=object).ravel()
        ok = (pair.size == 2 and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                     for v in pair))
        if not ok or not np.all(np.isfinite(pair.astype(float))) or not pair[0] < pair[1]:
            raise ValueError(f"clip must be (low, high), two finite numbers with low < high; "
                             f"got {clip!r}.")
        lo, hi = float(pair[0]), float(pair[1])
    adapter = as_model(model, callable_as="predict", output=output)
    if X.shape[0] == 0 or eps == 0:
        return X.copy()
    cols = adapter.label_columns(y, X, name="y", batch_size=batch_size)
    sign = 1.0  # ascend the loss of the true class
    if target is not None:
        tgt = np.full(X.shape[0], target) if np.ndim(target) == 0 else np.asarray(target)
        cols = adapter.label_columns(tgt, X, name="target", batch_size=batch_size)
        sign = -1.0  # descend the loss of the target class
    delta = np.zeros_like(X)
    if random_start:
        U = 2.0 * uniforms(X, draw_seed(random_state), 1)[:, 0, :] - 1.0
        delta = _project(eps * U, eps, norm)
    X_adv = X + delta
    if clip is not None:
        X_adv = np.clip(X_adv, lo, hi)
    for _ in range(n_iter):
        # grad of -log f_c = -grad f_c / f_c: same sign/direction as -grad f_c
        grad = -adapter.gradient(X_adv, cols, batch_size=batch_size)
        X_adv = X + _project(X_adv + sign * step * _direction(grad, norm) - X, eps, norm)
        if clip is not None:
            X_adv = np.clip(X_adv, lo, hi)
    return X_adv
