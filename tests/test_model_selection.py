"""Scorers, GridSearchCV over eta/u, and the explanation path."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import OptimizedExplainer, explanation_path
from skexplain.explainers import Gradient, SmoothGrad
from skexplain.metrics import (
    SCORERS,
    faithfulness_loss,
    get_explanation_scorer,
    make_explanation_scorer,
    make_tradeoff_scorer,
    max_sensitivity,
)

# small CV folds leave some points without neighbours: expected here
pytestmark = pytest.mark.filterwarnings("ignore::skexplain.exceptions.NoNeighborsWarning")

RNG = np.random.default_rng(0)
X = RNG.uniform(-2, 2, size=(40, 2))


def grad_fn(Z):
    return np.cos(Z) + 0.3 * Z


G = grad_fn(X)


def test_scorers_match_the_metrics_on_hand_checked_values():
    opt = OptimizedExplainer(u=1.0, eta_frac=0.3).fit(X, G)
    E = opt.transform(X, grad_fn=G)  # training rows: the fitted explanations
    np.testing.assert_allclose(E, opt.explanations_)
    s_f = get_explanation_scorer("neg_faithfulness_loss")(opt, X, G)
    assert s_f == pytest.approx(-faithfulness_loss(G, E) / len(X))
    s_r = make_explanation_scorer("max_sensitivity", u=0.7)(opt, X, G)
    assert s_r == pytest.approx(-max_sensitivity(X, E, u=0.7) / len(X))
    # default radius: the estimator's
    assert get_explanation_scorer("neg_max_sensitivity")(opt, X, G) == pytest.approx(
        -max_sensitivity(X, E, u=1.0) / len(X))
    # gradients from the estimator's grad_fn when y is not given
    opt2 = OptimizedExplainer(u=1.0, eta_frac=0.3).fit(X, grad_fn=grad_fn)
    assert get_explanation_scorer("neg_faithfulness_loss")(opt2, X) == pytest.approx(s_f)


def test_registry_and_errors():
    assert {"neg_max_sensitivity", "neg_faithfulness_loss", "marginal_faithfulness",
            "neg_local_lipschitz", "neg_neighborhood_robustness"} <= set(SCORERS)
    with pytest.raises(ValueError, match="unknown"):
        get_explanation_scorer("accuracy")
    with pytest.raises(ValueError, match="exactly one"):
        make_tradeoff_scorer()
    g = Gradient(lambda Z: Z).fit(X)
    with pytest.raises(ValueError, match="need a neighbourhood"):
        get_explanation_scorer("neg_max_sensitivity")(g, X)


def test_tradeoff_scorer():
    opt = OptimizedExplainer(u=1.0, eta_frac=0.3).fit(X, G)
    f = faithfulness_loss(G, opt.explanations_) / len(X)
    r = max_sensitivity(X, opt.explanations_, u=1.0) / len(X)
    # max_faithfulness is a fraction of L_max on the scored points: the fit's eta_frac
    frac = faithfulness_loss(G, opt.explanations_) / np.sum((G - G.mean(0)) ** 2)
    assert frac == pytest.approx(0.3, rel=1e-6)
    assert make_tradeoff_scorer(max_faithfulness=0.3 + 1e-6)(opt, X, G) == pytest.approx(-r)
    # over the target: finite, below the gradients' own robustness, by the excess
    r_G = max_sensitivity(X, G, u=1.0) / len(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        over = make_tradeoff_scorer(max_faithfulness=0.15)(opt, X, G)
    assert over == pytest.approx(-(r + r_G * (1 + frac / 0.15)))
    assert np.isfinite(over) and over < -r_G
    assert make_tradeoff_scorer(max_faithfulness=0.05)(opt, X, G) < over
    assert make_tradeoff_scorer(weight=2.0)(opt, X, G) == pytest.approx(-(r + 2 * f))
    with pytest.raises(ValueError, match="max_faithfulness must be a finite number"):
        make_tradeoff_scorer(max_faithfulness=np.nan)


def test_classic_explainer_scorers():
    sg = SmoothGrad(grad_fn, sigma=0.3, n_samples=20, shared_noise=True, random_state=0).fit(X)
    assert get_explanation_scorer("neg_local_lipschitz")(sg, X[:5]) < 0
    with pytest.raises(ValueError, match="needs model outputs"):  # gradient-only model
        get_explanation_scorer("marginal_faithfulness")(Gradient(grad_fn).fit(X), X[:5])
    from skexplain.models import FunctionModel
    f = FunctionModel(predict=lambda Z: np.sin(Z).sum(1) + 0.15 * (Z ** 2).sum(1),
                      gradient=grad_fn)
    g = Gradient(f).fit(X)
    exact = get_explanation_scorer("neg_faithfulness_loss")(g, X[:5])
    assert exact == pytest.approx(0.0, abs=1e-12)  # gradients are perfectly faithful


GRID = {"eta_frac": [0.05, 0.5], "u": [0.8, 1.2]}
SCORING = {"faith": "neg_faithfulness_loss", "robust": make_explanation_scorer(
    "max_sensitivity", u=1.0)}


def _scoring():
    return {k: get_explanation_scorer(v) if isinstance(v, str) else v for k, v in SCORING.items()}


def test_grid_search_with_gradient_array_as_y():
    gs = GridSearchCV(OptimizedExplainer(), GRID, scoring=_scoring(), refit="robust",
                      cv=KFold(3, shuffle=True, random_state=0))
    gs.fit(X, G)
    res = gs.cv_results_
    # more budget -> more robust held-out explanations, less faithful
    assert gs.best_params_["eta_frac"] == 0.5
    i_lo = [i for i, p in enumerate(res["params"]) if p == {"eta_frac": 0.05, "u": 1.2}][0]
    i_hi = [i for i, p in enumerate(res["params"]) if p == {"eta_frac": 0.5, "u": 1.2}][0]
    assert res["mean_test_faith"][i_lo] > res["mean_test_faith"][i_hi]
    # refit with a callable picking the most robust among the faithful enough
    def pick(cv):
        ok = np.flatnonzero(cv["mean_test_faith"] > -0.1)
        return ok[np.argmax(cv["mean_test_robust"][ok])]
    gs2 = GridSearchCV(OptimizedExplainer(), GRID, scoring=_scoring(), refit=pick, cv=3)
    gs2.fit(X, G)
    assert gs2.cv_results_["mean_test_faith"][gs2.best_index_] > -0.1


def test_grid_search_with_grad_fn_fit_param_routing_off_and_on():
    gs = GridSearchCV(OptimizedExplainer(), GRID, scoring=_scoring(), refit="robust", cv=3)
    gs.fit(X, grad_fn=grad_fn)
    off = gs.cv_results_["mean_test_robust"]
    with sklearn.config_context(enable_metadata_routing=True):
        est = OptimizedExplainer().set_fit_request(grad_fn=True)
        gs_on = GridSearchCV(est, GRID, scoring=_scoring(), refit="robust", cv=3)
        gs_on.fit(X, grad_fn=grad_fn)
    np.testing.assert_allclose(gs_on.cv_results_["mean_test_robust"], off)
    # the same as passing the gradient array as y
    gs_y = GridSearchCV(OptimizedExplainer(), GRID, scoring=_scoring(), refit="robust", cv=3)
    gs_y.fit(X, G)
    np.testing.assert_allclose(gs_y.cv_results_["mean_test_robust"], off, rtol=1e-6)


def test_grid_search_in_a_pipeline_and_cross_validate():
    Xs = StandardScaler().fit_transform(X)
    pipe = make_pipeline(StandardScaler(), OptimizedExplainer())
    grid = {"optimizedexplainer__eta_frac": [0.05, 0.5]}
    gs = GridSearchCV(pipe, grid, scoring=make_explanation_scorer("max_sensitivity", u=1.0),
                      cv=3).fit(X, grad_fn(Xs))
    assert gs.best_params_["optimizedexplainer__eta_frac"] == 0.5
    cv = cross_validate(OptimizedExplainer(u=1.0), X, G, cv=3, scoring=_scoring())
    assert np.all(cv["test_faith"] <= 0) and np.all(cv["test_robust"] <= 0)


def test_explanation_path_equals_fresh_fits_and_is_monotone():
    fracs = [0.0, 0.05, 0.2, 0.5, 1.0]
    path = explanation_path(X, grad_fn, fracs, u=1.0)
    for k, frac in enumerate(fracs):
        opt = OptimizedExplainer(u=1.0, eta_frac=frac).fit(X, G)
        np.testing.assert_allclose(path.explanations[k], opt.explanations_, atol=1e-5)
        assert path.faithfulness_loss[k] <= path.eta[k] * (1 + 1e-12) + 1e-12
    assert np.all(np.diff(path.robustness_loss) <= 1e-6 * path.robustness_loss[0])
    assert path.robustness_loss[-1] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_array_equal(path.explanations[0], G)
    assert path.pareto_mask().all()


def test_explanation_path_pareto_mask_and_errors():
    path = explanation_path(X, G, [0.2, 0.2, 0.5], u=1.0)
    assert path.pareto_mask().tolist() == [True, True, True]  # ties do not dominate
    with pytest.raises(ValueError, match="eta_fracs"):
        explanation_path(X, G, [-0.1], u=1.0)
    with pytest.raises(ValueError, match="No pair of points"):
        explanation_path(X, G, [0.1], u=1e-6)


def test_transductive_single_split_scores_the_fitted_explanations():
    idx = np.arange(len(X))
    gs = GridSearchCV(OptimizedExplainer(u=1.0), {"eta_frac": [0.1, 0.4]},
                      scoring=make_explanation_scorer("max_sensitivity", u=1.0),
                      cv=[(idx, idx)]).fit(X, G)
    for frac, score in zip([0.1, 0.4], gs.cv_results_["mean_test_score"]):
        opt = OptimizedExplainer(u=1.0, eta_frac=frac).fit(X, G)
        assert score == pytest.approx(-opt.robustness_loss_ / len(X), rel=1e-9)


def test_explanation_path_does_not_depend_on_n_jobs():
    fracs = [0.0, 0.05, 0.2, 0.5, 1.0]
    one = explanation_path(X, G, fracs, u=1.0, n_jobs=1)
    for n_jobs in (2, -1):
        other = explanation_path(X, G, fracs, u=1.0, n_jobs=n_jobs)
        np.testing.assert_array_equal(other.explanations, one.explanations)
        np.testing.assert_array_equal(other.robustness_loss, one.robustness_loss)
    assert one.status == ["optimal"] * 5


def test_robustness_scorer_neighborhood_from_scorer_or_estimator():
    est = OptimizedExplainer(n_neighbors=3, eta_frac=0.3).fit(X, G)
    E = est.explanations_
    by_k = -np.mean(max_sensitivity(X, E, n_neighbors=3, per_point=True))
    by_u = -np.mean(max_sensitivity(X, E, u=0.7, per_point=True))
    assert by_k != pytest.approx(by_u)
    # the scorer's own neighbourhood wins; without one, the estimator's n_neighbors
    assert make_explanation_scorer("max_sensitivity", n_neighbors=3)(est, X, G) == \
        pytest.approx(by_k)
    assert make_explanation_scorer("max_sensitivity", u=0.7)(est, X, G) == pytest.approx(by_u)
    assert make_explanation_scorer("max_sensitivity")(est, X, G) == pytest.approx(by_k)
    with pytest.raises(ValueError, match=r"unknown parameters \['radius'\]"):
        make_explanation_scorer("max_sensitivity", radius=0.7)(est, X, G)
