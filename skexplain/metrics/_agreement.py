"""Agreement of the most important features across explanation sets."""

from dataclasses import dataclass

import numpy as np

from ..utils import check_explanations

__all__ = ["AgreementResult", "agreement_rate"]


@dataclass(frozen=True)
class AgreementResult:
    """Outcome of :func:`agreement_rate`.

    ``float(result)`` is the plain (paper-style) rate. Each parameter is an
    attribute of the same name.

    Parameters
    ----------
    rate : float
        Fraction of points whose top-k sets (ties broken by the lower feature
        index) are identical across all explanation sets, as in the paper.
    rate_untied : float
        The same fraction over the untied points only (``nan`` if none).
    rate_tolerant : float
        Fraction of points for which *some* choice among near-equal
        features gives one common top-k set: features within the tolerance
        of the k-th largest value may be swapped.
    n_points : int
        Number of points.
    n_tied : int
        Points whose top-k set is ambiguous (the k-th and (k+1)-th largest
        ``|E|`` are within the tolerance) in at least one explanation set.
    agree : ndarray of bool, shape (n_points,)
        Per-point plain agreement.
    tied : ndarray of bool, shape (n_points,)
        Per-point tie indicator.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import agreement_rate
    >>> a = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> b = np.array([[3.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> res = agreement_rate([a, b])
    >>> res.rate, res.n_tied, res.rate_untied, res.rate_tolerant
    (0.6666666666666666, 1, 0.5, 0.6666666666666666)
    """

    rate: float
    rate_untied: float
    rate_tolerant: float
    n_points: int
    n_tied: int
    agree: np.ndarray
    tied: np.ndarray

    def __float__(self):
        return float(self.rate)


def agreement_rate(explanations, *, top_k=1, rtol=1e-4, atol=1e-10):
    """Fraction of points whose top-k features agree across explanation sets.

    Features are ranked by absolute attribution. Ties matter: on symmetric
    grids many points have several features with exactly equal ``|gradient|``
    and "the most important feature" is then arbitrary, so the result also
    counts tied points and gives the rate on untied points and a
    tie-tolerant rate beside the plain number.

    Parameters
    ----------
    explanations : sequence of array-like of shape (n_samples, n_features)
        At least two explanation sets for the same points.
    top_k : int, default=1
        Size of the set of most important features that must agree.
    rtol, atol : float, default=1e-4, 1e-10
        Two absolute attributions of a point count as tied when they differ
        by at most ``atol + rtol * max_j |E_nj|``. The default ``rtol``
        is above the accuracy of the interior-point solvers, so that a tie
        in the gradient that the optimiser keeps only up to its tolerance is
        still seen as a tie.

    Returns
    -------
    result : AgreementResult
        The plain, untied and tie-tolerant rates and the per-point flags.

    Examples
    --------
    >>> from skexplain.metrics import agreement_rate
    >>> A = [[3.0, 1.0], [1.0, 1.0], [0.0, 2.0]]
    >>> B = [[2.0, 1.0], [1.0, 1.0], [5.0, 1.0]]
    >>> res = agreement_rate([A, B])
    >>> res.rate, res.n_tied, res.rate_untied
    (0.6666666666666666, 1, 0.5)
    """
    if isinstance(explanations, np.ndarray) and explanations.ndim == 3:
        explanations = list(explanations)
    sets = [check_explanations(E, name=f"explanations[{i}]")
            for i, E in enumerate(explanations)]
    if len(sets) < 2:
        raise ValueError(
            "explanations must hold at least two explanation sets to compare; "
            f"got {len(sets)}."
        )
    shape = sets[0].shape
    for i, E in enumerate(sets):
        if E.shape != shape:
            raise ValueError(
                f"explanations[{i}] has shape {E.shape}; all sets must have "
                f"shape {shape}."
            )
    n, d = shape
    if not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= d:
        raise ValueError(
            f"top_k must be an integer between 1 and n_features={d}; got {top_k!r}."
        )
    if n == 0:
        raise ValueError("explanations must contain at least one point.")
    A = np.abs(np.stack(sets))                       # (m, n, d)
    order = np.argsort(-A, axis=2, kind="stable")
    top = np.zeros(A.shape, dtype=bool)
    np.put_along_axis(top, order[..., :top_k], True, axis=2)
    agree = np.all(top == top[:1], axis=(0, 2))

    ranked = np.take_along_axis(A, order, axis=2)
    kth = ranked[..., top_k - 1]                     # (m, n)
    tol = atol + rtol * ranked[..., 0]
    if top_k < d:
        tied = np.any(kth - ranked[..., top_k] <= tol, axis=0)
    else:
        tied = np.zeros(n, dtype=bool)
    # A common top-k set T exists iff every "surely in" feature (above the
    # tie band of the k-th value) is "possibly in" (within or above the band)
    # for every set, and k lies between the two counts.
    surely = np.any(A > (kth + tol)[..., None], axis=0)
    possibly = np.all(A >= (kth - tol)[..., None], axis=0)
    tolerant = (
        np.all(~surely | possibly, axis=1)
        & (surely.sum(axis=1) <= top_k)
        & (possibly.sum(axis=1) >= top_k)
    )
    untied = ~tied
    rate_untied = float(agree[untied].mean()) if untied.any() else float("nan")
    return AgreementResult(
        rate=float(agree.mean()),
        rate_untied=rate_untied,
        rate_tolerant=float(tolerant.mean()),
        n_points=n,
        n_tied=int(tied.sum()),
        agree=agree,
        tied=tied,
    )
