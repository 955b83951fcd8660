"""New points' max-loss problems by a batched primal-dual interior-point method.

Each new point ``i`` has the problem (see :mod:`._out_of_sample`) ::

    min_e  max_j w_ij ||e - E_j||   s.t.  ||e - g_i|| <= r_i

It is solved as the convex quadratically constrained program ::

    min_{e, T}  T   s.t.  a_j ||e - p_j||^2 <= T,   ||e||^2 <= r^2

in the point's own units: centred on ``g_i``, weights divided by their
largest (``a_j = (w_j / max w)^2``), lengths by the objective at the centre
(``max_j w_j ||g_i - E_j|| / max w``), so that every problem starts at
objective 1 whatever the scale of the gradients. The method is Mehrotra's
predictor-corrector on the (nonlinear) constraints' KKT system, with the
exact largest step that keeps every slack positive (each slack is a
quadratic in the step length). Seven to eleven iterations per point on
10-NN problems (a (d + 1) x (d + 1) Cholesky each), against a hundred or
more for the first-order method.

A point stops when its certified relative gap ``(F(e) - lower) /
max(lower, 1e-6)`` is below ``tol``, with ``lower`` the Lagrange dual value
of the current multipliers (normalised to the simplex; a valid bound for
any multipliers). The points are stored last ("structure of arrays"): every
operation is element-wise over points or a sum over a point's own
neighbour slots, so a point's iterates do not depend on the other points in
the batch, bit for bit. Points are grouped by a width (their number of
neighbours, rounded up past 16 to at most four widths per octave; the
padding slots have zero weight and are masked out of every sum), which is a
function of the point's own degree.
"""

import numpy as np

__all__ = ["solve_points_interior"]

#: Largest number of (slot x feature x point) entries in one block of points
#: (blocks that stay in cache: 2 ** 14 ... 2 ** 21 measured, 2 ** 17 fastest).
BLOCK_ENTRIES = 2 ** 17

#: Smallest ratio of a complementarity product to their mean after a step.
CENTRALITY = 1e-4


