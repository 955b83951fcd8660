"""Counter-based random numbers: the perturbations of a point depend only on
the explainer's seed and on the point itself.

``uniforms(X, seed, n_samples)`` returns, for every row ``x`` of ``X``, an
``(n_samples, d)`` block of independent U(0, 1) numbers computed as a hash
(SplitMix64) of ``(seed, x, sample index, feature index)``. Because no
generator state is carried from one row to the next:

* the result does not depend on the chunk size, the row order, or which
  other rows are explained in the same call (scikit-learn's sample-order and
  subset invariance checks hold for the stochastic explainers);
* the same seed gives the same perturbations to every explainer, so
  SmoothGrad and C-LIME can use common random numbers;
* everything is vectorised: no loop over points or samples.

With ``shared=True`` the row is left out of the hash: every point gets the
same perturbations (common random numbers across points), which makes the
explanation a smooth deterministic function of ``x``.
"""

import numpy as np
from scipy.special import ndtri

__all__ = ["uniforms", "standard_normals", "draw_seed"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z):
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic, in place)."""
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def draw_seed(random_state):
    """A 62-bit integer seed from ``random_state`` (None, int or RandomState)."""
    from sklearn.utils import check_random_state

    rs = check_random_state(random_state)
    return int(rs.randint(0, 2 ** 62, dtype=np.int64))


def _row_keys(X, seed, shared):
    X = np.ascontiguousarray(X, dtype=np.float64)
    key = _mix(np.full(X.shape[0], np.uint64(seed), dtype=np.uint64) + _GOLDEN)
    key = key.copy()
    if shared:
        return key
    bits = (X + 0.0).view(np.uint64)  # + 0.0 maps -0.0 to 0.0
    with np.errstate(over="ignore"):
        for j in range(X.shape[1]):  # loop over features, vectorised over rows
            key = _mix(key ^ (bits[:, j] + _GOLDEN * np.uint64(j + 1)))
    return key


def uniforms(X, seed, n_samples, n_features=None, *, shared=False):
    """U(0, 1) numbers of shape ``(n, n_samples, n_features)`` keyed by the rows."""
    d = X.shape[1] if n_features is None else n_features
    keys = _row_keys(X, seed, shared)
    counter = np.arange(1, n_samples * d + 1, dtype=np.uint64).reshape(n_samples, d)
    with np.errstate(over="ignore"):
        u = _mix(keys[:, None, None] + counter[None] * _GOLDEN)
    u >>= np.uint64(11)
    out = u.astype(np.float64)
    out += 0.5
    out *= 1.0 / 2 ** 53
    return out


def standard_normals(X, seed, n_samples, n_features=None, *, shared=False):
    """N(0, 1) numbers of shape ``(n, n_samples, n_features)`` keyed by the rows."""
    U = uniforms(X, seed, n_samples, n_features, shared=shared)
    return ndtri(U, out=U)
