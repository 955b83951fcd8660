"""Local Lipschitz estimate, neighbourhood robustness, marginal faithfulness."""

import numpy as np
import pytest

from skexplain.explainers import Gradient
from skexplain.metrics import (
    local_lipschitz_estimate,
    marginal_contributions,
    marginal_faithfulness,
    neighborhood_robustness,
)

RNG = np.random.default_rng(0)


class Recorder:
    """phi(x) = A x, remembering every input it was asked to explain."""

    def __init__(self, A):
        self.A = A
        self.calls = []

    def __call__(self, X):
        self.calls.append(np.array(X))
        return X @ self.A.T


def test_local_lipschitz_of_a_linear_map_is_between_its_singular_values():
    A = RNG.normal(size=(3, 3))
    X = RNG.normal(size=(6, 3))
    L = local_lipschitz_estimate(Recorder(A), X, n_samples=30, random_state=0, per_point=True)
    sv = np.linalg.svd(A, compute_uv=False)
    assert L.shape == (6,) and np.all(L <= sv[0] + 1e-12) and np.all(L >= sv[-1] - 1e-12)
    # the maximum over many directions approaches the largest singular value
    L_many = local_lipschitz_estimate(Recorder(A), X[:1], n_samples=5000, random_state=0)
    assert L_many == pytest.approx(sv[0], rel=1e-2)


def test_local_lipschitz_uniform_ball_stays_in_the_ball():
    rec = Recorder(np.eye(2))
    X = np.zeros((3, 2))
    local_lipschitz_estimate(rec, X, n_samples=200, sigma=0.5, distribution="uniform_ball",
                             random_state=0)
    radii = np.linalg.norm(rec.calls[1], axis=1)
    assert radii.max() <= 0.5 and radii.mean() > 0.25  # in the disc, not on a shell


def test_neighborhood_robustness_is_the_max_l1_distance_to_the_neighbours():
    rec = Recorder(np.diag([2.0, -1.0, 0.5]))
    X = RNG.normal(size=(4, 3))
    R = neighborhood_robustness(rec, X, n_neighbors=10, variance=0.01, random_state=1,
                                 per_point=True)
    E, Es = rec.calls[0] @ rec.A.T, (rec.calls[1] @ rec.A.T).reshape(4, 10, 3)
    np.testing.assert_allclose(R, np.abs(Es - E[:, None]).sum(-1).max(1))
    offsets = rec.calls[1].reshape(4, 10, 3) - X[:, None]
    assert offsets.std() == pytest.approx(0.1, rel=0.3)
    assert neighborhood_robustness(rec, X, random_state=1) == pytest.approx(R.mean())


def test_metrics_accept_fitted_explainers():
    X = RNG.normal(size=(5, 2))
    g = Gradient(lambda Z: 3.0 * Z).fit(X)
    assert local_lipschitz_estimate(g, X, random_state=0) == pytest.approx(3.0)


def test_marginal_contributions_hand_computed():
    f = lambda X: X[:, 0] * X[:, 1] + 2 * X[:, 2]  # noqa: E731
    X = np.array([[2.0, 3.0, 1.0], [0.0, 3.0, 5.0]])
    P = marginal_contributions(f, X)
    # row 0: (6+2 - (0+2))/2 = 3, (8 - 2)/3 = 2, (8 - 6)/1 = 2
    # row 1: x_0 = r_0 -> the partial derivative x_1 = 3; (10 - 10)/3 = 0; 10/5 = 2
    np.testing.assert_allclose(P, [[3.0, 2.0, 2.0], [3.0, 0.0, 2.0]], rtol=1e-7)
    P_ref = marginal_contributions(f, X[:1], reference=[1.0, 1.0, 0.0])
    np.testing.assert_allclose(P_ref, [[3.0, 2.0, 2.0]])


def test_marginal_faithfulness_inverse_and_distance():
    theta = np.array([1.0, -2.0])
    f = lambda X: X @ theta + 1.0  # noqa: E731
    X = RNG.normal(size=(3, 2))
    exact = np.tile(theta, (3, 1))
    assert marginal_faithfulness(f, X, exact, similarity="distance") == pytest.approx(0, abs=1e-9)
    off = exact + [3.0, 4.0]
    assert marginal_faithfulness(f, X, off, similarity="distance") == pytest.approx(5.0)
    assert marginal_faithfulness(f, X, off) == pytest.approx(0.2)
    assert np.isinf(marginal_faithfulness(lambda Z: Z[:, 0] * 0.0, X, np.zeros((3, 2))))


@pytest.mark.parametrize("call, match", [
    (lambda: local_lipschitz_estimate(42, np.zeros((2, 2))), "explainer must be"),
    (lambda: local_lipschitz_estimate(lambda X: X[:, :1], np.zeros((2, 2))), "shape"),
    (lambda: local_lipschitz_estimate(lambda X: X, np.zeros((2, 2)), distribution="cube"),
     "distribution"),
    (lambda: local_lipschitz_estimate(lambda X: X, np.zeros((2, 2)), sigma=0.0), "scale"),
    (lambda: neighborhood_robustness(lambda X: X, np.zeros((2, 2)), variance=-1.0), "scale"),
    (lambda: neighborhood_robustness(lambda X: X, np.zeros((2, 2)), n_neighbors=0),
     "number of neighbours"),
    (lambda: marginal_faithfulness(lambda X: X[:, 0], np.zeros((2, 2)), np.zeros((2, 3))),
     "same shape"),
    (lambda: marginal_contributions(lambda X: X[:, 0], np.zeros((2, 2)), reference=[1, 2, 3]),
     "reference must be"),
    (lambda: marginal_faithfulness(lambda X: X[:, 0], np.zeros((2, 2)), np.zeros((2, 2)),
                                   similarity="cosine"), "similarity"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_old_spelling_of_neighborhood_robustness_still_works_with_a_warning():
    from skexplain.metrics import get_explanation_scorer, neighborhood_robustness
    from skexplain.metrics import neighbourhood_robustness as old

    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.warns(FutureWarning, match="renamed neighborhood_robustness"):
        value = old(np.cos, X, random_state=0)
    assert value == neighborhood_robustness(np.cos, X, random_state=0)
    with pytest.warns(FutureWarning, match="renamed"):
        scorer = get_explanation_scorer("neg_neighbourhood_robustness")
    assert scorer.metric == "neighborhood_robustness"
