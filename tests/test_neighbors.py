"""The neighbour graphs behind every robustness loss: radius and kNN graphs,
components, subgraphs, unordered pairs, and the optimiser's distance scale."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from skexplain.neighbors import NeighborGraph, knn_neighbor_graph, radius_neighbor_graph
from skexplain.neighbors._graph import RADIUS_RTOL, unordered_pairs
from skexplain.optimize._problem import distance_scale, scale_graph


def test_radius_graph_equals_brute_force():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(70, 3))
    g = radius_neighbor_graph(X, 0.3)
    d = np.linalg.norm(X[:, None] - X[None], axis=2)
    want = {(i, j) for i in range(70) for j in range(70) if i != j and d[i, j] <= 0.3}
    assert set(zip(g.src.tolist(), g.dst.tolist())) == want
    np.testing.assert_allclose(g.dist, d[g.src, g.dst])
    assert np.all(np.diff(g.src) >= 0)                       # CSR order
    np.testing.assert_array_equal(g.indptr, np.r_[0, np.cumsum(np.bincount(g.src, minlength=70))])
    np.testing.assert_array_equal(g.degree, (d <= 0.3).sum(1) - 1)
    np.testing.assert_array_equal(g.isolated, g.degree == 0)
    assert g.n_queries == g.n_targets == 70 and g.radius == 0.3


def test_radius_graph_keeps_pairs_exactly_u_apart_and_duplicates():
    X = np.array([[0.0], [0.1 + 0.2], [0.3], [5.0], [5.0]])   # 0.30000000000000004 vs 0.3
    g = radius_neighbor_graph(X, 0.3)
    pairs = set(zip(g.src.tolist(), g.dst.tolist()))
    assert {(0, 1), (0, 2), (1, 2)} <= pairs                     # within u (1 + RADIUS_RTOL)
    assert {(3, 4), (4, 3)} <= pairs and g.dist[(g.src == 3) & (g.dst == 4)][0] == 0.0
    assert RADIUS_RTOL <= 1e-8
    with pytest.raises(ValueError, match="u must be a positive"):
        radius_neighbor_graph(X, 0.0)


def test_query_graph_from_new_points():
    X = np.array([[0.0], [1.0], [2.0]])
    Q = np.array([[0.5], [10.0]])
    g = radius_neighbor_graph(X, 0.6, X_query=Q)
    assert g.n_queries == 2 and g.n_targets == 3
    assert g.src.tolist() == [0, 0] and g.dst.tolist() == [0, 1]
    assert g.isolated.tolist() == [False, True]
    nn = NearestNeighbors().fit(X)
    g2 = radius_neighbor_graph(X, 0.6, X_query=Q, nn=nn)
    np.testing.assert_array_equal(g2.dst, g.dst)


def test_unordered_pairs_marks_a_missing_direction():
    src = np.array([0, 1, 1, 2, 3])
    dst = np.array([1, 0, 2, 0, 1])
    lo, hi, a, b = unordered_pairs(src, dst, 4)
    assert list(zip(lo.tolist(), hi.tolist())) == [(0, 1), (0, 2), (1, 2), (1, 3)]
    # edge indices of lo -> hi and hi -> lo, -1 where absent
    assert a.tolist() == [0, -1, 2, -1] and b.tolist() == [1, 3, -1, 4]


@pytest.mark.parametrize("kind", ["csr symmetric", "shuffled", "sorted by src", "any"])
def test_unordered_pairs_match_a_dictionary_of_pairs(kind):
    # the counting-sort route (CSR edge lists, shuffled lists, repeated edges
    # falling back) against a plain dictionary: pair -> last edge each way
    rng = np.random.default_rng(7)
    for _ in range(60):
        n = int(rng.integers(2, 25))
        src, dst = rng.integers(0, n, 50), rng.integers(0, n, 50)
        src, dst = src[src != dst], dst[src != dst]
        if kind == "csr symmetric":
            keys = np.unique(np.r_[src * n + dst, dst * n + src])
            src, dst = keys // n, keys % n
        elif kind == "shuffled":
            keys = rng.permutation(np.unique(src * n + dst))
            src, dst = keys // n, keys % n
        elif kind == "sorted by src":
            order = np.argsort(src, kind="stable")
            src, dst = src[order], dst[order]
        want = {}
        for e, (s_, d_) in enumerate(zip(src.tolist(), dst.tolist())):
            pair = want.setdefault((min(s_, d_), max(s_, d_)), [-1, -1])
            pair[0 if s_ < d_ else 1] = e
        lo, hi, a, b = unordered_pairs(src, dst, n)
        assert list(zip(lo.tolist(), hi.tolist())) == sorted(want)
        assert [[x, y] for x, y in zip(a.tolist(), b.tolist())] == [want[k] for k in sorted(want)]


def test_distance_scale_is_a_power_of_two_near_the_median():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(50, 2))
    for s in (1e-9, 1e-3, 1.0, 7.0, 100.0, 1e6):
        g = radius_neighbor_graph(X * s, 0.3 * s)
        scale = distance_scale(g)
        med = np.median(g.dist)
        assert np.log2(scale) == np.round(np.log2(scale))
        if 1 / 64 <= med <= 64:             # distances of ordinary size are kept
            assert scale == 1.0
        else:
            assert 0.5 <= med / scale <= 2.0
        scaled = scale_graph(g, scale)
        np.testing.assert_array_equal(scaled.dist * scale, g.dist)   # exact: a power of two
        assert scaled.radius == g.radius / scale
    empty = NeighborGraph(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(3, int), 2, 2,
                          1.0)
    assert distance_scale(empty) == 1.0



def test_knn_graph_is_symmetric_and_sparse():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    g = knn_neighbor_graph(X, 3)
    pairs = set(zip(g.src.tolist(), g.dst.tolist()))
    assert all((j, i) in pairs for i, j in pairs)
    assert g.degree.min() >= 3 and np.all(np.diff(g.src) >= 0)
    # every point's 3 nearest are among its neighbours
    from sklearn.neighbors import NearestNeighbors
    idx = NearestNeighbors(n_neighbors=3).fit(X).kneighbors(return_distance=False)
    assert all((i, int(j)) in pairs for i in range(60) for j in idx[i])
    np.testing.assert_allclose(g.dist, np.linalg.norm(X[g.src] - X[g.dst], axis=1))
    with pytest.raises(ValueError, match="n_neighbors"):
        knn_neighbor_graph(X, 60)
    # a duplicated point keeps its zero-distance edge, in both directions
    Xd = np.vstack([X, X[:1]])
    gd = knn_neighbor_graph(Xd, 2)
    zero = gd.dist == 0
    assert set(zip(gd.src[zero].tolist(), gd.dst[zero].tolist())) == {(0, 60), (60, 0)}


def test_knn_query_graph_holds_exactly_the_k_nearest():

    rng = np.random.default_rng(1)
    X, Q = rng.normal(size=(50, 2)), rng.normal(size=(7, 2))
    g = knn_neighbor_graph(X, 5, X_query=Q)
    assert g.n_queries == 7 and g.n_targets == 50 and np.all(g.degree == 5)
    d = np.linalg.norm(Q[:, None] - X[None], axis=2)
    for i in range(7):
        assert set(g.dst[g.src == i].tolist()) == set(np.argsort(d[i])[:5].tolist())
    np.testing.assert_allclose(g.dist, d[g.src, g.dst])
    with pytest.raises(ValueError, match="n_neighbors"):
        knn_neighbor_graph(X, 51, X_query=Q)


def test_components_and_subgraph_by_hand():
    # points 0-1 and 3-4 are pairs, 2 is alone
    X = np.array([[0.0], [0.5], [5.0], [10.0], [10.4]])
    g = radius_neighbor_graph(X, 1.0)
    n, labels = g.components()
    assert n == 3
    np.testing.assert_array_equal(labels, [0, 0, 1, 2, 2])
    sub = g.subgraph(np.array([3, 4]))
    np.testing.assert_array_equal(sub.src, [0, 1])
    np.testing.assert_array_equal(sub.dst, [1, 0])
    np.testing.assert_allclose(sub.dist, [0.4, 0.4])
    np.testing.assert_array_equal(sub.indptr, [0, 1, 2])
    with pytest.raises(ValueError, match="closed under the edges"):
        g.subgraph(np.array([0, 3, 4]))  # misses 1, a neighbour of 0 (not closed)


def test_query_neighbours_by_exact_distance_match_the_tree_and_ignore_other_rows():
    from skexplain.neighbors import _graph

    rng = np.random.default_rng(3)
    X, Q = rng.normal(size=(500, 6)), rng.normal(size=(300, 6))
    brute = knn_neighbor_graph(X, 7, X_query=Q)
    assert X.size <= _graph.BRUTE_QUERY_MAX               # the brute-force path ran
    # independent reference: all pairwise exact distances, sorted with ties by index
    D = np.sqrt(((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    ref = np.argsort(D, axis=1, kind="stable")[:, :7]
    np.testing.assert_array_equal(brute.dst.reshape(300, 7), np.sort(ref, axis=1))
    np.testing.assert_allclose(brute.dist, D[np.repeat(np.arange(300), 7), brute.dst],
                               rtol=1e-12)
    # a grid full of exact ties: more tied candidates than the margin, so the
    # exhaustive path decides, by index; a row's answer ignores the other rows
    grid = np.array(np.meshgrid(*[np.arange(4.0)] * 3)).reshape(3, -1).T
    Qg = grid[:16] + 0.5
    whole = knn_neighbor_graph(grid, 5, X_query=Qg).dst.reshape(16, 5)
    for a, b in ((0, 1), (3, 9), (15, 16)):
        part = knn_neighbor_graph(grid, 5, X_query=Qg[a:b]).dst.reshape(b - a, 5)
        np.testing.assert_array_equal(part, whole[a:b])
    Dg = np.sqrt(((Qg[:, None, :] - grid[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(whole, np.sort(np.argsort(Dg, 1, kind="stable")[:, :5], 1))


def test_tree_neighbours_are_the_k_smallest_distance_index_pairs():
    # scipy's k-d tree path (a self graph, and queries against a training
    # set above BRUTE_QUERY_MAX): on a grid full of exact ties and duplicated
    # rows, each row gets the k smallest (distance, index) pairs, whatever
    # the order of the rows
    from skexplain.neighbors import _graph

    grid = np.array(np.meshgrid(*[np.arange(5.0)] * 3)).reshape(3, -1).T
    X = np.vstack([grid, grid[:7]])                       # 7 duplicated rows
    n, k = len(X), 6
    D = np.sqrt(((X[:, None, :] - X[None]) ** 2).sum(-1))
    D[np.arange(n), np.arange(n)] = np.inf                # a row is not its own neighbour
    ref = np.argsort(D, axis=1, kind="stable")[:, :k]     # ties by index
    pairs = {(i, int(j)) for i in range(n) for j in ref[i]}
    pairs |= {(j, i) for i, j in pairs}                   # symmetrised
    g = knn_neighbor_graph(X, k)
    assert set(zip(g.src.tolist(), g.dst.tolist())) == pairs
    # without ties, permuting the rows permutes the graph (with ties the
    # index decides, so the order of the rows matters there by definition)
    Xc = np.random.default_rng(0).normal(size=(300, 4))
    gc = knn_neighbor_graph(Xc, k)
    perm = np.random.default_rng(0).permutation(300)
    gp = knn_neighbor_graph(Xc[perm], k)
    assert ({(int(perm[i]), int(perm[j])) for i, j in zip(gp.src, gp.dst)}
            == set(zip(gc.src.tolist(), gc.dst.tolist())))
    # queries by the tree (the brute-force limit lowered for the test)
    Q = grid[:20] + 0.5
    DQ = np.sqrt(((Q[:, None, :] - X[None]) ** 2).sum(-1))
    refq = np.sort(np.argsort(DQ, axis=1, kind="stable")[:, :k], axis=1)
    old = _graph.BRUTE_QUERY_MAX
    try:
        _graph.BRUTE_QUERY_MAX = 0
        gq = knn_neighbor_graph(X, k, X_query=Q)
        part = knn_neighbor_graph(X, k, X_query=Q[5:6])
    finally:
        _graph.BRUTE_QUERY_MAX = old
    np.testing.assert_array_equal(gq.dst.reshape(20, k), refq)
    np.testing.assert_array_equal(part.dst, refq[5])


def test_tree_graph_matches_scikit_learn_on_continuous_data():
    X = np.random.default_rng(4).normal(size=(2000, 8))
    g = knn_neighbor_graph(X, 10, n_jobs=2)
    idx = NearestNeighbors(n_neighbors=10).fit(X).kneighbors(return_distance=False)
    pairs = {(i, int(j)) for i in range(len(X)) for j in idx[i]}
    pairs |= {(j, i) for i, j in pairs}
    assert set(zip(g.src.tolist(), g.dst.tolist())) == pairs


def test_a_radius_whose_graph_cannot_fit_is_refused_before_the_search():
    from skexplain import OptimizedExplainer

    X = np.random.default_rng(1).uniform(-1, 1, size=(20000, 2))
    # all 4e8 pairs: refused with the estimate and the way out, not built
    with pytest.raises(ValueError, match=r"about 4e\+08 neighbour pairs.*n_neighbors=10"):
        OptimizedExplainer(u=100.0).fit(X, np.cos(X))
    with pytest.raises(ValueError, match="over the 8.0 GiB limit"):
        radius_neighbor_graph(X, 3.0, memory_limit=8 * 2 ** 30)
    # the estimate (counts on 1,000 evenly spaced points) is close to the truth
    small = X[:3000]
    true_edges = radius_neighbor_graph(small, 0.2, memory_limit=None).n_edges
    per_edge = 64 + 24 * 2
    with pytest.raises(ValueError) as info:
        radius_neighbor_graph(small, 0.2, memory_limit=int(0.5 * true_edges * per_edge))
    estimate = float(str(info.value).split("about ")[1].split(" neighbour")[0])
    assert abs(estimate - true_edges) <= 0.1 * true_edges
    # under the limit nothing changes
    ok = radius_neighbor_graph(small, 0.2, memory_limit=int(2 * true_edges * per_edge))
    assert ok.n_edges == true_edges
    with pytest.raises(ValueError, match="memory_limit must be"):
        radius_neighbor_graph(small, 0.2, memory_limit=-1)


@pytest.mark.parametrize("eps", [0.35, 1.0, 3.0])
def test_approximate_tree_search_keeps_scipys_distance_guarantee(eps):
    # eps > 0: each row's k-th neighbour is at most (1 + eps) times farther
    # than its true k-th nearest point; the distances returned are the true
    # distances of the indices returned, and the row is never its own neighbour
    from skexplain.neighbors._graph import _query_by_tree

    rng = np.random.default_rng(1)
    X = rng.standard_normal((1500, 6))
    k = 7
    dist, idx = _query_by_tree(X, None, k, eps=eps)
    D = np.linalg.norm(X[:, None] - X[None], axis=2)
    np.fill_diagonal(D, np.inf)
    true_k = np.sort(D, axis=1)[:, k - 1]
    assert np.all(dist[:, k - 1] <= (1 + eps) * true_k * (1 + 1e-12))
    np.testing.assert_allclose(dist, np.take_along_axis(D, idx, 1), rtol=1e-12)
    assert not np.any(idx == np.arange(1500)[:, None])
    assert all(len(set(r)) == k for r in idx.tolist())
    exact = np.argsort(D, axis=1, kind="stable")[:, :k]
    missed = np.mean([len(set(a) - set(b)) for a, b in zip(exact.tolist(), idx.tolist())])
    if eps >= 1.0:
        assert missed > 0             # the option is really approximate at this eps


def test_approximate_knn_graph_is_symmetric_holds_each_rows_list_and_ignores_other_rows(
        monkeypatch):
    import skexplain.neighbors._graph as graph_module

    rng = np.random.default_rng(2)
    X = rng.standard_normal((800, 5))
    g = knn_neighbor_graph(X, 6, eps=2.0)
    pairs = set(zip(g.src.tolist(), g.dst.tolist()))
    assert pairs == {(j, i) for i, j in pairs}
    _, idx = graph_module._query_by_tree(X, None, 6, eps=2.0)
    assert {(i, int(j)) for i in range(800) for j in idx[i]} <= pairs
    assert g.degree.min() >= 6
    # new points through the tree: a row's neighbours do not depend on the others
    monkeypatch.setattr(graph_module, "BRUTE_QUERY_MAX", 0)
    Q = rng.standard_normal((300, 5))
    full = knn_neighbor_graph(X, 4, X_query=Q, eps=2.0)
    part = knn_neighbor_graph(X, 4, X_query=Q[::-3], eps=2.0)
    np.testing.assert_array_equal(part.dst.reshape(-1, 4), full.dst.reshape(-1, 4)[::-3])
    assert not np.array_equal(full.dst, knn_neighbor_graph(X, 4, X_query=Q).dst)


@pytest.mark.parametrize("bad", [-0.1, np.nan, np.inf, "0.3", True])
def test_bad_knn_eps_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="knn_eps"):
        knn_neighbor_graph(np.eye(4), 2, eps=bad)


def test_knn_eps_reaches_fit_transform_and_the_path(monkeypatch):
    import skexplain.neighbors._graph as graph_module
    import skexplain.optimize._explainer as explainer_module
    from skexplain import OptimizedExplainer, explanation_path
    from skexplain.losses import MaxSensitivity

    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 4))
    G = np.sin(X) + X[:, ::-1]
    est = OptimizedExplainer(n_neighbors=5, knn_eps=3.0, solver="PDHG").fit(X, G)
    approx = knn_neighbor_graph(X, 5, eps=3.0)
    np.testing.assert_array_equal(est.graph_.dst, approx.dst)
    assert not np.array_equal(approx.dst, knn_neighbor_graph(X, 5).dst)
    path = explanation_path(X, G, [0.0], n_neighbors=5, knn_eps=3.0)
    np.testing.assert_allclose(path.robustness_loss[0], MaxSensitivity().value(approx, G))
    # transform asks the tree with the same eps
    seen = []
    real = explainer_module.knn_neighbor_graph

    def spy(*args, **kwargs):
        seen.append(kwargs.get("eps"))
        return real(*args, **kwargs)

    monkeypatch.setattr(explainer_module, "knn_neighbor_graph", spy)
    monkeypatch.setattr(graph_module, "BRUTE_QUERY_MAX", 0)
    est.transform(X[:7] + 0.01, grad_fn=G[:7])
    assert seen == [3.0]
    with pytest.raises(ValueError, match="knn_eps"):
        OptimizedExplainer(u=1.0, knn_eps=0.5).fit(X, G)
    with pytest.raises(ValueError, match="knn_eps"):
        explanation_path(X, G, [0.1], u=1.0, knn_eps=0.5)


def test_scikit_learn_index_is_fitted_for_a_radius_only():
    from skexplain import OptimizedExplainer

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    G = np.sin(X)
    radius = OptimizedExplainer(u=1.0, eta_frac=0.3).fit(X, G)
    assert radius.neighbors_.n_samples_fit_ == 40
    knn = OptimizedExplainer(n_neighbors=4, eta_frac=0.3).fit(X, G)
    assert knn.neighbors_ is None
    # transform works without it: a training point with its own gradient gets
    # its fitted explanation back (radius route too)
    for est in (radius, knn):
        np.testing.assert_array_equal(est.transform(X[:5], grad_fn=G[:5]),
                                      est.explanations_[:5])
