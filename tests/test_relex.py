"""RelEx, PGD attacks and the mask-evaluation metrics (issue 5)."""

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

from skexplain.attacks import pgd_attack
from skexplain.explainers import RelEx
from skexplain.metrics import (
    class_retrieval_rate,
    deletion_auc,
    normalize_saliency,
    preservation_auc,
    relevance_score,
    spearman_similarity,
    topk_intersection,
)
from skexplain.models import FunctionModel

W = np.array([3.0, 3.0, 0.0, 0.0, 0.0, 0.0])   # only features 0 and 1 matter
B = -6.0


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def proba(X):
    """Two-class logistic model: columns P(class 0), P(class 1)."""
    p1 = _sigmoid(X @ W + B)
    return np.c_[1.0 - p1, p1]


def jacobian(X):
    p1 = _sigmoid(X @ W + B)
    g1 = (p1 * (1 - p1))[:, None] * W
    return np.stack([-g1, g1], axis=1)             # (n, 2, d)


MODEL = FunctionModel(predict=proba, gradient=jacobian)
RNG = np.random.default_rng(0)
X1 = RNG.uniform(1.2, 2.0, size=(12, 6))           # all predicted class 1


# ------------------------------------------------------------------ RelEx
def test_relex_puts_its_mass_on_the_relevant_features():
    assert np.all(proba(X1)[:, 1] > 0.5)
    M = RelEx(MODEL, n_noise=30, random_state=0).fit(X1).transform(X1)
    share = M[:, :2].sum(axis=1) / M.sum(axis=1)
    assert np.all(share > 0.9), share
    # and the masked input keeps the class
    assert class_retrieval_rate(MODEL, X1, M, np.ones(12, dtype=int)) == 1.0


def test_relex_gradient_matches_finite_differences_of_its_objective():
    r = RelEx(MODEL, n_noise=7, lambda_l1=0.3, lambda_bg=0.7, random_state=1).fit(X1)
    cols = np.ones(3, dtype=np.intp)
    Xi = r._noisy(X1[:3], 0)
    M = RNG.uniform(0.2, 0.8, size=(3, 6))          # interior: |m| is differentiable
    _, grad = r._objective(M, Xi, cols)
    h = 1e-6
    fd = np.empty_like(M)
    for j in range(6):
        E = np.zeros_like(M)
        E[:, j] = h
        fd[:, j] = (r._objective(M + E, Xi, cols, gradient=False)[0]
                    - r._objective(M - E, Xi, cols, gradient=False)[0]) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


def test_relex_objective_by_hand():
    r = RelEx(MODEL, n_noise=4, lambda_l1=0.5, lambda_bg=2.0, random_state=0).fit(X1)
    Xi = r._noisy(X1[:1], 0)
    m = np.full((1, 6), 0.25)
    loss, _ = r._objective(m, Xi, np.array([1]))
    p = proba(0.25 * Xi[0])[:, 1]
    q = proba(0.75 * Xi[0])[:, 1]
    expected = (-np.mean(np.log(p + 1e-7)) + 0.5 * 1.5
                - 2.0 * np.mean(np.log(1 - q + 1e-7)))
    assert loss[0] == pytest.approx(expected, rel=1e-12)
    # noise scale: 0.1 of the point's range
    sigma = 0.1 * (X1[0].max() - X1[0].min())
    assert np.std(r._noisy(np.repeat(X1[:1], 1, 0), 0)[0] - X1[0]) < 3 * sigma


def test_relex_loss_decreases_and_masks_stay_in_the_unit_box():
    fixed = RelEx(MODEL, n_noise=20, resample_noise=False, random_state=0).fit(X1)
    M, H = fixed.optimize(X1)
    assert H.shape == (12, 51)
    assert np.all(H[:, -1] < H[:, 0])
    assert np.all(H[:, -1] <= H.min(axis=1) + 0.05 * (H[:, 0] - H.min(axis=1)))
    noisy = RelEx(MODEL, n_noise=20, random_state=0).fit(X1)
    _, Hn = noisy.optimize(X1)
    assert Hn[:, -5:].mean() < Hn[:, :5].mean()
    # a huge step slams masks onto the box's faces: still inside [0, 1]
    big = RelEx(MODEL, n_noise=5, learning_rate=50.0, random_state=0).fit(X1).transform(X1)
    assert big.min() == 0.0 and big.max() == 1.0
    assert np.all((big >= 0) & (big <= 1))
    np.testing.assert_array_equal(M, fixed.transform(X1))   # optimize == transform


def test_relex_with_saturated_probabilities_never_takes_log_zero():
    def hard(X):   # probabilities exactly 0 and 1
        p1 = (X[:, 0] > 1.0).astype(float)
        return np.c_[1 - p1, p1]
    model = FunctionModel(predict=hard, gradient=lambda X: np.zeros((len(X), 2, X.shape[1])))
    M, H = RelEx(model, n_noise=5, n_iter=5, random_state=0).fit(X1).optimize(X1)
    assert np.all(np.isfinite(H)) and np.all(np.isfinite(M))


