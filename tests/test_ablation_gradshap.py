"""FeatureAblation and GradientSHAP: closed forms and their defining properties."""

import numpy as np
import pytest

from skexplain.explainers import FeatureAblation, GradientSHAP, IntegratedGradients, ShapleySampling
from skexplain.models import FunctionModel

W = np.array([2.0, -1.0, 0.5, 3.0])


def linear(Z):
    return Z @ W + 1.0


def quad(Z):
    return (Z ** 2).sum(axis=1) + Z[:, 0] * Z[:, 2]


def quad_grad(Z):
    G = 2 * Z
    G[:, 0] += Z[:, 2]
    G[:, 2] += Z[:, 0]
    return G


X = np.random.default_rng(0).normal(size=(7, 4))


def test_ablation_of_a_linear_model_is_w_times_the_step_to_the_baseline():
    b = np.array([0.5, -1.0, 0.0, 2.0])
    phi = FeatureAblation(linear, baseline=b).fit(X).transform(X)
    np.testing.assert_allclose(phi, W * (X - b), rtol=1e-12, atol=1e-12)
    # "mean": the training mean
    phi = FeatureAblation(linear, baseline="mean").fit(X).transform(X[:2])
    np.testing.assert_allclose(phi, W * (X[:2] - X.mean(0)), rtol=1e-12, atol=1e-12)


def test_ablation_groups_give_every_member_the_group_drop():
    groups = ["a", "b", "a", "c"]
    phi = FeatureAblation(quad, feature_groups=groups).fit(X).transform(X)
    # by hand: the group {0, 2} set to 0 removes x0^2 + x2^2 + x0 x2
    drop02 = X[:, 0] ** 2 + X[:, 2] ** 2 + X[:, 0] * X[:, 2]
    np.testing.assert_allclose(phi[:, 0], drop02, rtol=1e-12)
    np.testing.assert_allclose(phi[:, 2], drop02, rtol=1e-12)
    np.testing.assert_allclose(phi[:, 1], X[:, 1] ** 2, rtol=1e-12)
    np.testing.assert_allclose(phi[:, 3], X[:, 3] ** 2, rtol=1e-12)
    with pytest.raises(ValueError, match="feature_groups"):
        FeatureAblation(quad, feature_groups=[0, 1]).fit(X)
    with pytest.raises(ValueError, match="baseline"):
        FeatureAblation(quad, baseline="median").fit(X)


def test_ablation_keeps_model_calls_within_batch_size():
    sizes = []

    def counted(Z):
        sizes.append(len(Z))
        return quad(Z)

    ref = FeatureAblation(quad).fit(X).transform(X)
    got = FeatureAblation(counted, batch_size=11).fit(X).transform(X)
    np.testing.assert_array_equal(got, ref)
    assert max(sizes) <= 11


def test_gradient_shap_with_one_background_row_and_a_linear_model_is_exact():
    b = np.array([[1.0, 0.0, -1.0, 0.5]])
    gs = GradientSHAP(lambda Z: np.tile(W, (len(Z), 1)), background=b, n_samples=3,
                      random_state=0)
    np.testing.assert_allclose(gs.fit(X).transform(X), W * (X - b), rtol=1e-12)


def test_gradient_shap_is_ig_averaged_over_the_background_in_expectation():
    # quadratic model: the integrand is linear in alpha, so E_alpha gives IG
    # exactly; average over a 3-row background; Monte-Carlo error shrinks
    B = np.random.default_rng(1).normal(size=(3, 4))
    model = FunctionModel(quad, gradient=quad_grad)
    want = np.mean([IntegratedGradients(model, baseline=B[j], n_steps=2).fit(X).transform(X)
                    for j in range(3)], axis=0)
    gs = GradientSHAP(model, background=B, n_samples=20000, random_state=0).fit(X)
    got = gs.transform(X)
    err = np.abs(got - want).max()
    assert err < 0.05 * np.abs(want).max()
    # completeness in expectation: sum phi ~ f(x) - mean_b f(b)
    np.testing.assert_allclose(gs.expected_value_, [quad(B).mean()])
    gap = got.sum(1) - (quad(X) - quad(B).mean())
    assert np.abs(gap).max() < 0.05 * np.abs(quad(X) - quad(B).mean()).max()
    # noise on the path points enters the draws; a point's attribution still
    # depends on that point alone
    a = GradientSHAP(model, background=B, sigma=0.3, n_samples=9, random_state=4).fit(X)
    np.testing.assert_array_equal(a.transform(X[2:5]), a.transform(X)[2:5])
    assert not np.allclose(a.transform(X), GradientSHAP(
        model, background=B, n_samples=9, random_state=4).fit(X).transform(X))


def pairwise(Z):
    # main effects and pairwise interactions only
    return (Z @ W + Z[:, 0] * Z[:, 1] - 2.0 * Z[:, 1] * Z[:, 3] + 0.5 * Z[:, 2] * Z[:, 0])


def pairwise_shapley(Z):
    """Exact Shapley values with baseline 0: each interaction split in half."""
    phi = Z * W
    for i, j, c in ((0, 1, 1.0), (1, 3, -2.0), (2, 0, 0.5)):
        phi[:, i] += c * Z[:, i] * Z[:, j] / 2
        phi[:, j] += c * Z[:, i] * Z[:, j] / 2
    return phi


