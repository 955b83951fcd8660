"""Classic explainers: hand-computed cases, batching, sklearn integration, errors."""

import itertools
from math import factorial

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain.explainers import (
    CLIME,
    LIME,
    Gradient,
    GradientXInput,
    IntegratedGradients,
    FeatureAblation,
    GradientSHAP,
    KernelSHAP,
    KernelSmoothGrad,
    RelEx,
    ShapleySampling,
    SmoothGrad,
    UniGrad,
    integration_rule,
    weighted_linear_fit,
)
from skexplain.explainers._noise import standard_normals
from skexplain.models import FunctionModel

RNG = np.random.default_rng(0)
X5 = RNG.normal(size=(9, 3))


def cubic(X):
    return (X ** 3).sum(axis=1)


def cubic_grad(X):
    return 3 * X ** 2


def test_gradient_and_gradient_x_input():
    np.testing.assert_allclose(Gradient(cubic_grad).fit_transform(X5), 3 * X5 ** 2)
    np.testing.assert_allclose(GradientXInput(cubic_grad).fit_transform(X5), 3 * X5 ** 3)


@pytest.mark.parametrize("method, expected", [
    # f = x^3 on [0, 1] with 2 cells: left 3 * (0 + 1/4) / 2, right 3 * (1/4 + 1) / 2, ...
    ("riemann_left", 3 * (0 + 0.25) / 2),
    ("riemann_right", 3 * (0.25 + 1) / 2),
    ("riemann_middle", 3 * (0.0625 + 0.5625) / 2),
    ("riemann_trapezoid", 3 * (0.5 * 0 + 1.0 * 0.25 + 0.5 * 1) / 2),
    ("gauss_legendre", 1.0),  # exact: degree 2 integrand, 2 nodes
])
def test_integrated_gradients_hand_computed(method, expected):
    n_steps = 3 if method == "riemann_trapezoid" else 2
    ig = IntegratedGradients(cubic_grad, n_steps=n_steps, method=method)
    out = ig.fit_transform(np.array([[1.0]]))
    assert out[0, 0] == pytest.approx(expected, rel=1e-12)


def test_integration_rules_integrate_constants():
    for method in ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid",
                   "gauss_legendre"):
        a, w = integration_rule(method, 7)
        assert w.sum() == pytest.approx(1.0) and a.min() >= 0 and a.max() <= 1


def test_integrated_gradients_baseline_mean():
    X = RNG.normal(size=(20, 3))
    ig = IntegratedGradients(lambda Z: 2 * Z, baseline="mean").fit(X)
    np.testing.assert_allclose(ig.baseline_, X.mean(0))
    # f = ||x||^2 and the trapezoid rule is exact: phi_i = x_i^2 - b_i^2
    np.testing.assert_allclose(ig.transform(X[:3]), X[:3] ** 2 - X.mean(0) ** 2, atol=1e-12)


ALL = [
    Gradient(cubic_grad),
    IntegratedGradients(cubic_grad, n_steps=9),
    SmoothGrad(cubic_grad, sigma=0.4, n_samples=13, random_state=1),
    UniGrad(cubic_grad, radius=0.4, n_samples=13, random_state=1),
    KernelSmoothGrad(cubic_grad, sampler=stats.laplace(scale=0.3), n_samples=13, random_state=1),
    CLIME(cubic, sigma=0.4, n_samples=13, random_state=1),
    LIME(cubic, n_samples=13, random_state=1),
    KernelSHAP(cubic, n_samples=4, random_state=1),
    FeatureAblation(cubic, feature_groups=[0, 1, 0]),
    GradientSHAP(cubic_grad, n_samples=7, random_state=1),
    ShapleySampling(cubic, n_permutations=3, random_state=1),
]


def cubic_proba(X):
    return 1.0 / (1.0 + np.exp(-cubic(X)))


@pytest.mark.parametrize("explainer", ALL + [GradientXInput(cubic_grad), RelEx(
    cubic_proba, n_noise=5, n_iter=4, random_state=1)],
                         ids=lambda e: type(e).__name__)