def solve_points_interior(H, radius, indptr, EJ, w, *, tol=1e-6, max_iter=50):
    """Solve every point's max-loss problem; returns the explanations and who converged.

    Parameters
    ----------
    H : ndarray of shape (n, d)
        Rescaled base explanations (the balls' centres).
    radius : ndarray of shape (n,)
        Ball radii (non-negative).
    indptr : ndarray of int of shape (n + 1,)
        The edges of point ``i`` are ``indptr[i]:indptr[i + 1]`` (at least one).
    EJ : ndarray of shape (n_edges, d)
        The neighbours' (rescaled) fitted explanations, edge by edge.
    w : ndarray of shape (n_edges,)
        Positive edge weights.
    tol : float, default=1e-6
        Certified relative gap at which a point stops.
    max_iter : int, default=50
        Iterations after which a point still short of ``tol`` is reported
        as not converged.

    Returns
    -------
    E : ndarray of shape (n, d)
        The explanations (rescaled), inside the balls.
    converged : ndarray of bool of shape (n,)
        Whether each point reached ``tol``.
    """
    n, d = H.shape
    deg = np.diff(indptr)
    own = np.repeat(np.arange(n), deg)
    E = np.array(H, dtype=np.float64)
    converged = np.ones(n, dtype=bool)
    wn = w / np.maximum.reduceat(w, indptr[:-1])[own]
    P = EJ - H[own]
    scale = np.maximum.reduceat(wn * np.sqrt(np.einsum("ij,ij->i", P, P)), indptr[:-1])
    r = radius / np.where(scale > 0, scale, 1.0)
    # F(g) = 1 in the point's units and F is 1-Lipschitz there: a ball of
    # radius r <= tol / 2 leaves at most r to gain, so g itself is certified
    todo = (scale > 0) & (r > 0.5 * tol)
    width = _width(deg)
    for W in np.unique(width[todo]):
        group = np.flatnonzero(todo & (width == W))
        per_block = max(1, BLOCK_ENTRIES // (int(W) * d))
        for start in range(0, len(group), per_block):
            sel = group[start:start + per_block]
            slot = np.arange(W)
            mask = slot[:, None] < deg[None, sel]                       # (W, m)
            src = np.where(mask, indptr[None, sel] + slot[:, None], 0)
            p = P[src].transpose(0, 2, 1) / scale[sel]                  # (W, d, m)
            p = np.ascontiguousarray(np.where(mask[:, None, :], p, 0.0))
            a = np.where(mask, wn[src] * wn[src], 0.0)
            e, ok = _solve(p, a, mask, r[sel], tol, max_iter)
            E[sel] = H[sel] + (e * scale[sel]).T
            converged[sel] = ok
    return E, converged


def _width(deg):
    """Each point's slot count: its degree up to 16, then rounded up to a
    multiple of a quarter of its octave (at most 25 % padding)."""
    deg = np.maximum(deg, 1)
    step = np.left_shift(1, np.maximum(np.floor(np.log2(deg)).astype(int) - 2, 0))
    return np.where(deg <= 16, deg, -(-deg // step) * step)


def _columns(x, keep):
    """The kept points (last axis), C-ordered: ``x[:, keep]`` comes out
    Fortran-ordered, and numpy then sums its first axis pairwise, not row by
    row (a point's rounding would depend on its company)."""
    return np.ascontiguousarray(np.take(x, keep, axis=-1))


def _roots(s, b, c):
    """The first positive root of ``s + b t - c t^2`` (``s > 0``, ``c >= 0``)."""
    den = -b + np.sqrt(b * b + 4.0 * c * s)
    return np.divide(2.0 * s, den, out=np.full_like(s, np.inf), where=den > 0)


def _largest_step(lam, dlam):
    """The largest ``t`` with ``lam + t dlam >= 0`` (``inf`` if none binds)."""
    neg = dlam < 0
    return np.divide(lam, -dlam, out=np.full_like(lam, np.inf), where=neg)


def _solve(p, a, mask, r, tol, max_iter):
    """One block of points of equal width; returns (e, converged) with e of shape (d, m).

    A single point is solved as two copies: numpy sums a (W, 1) array along
    its only long axis pairwise, a (W, m >= 2) one row by row, and the two
    round differently (the point's answer must not depend on its company).
    """
    if p.shape[2] == 1:
        e, ok = _solve(np.repeat(p, 2, axis=2), np.repeat(a, 2, axis=1),
                       np.repeat(mask, 2, axis=1), np.repeat(r, 2), tol, max_iter)
        return e[:, :1], ok[:1]
    W, d, m = p.shape
    fm = mask.astype(np.float64)
    pad = 1.0 - fm
    n_cons = fm.sum(axis=0) + 1.0
    pp = (p * p).sum(axis=1)
    r2 = r * r
    # start: the weighted mean of the neighbours, inside half the ball; T
    # above every constraint; multipliers perfectly centred with sum 1
    mean = np.einsum("wm,wdm->dm", a, p) / a.sum(axis=0)
    size = np.sqrt((mean * mean).sum(axis=0))
    e = mean * np.minimum(1.0, np.divide(0.5 * r, size, out=np.ones_like(r), where=size > 0))
    diff = e[None] - p
    sq = a * (diff * diff).sum(axis=1)
    T = 1.5 * sq.max(axis=0) + 1e-3
    sj = T - sq + pad                             # slacks (padding slots: > 0, masked)
    sb = r2 - (e * e).sum(axis=0)
    mu0 = 1.0 / (fm / sj).sum(axis=0)
    lj = fm * mu0 / sj
    lb = mu0 / sb
    ids = np.arange(m)
    out_e = np.array(e)
    out_ok = np.zeros(m, dtype=bool)
    with np.errstate(all="ignore"):               # a broken point is retired, not warned
        for it in range(max_iter + 1):
            # the certificate: Lagrange dual value of the normalised multipliers
            S = lj.sum(axis=0)
            lam = lj * a / S
            mub = lb / S
            c = np.einsum("wm,wdm->dm", lam, p)
            q = (lam * pp).sum(axis=0) - (c * c).sum(axis=0) / (lam.sum(axis=0) + mub) - mub * r2
            lower = np.sqrt(np.maximum(q, 0.0))
            F = np.sqrt(sq.max(axis=0))
            done = (F - lower) <= tol * np.maximum(lower, 1e-6)
            alive = (np.isfinite(F) & np.isfinite(lower) & (sb > 0)
                     & np.all((sj > 0) | (fm == 0), axis=0))
            fin = done | ~alive | (it == max_iter)
            if fin.any():
                out_e[:, ids[fin & alive]] = e[:, fin & alive]
                out_ok[ids[fin]] = done[fin] & alive[fin]
                keep = np.flatnonzero(~fin)
                if not len(keep):
                    break
                if len(keep) == 1:        # see _solve's note on a single point
                    keep = np.repeat(keep, 2)
                ids, e, T, r, r2, sb, lb, n_cons, p, a, fm, pad, pp, diff, sq, sj, lj = (
                    _columns(x, keep) for x in (ids, e, T, r, r2, sb, lb, n_cons, p, a, fm,
                                                pad, pp, diff, sq, sj, lj))
            out_e[:, ids] = e                     # the last feasible iterate
            e, T, lj, lb = _step(e, T, lj, lb, p, a, fm, pad, diff, sj, sb, n_cons)
            diff = e[None] - p
            sq = a * (diff * diff).sum(axis=1)
            sj = T - sq + pad
            sb = r2 - (e * e).sum(axis=0)
    return out_e, out_ok


def _step(e, T, lj, lb, p, a, fm, pad, diff, sj, sb, n_cons, frac=0.99):
    """One Mehrotra predictor-corrector step for every point of the block."""
    d = e.shape[0]
    # constraint gradients: g_j = (2 a_j (e - p_j), -1), g_b = (2 e, 0)
    # (g_j's e-part is 2 a_j diff_j: the factor 2 a_j is kept in the weights)
    a2 = 2.0 * a
    Gb = 2.0 * e
    mu = ((lj * sj).sum(axis=0) + lb * sb) / n_cons
    hj, hb = lj / sj, lb / sb
    Gs = (a2 * np.sqrt(hj))[:, None] * diff
    M = np.empty((d + 1, d + 1, e.shape[1]))
    M[:d, :d] = np.einsum("wim,wjm->ijm", Gs, Gs) + hb * Gb[:, None] * Gb[None]
    M[np.arange(d), np.arange(d)] += (lj * a2).sum(axis=0) + 2.0 * lb
    M[:d, d] = M[d, :d] = -np.einsum("wm,wdm->dm", hj * a2, diff)
    M[d, d] = hj.sum(axis=0)
    L = _cholesky(M)

    def direction(rcj, rcb):
        # (Hess L + sum h grad grad^T) dx = -r_d + sum grad rc / s, with the
        # dual residual r_d = (sum l_j g_j + l_b g_b, 1 - sum l_j); then the
        # multipliers. Returns also grad . dx (= -(slack's first-order change))
        wj, wb = rcj / sj, rcb / sb
        rhs = np.empty((d + 1, e.shape[1]))
        rhs[:d] = np.einsum("wm,wdm->dm", (wj - lj) * a2, diff) + (wb - lb) * Gb
        rhs[d] = lj.sum(axis=0) - 1.0 - wj.sum(axis=0)
        dx = _cholesky_solve(L, rhs)
        de, dT = dx[:d], dx[d]
        gj = a2 * np.einsum("wdm,dm->wm", diff, de) - dT
        gb = (Gb * de).sum(axis=0)
        return de, dT, fm * (lj * gj - rcj) / sj, (lb * gb - rcb) / sb, gj, gb

    def longest(de, dlj, dlb, gj, gb):
        # each slack along the step is s - (grad . dx) t - c t^2: its first root, exactly
        dd = (de * de).sum(axis=0)
        t = np.minimum(np.where(fm > 0, _roots(sj, -gj, a * dd), np.inf).min(axis=0),
                       _roots(sb, -gb, dd))
        t = np.minimum(t, np.minimum(_largest_step(lj, dlj).min(axis=0), _largest_step(lb, dlb)))
        return t, dd

    # predictor (affine scaling), then the centring parameter from its gap
    de, dT, dlj, dlb, gj, gb = direction(lj * sj, lb * sb)
    t, dd = longest(de, dlj, dlb, gj, gb)
    t = np.minimum(1.0, t)
    mu_aff = ((fm * (lj + t * dlj) * (sj - t * (gj + t * a * dd))).sum(axis=0)
              + (lb + t * dlb) * (sb - t * (gb + t * dd))) / n_cons
    ratio = np.clip(mu_aff / mu, 0.0, 1.0)
    sigma = ratio * ratio * ratio        # (not ** 3: numpy's SIMD pow rounds by position)
    # corrector: (l + dl)(s + ds) = sigma mu with the predictor's second-order term
    # (the predictor's slack changes are -gj, -gb)
    de, dT, dlj2, dlb2, gj2, gb2 = direction(fm * (lj * sj - sigma * mu - dlj * gj),
                                             lb * sb - sigma * mu - dlb * gb)
    t, dd = longest(de, dlj2, dlb2, gj2, gb2)
    t = np.minimum(1.0, frac * t)
    # stay central: no product l_i s_i below CENTRALITY x their mean (the
    # slacks are nonlinear in the step; a point that loses centrality crawls
    # along a face), halving the step where needed
    for _ in range(30):
        pj = np.where(fm > 0, (lj + t * dlj2) * (sj - t * (gj2 + t * a * dd)), np.inf)
        pb = (lb + t * dlb2) * (sb - t * (gb2 + t * dd))
        mean = (np.where(fm > 0, pj, 0.0).sum(axis=0) + pb) / n_cons
        short = (np.minimum(pj.min(axis=0), pb) < CENTRALITY * mean)
        if not short.any():
            break
        t = np.where(short, 0.5 * t, t)
    return e + t * de, T + t * dT, lj + t * dlj2, lb + t * dlb2


def _cholesky(A):
    """Batched Cholesky factor of ``A`` of shape (k, k, m), points last."""
    k = A.shape[0]
    L = np.zeros_like(A)
    for j in range(k):
        s = A[j, j] - (L[j, :j] * L[j, :j]).sum(axis=0)
        L[j, j] = np.sqrt(np.where(s > 0, s, np.nan))      # not positive: the point breaks
        if j + 1 < k:
            acc = A[j + 1:, j] - np.einsum("ikm,km->im", L[j + 1:, :j], L[j, :j])
            L[j + 1:, j] = acc / L[j, j]
    return L


def _cholesky_solve(L, y):
    """Solve ``L L^T x = y`` for every point (``y`` of shape (k, m))."""
    k = L.shape[0]
    z = np.empty_like(y)
    for j in range(k):
        z[j] = (y[j] - (L[j, :j] * z[:j]).sum(axis=0)) / L[j, j]
    x = np.empty_like(y)
    for j in reversed(range(k)):
        x[j] = (z[j] - (L[j + 1:, j] * x[j + 1:]).sum(axis=0)) / L[j, j]
    return x