def test_relex_is_deterministic_and_independent_of_batching_and_n_jobs():
    r = RelEx(MODEL, n_noise=10, n_iter=10, random_state=3).fit(X1)
    full = r.transform(X1)
    np.testing.assert_array_equal(r.transform(X1), full)
    np.testing.assert_array_equal(r.set_params(batch_size=20).transform(X1), full)
    np.testing.assert_array_equal(r.set_params(n_jobs=2).transform(X1[::-1])[::-1], full)


def test_relex_needs_probabilities():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        RelEx(lambda X: np.c_[X[:, 0], -X[:, 0]], n_noise=3, n_iter=2).fit(X1).transform(X1)


def test_relex_with_a_sklearn_mlp_uses_exact_gradients():
    from sklearn.neural_network import MLPClassifier
    X = RNG.normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=400, random_state=0).fit(X, y)
    r = RelEx(mlp, n_noise=5, n_iter=5, lambda_bg=0.5, random_state=0).fit(X)
    assert r.model_.exact_gradient
    # the exact MLP gradient drives the objective's gradient: check it by FD
    cols = r.model_.resolve_target("predicted", X[:3])
    Xi = r._noisy(X[:3], 0)
    M = RNG.uniform(0.2, 0.8, size=(3, 4))
    _, grad = r._objective(M, Xi, cols)
    h = 1e-6
    for j in range(4):
        E = np.zeros_like(M)
        E[:, j] = h
        fd = (r._objective(M + E, Xi, cols, gradient=False)[0]
              - r._objective(M - E, Xi, cols, gradient=False)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-7)


# -------------------------------------------------------------------- PGD
def test_pgd_on_a_linear_model_reaches_the_closed_form_corner():
    # for a linear logit the worst case in the eps-ball is x - eps sign(w) (l_inf)
    # or x - eps w / ||w|| (l2); PGD ends exactly there for class-1 points
    X = X1[:5]
    y = np.ones(5, dtype=int)
    eps = 0.2
    inf = pgd_attack(MODEL, X, y, eps, n_iter=30, random_start=False)
    expected = X - eps * np.sign(W)    # features with w = 0 do not move
    np.testing.assert_allclose(inf, expected, atol=1e-12)
    l2 = pgd_attack(MODEL, X, y, eps, norm="l2", n_iter=60, random_start=False)
    np.testing.assert_allclose(l2[:, :2], X[:, :2] - eps * W[:2] / np.linalg.norm(W), atol=1e-9)
    assert np.all(np.linalg.norm(l2 - X, axis=1) <= eps * (1 + 1e-12))


def test_pgd_stays_in_the_ball_and_clip_and_lowers_the_true_class():
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, size=(150, 5))
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.5)
    clf = LogisticRegression().fit(X, y)
    for norm in ("inf", "l2"):
        Xa = pgd_attack(clf, X, y, 0.15, norm=norm, clip=(0, 1), random_state=0)
        dist = np.abs(Xa - X).max(1) if norm == "inf" else np.linalg.norm(Xa - X, axis=1)
        assert np.all(dist <= 0.15 * (1 + 1e-12))
        assert Xa.min() >= 0 and Xa.max() <= 1
        p_clean = clf.predict_proba(X)[np.arange(150), y]
        p_adv = clf.predict_proba(Xa)[np.arange(150), y]
        # -log f_y is convex in x for a linear softmax: the local maximum PGD
        # finds (a vertex of the box for l_inf) can sit below the centre for a
        # few middle-class points, so "almost all", not "all"
        assert np.mean(p_adv < p_clean) > 0.95
        assert p_adv.mean() < p_clean.mean() - 0.05
    # targeted: the target class becomes more probable
    Xt = pgd_attack(clf, X, y, 0.3, target=2, random_state=0)
    assert clf.predict_proba(Xt)[:, 2].mean() > clf.predict_proba(X)[:, 2].mean() + 0.05
    # same random_state, same attack; eps = 0 returns the points
    np.testing.assert_array_equal(pgd_attack(clf, X, y, 0.1, random_state=4),
                                  pgd_attack(clf, X, y, 0.1, random_state=4))
    np.testing.assert_array_equal(pgd_attack(clf, X, y, 0.0), X)


@pytest.mark.parametrize("kwargs, match", [
    (dict(eps=-1.0), "eps must be"), (dict(eps=0.1, norm="l1"), "norm must be"),
    (dict(eps=0.1, n_iter=0), "n_iter must be"), (dict(eps=0.1, clip=(1, 0)), "clip must be"),
])
def test_pgd_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pgd_attack(MODEL, X1, np.ones(12, dtype=int), **kwargs)
    with pytest.raises(ValueError, match="y must have shape"):
        pgd_attack(MODEL, X1, np.ones(3, dtype=int), 0.1)


