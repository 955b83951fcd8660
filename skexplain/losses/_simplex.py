"""Projection onto a simplex per group of entries, all groups at once."""

import numpy as np
import scipy.sparse as sp

__all__ = ["GroupedSimplex"]


class GroupedSimplex:
    """Projection onto ``{t >= 0 : sum_{e in g} t_e <= 1}`` for every group ``g``.

    The projection is in the metric ``sum_e (t_e - z_e)^2 / s_e``; its
    solution is ``t_e = max(z_e - theta_g s_e, 0)`` with one ``theta_g`` per
    group, found for all groups at once by Newton's method on the
    piecewise-linear ``phi_g(theta) = sum_e max(z_e - theta s_e, 0) - 1``
    (Michelot's rule when started at 0). ``phi_g`` is convex and decreasing,
    so a Newton step from the right lands left of the root and from there
    the iterates increase to it in finitely many steps. Each call starts
    from the previous call's ``theta`` (a first-order solver's iterates
    change little): one full round of sparse sums, then rounds on the
    entries of the groups whose ``theta`` still moves.

    Parameters
    ----------
    groups : ndarray of int of shape (n_entries,)
        Group of each entry (any order).
    s : ndarray of shape (n_entries,)
        Positive metric weights (their dtype is the working precision).
    n : int
        Number of groups.

    Examples
    --------
    Two groups; the first, ``(0.9, 0.6)``, exceeds 1 and is shifted down by
    ``theta = 0.25``; the second is inside and kept:

    >>> import numpy as np
    >>> from skexplain.losses import GroupedSimplex
    >>> proj = GroupedSimplex(np.array([0, 0, 1]), np.ones(3), 2)
    >>> proj(np.array([0.9, 0.6, 0.5]))
    array([0.65, 0.35, 0.5 ])
    """

    def __init__(self, groups, s, n):
        m = groups.shape[0]
        self.groups, self.s, self.n = groups, s, n
        # group sums as one sparse product (entries in the caller's order; the
        # solver numbers points so that a group's entries lie close together)
        self.S = sp.csr_matrix((np.ones(m, s.dtype), (groups, np.arange(m))), shape=(n, m))
        self.theta = np.zeros(n, s.dtype)

    def __call__(self, z):
        """Project ``z``.

        Parameters
        ----------
        z : ndarray of shape (n_entries,)
            Non-negative entries.

        Returns
        -------
        t : ndarray of shape (n_entries,)
            The projection, in the dtype of ``s``.
        """
        groups, s, n, S = self.groups, self.s, self.n, self.S
        theta = self.theta
        # first round on every entry, from the previous call's theta; no
        # "is the group over its bound" pass: a group under it gets a
        # non-positive Newton step, clamped to 0, where it stays
        act = z > np.take(theta, groups) * s
        num, den = S @ (z * act), S @ (s * act)
        idx = None                         # None: every entry (no gathers)
        gi, zi, si = groups, z, s
        for rnd in range(n + 2):
            # Newton step for the groups in play, then keep the entries of the
            # groups whose active set changed (the others are exact: their
            # theta is a fixed point). Comparing active sets, not thetas,
            # is immune to rounding in the sums.
            pos = den > 0
            step = np.maximum((num - 1.0) / np.where(pos, den, 1.0), 0.0) * pos
            theta = (step if idx is None else np.where(self._live(gi), step, theta))
            theta = theta.astype(s.dtype, copy=False)
            new_act = zi > np.take(theta, gi) * si
            if rnd:
                # left of the root from the second step on: active sets only
                # shrink (in exact arithmetic; enforcing it stops rounding
                # from toggling an entry that sits on its breakpoint)
                new_act &= act
            flip = new_act != act
            if not flip.any():
                break
            changed = np.zeros(n, dtype=bool)
            changed[gi[flip]] = True
            keep = np.take(changed, gi)
            idx = np.flatnonzero(keep) if idx is None else idx[keep]
            act, gi = new_act[keep], gi[keep]
            zi, si = z[idx], s[idx]
            num = np.bincount(gi, weights=zi * act, minlength=n)
            den = np.bincount(gi, weights=si * act, minlength=n)
        self.theta = theta
        # theta = 0 for the groups under the bound, where t = z
        out = np.take(theta, groups)
        out *= s
        np.subtract(z, out, out=out)
        return np.maximum(out, 0.0, out=out)

    def _live(self, gi):
        """Groups with an entry in ``gi``."""
        live = np.zeros(self.n, dtype=bool)
        live[gi] = True
        return live
