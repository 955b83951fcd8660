"""Table 1 functions, grids and radii."""

import numpy as np
import pytest

from skexplain.datasets import (
    TEST_FUNCTIONS,
    get_test_function,
    make_grid,
    make_paper_problem,
    paper_grid,
    valid_radii,
)


@pytest.mark.parametrize("name", sorted(TEST_FUNCTIONS))
def test_gradients_match_central_differences(name):
    f = get_test_function(name)
    X = np.random.default_rng(0).uniform(-5, 5, size=(25, 3))
    h = 1e-6
    num = np.stack([(f(X + h * e) - f(X - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(f.gradient(X), num, rtol=1e-6, atol=1e-5)


def test_table1_values():
    x = np.array([[1.0, -2.0]])
    assert get_test_function("x2")(x)[0] == pytest.approx(5.0)
    assert get_test_function("x3")(x)[0] == pytest.approx(0.35 * (1 - 8))
    assert get_test_function("sin")(x)[0] == pytest.approx(np.sin(1) + np.sin(-2))
    assert get_test_function("sin_x3")(x)[0] == pytest.approx(
        np.sin(0.35) + np.sin(-0.35 * 8))
    assert get_test_function("sin_exp_quad")(x)[0] == pytest.approx(
        sum(np.sin(2 * v) + 0.1 * np.exp(v) - 0.5 * v * v for v in (1.0, -2.0)))
    with pytest.raises(ValueError, match="name must be one of"):
        get_test_function("cos")


def test_paper_grids_and_radii():
    sizes = {1: 80, 2: 81, 3: 125, 4: 81}
    radii = {1: (1, 2, 3, 5, 10), 2: (2, 3, 5, 10), 3: (3, 5, 10), 4: (5, 10)}
    for D in (1, 2, 3, 4):
        X = paper_grid(D)
        assert X.shape == (sizes[D], D)
        assert X.min() == -5 and X.max() == 5
        assert len(np.unique(X, axis=0)) == sizes[D]
        assert valid_radii(X) == tuple(float(u) for u in radii[D])
    with pytest.raises(ValueError):
        paper_grid(5)
    np.testing.assert_array_equal(make_grid(2, 2, low=0, high=1),
                                  [[0, 0], [0, 1], [1, 0], [1, 1]])
    X, G = make_paper_problem("x2", 2)
    np.testing.assert_array_equal(G, 2 * X)
