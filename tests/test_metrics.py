"""Metrics: hand-computed values, brute-force references, invariants."""

import itertools

import numpy as np
import pytest

from skexplain.metrics import (
    agreement_rate,
    average_sensitivity,
    faithfulness_loss,
    local_stability,
    max_sensitivity,
    robustness_loss,
)
from skexplain.neighbors import radius_neighbor_graph


def test_hand_computed_tiny_case():
    # points 0, 1, 3 on a line; u = 2: pairs (0,1), (1,3); 0 and 3 are 3 apart
    X = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    E = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])
    # ||E0-E1|| = 5, ||E1-E2|| = 4
    assert max_sensitivity(X, E, u=2) == pytest.approx(5 + 5 + 4)
    assert local_stability(X, E, u=2) == pytest.approx(5 / 1 + max(5 / 1, 4 / 2) + 4 / 2)
    assert average_sensitivity(X, E, u=2) == pytest.approx(5 + (5 + 4) / 2 + 4)
    assert average_sensitivity(X, E, u=2, squared=True) == pytest.approx(
        25 + (25 + 16) / 2 + 16)
    G = np.array([[1.0, 1.0], [3.0, 4.0], [0.0, 0.0]])
    assert faithfulness_loss(G, E) == pytest.approx(2 + 0 + 9)
    np.testing.assert_allclose(faithfulness_loss(G, E, per_point=True), [2, 0, 9])


@pytest.mark.parametrize("kind", ["max_sensitivity", "local_stability",
                                  "average_sensitivity"])
@pytest.mark.parametrize("squared", [False, True])
def test_matches_brute_force(brute, kind, squared):
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(30, 3))
    E = rng.normal(size=(30, 3))
    got = robustness_loss(kind, X, E, u=0.7, squared=squared, per_point=True)
    want = brute(X, E, 0.7, kind, squared=squared)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_radius_is_inclusive_on_grids():
    X = np.array([[-5.0], [0.0], [5.0]])
    E = np.array([[0.0], [1.0], [3.0]])
    # distance exactly u counts as a neighbour
    assert max_sensitivity(X, E, u=5.0) == pytest.approx(1 + 2 + 2)
    assert max_sensitivity(X, E, u=4.999) == 0.0


def test_constant_explanations_are_perfectly_robust_and_shift_invariant():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    E = rng.normal(size=(20, 2))
    const = np.tile([1.0, -2.0], (20, 1))
    for kind in ["max_sensitivity", "local_stability", "average_sensitivity"]:
        assert robustness_loss(kind, X, const, u=1.0) == 0.0
        a = robustness_loss(kind, X, E, u=1.0)
        assert robustness_loss(kind, X, E + [3.0, 4.0], u=1.0) == pytest.approx(a)
        # degree-one homogeneity
        assert robustness_loss(kind, X, 2.5 * E, u=1.0) == pytest.approx(2.5 * a)


def test_duplicated_rows():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    E = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert max_sensitivity(X, E, u=1.0) == pytest.approx(np.sqrt(2) + 1 + np.sqrt(2))
    with pytest.raises(ValueError, match="duplicated rows"):
        local_stability(X, E, u=1.0)


def test_graph_excludes_self_and_is_symmetric():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    g = radius_neighbor_graph(X, 1.0)
    assert not np.any(g.src == g.dst)
    fwd = set(zip(g.src.tolist(), g.dst.tolist()))
    assert fwd == {(j, i) for i, j in fwd}
    lo, hi, a, b = g.undirected()
    assert len(lo) * 2 == g.n_edges
    np.testing.assert_array_equal(g.src[a], lo)
    np.testing.assert_array_equal(g.dst[b], lo)
    np.testing.assert_array_equal(g.src[b], hi)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_metrics_reject_non_finite(bad):
    X = np.zeros((3, 2)) + np.arange(3)[:, None]
    E = np.ones((3, 2))
    E[1, 0] = bad
    with pytest.raises(ValueError, match="explanations contains NaN or infinite"):
        max_sensitivity(X, E, u=1.0)
    with pytest.raises(ValueError, match="gradients contains NaN"):
        faithfulness_loss(E, np.ones((3, 2)))


def test_metrics_reject_bad_shapes_and_radius():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="same shape as X"):
        max_sensitivity(X, np.zeros((4, 2)), u=1.0)
    with pytest.raises(ValueError, match="2-D"):
        max_sensitivity(X, np.zeros(3), u=1.0)
    with pytest.raises(ValueError, match="u must be a positive"):
        max_sensitivity(X, np.zeros((3, 2)), u=0.0)
    with pytest.raises(ValueError, match="metric must be one of"):
        robustness_loss("nope", X, X, u=1.0)


