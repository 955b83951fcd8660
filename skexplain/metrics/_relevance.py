"""Evaluating saliency masks against a classifier (Lim, Lee & Kim, section 4).

* :func:`class_retrieval_rate`: does the masked input ``m * x`` still get
  the clean class?
* :func:`deletion_auc` / :func:`preservation_auc` (pixel flipping) and their
  harmonic combination :func:`relevance_score`;
* :func:`spearman_similarity` / :func:`topk_intersection` between two sets
  of attributions;
* :func:`normalize_saliency`: attributions to masks in ``[0, 1]`` (their
  supplement S2.1), so that gradient methods can be used as masks.

All are vectorised over points: one model call on all masked (or all
flipped) inputs, in the adapter's batches.
"""

import numbers

import numpy as np
from scipy.stats import rankdata

from ..models import as_model
from ..utils import check_explanations, check_points

__all__ = [
    "class_retrieval_rate",
    "deletion_auc",
    "normalize_saliency",
    "preservation_auc",
    "relevance_score",
    "spearman_similarity",
    "topk_intersection",
]


def _points(X, name="X"):
    return check_points(X, name=name)


def normalize_saliency(attributions, *, method="abs_percentile", percentile=99.0):
    """Turn attributions into masks in ``[0, 1]``, row by row.

    Parameters
    ----------
    attributions : array-like of shape (n_samples, n_features)
        Attributions (any sign and scale).
    method : {"abs_percentile", "minmax"}, default="abs_percentile"
        ``"abs_percentile"``: ``|a|`` divided by its ``percentile``-th
        percentile and clipped at 1 (the strategy the paper applies to
        SmoothGrad, IntGrad, ...). ``"minmax"``: ``(a - min) / (max - min)``
        (their GradCAM strategy). A constant row gives zeros.
    percentile : float, default=99.0
        The percentile of ``|a|`` that maps to 1 (``"abs_percentile"``).

    Returns
    -------
    masks : ndarray of shape (n_samples, n_features)
        Values in ``[0, 1]``.

    Examples
    --------
    >>> normalize_saliency([[0.0, -2.0, 1.0]], percentile=100).tolist()
    [[0.0, 1.0, 0.5]]
    >>> normalize_saliency([[1.0, 3.0, 2.0]], method="minmax").tolist()
    [[0.0, 1.0, 0.5]]
    """
    A = check_points(attributions, name="attributions")
    if method == "abs_percentile":
        if not 0 < percentile <= 100:
            raise ValueError(f"percentile must be in (0, 100]; got {percentile!r}.")
        A = np.abs(A)
        top = np.percentile(A, percentile, axis=1, keepdims=True)
        return np.clip(A / np.where(top > 0, top, 1.0), 0.0, 1.0) * (top > 0)
    if method == "minmax":
        lo = A.min(axis=1, keepdims=True)
        span = A.max(axis=1, keepdims=True) - lo
        return (A - lo) / np.where(span > 0, span, 1.0)
    raise ValueError(f"method must be 'abs_percentile' or 'minmax'; got {method!r}.")


def _columns(adapter, X, labels, batch_size):
    if labels is None or (isinstance(labels, str) and labels == "predicted"):
        return np.argmax(adapter.outputs(X, batch_size=batch_size), axis=1)
    return adapter.label_columns(labels, X, name="labels", batch_size=batch_size)


def class_retrieval_rate(model, X, masks, labels, *, output="auto", batch_size=10000,
                         per_point=False):
    """Fraction of points whose masked input ``masks * X`` is classified as ``labels``.

    The paper's retrieval rate ``E[1{argmax_c f_c(m * x) = c_x0}]``: pass the
    adversarial points as ``X``, their own masks (``m_adv``) or the clean
    points' masks (``m_0``), and the clean classes as ``labels``.

    Parameters
    ----------
    model : classifier, callable or FunctionModel
        The classifier (its per-class outputs).
    X : array-like of shape (n_samples, n_features)
        Points (e.g. adversarial ones).
    masks : array-like of shape (n_samples, n_features)
        Masks in ``[0, 1]`` applied as ``masks * X``.
    labels : array-like of shape (n_samples,)
        Classes to retrieve (labels of the model's ``classes_``).
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn model gives the class probabilities.
    batch_size : int, default=10000
        Largest number of rows per model call.
    per_point : bool, default=False
        Return the per-point booleans.

    Returns
    -------
    float or ndarray of bool
        The fraction of points retrieved, or whether each one is.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import class_retrieval_rate
    >>> f = lambda X: np.c_[X[:, 0], X[:, 1]]          # class = larger coordinate
    >>> X = np.array([[1.0, 2.0], [2.0, 1.0]])
    >>> class_retrieval_rate(f, X, [[1.0, 0.0], [1.0, 0.0]], [0, 0], per_point=True)
    array([ True,  True])
    """
    X = _points(X)
    M = check_explanations(masks, X, name="masks")
    adapter = as_model(model, callable_as="predict", output=output)
    want = adapter.label_columns(labels, X, name="labels", batch_size=batch_size)
    got = np.argmax(adapter.outputs(M * X, batch_size=batch_size), axis=1)
    hit = got == want
    return hit if per_point else float(hit.mean())


