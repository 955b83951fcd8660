"""Perturbation metrics: closed forms, the published identities, peers' definitions."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skexplain.explainers import GradientXInput, IntegratedGradients
from skexplain.metrics import (
    comprehensiveness,
    faithfulness_correlation,
    infidelity,
    perturbation_sensitivity,
    relative_input_stability,
    relative_output_stability,
    sufficiency,
)
from skexplain.models import FunctionModel


def quadratic(Z):
    return (Z ** 2).sum(axis=1) + Z[:, 0] * Z[:, 1]


def quadratic_grad(Z):
    G = 2 * Z
    G[:, 0] += Z[:, 1]
    G[:, 1] += Z[:, 0]
    return G


@pytest.fixture
def points():
    return np.random.default_rng(0).normal(size=(6, 4))


# ------------------------------------------------------------ sensitivity
def test_sensitivity_of_a_linear_explainer_is_its_noise_norm(points):
    # phi(x) = 3x: phi(x + d) - phi(x) = 3 d, so the per-sample value is
    # 3 ||d||; the noise is the seeded RandomState's stream, drawn again here
    phi = lambda X: 3.0 * X                                  # noqa: E731
    got = perturbation_sensitivity(phi, points, normalize=False, per_point=True,
                                   random_state=0)
    rng = np.random.RandomState(0)
    D = rng.uniform(-0.2, 0.2, size=(6, 200, 4))
    want_max = (3 * np.linalg.norm(D, axis=2)).max(axis=1)
    want_mean = (3 * np.linalg.norm(D, axis=2)).mean(axis=1)
    np.testing.assert_allclose(got, want_max, rtol=1e-12)
    got = perturbation_sensitivity(phi, points, reduce="mean", normalize=False, per_point=True,
                                   random_state=0)
    np.testing.assert_allclose(got, want_mean, rtol=1e-12)
    # normalised by ||phi(x)|| = 3 ||x||
    got = perturbation_sensitivity(phi, points, per_point=True, random_state=0)
    np.testing.assert_allclose(got, want_max / (3 * np.linalg.norm(points, axis=1)), rtol=1e-12)
    # every sample lies in the cube: at most 3 * 0.2 sqrt(d)
    assert np.all(want_max <= 3 * 0.2 * 2 + 1e-12)


def test_sensitivity_is_independent_of_batch_size_and_refuses_bad_input(points):
    phi = lambda X: np.sin(X)                                # noqa: E731
    a = perturbation_sensitivity(phi, points, random_state=3, per_point=True)
    calls = []

    def counted(X):
        calls.append(len(X))
        return np.sin(X)

    b = perturbation_sensitivity(counted, points, random_state=3, per_point=True, batch_size=50)
    np.testing.assert_array_equal(a, b)
    assert max(calls) <= 50
    with pytest.raises(ValueError, match="reduce"):
        perturbation_sensitivity(phi, points, reduce="median")
    with pytest.raises(ValueError, match="noise"):
        perturbation_sensitivity(phi, points, noise="laplace")
    with pytest.raises(ValueError, match="radius"):
        perturbation_sensitivity(phi, points, radius=0)
    with pytest.raises(ValueError, match="n_samples"):
        perturbation_sensitivity(phi, points, n_samples=0)
    with pytest.raises(ValueError, match="batch_size"):
        perturbation_sensitivity(phi, points, batch_size=0)


def test_zero_explanation_is_divided_by_one_as_captum_does():
    phi = lambda X: X - 1.0                                  # noqa: E731  zero at x = 1
    X = np.ones((1, 3))
    a = perturbation_sensitivity(phi, X, random_state=0)
    b = perturbation_sensitivity(phi, X, normalize=False, random_state=0)
    assert a == b and np.isfinite(a)


# ------------------------------------------------------------ RIS / ROS
def test_relative_input_stability_closed_forms(points):
    # phi = x: the relative changes of phi and of x are equal -> 1
    assert relative_input_stability(lambda X: X.copy(), points, random_state=0) \
        == pytest.approx(1.0, rel=1e-12)
    # phi = 5 x + 0: still 1 (relative change is scale-free)
    assert relative_input_stability(lambda X: 5 * X, points, random_state=0) \
        == pytest.approx(1.0, rel=1e-12)
    # a constant explanation never changes -> 0
    assert relative_input_stability(lambda X: np.ones_like(X), points, random_state=0) == 0.0
    # by hand for one point and one sample: phi(x) = x^2 elementwise
    x = np.array([[1.0, 2.0]])
    rng = np.random.RandomState(1)
    z = x + rng.uniform(-0.2, 0.2, size=(1, 1, 2))[0]
    num = np.linalg.norm((x ** 2 - z ** 2) / x ** 2)
    den = np.linalg.norm((x - z) / x)
    got = relative_input_stability(lambda X: X ** 2, x, n_samples=1, random_state=1)
    assert got == pytest.approx(num / den, rel=1e-12)


def test_relative_stability_skips_perturbations_that_change_the_class():
    # class = sign of x0; a point at x0 = 0.05 flips for about 3/8 of the noise
    h = lambda X: np.c_[X[:, 0], -X[:, 0]]                  # noqa: E731
    X = np.array([[0.05, 1.0], [2.0, 1.0]])
    phi = lambda X: X ** 3                                   # noqa: E731
    rng = np.random.RandomState(0)
    Z = X[:, None, :] + rng.uniform(-0.2, 0.2, size=(2, 200, 2))
    keep = Z[..., 0] > 0
    E, Ez = X ** 3, Z ** 3
    num = np.linalg.norm((E[:, None] - Ez) / E[:, None], axis=2)
    den = np.linalg.norm((X[:, None] - Z) / X[:, None], axis=2)
    want = np.where(keep, num / den, -np.inf).max(axis=1)
    got = relative_input_stability(phi, X, model=h, per_point=True, random_state=0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert 0 < keep[0].mean() < 1
    # ROS: denominator ||h(x) - h(z)|| = sqrt(2) |x0 - z0|
    dh = np.sqrt(2) * np.abs(X[:, None, 0] - Z[..., 0])
    want = np.where(keep, num / dh, -np.inf).max(axis=1)
    got = relative_output_stability(phi, h, X, per_point=True, random_state=0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # every perturbation flips (class 0 only at the point itself): nan with
    # a warning, not a silent number
    x = np.array([[0.5, 1.0]])
    only_x = lambda Z: np.c_[np.all(Z == x, axis=1) * 2.0 - 1.0, np.zeros(len(Z))]  # noqa: E731
    with pytest.warns(RuntimeWarning, match="changed the model's prediction"):
        out = relative_input_stability(phi, x, model=only_x, per_point=True, random_state=0,
                                       n_samples=5)
    assert np.isnan(out[0])


# ------------------------------------------------------------ infidelity
def test_infidelity_with_the_baseline_is_the_squared_completeness_gap(points):
    cubic = lambda Z: (Z ** 3).sum(axis=1) + Z[:, 0] * Z[:, 1]       # noqa: E731
    f = FunctionModel(cubic, gradient=lambda Z: 3 * Z ** 2 + np.c_[Z[:, 1], Z[:, 0],
                                                                   np.zeros((len(Z), 2))])
    ig = IntegratedGradients(model=f, n_steps=4).fit(points)
    A = ig.transform(points)
    gap = A.sum(axis=1) - (cubic(points) - cubic(np.zeros_like(points)))
    got = infidelity(f, points, A, perturbation="baseline", multiply_by_inputs=True,
                     per_point=True)
    np.testing.assert_allclose(got, gap ** 2, rtol=1e-10, atol=1e-24)
    assert got.max() > 1e-8                  # a coarse IG leaves a gap to see


def test_infidelity_is_zero_for_exact_attributions(points):
    w = np.array([1.0, -2.0, 0.5, 3.0])
    lin = lambda Z: Z @ w + 1.0                              # noqa: E731
    G = np.tile(w, (len(points), 1))
    for kind in ("gaussian", "uniform", "subset"):
        assert infidelity(lin, points, G, perturbation=kind, random_state=0) < 1e-25
    # sensitivity-n: Gradient x Input removes exactly the masked terms
    GxI = GradientXInput(model=FunctionModel(lin, gradient=lambda Z: np.tile(w, (len(Z), 1))))
    A = GxI.fit(points).transform(points)
    assert infidelity(lin, points, A, perturbation="subset", multiply_by_inputs=True,
                      random_state=0) < 1e-25
    # ... but read as a gradient it is wrong
    assert infidelity(lin, points, A, perturbation="subset", random_state=0) > 1e-2


def test_normalised_infidelity_ignores_the_attribution_scale(points):
    A = quadratic_grad(points) + 0.3
    a = infidelity(quadratic, points, A, normalize=True, random_state=2, per_point=True)
    b = infidelity(quadratic, points, 100 * A, normalize=True, random_state=2, per_point=True)
    np.testing.assert_allclose(a, b, rtol=1e-9)
    c = infidelity(quadratic, points, 100 * A, random_state=2, per_point=True)
    assert np.all(c > 10 * a)
    # the optimal scale can only help
    d = infidelity(quadratic, points, A, random_state=2, per_point=True)
    assert np.all(a <= d + 1e-15)
    with pytest.raises(ValueError, match="multiply_by_inputs"):
        infidelity(quadratic, points, A, multiply_by_inputs=True)
    with pytest.raises(ValueError, match="perturbation"):
        infidelity(quadratic, points, A, perturbation="patch")


# ------------------------------------------------------------ faithfulness correlation
def test_faithfulness_correlation_by_hand():
    w = np.array([3.0, -1.0, 2.0, 0.5, 1.5, -2.0, 0.1, 4.0])
    lin = lambda Z: Z @ w                                    # noqa: E731
    X = np.random.default_rng(1).normal(size=(5, 8))
    # exact attributions of a linear model (x - 0) * w: correlation 1
    assert faithfulness_correlation(lin, X, X * w, random_state=0) == pytest.approx(1.0)
    # reversed: -1
    assert faithfulness_correlation(lin, X, -X * w, random_state=0) == pytest.approx(-1.0)
    # by hand for one point: the same subsets from the same stream
    rng = np.random.RandomState(4)
    order = np.argsort(rng.random((1, 30, 8)), axis=2)[..., :2]
    A = np.abs(X[:1]) + 1.0
    mass = np.take_along_axis(np.broadcast_to(A[:, None], (1, 30, 8)), order, 2).sum(2)[0]
    drop = np.take_along_axis(np.broadcast_to((X[:1] * w)[:, None], (1, 30, 8)), order,
                              2).sum(2)[0]
    want = np.corrcoef(mass, drop)[0, 1]
    got = faithfulness_correlation(lin, X[:1], A, n_subsets=30, subset_size=2, random_state=4)
    assert got == pytest.approx(want, rel=1e-12)
    with pytest.warns(RuntimeWarning, match="constant"):
        out = faithfulness_correlation(lambda Z: np.zeros(len(Z)), X, A.repeat(5, 0),
                                       per_point=True, random_state=0)
    assert np.all(np.isnan(out))
    with pytest.raises(ValueError, match="subset_size"):
        faithfulness_correlation(lin, X, X, subset_size=9)


# ------------------------------------------------------------ ERASER
def test_comprehensiveness_and_sufficiency_by_hand():
    w = np.array([4.0, 1.0, -2.0, 0.5])
    f = lambda Z: Z @ w                                      # noqa: E731
    X = np.ones((1, 4))
    A = np.array([[4.0, 1.0, -2.0, 0.5]])                  # order: 0, 1, 3, 2
    # k = 1, 2 (fractions 0.25, 0.5): removing top-1 drops 4, top-2 drops 5
    assert comprehensiveness(f, X, A, fractions=[0.25, 0.5]) == pytest.approx((4 + 5) / 2)
    # keeping only top-1: f = 4 of f(x) = 3.5 -> drop -0.5; top-2: 5 -> -1.5
    assert sufficiency(f, X, A, fractions=[0.25, 0.5]) == pytest.approx((-0.5 - 1.5) / 2)
    # a better ranking is more comprehensive than a worse one
    worse = A[:, ::-1].copy()
    assert comprehensiveness(f, X, A, fractions=[0.25]) > comprehensiveness(
        f, X, worse, fractions=[0.25])
    with pytest.raises(ValueError, match="fractions"):
        comprehensiveness(f, X, A, fractions=[0.0])


def test_metrics_take_a_fitted_classifier_and_its_target():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :6]
    clf = LogisticRegression().fit(X, y)
    # the decision function is linear: its gradient (coef) has zero infidelity
    G = np.tile(clf.coef_[0], (20, 1))
    assert infidelity(clf, X[:20], G, output="decision", target=1, random_state=0) < 1e-20
    # and comprehensiveness of the exact attributions beats a random ranking
    A = X[:20] * clf.coef_[0]
    R = np.random.default_rng(0).normal(size=A.shape)
    assert comprehensiveness(clf, X[:20], A, output="decision", target=1) > comprehensiveness(
        clf, X[:20], R, output="decision", target=1)


def test_perturbation_metrics_as_scorers():
    from sklearn.datasets import load_diabetes

    from skexplain.explainers import Gradient
    from skexplain.metrics import get_explanation_scorer, make_explanation_scorer

    X, y = load_diabetes(return_X_y=True)
    X = X[:, :5] / X[:, :5].std(axis=0)
    w = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    lin = FunctionModel(lambda Z: Z @ w, gradient=lambda Z: np.tile(w, (len(Z), 1)))
    g = Gradient(model=lin).fit(X[:30])
    # the exact gradient of a linear model: zero infidelity, zero sensitivity
    assert get_explanation_scorer("neg_infidelity")(g, X[:30]) > -1e-20
    assert get_explanation_scorer("neg_sensitivity_max")(g, X[:30]) == 0.0
    s = make_explanation_scorer("faithfulness_correlation", subset_size=2, random_state=0)
    assert s(g, X[:30]) == pytest.approx(
        faithfulness_correlation(lin, X[:30], g.transform(X[:30]), subset_size=2,
                                 random_state=0))
    assert get_explanation_scorer("comprehensiveness")(g, X[:30]) == pytest.approx(
        comprehensiveness(lin, X[:30], g.transform(X[:30])))
    assert get_explanation_scorer("neg_sufficiency")(g, X[:30]) == pytest.approx(
        -sufficiency(lin, X[:30], g.transform(X[:30])))


def test_road_imputes_by_the_conditional_gaussian_mean():
    from skexplain.metrics import road

    rng = np.random.default_rng(5)
    L = np.array([[1.0, 0, 0], [0.8, 0.6, 0], [-0.3, 0.5, 0.7]])
    ref = rng.normal(size=(4000, 3)) @ L.T + np.array([1.0, -2.0, 0.5])
    X = rng.normal(size=(5, 3))
    mu, C = ref.mean(0), np.cov(ref, rowvar=False)
    C = C + 1e-6 * np.trace(C) / 3 * np.eye(3)
    P = np.linalg.inv(C)                     # precision route, independent of the code's
    # remove feature 0 only (the largest attribution): f reads feature 0,
    # so the drop is x0 - E[x0 | x1, x2] = x0 - (mu0 - P00^-1 P0k (xk - muk))
    A = np.tile([3.0, 1.0, 0.5], (5, 1))
    f = lambda Z: Z[:, 0]                                    # noqa: E731
    cond = mu[0] - (P[0, 1:] @ (X[:, 1:] - mu[1:]).T) / P[0, 0]
    got = road(f, X, A, ref, fractions=[1 / 3], per_point=True)
    np.testing.assert_allclose(got, X[:, 0] - cond, rtol=1e-9, atol=1e-12)
    # LeRF removes feature 2 first: f does not read it, no drop
    assert road(f, X, A, ref, fractions=[1 / 3], order="lerf") == 0.0
    # independent features: imputation is the mean; a linear model drops
    # sum over the removed features of w_i (x_i - mu_i)
    ind = rng.normal(size=(20000, 3)) * [1.0, 2.0, 0.5]
    w = np.array([2.0, -1.0, 4.0])
    lin = lambda Z: Z @ w                                    # noqa: E731
    Xi = rng.normal(size=(4, 3))
    Ai = Xi * w
    top2 = np.argsort(-Ai, axis=1)[:, :2]
    mui = ind.mean(0)
    want = np.take_along_axis((Xi - mui) * w, top2, 1).sum(1)
    got = road(lin, Xi, Ai, ind, fractions=[2 / 3], per_point=True)
    # the sample covariance is not exactly diagonal: agreement to its error
    np.testing.assert_allclose(got, want, atol=0.05 * np.abs(want).max())
    with pytest.raises(ValueError, match="order"):
        road(lin, Xi, Ai, ind, order="random")
    with pytest.raises(ValueError, match="reference"):
        road(lin, Xi, Ai, ind[:, :2])
    # noise is seeded
    a = road(lin, Xi, Ai, ind, noise=1.0, random_state=0, per_point=True)
    b = road(lin, Xi, Ai, ind, noise=1.0, random_state=0, per_point=True)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, road(lin, Xi, Ai, ind, per_point=True))


def test_relative_representation_stability_by_hand():
    from skexplain.metrics import relative_representation_stability

    x = np.array([[1.0, 2.0]])
    L = lambda X: np.c_[X.sum(axis=1), X[:, 0] ** 2]         # noqa: E731
    phi = lambda X: X ** 2                                   # noqa: E731
    rng = np.random.RandomState(2)
    z = x + rng.uniform(-0.2, 0.2, size=(1, 1, 2))[0]
    num = np.linalg.norm((x ** 2 - z ** 2) / x ** 2)
    den = np.linalg.norm((L(x) - L(z)) / L(x))
    got = relative_representation_stability(phi, L, x, n_samples=1, random_state=2)
    assert got == pytest.approx(num / den, rel=1e-12)
    with pytest.raises(ValueError, match="representation"):
        relative_representation_stability(phi, "layer1", x)
    with pytest.raises(ValueError, match="representation raised"):
        relative_representation_stability(phi, lambda X: 1 / 0, x)


def test_output_stability_and_road_scorers():
    from skexplain.explainers import Gradient
    from skexplain.metrics import get_explanation_scorer, make_explanation_scorer, road

    X = np.random.default_rng(3).normal(size=(40, 3))
    w = np.array([1.0, -2.0, 0.5])
    lin = FunctionModel(lambda Z: np.c_[Z @ w, -(Z @ w)],
                        gradient=lambda Z: np.tile(w, (len(Z), 1)))
    g = Gradient(model=lin, target=0).fit(X)
    # a constant explanation never changes: ROS 0
    assert get_explanation_scorer("neg_relative_output_stability")(g, X[:10]) == 0.0
    s = make_explanation_scorer("road", reference=X, fractions=[0.5])
    assert s(g, X[:10]) == pytest.approx(road(lin, X[:10], g.transform(X[:10]), X,
                                              fractions=[0.5], target=0))
    with pytest.raises(ValueError, match="needs reference data"):
        get_explanation_scorer("road")(g, X[:10])


def test_road_refuses_one_feature():
    from skexplain.metrics import road

    X1 = np.linspace(-1, 1, 10)[:, None]
    # with one feature nothing can be imputed from anything: an error, not a zero drop
    with pytest.raises(ValueError, match="at least 2 features"):
        road(lambda Z: Z[:, 0], X1, X1, X1, fractions=[0.5])
