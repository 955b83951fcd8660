"""The SmoothGrad/C-LIME equivalence and trade-off reproductions."""

import numpy as np
import pytest

from skexplain.datasets import StaircaseFunction, make_two_gaussians
from skexplain.reproduction import (
    EQUIVALENCE_COLUMNS,
    format_table,
    load_equivalence_problem,
    run_equivalence,
    run_tradeoff,
)


def test_two_gaussians_data():
    X, y = make_two_gaussians(4000, random_state=0)
    assert X.shape == (4000, 2) and set(np.unique(y)) == {0, 1}
    np.testing.assert_allclose(X[y == 1].mean(0), [1, 1], atol=0.08)
    np.testing.assert_allclose(X[y == 0].mean(0), [-1, -1], atol=0.08)
    np.testing.assert_allclose(X[y == 0].std(0), [1, 1], atol=0.05)


def test_staircase_function_is_continuous_with_alternating_gradient():
    f = StaircaseFunction(0.3)
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(500, 2))
    h = 1e-7
    G = np.c_[(f(X + [h, 0]) - f(X - [h, 0])) / (2 * h), (f(X + [0, h]) - f(X - [0, h])) / (2 * h)]
    np.testing.assert_allclose(G, f.gradient(X), atol=1e-6)   # a.e., away from band edges
    assert set(map(tuple, f.gradient(X))) == {(1.0, 0.0), (0.0, 1.0)}
    # continuity across band edges x1 - x2 = k delta
    k = rng.integers(-6, 6, size=50)
    x2 = rng.uniform(-1, 1, size=50)
    edge = np.c_[x2 + k * 0.3, x2]
    np.testing.assert_allclose(f(edge - [1e-9, 0]), f(edge + [1e-9, 0]), atol=1e-8)


def test_small_equivalence_run_gap_and_robustness_fall_with_n():
    rows = run_equivalence(datasets=("two_gaussians",), sigma2s=(1.0,),
                           n_perturbations=(10, 1000), max_points=40)
    small, large = rows
    assert large["l1_gap"] < small["l1_gap"] / 3
    assert large["robustness_sg"] < small["robustness_sg"]
    assert large["robustness_clime"] < small["robustness_clime"]
    assert small["accuracy"] > 0.85
    assert "| two_gaussians | 1 | 10 |" in format_table(rows, EQUIVALENCE_COLUMNS)


def test_clime_columns_are_nan_when_n_does_not_exceed_d():
    rows = run_equivalence(datasets=("breast_cancer",), sigma2s=(1.0,), n_perturbations=(20,),
                           max_points=5)
    assert np.isnan(rows[0]["l1_gap"]) and np.isfinite(rows[0]["robustness_sg"])


def test_mlp_problem_uses_standardised_breast_cancer():
    mlp, X_tr, X_te, acc = load_equivalence_problem("breast_cancer")
    assert X_tr.shape[1] == 30 and abs(X_tr.mean()) < 1e-8 and acc > 0.9
    assert mlp.hidden_layer_sizes == (10, 10) and mlp.activation == "tanh"
    with pytest.raises(ValueError, match="dataset must be"):
        load_equivalence_problem("iris")


def test_tradeoff_staircase_limits():
    rows = run_tradeoff(sigmas=[0.01, 10.0], n_samples=4000, max_points=5, lipschitz_samples=10)
    stair = [r for r in rows if r["setting"] == "staircase"]
    # small sigma: the gradient (1, 0); large sigma: both bands equally, (1/2, 1/2)
    np.testing.assert_allclose(stair[0]["attribution"], [1.0, 0.0])
    np.testing.assert_allclose(stair[1]["attribution"], [0.5, 0.5], atol=0.03)
    assert stair[1]["local_lipschitz"] < stair[0]["local_lipschitz"]
    # p(x) = (1/2, 2/3) at the paper's point with reference 0: distances hand-computed
    assert stair[0]["distance"] == pytest.approx(np.hypot(0.5, 2 / 3), rel=1e-6)
    assert stair[1]["distance"] == pytest.approx(1 / 6, abs=0.03)


@pytest.mark.slow
def test_full_equivalence_shape_as_in_paper():
    rows = run_equivalence()
    for ds in ("two_gaussians", "breast_cancer"):
        for s2 in (0.01, 0.1, 1.0):
            sub = {r["n"]: r for r in rows if r["dataset"] == ds and r["sigma2"] == s2}
            assert sub[5000]["l1_gap"] < sub[100]["l1_gap"] / 3
            assert sub[5000]["robustness_sg"] < sub[50]["robustness_sg"]
            assert sub[5000]["robustness_clime"] < sub[50]["robustness_clime"]