def _flip_auc(model, X, saliency, order, *, labels, baseline, n_steps, output, batch_size,
              per_point, return_curves):
    X = _points(X)
    S = check_explanations(saliency, X, name="saliency")
    n, d = X.shape
    base = np.broadcast_to(np.asarray(baseline, dtype=np.float64), (d,))
    if not np.all(np.isfinite(base)):
        raise ValueError("baseline must be finite.")
    if n_steps is not None and (not isinstance(n_steps, numbers.Integral)
                                or isinstance(n_steps, bool) or not 1 <= n_steps <= d):
        raise ValueError(f"n_steps must be an integer in [1, {d}] or None; got {n_steps!r}.")
    n_steps = d if n_steps is None else int(n_steps)
    adapter = as_model(model, callable_as="predict", output=output)
    cols = _columns(adapter, X, labels, batch_size)
    # rank of each feature in flipping order (ties: lower feature index first)
    key = -S if order == "descending" else S
    rank = np.empty((n, d), dtype=np.int64)
    rank[np.arange(n)[:, None], np.argsort(key, axis=1, kind="stable")] = np.arange(d)
    counts = np.round(np.linspace(0, d, n_steps + 1)).astype(np.int64)     # features flipped
    # the (point, step) rows, built batch_size rows at a time (memory
    # O(batch_size d), not O(n n_steps d))
    total = n * (n_steps + 1)
    p = np.empty(total)
    per = total if batch_size is None else max(1, int(batch_size))
    for a in range(0, total, per):
        pair = np.arange(a, min(a + per, total))
        i, k = np.divmod(pair, n_steps + 1)
        Z = np.where(rank[i] < counts[k][:, None], base, X[i])
        p[pair] = adapter.predict(Z, cols[i], batch_size=batch_size)
    p = p.reshape(n, n_steps + 1)
    frac = counts / d
    auc = np.sum((p[:, 1:] + p[:, :-1]) * np.diff(frac) / 2.0, axis=1)
    out = auc if per_point else float(auc.mean())
    return (out, frac, p) if return_curves else out


_FLIP_DOC = """
    Parameters
    ----------
    model : classifier, callable or FunctionModel
        Its class probabilities are the curve (``output="auto"`` gives
        ``predict_proba`` for a classifier).
    X : array-like of shape (n_samples, n_features)
        Points.
    saliency : array-like of shape (n_samples, n_features)
        Feature importances (masks or attributions; larger = more important).
    labels : "predicted" or array-like of shape (n_samples,), default="predicted"
        Class whose probability is tracked: the class predicted at the
        intact ``x``, or given labels.
    baseline : float or array-like of shape (n_features,), default=0.0
        Value a removed feature is set to (the paper flips pixels to zero).
    n_steps : int or None, default=None
        Points of the curve after the first: ``None`` removes one feature at
        a time (``d`` steps); fewer remove ``round(k d / n_steps)`` features
        at step ``k``.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn model gives the class probabilities.
    batch_size : int, default=10000
        Largest number of rows per model call.
    per_point : bool, default=False
        Return each point's area instead of their mean.
    return_curves : bool, default=False
        Also return the x-axis (fraction removed, ``(n_steps + 1,)``) and the
        curves ``(n_samples, n_steps + 1)``.

    Returns
    -------
    auc : float or ndarray of shape (n_samples,)
        Trapezoidal area under the probability curve over the fraction of
        features removed, in ``[0, 1]``. Ties in ``saliency`` are broken by
        feature index.
"""


def deletion_auc(model, X, saliency, *, labels="predicted", baseline=0.0, n_steps=None,
                 output="auto", batch_size=10000, per_point=False, return_curves=False):
    return _flip_auc(model, X, saliency, "descending", labels=labels, baseline=baseline,
                     n_steps=n_steps, output=output, batch_size=batch_size,
                     per_point=per_point, return_curves=return_curves)


deletion_auc.__doc__ = """Deletion score (pixel flipping): remove features most salient first.

    Lower is better: the class probability should fall as early as possible.
""" + _FLIP_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> f = lambda X: np.c_[X.sum(1) / 2, 1 - X.sum(1) / 2]   # class 0 prob = mean
    >>> X = np.array([[1.0, 1.0]])
    >>> deletion_auc(f, X, [[2.0, 1.0]], labels=[0])   # curve 1, 0.5, 0
    0.5
"""


def preservation_auc(model, X, saliency, *, labels="predicted", baseline=0.0, n_steps=None,
                     output="auto", batch_size=10000, per_point=False, return_curves=False):
    return _flip_auc(model, X, saliency, "ascending", labels=labels, baseline=baseline,
                     n_steps=n_steps, output=output, batch_size=batch_size,
                     per_point=per_point, return_curves=return_curves)


preservation_auc.__doc__ = """Preservation score: remove the least salient features first.

    Higher is better: the class probability should fall as late as possible.