def test_results_do_not_depend_on_n_jobs(explainer):
    X = RNG.normal(size=(23, 3))
    ref = clone(explainer).fit(X).transform(X)
    for n_jobs in (2, -1):
        par = clone(explainer).set_params(n_jobs=n_jobs).fit(X).transform(X)
        np.testing.assert_array_equal(par, ref)


@pytest.mark.parametrize("explainer", ALL, ids=lambda e: type(e).__name__)
def test_results_do_not_depend_on_batch_size_order_or_subset(explainer):
    full = clone(explainer).fit(X5).transform(X5)
    small = clone(explainer).set_params(batch_size=5).fit(X5).transform(X5)
    np.testing.assert_allclose(small, full, rtol=1e-12, atol=1e-12)
    perm = RNG.permutation(len(X5))
    np.testing.assert_allclose(clone(explainer).fit(X5).transform(X5[perm]), full[perm],
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(clone(explainer).fit(X5).transform(X5[2:4]), full[2:4],
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [SmoothGrad, CLIME, LIME])
def test_random_state_controls_the_noise(cls):
    model = cubic_grad if cls is SmoothGrad else cubic
    a = cls(model, n_samples=20, random_state=0).fit_transform(X5)
    b = cls(model, n_samples=20, random_state=0).fit_transform(X5)
    c = cls(model, n_samples=20, random_state=1).fit_transform(X5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_shared_noise_uses_the_same_perturbations_for_every_point():
    # with shared noise, SmoothGrad of a quadratic is grad f(x + mean z):
    # the same offset for every point
    sg = SmoothGrad(lambda X: 2 * X, sigma=0.5, n_samples=5, shared_noise=True, random_state=3)
    out = sg.fit_transform(X5)
    offset = out - 2 * X5
    np.testing.assert_allclose(offset, np.tile(offset[0], (len(X5), 1)), atol=1e-12)
    assert np.abs(offset[0]).max() > 1e-3
    indep = SmoothGrad(lambda X: 2 * X, sigma=0.5, n_samples=5, random_state=3).fit_transform(X5)
    assert np.ptp(indep - 2 * X5, axis=0).max() > 1e-3


def test_clime_is_least_squares_on_its_perturbations():
    X = X5[:4]
    cl = CLIME(cubic, sigma=0.7, n_samples=30, random_state=5).fit(X)
    Z = standard_normals(X, cl.seed_, 30) * 0.7
    for i in range(len(X)):  # reference: numpy least squares per point
        A = np.c_[np.ones(30), Z[i]]
        coef = np.linalg.lstsq(A, cubic(X[i] + Z[i]), rcond=None)[0]
        np.testing.assert_allclose(cl.transform(X[i:i + 1])[0], coef[1:], rtol=1e-9)


def test_smoothgrad_is_the_mean_gradient_on_the_same_perturbations():
    X = X5[:4]
    sg = SmoothGrad(cubic_grad, sigma=0.7, n_samples=30, random_state=5).fit(X)
    Z = standard_normals(X, sg.seed_, 30) * 0.7
    np.testing.assert_allclose(sg.transform(X), cubic_grad(X[:, None] + Z).mean(1), rtol=1e-12)


def test_weighted_linear_fit_matches_sklearn_ridge():
    Z = RNG.normal(size=(1, 40, 3))
    y = RNG.normal(size=(1, 40))
    w = RNG.random((1, 40))
    ref = Ridge(alpha=0.7).fit(Z[0], y[0], sample_weight=w[0]).coef_
    np.testing.assert_allclose(weighted_linear_fit(Z, y, w, 0.7, penalty="sum")[0], ref,
                               rtol=1e-9)
    ref_mean = Ridge(alpha=0.7 * w.sum()).fit(Z[0], y[0], sample_weight=w[0]).coef_
    np.testing.assert_allclose(weighted_linear_fit(Z, y, w, 0.7)[0], ref_mean, rtol=1e-9)


def test_lime_recovers_a_linear_model_and_shrinks_with_ridge():
    theta = np.array([1.0, -2.0, 0.5])
    f = lambda X: X @ theta + 4.0  # noqa: E731
    X = RNG.normal(size=(30, 3)) * [1.0, 3.0, 0.2]
    exact = LIME(f, alpha=0.0, n_samples=50, random_state=0).fit(X).transform(X[:4])
    np.testing.assert_allclose(exact, np.tile(theta, (4, 1)), rtol=1e-9)
    shrunk = LIME(f, alpha=50.0, n_samples=50, random_state=0).fit(X).transform(X[:4])
    s = X.std(0)  # the penalty acts on the standardised coefficients
    assert np.all(np.linalg.norm(shrunk * s, axis=1) < np.linalg.norm(theta * s))
    lime = LIME(f).fit(X)
    assert lime.kernel_width_ == pytest.approx(0.75 * np.sqrt(3))
    np.testing.assert_allclose(lime.scale_, X.std(0))


def _brute_shapley(f, x, B):
    """Exact interventional Shapley values by enumerating all subsets."""
    d = len(x)
    phi = np.zeros(d)

    def v(S):
        R = B.copy()
        R[:, list(S)] = x[list(S)]
        return f(R).mean()

    for i in range(d):
        others = [j for j in range(d) if j != i]
        for r in range(d):
            for S in itertools.combinations(others, r):
                wgt = factorial(r) * factorial(d - r - 1) / factorial(d)
                phi[i] += wgt * (v(S + (i,)) - v(S))
    return phi


def test_kernel_shap_enumeration_is_exact_shapley():
    f = lambda X: np.sin(X[:, 0]) * X[:, 1] + X[:, 2] * X[:, 3] ** 2 - X[:, 0] * X[:, 3]  # noqa
    B = RNG.normal(size=(6, 4))
    shap = KernelSHAP(f, background=B, n_samples=100).fit(B)
    assert shap.exact_
    for x in RNG.normal(size=(3, 4)):
        np.testing.assert_allclose(shap.transform(x[None])[0], _brute_shapley(f, x, B),
                                   rtol=1e-9, atol=1e-12)


def test_kernel_shap_sampled_is_exact_for_additive_models():
    d = 11
    g = lambda X: np.sin(X) + 0.3 * X ** 2  # noqa: E731
    f = lambda X: g(X).sum(axis=1)  # noqa: E731
    B = RNG.normal(size=(5, d))
    shap = KernelSHAP(f, background=B, n_samples=300, random_state=0).fit(B)
    assert not shap.exact_ and shap.coalitions_.shape[0] == 300
    X = RNG.normal(size=(4, d))
    np.testing.assert_allclose(shap.transform(X), g(X) - g(B).mean(0), rtol=1e-8, atol=1e-10)


def test_kernel_shap_background_defaults_to_a_training_subsample():
    X = RNG.normal(size=(40, 3))
    shap = KernelSHAP(cubic, max_background=7, random_state=0).fit(X)
    assert shap.background_.shape == (7, 3)
    assert all(any(np.array_equal(b, x) for x in X) for b in shap.background_)


def test_sklearn_classifier_with_targets_and_pipeline():
    X = RNG.normal(size=(60, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "a", "b")
    clf = LogisticRegression().fit(X, y)
    w = clf.coef_[0]
    p = clf.predict_proba(X[:5])[:, 1]
    g = Gradient(clf).fit(X).transform(X[:5])  # positive class "b"
    np.testing.assert_allclose(g, (p * (1 - p))[:, None] * w, rtol=1e-9)
    g_a = Gradient(clf, target="a").fit(X).transform(X[:5])
    np.testing.assert_allclose(g_a, -g, rtol=1e-9)
    dec = Gradient(clf, output="decision").fit(X).transform(X[:2])
    np.testing.assert_allclose(dec, np.tile(w, (2, 1)), rtol=1e-12)
    # a Pipeline passes y to fit: ignored because the model is a parameter
    pipe = make_pipeline(StandardScaler(), Gradient(lambda Z: 2 * Z))
    out = pipe.fit(X, y).transform(X[:3])
    np.testing.assert_allclose(out, 2 * pipe[0].transform(X[:3]))


def test_multiclass_needs_a_target():
    X = RNG.normal(size=(90, 3))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=50, random_state=0)
    with pytest.warns(Warning):
        mlp.fit(X, y)
    with pytest.raises(ValueError, match="target is required"):
        SmoothGrad(mlp, random_state=0).fit(X)
    pred = SmoothGrad(mlp, target="predicted", n_samples=4, random_state=0).fit(X)
    assert pred.transform(X[:3]).shape == (3, 3)


def test_cloned_estimator_parameter_is_unfitted_and_says_so():
    clf = LogisticRegression().fit(X5, X5[:, 0] > 0)
    with pytest.raises(Exception, match=r"not fitted.*clone.*FrozenEstimator\(model\)"):
        clone(Gradient(model=clf)).fit(X5)
    from sklearn.frozen import FrozenEstimator
    frozen = clone(Gradient(model=FrozenEstimator(clf))).fit(X5)
    np.testing.assert_allclose(frozen.transform(X5), Gradient(clf).fit(X5).transform(X5))
    fm = FunctionModel(gradient=cubic_grad)
    np.testing.assert_allclose(clone(Gradient(model=fm)).fit_transform(X5), cubic_grad(X5))


@pytest.mark.parametrize("make, match", [
    (lambda: SmoothGrad(cubic_grad, sigma=1.0, covariance=np.eye(3)), "not both"),
    (lambda: SmoothGrad(cubic_grad, sigma=[1.0, 2.0]), "sigma must be"),
    (lambda: SmoothGrad(cubic_grad, covariance=-np.eye(3)), "positive semi-definite"),
    (lambda: CLIME(cubic, n_samples=3), "n_samples=3"),
    (lambda: IntegratedGradients(cubic_grad, baseline=[0.0, 1.0]), "baseline must be"),
    (lambda: KernelSHAP(cubic, background=np.zeros((2, 2))), "background must be"),
    (lambda: KernelSmoothGrad(cubic_grad), "sampler is required"),
    (lambda: KernelSmoothGrad(cubic_grad, sampler=lambda U: U[:, :1]), "sampler must map"),
    (lambda: Gradient(lambda X: X[:, :2]), "gradient must return an array"),
    (lambda: Gradient(), r"Gradient needs a model: Gradient\(model=\.\.\.\)"),
    (lambda: LIME(cubic, scale=[1.0]), "scale must be"),
])
def test_bad_parameters_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(X5)


def test_fit_ignores_y_and_still_takes_a_model_with_a_future_warning():
    # an array y is ignored (scikit-learn's convention): without a model parameter
    # the error says where the model goes
    with pytest.raises(ValueError, match=r"needs a model: Gradient\(model=\.\.\.\)"):
        Gradient().fit(X5, np.zeros(len(X5)))
    np.testing.assert_array_equal(Gradient(np.cos).fit(X5, np.zeros(len(X5))).transform(X5),
                                  np.cos(X5))
    # the older fit(X, model) works for one more release, with a FutureWarning
    with pytest.warns(FutureWarning, match=r"fit\(X, model\) is deprecated"):
        old = Gradient().fit(X5, np.cos)
    np.testing.assert_array_equal(old.transform(X5), np.cos(X5))


def _plain_paired_shap(f, X, B, n_samples, seed):
    """Reference: KernelSHAP with coalition sizes drawn by kernel mass over all
    sizes, paired with complements, equal weights (the classic sampler)."""
    d = X.shape[1]
    rng = np.random.default_rng(seed)
    sizes = np.arange(1, d)
    p = 1.0 / (sizes * (d - sizes))
    s = rng.choice(sizes, size=n_samples // 2, p=p / p.sum())
    ranks = np.argsort(np.argsort(rng.random((s.size, d)), axis=1), axis=1)
    Z = (ranks < s[:, None]).astype(float)
    Z = np.concatenate([Z, 1 - Z])
    K = np.zeros((d + 1, d + 1))
    K[:d, :d], K[:d, d], K[d, :d] = Z.T @ Z, 1.0, 1.0
    out = []
    for x in X:
        v = lambda z: f(np.where(z[:, None, :] > 0, x, B[None]).reshape(-1, d)).reshape(  # noqa
            len(z), len(B)).mean(1)
        v0, v1 = v(np.zeros((1, d)))[0], v(np.ones((1, d)))[0]
        rhs = np.r_[Z.T @ (v(Z) - v0), v1 - v0]
        out.append(np.linalg.lstsq(K, rhs, rcond=None)[0][:d])
    return np.array(out)


def test_kernel_shap_enumerates_complete_sizes_then_samples():
    from math import comb

    d = 10
    shap = KernelSHAP(cubic, background=np.zeros((1, d)), n_samples=1021,
                      random_state=0).fit(np.zeros((1, d)))
    Z, w = shap.coalitions_, shap._kernel
    size = Z.sum(1).astype(int)
    kernel = {s: 1.0 / (s * (d - s)) for s in range(1, d)}
    total = sum(kernel.values())
    for s in (1, 2, 3, 4, 6, 7, 8, 9):        # complete, once each, exact weights
        assert np.unique(Z[size == s], axis=0).shape[0] == (size == s).sum() == comb(d, s)
        np.testing.assert_allclose(w[size == s], kernel[s] / total / comb(d, s))
    # 1021 - 770 = 251 left: 125 pairs of the middle size, sharing its mass
    assert (size == 5).sum() == 250
    np.testing.assert_allclose(w[size == 5].sum(), kernel[5] / total)
    np.testing.assert_allclose(w.sum(), 1.0)


def test_kernel_shap_sampling_beats_plain_paired_sampling():
    d = 8
    f = lambda X: np.sin(X[:, 0] * X[:, 1]) + X[:, 2] * X[:, 3] ** 2 - np.tanh(  # noqa
        X[:, 4:].sum(1))
    B, X = RNG.normal(size=(6, d)), RNG.normal(size=(6, d))
    exact = KernelSHAP(f, background=B, n_samples=2 ** d).fit(B).transform(X)
    errors = []
    for budget in (40, 120, 250):
        ours = np.mean([np.sqrt(np.mean((KernelSHAP(
            f, background=B, n_samples=budget, random_state=s).fit(B).transform(X)
            - exact) ** 2)) for s in range(4)])
        plain = np.mean([np.sqrt(np.mean((_plain_paired_shap(f, X, B, budget, s) - exact)
                                         ** 2)) for s in range(4)])
        assert ours < plain
        errors.append(ours)
    assert errors[0] > errors[1] > errors[2]         # more coalitions, closer


def test_smoothgrad_square_and_vargrad():
    theta = np.array([1.0, -2.0, 0.5])
    X = RNG.normal(size=(4, 3))
    lin = {a: SmoothGrad(lambda Z: np.tile(theta, (len(Z), 1)), sigma=0.4, n_samples=30,
                         aggregation=a, random_state=0).fit(X).transform(X)
           for a in ("mean", "mean_square", "variance")}
    np.testing.assert_allclose(lin["mean_square"], np.tile(theta ** 2, (4, 1)))
    np.testing.assert_array_equal(lin["variance"], 0.0)       # a constant gradient
    # f = ||x||^2, gradient 2(x + z): the same perturbations in every mode, so
    # mean(g^2) - mean(g)^2 = var(g) exactly; in expectation 4x^2 + 4s^2 and 4s^2
    s, n = 0.3, 20000
    quad = {a: SmoothGrad(lambda Z: 2 * Z, sigma=s, n_samples=n, aggregation=a,
                          random_state=1).fit(X).transform(X)
            for a in ("mean", "mean_square", "variance")}
    np.testing.assert_allclose(quad["mean_square"] - quad["mean"] ** 2, quad["variance"],
                               atol=1e-10)
    sd_var = 4 * s ** 2 * np.sqrt(2.0 / n)                     # sd of a sample variance
    np.testing.assert_allclose(quad["variance"], 4 * s ** 2, atol=6 * sd_var)
    sd_sq = np.sqrt(64 * X ** 2 * s ** 2 + 32 * s ** 4) / np.sqrt(n)
    assert np.all(np.abs(quad["mean_square"] - (4 * X ** 2 + 4 * s ** 2)) <= 6 * sd_sq)
    with pytest.raises(ValueError, match="aggregation"):
        SmoothGrad(lambda Z: Z, aggregation="vargrad").fit(X)
