"""The batched interior-point solver of new points' max-loss problems."""

import cvxpy as cp
import numpy as np
import pytest

from skexplain.optimize._point_interior import solve_points_interior


def random_points(seed, n=40, d=None, max_deg=30):
    """Random problems: varied degrees (widths 1..30, padded and not), weights
    over four decades, radii from binding to far away."""
    rng = np.random.default_rng(seed)
    d = d or int(rng.integers(2, 7))
    deg = rng.integers(1, max_deg + 1, size=n)
    indptr = np.concatenate([[0], np.cumsum(deg)])
    H = rng.normal(size=(n, d)) * rng.uniform(0.1, 3.0)
    EJ = rng.normal(size=(indptr[-1], d)) * rng.uniform(0.1, 3.0, size=(indptr[-1], 1))
    w = 10.0 ** rng.uniform(-2, 2, size=indptr[-1])
    radius = rng.uniform(0.01, 4.0, size=n)
    return H, radius, indptr, EJ, w


def objective(E, indptr, EJ, w):
    own = np.repeat(np.arange(len(E)), np.diff(indptr))
    return np.maximum.reduceat(w * np.linalg.norm(E[own] - EJ, axis=1), indptr[:-1])


def conic_reference(g, r, EJ, w):
    """An independent formulation: the max of weighted norms, Clarabel, tight."""
    e = cp.Variable(len(g))
    prob = cp.Problem(cp.Minimize(cp.max(cp.multiply(w, cp.norm(EJ - e[None, :], axis=1)))),
                      [cp.norm(e - g) <= r])
    prob.solve(solver="CLARABEL")          # relative gap 1e-8
    assert prob.status == "optimal"
    return prob.value


@pytest.mark.parametrize("seed", range(4))
def test_certified_points_meet_the_tolerance_against_a_conic_reference(seed):
    H, radius, indptr, EJ, w = random_points(seed)
    tol = 1e-6
    E, ok = solve_points_interior(H, radius, indptr, EJ, w, tol=tol)
    assert ok.mean() >= 0.95                  # (the rest go to the conic solver)
    # inside each ball
    assert np.all(np.linalg.norm(E - H, axis=1) <= radius * (1 + 1e-12))
    mine = objective(E, indptr, EJ, w)
    ref = np.array([conic_reference(H[i], radius[i], EJ[indptr[i]:indptr[i + 1]],
                                    w[indptr[i]:indptr[i + 1]]) for i in range(len(H))])
    # the documented gap: relative to the optimum, floored at 1e-6 F(g)
    fg = objective(H, indptr, EJ, w)
    gap = (mine - ref) / np.maximum(ref, 1e-6 * fg)
    # every reported "converged" is true: its gap measured against the
    # reference (Clarabel's own 1e-8 allowed for)
    assert np.all(gap[ok] <= tol + 2e-8), gap[ok].max()
    # and never better than the optimum by more than the reference's error
    assert np.all(mine >= ref * (1 - 1e-6) - 1e-8 * fg)


def test_a_point_does_not_depend_on_its_company_bit_for_bit():
    H, radius, indptr, EJ, w = random_points(11, n=50)
    deg = np.diff(indptr)
    E, _ = solve_points_interior(H, radius, indptr, EJ, w)

    def subset(idx):
        ip = np.concatenate([[0], np.cumsum(deg[idx])])
        rows = np.concatenate([np.arange(indptr[i], indptr[i + 1]) for i in idx])
        return solve_points_interior(H[idx], radius[idx], ip, EJ[rows], w[rows])[0]

    rng = np.random.default_rng(0)
    perm = rng.permutation(len(H))
    np.testing.assert_array_equal(subset(perm), E[perm])
    for size in (1, 2, 5, 17):
        idx = rng.choice(len(H), size, replace=False)
        np.testing.assert_array_equal(subset(idx), E[idx])


@pytest.mark.parametrize("factor", [1e-9, 1e7])
def test_units_do_not_change_the_answer(factor):
    H, radius, indptr, EJ, w = random_points(5)
    E, ok = solve_points_interior(H, radius, indptr, EJ, w)
    Es, oks = solve_points_interior(H * factor, radius * factor, indptr, EJ * factor, w)
    Ew, okw = solve_points_interior(H, radius, indptr, EJ, w * factor)
    assert np.array_equal(ok, oks) and np.array_equal(ok, okw)
    np.testing.assert_allclose(Es / factor, E, rtol=1e-9, atol=1e-9 * np.abs(E).max())
    np.testing.assert_allclose(Ew, E, rtol=1e-9, atol=1e-9 * np.abs(E).max())


def test_closed_forms_and_degenerate_problems():
    g = np.zeros((1, 3))
    one = np.array([0, 1])
    # one neighbour inside the ball: the explanation moves onto it
    E, ok = solve_points_interior(g, np.array([2.0]), one, np.array([[1.0, 0, 0]]), np.ones(1))
    assert ok[0] and np.linalg.norm(E[0] - [1, 0, 0]) <= 1e-6
    # one neighbour outside: the nearest point of the ball
    E, ok = solve_points_interior(g, np.array([0.5]), one, np.array([[1.0, 0, 0]]), np.ones(1))
    assert ok[0] and abs(E[0, 0] - 0.5) <= 1e-6 * 0.5 and np.all(E[0, 1:] == 0)
    # two neighbours, a large ball: the midpoint; weights 1 and 3: the point
    # where 1 |e - 1| = 3 |3 - e|, e = 2.5
    pair = np.array([[1.0, 0, 0], [3.0, 0, 0]])
    E, ok = solve_points_interior(g, np.array([5.0]), np.array([0, 2]), pair, np.ones(2))
    assert ok[0] and abs(E[0, 0] - 2.0) <= 1e-5
    E, ok = solve_points_interior(g, np.array([5.0]), np.array([0, 2]), pair, np.array([1., 3.]))
    assert ok[0] and abs(E[0, 0] - 2.5) <= 1e-5
    # a zero radius, neighbours all at the centre, a radius below tol / 2 of
    # the objective's scale: the centre itself (certified: F is 1-Lipschitz)
    for r, EJ in ((0.0, pair), (1.0, np.zeros((2, 3))), (1e-8, pair)):
        E, ok = solve_points_interior(g + 0.0, np.array([r]), np.array([0, 2]), EJ, np.ones(2))
        assert ok[0]
        np.testing.assert_array_equal(E, g)