# ----------------------------------------------------------------- agreement
def test_agreement_hand_computed():
    A = np.array([[3.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 2.0, 1.0], [5, 4, 4.0]])
    B = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 5.0], [5.0, 1.0, 0.0], [5, 4, 4.0]])
    res = agreement_rate([A, B])
    # point 0 agrees; 1: A tied {0,1} and B says 2; 2 disagrees; 3 agrees
    np.testing.assert_array_equal(res.agree, [True, False, False, True])
    np.testing.assert_array_equal(res.tied, [False, True, False, False])
    assert res.rate == 0.5 and res.n_tied == 1
    assert res.rate_untied == pytest.approx(2 / 3)
    # tie-tolerant: point 1 cannot agree either (B's top is feature 2)
    assert res.rate_tolerant == 0.5
    assert float(res) == 0.5


def test_agreement_tie_tolerant_resolves_ties():
    A = np.array([[1.0, 1.0 + 1e-9, 0.0]])
    B = np.array([[1.0 + 1e-9, 1.0, 0.0]])
    res = agreement_rate([A, B])
    assert res.rate == 0.0          # the arbitrary argmax differs
    assert res.n_tied == 1
    assert np.isnan(res.rate_untied)
    assert res.rate_tolerant == 1.0  # a common choice exists


def test_agreement_top_k_and_sign():
    A = np.array([[-3.0, 2.0, 1.0, 0.0]])
    B = np.array([[2.0, -3.0, 0.0, 1.0]])
    assert agreement_rate([A, B], top_k=1).rate == 0.0
    assert agreement_rate([A, B], top_k=2).rate == 1.0   # {0, 1} both
    assert agreement_rate([A, B], top_k=3).rate == 0.0
    assert agreement_rate([A, B], top_k=4).rate == 1.0


def test_agreement_tolerant_brute_force():
    """The closed-form tie-tolerant test equals enumeration of top-k sets."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        d, k, m = rng.integers(2, 5), None, rng.integers(2, 4)
        k = int(rng.integers(1, d + 1))
        sets = [rng.integers(0, 3, size=(1, d)).astype(float) for _ in range(m)]
        res = agreement_rate(sets, top_k=k)
        ok = False
        for T in itertools.combinations(range(d), k):
            T = set(T)
            good = True
            for E in sets:
                a = np.abs(E[0])
                inside = min(a[list(T)])
                outside = max([a[j] for j in range(d) if j not in T], default=-1)
                good &= inside >= outside
            ok |= good
        assert res.rate_tolerant == float(ok)


def test_agreement_bad_input():
    with pytest.raises(ValueError, match="at least two"):
        agreement_rate([np.ones((2, 2))])
    with pytest.raises(ValueError, match="shape"):
        agreement_rate([np.ones((2, 2)), np.ones((3, 2))])
    with pytest.raises(ValueError, match="top_k"):
        agreement_rate([np.ones((2, 2))] * 2, top_k=3)


def test_robustness_with_n_neighbors_uses_the_symmetrised_knn_graph():
    # 1-D points 0, 1, 3, 7: nearest neighbours 0->1, 1->0, 3->1, 7->3;
    # symmetrised: 0:{1}, 1:{0, 3}, 3:{1, 7}, 7:{3}
    X = np.array([[0.0], [1.0], [3.0], [7.0]])
    E = np.array([[0.0], [2.0], [3.0], [10.0]])
    per = max_sensitivity(X, E, n_neighbors=1, per_point=True)
    np.testing.assert_allclose(per, [2.0, 2.0, 7.0, 7.0])
    # average sensitivity: means over the same neighbour sets
    np.testing.assert_allclose(average_sensitivity(X, E, n_neighbors=1, per_point=True),
                               [2.0, 1.5, 4.0, 7.0])
    # local stability divides by the distances: |2-0|/1, max(2/1, 1/2), max(1/2, 7/4), 7/4
    np.testing.assert_allclose(local_stability(X, E, n_neighbors=1, per_point=True),
                               [2.0, 2.0, 1.75, 1.75])


@pytest.mark.parametrize("kwargs", [{}, {"u": 1.0, "n_neighbors": 2}])
def test_robustness_needs_exactly_one_neighborhood(kwargs):
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match="exactly one of u"):
        max_sensitivity(X, X, **kwargs)


def test_robustness_rejects_a_graph_of_other_points():
    from skexplain.neighbors import radius_neighbor_graph

    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match="graph has 3 query points but X has 4"):
        max_sensitivity(X, X, graph=radius_neighbor_graph(X[:3], 5.0))