# ---------------------------------------------------------------- metrics
def _mean_model(X):
    """P(class 0) = mean of the features (in [0, 1] here)."""
    m = X.mean(axis=1)
    return np.c_[m, 1 - m]


def test_deletion_and_preservation_by_hand():
    X = np.array([[0.9, 0.6, 0.3]])
    S = np.array([[3.0, 2.0, 1.0]])     # order 0, 1, 2 (descending)
    # deletion curve: means of (.9,.6,.3), (0,.6,.3), (0,0,.3), (0,0,0) = .6, .3, .1, 0
    d = deletion_auc(_mean_model, X, S, labels=[0])
    assert d == pytest.approx((0.6 + 0.3) / 6 + (0.3 + 0.1) / 6 + (0.1 + 0.0) / 6)
    # preservation removes 2 first: .6, .5, .3, 0
    p = preservation_auc(_mean_model, X, S, labels=[0])
    assert p == pytest.approx((0.6 + 0.5) / 6 + (0.5 + 0.3) / 6 + (0.3 + 0.0) / 6)
    # baseline 1 instead of 0, and 1 step (all features at once): trapezoid of .6 and 1
    assert deletion_auc(_mean_model, X, S, labels=[0], baseline=1.0, n_steps=1) == \
        pytest.approx(0.8)
    auc, frac, curves = deletion_auc(_mean_model, X, S, labels=[0], return_curves=True)
    np.testing.assert_allclose(frac, [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(curves, [[0.6, 0.3, 0.1, 0.0]])
    # "predicted" tracks the class of the intact x (class 0 here: mean .6 > .4)
    assert deletion_auc(_mean_model, X, S) == pytest.approx(d)
    assert relevance_score(d, p) == pytest.approx(2 * p * (1 - d) / (p + 1 - d))
    assert relevance_score(0.3, 0.0) == 0.0


def test_rank_similarities_and_retrieval_by_hand():
    A = RNG.normal(size=(6, 9))
    B = A + RNG.normal(scale=0.5, size=A.shape)
    rho = spearman_similarity(A, B, per_point=True)
    ref = [stats.spearmanr(a, b).statistic for a, b in zip(A, B)]
    np.testing.assert_allclose(rho, ref)
    assert np.isnan(spearman_similarity([[1.0, 1.0]], [[1.0, 2.0]]))
    assert topk_intersection([[5, 4, 3, 2, 1]], [[1, 4, 3, 5, 2]], k=3, normalize=False) == 2
    # masks that keep feature 0 or drop it
    X = np.array([[0.9, 0.1], [0.9, 0.1]])
    M = np.array([[1.0, 1.0], [0.0, 1.0]])
    assert class_retrieval_rate(_mean_model, X, M, [1, 1], per_point=True).tolist() == \
        [False, True]
    np.testing.assert_allclose(normalize_saliency([[-4.0, 2.0, 0.0, 1.0]], percentile=100),
                               [[1.0, 0.5, 0.0, 0.25]])
    np.testing.assert_array_equal(normalize_saliency(np.zeros((1, 3))), np.zeros((1, 3)))


def test_metric_errors():
    with pytest.raises(ValueError, match="n_steps"):
        deletion_auc(_mean_model, X1[:, :3] / 3, X1[:, :3], n_steps=5)
    with pytest.raises(ValueError, match="k must be"):
        topk_intersection(X1, X1, k=0)
    with pytest.raises(ValueError, match="labels contains"):
        class_retrieval_rate(LogisticRegression().fit(X1, [0, 1] * 6), X1, X1, [7] * 12)


# ----------------------------------------------------------- reproduction
def test_digits_reproduction_small_run():
    from skexplain.reproduction import run_relex
    res = run_relex(eps=(0.2,), n_points=15, n_noise=10, n_iter=20,
                    methods=["RelEx", "Gradient"])
    assert res["accuracy"] > 0.9
    clean = {r["method"]: r for r in res["clean"]}
    attack = {r["method"]: r for r in res["attack"]}
    # the attack works on the model ...
    assert attack["RelEx"]["model_accuracy"] < 0.5
    # ... RelEx's clean masks carry over to the adversarial digits, the gradient's do not
    assert attack["RelEx"]["retrieval_clean_mask"] >= 0.9
    assert attack["Gradient"]["retrieval_clean_mask"] < attack["RelEx"]["retrieval_clean_mask"]
    # explaining the class the model predicts on x_adv: the mask follows the model
    assert attack["RelEx"]["retrieval_predicted"] <= attack["RelEx"]["model_accuracy"] + 0.2
    # RelEx's masks are sharper: lower deletion, higher preservation than the gradient
    assert clean["RelEx"]["deletion"] < clean["Gradient"]["deletion"]
    assert clean["RelEx"]["preservation"] > clean["Gradient"]["preservation"]
    assert set(res["X_adv"]) == {0.2} and res["masks"]["RelEx"].shape == res["X"].shape