""" + _FLIP_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> f = lambda X: np.c_[X.sum(1) / 2, 1 - X.sum(1) / 2]   # class 0 prob = mean
    >>> X = np.array([[1.0, 1.0]])
    >>> preservation_auc(f, X, [[2.0, 1.0]], labels=[0])   # curve 1, 0.5, 0
    0.5
"""


def relevance_score(deletion, preservation):
    """The paper's feature relevance ``R``: ``1/R = (1/P + 1/(1 - D)) / 2``.

    The harmonic mean of the preservation score ``P`` and ``1 - D`` (the
    deletion score ``D`` is better when lower). Works element-wise; ``R = 0``
    when ``P = 0`` or ``D = 1``.

    Parameters
    ----------
    deletion : float or array-like
        Deletion scores ``D`` (:func:`deletion_auc`).
    preservation : float or array-like
        Preservation scores ``P`` (:func:`preservation_auc`).

    Returns
    -------
    R : float or ndarray
        In ``[0, 1]``, higher is better.

    Examples
    --------
    >>> round(relevance_score(0.2, 0.8), 12)     # P = 1 - D: R = P
    0.8
    >>> round(relevance_score(0.5, 0.25), 4)   # harmonic mean of 0.25 and 0.5
    0.3333
    """
    D = np.asarray(deletion, dtype=np.float64)
    P = np.asarray(preservation, dtype=np.float64)
    for name, v in (("deletion", D), ("preservation", P)):
        if not np.all(np.isfinite(v)) or np.any((v < 0) | (v > 1)):
            raise ValueError(f"{name} must be areas in [0, 1] (deletion_auc / "
                             f"preservation_auc); got {v if v.ndim == 0 else 'values'} "
                             "outside it or non-finite.")
    a, b = P, 1.0 - D
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where((a > 0) & (b > 0), 2.0 * a * b / (a + b), 0.0)
    return float(R) if R.ndim == 0 else R


def spearman_similarity(A, B, *, per_point=False):
    """Spearman rank correlation between the rows of two attribution arrays.

    Average ranks for ties (``scipy.stats.rankdata``); a constant row has no
    ranking and gives NaN.

    Parameters
    ----------
    A, B : array-like of shape (n_samples, n_features)
        Attributions (pass ``abs`` values if the sign does not matter).
    per_point : bool, default=False
        Return each row's correlation instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        Correlations in ``[-1, 1]``.

    Examples
    --------
    >>> spearman_similarity([[1.0, 2.0, 3.0]], [[10.0, 20.0, 30.0]])
    1.0
    >>> spearman_similarity([[1.0, 2.0, 3.0]], [[3.0, 2.0, 1.0]])
    -1.0
    """
    A = check_points(A, name="A")
    B = check_explanations(B, A, name="B", ref_name="A")
    Ra = rankdata(A, axis=1)
    Rb = rankdata(B, axis=1)
    Ra -= Ra.mean(axis=1, keepdims=True)
    Rb -= Rb.mean(axis=1, keepdims=True)
    den = np.sqrt(np.sum(Ra ** 2, axis=1) * np.sum(Rb ** 2, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, np.sum(Ra * Rb, axis=1) / den, np.nan)
    return rho if per_point else float(np.mean(rho))


def topk_intersection(A, B, k, *, normalize=True, per_point=False):
    """Size of the intersection of the ``k`` largest features of two attribution sets.

    Ghorbani et al.'s top-k intersection (the paper's supplement S3.2).
    Ties are broken by feature index.

    Parameters
    ----------
    A, B : array-like of shape (n_samples, n_features)
        Importances (pass ``abs`` values if the sign does not matter).
    k : int
        Number of top features compared.
    normalize : bool, default=True
        Divide by ``k`` (a fraction in ``[0, 1]``) instead of the count.
    per_point : bool, default=False
        Return each row's value instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The (normalised) intersection sizes.

    Examples
    --------
    >>> topk_intersection([[4.0, 3.0, 2.0, 1.0]], [[4.0, 1.0, 3.0, 2.0]], k=2)
    0.5
    """
    A = check_points(A, name="A")
    B = check_explanations(B, A, name="B", ref_name="A")
    d = A.shape[1]
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= d:
        raise ValueError(f"k must be an integer in [1, {d}]; got {k!r}.")
    top_a = np.argsort(-A, axis=1, kind="stable")[:, :k]
    top_b = np.argsort(-B, axis=1, kind="stable")[:, :k]
    in_a = np.zeros(A.shape, dtype=bool)
    in_b = np.zeros(A.shape, dtype=bool)
    rows = np.arange(A.shape[0])[:, None]
    in_a[rows, top_a] = True
    in_b[rows, top_b] = True
    count = np.sum(in_a & in_b, axis=1).astype(np.float64)
    val = count / k if normalize else count
    return val if per_point else float(val.mean())