def test_shapley_sampling_adds_up_for_any_number_of_orders():
    def f(Z):
        return np.sin(Z).prod(axis=1) + Z[:, 0] * Z[:, 1] * Z[:, 2]

    b = np.array([0.3, -0.2, 0.1, 0.0])
    for k, anti in ((1, False), (3, False), (2, True)):
        sv = ShapleySampling(f, baseline=b, n_permutations=k, antithetic=anti,
                             random_state=0).fit(X)
        phi = sv.transform(X)
        np.testing.assert_allclose(phi.sum(1), f(X) - f(b[None]), rtol=1e-12, atol=1e-12)
        e = sv.explain(X[:2])
        np.testing.assert_allclose(e.base_values, f(b[None]).repeat(2))


def test_antithetic_orders_split_pairwise_interactions_exactly():
    sv = ShapleySampling(pairwise, n_permutations=2, random_state=3).fit(X)
    np.testing.assert_allclose(sv.transform(X), pairwise_shapley(X), rtol=1e-12, atol=1e-12)
    # without the reverse orders a single order is not the Shapley value
    one = ShapleySampling(pairwise, n_permutations=1, antithetic=False, random_state=3).fit(X)
    assert not np.allclose(one.transform(X), pairwise_shapley(X))


def test_shapley_sampling_converges_to_the_exact_values_with_a_three_way_term():
    from skexplain.explainers import KernelSHAP

    def f(Z):
        return Z[:, 0] * Z[:, 1] * Z[:, 2] + Z[:, 3]

    exact = KernelSHAP(f, background=np.zeros((1, 4)), n_samples=16).fit(X).transform(X)
    sv = ShapleySampling(f, n_permutations=4000, random_state=0).fit(X)
    err = np.abs(sv.transform(X) - exact).max()
    assert err < 0.05 * np.abs(exact).max()
    # groups: the group {0, 1} is one player, each member gets its value
    grouped = ShapleySampling(f, feature_groups=[0, 0, 1, 2], n_permutations=2,
                              random_state=0).fit(X).transform(X)
    # 2-player game between {0,1} and {2} on the product: split in half
    np.testing.assert_allclose(grouped[:, 0], X[:, 0] * X[:, 1] * X[:, 2] / 2, rtol=1e-12)
    np.testing.assert_array_equal(grouped[:, 0], grouped[:, 1])
    np.testing.assert_allclose(grouped[:, 3], X[:, 3], rtol=1e-12)


def test_kernel_shap_groups_are_players():
    from skexplain.explainers import KernelSHAP

    def f(Z):
        return Z[:, 0] * Z[:, 1] * Z[:, 2] + Z[:, 3]

    B = np.zeros((1, 4))
    # two groups {0, 1} and {2}, {3}: the product is a 2-player game
    ks = KernelSHAP(f, background=B, feature_groups=[5, 5, 7, 9]).fit(X)
    assert ks.exact_ and ks.coalitions_.shape[1] == 3
    phi = ks.transform(X)
    np.testing.assert_allclose(phi[:, 0], X[:, 0] * X[:, 1] * X[:, 2] / 2, rtol=1e-10)
    np.testing.assert_array_equal(phi[:, 0], phi[:, 1])
    np.testing.assert_allclose(phi[:, 3], X[:, 3], rtol=1e-10, atol=1e-12)
    # efficiency over the groups
    np.testing.assert_allclose(phi[:, [0, 2, 3]].sum(1), f(X) - f(B)[0], rtol=1e-10)
    # the same as permutation sampling on the same groups (pairwise game: exact)
    sv = ShapleySampling(f, feature_groups=[5, 5, 7, 9], n_permutations=2,
                         random_state=0).fit(X)
    np.testing.assert_allclose(phi, sv.transform(X), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="feature_groups"):
        KernelSHAP(f, feature_groups=[0, 1, 2]).fit(X)


def test_lime_groups_move_together_and_reduce_to_the_ungrouped_explainer():
    from skexplain.explainers import LIME

    Xt = np.random.default_rng(5).normal(size=(50, 4)) * [1.0, 2.0, 0.5, 3.0]
    lin = lambda Z: Z @ W                                    # noqa: E731
    s = Xt.std(axis=0)
    # linear model, no penalty: the group slope is sum_{j in g} w_j s_j, and
    # member i gets it divided by s_i
    grouped = LIME(lin, alpha=0.0, n_samples=60, feature_groups=[0, 0, 1, 2],
                   random_state=0).fit(Xt).transform(Xt[:3])
    bg = W[0] * s[0] + W[1] * s[1]
    np.testing.assert_allclose(grouped[:, 0], bg / s[0], rtol=1e-9)
    np.testing.assert_allclose(grouped[:, 1], bg / s[1], rtol=1e-9)
    np.testing.assert_allclose(grouped[:, 2:], np.tile(W[2:], (3, 1)), rtol=1e-9)
    # singleton groups are the ungrouped explainer, bit for bit
    single = LIME(quad, n_samples=30, feature_groups=["a", "b", "c", "d"],
                  random_state=0).fit(Xt).transform(Xt[:3])
    plain = LIME(quad, n_samples=30, random_state=0).fit(Xt).transform(Xt[:3])
    np.testing.assert_array_equal(single, plain)
