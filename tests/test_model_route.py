"""Optimised explanations of fitted models (issue 16): the model route of
OptimizedExplainer and explanation_path, base explainers, scikit-learn's
conventions (Pipelines, GridSearchCV with labels, clone), tree models,
pandas."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import OptimizedExplainer, explanation_path
from skexplain.explainers import (
    CLIME,
    LIME,
    Gradient,
    IntegratedGradients,
    KernelSHAP,
    SmoothGrad,
    UniGrad,
)
from skexplain.metrics import faithfulness_loss, get_explanation_scorer, robustness_loss
from skexplain.models import FunctionModel, as_model

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[:120], y[:120]
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=300, random_state=0))
    return X, y, pipe.fit(X, y)


def test_a_pipeline_model_explained_and_optimised_end_to_end_with_labels(cancer):
    X, y, pipe = cancer
    est = OptimizedExplainer(model=pipe, n_neighbors=5, eta_frac=0.3).fit(X, y)  # y: labels
    G = Gradient(pipe).fit(X).transform(X)           # the pipeline's own gradients
    np.testing.assert_allclose(est.gradients_, G)
    assert est.status_ == "optimal" and est.faithfulness_loss_ <= est.eta_
    assert est.robustness_loss_ < est.gradient_robustness_loss_
    # new points: their base explanations are computed from the model
    Xn = X[:10] * 1.01
    En = est.transform(Xn)
    Gn = Gradient(pipe).fit(X).transform(Xn)
    budget = est.eta_frac_ * np.sum((Gn - G.mean(axis=0)) ** 2, axis=1)
    assert np.all(np.sum((En - Gn) ** 2, axis=1) <= budget)
    # and as the last step of a Pipeline fitted on labels
    outer = make_pipeline(StandardScaler(), OptimizedExplainer(
        model=FrozenEstimator(pipe[-1]), n_neighbors=5)).fit(X, y)
    inner = OptimizedExplainer(model=pipe[-1], n_neighbors=5).fit(outer[0].transform(X))
    np.testing.assert_array_equal(outer[-1].explanations_, inner.explanations_)


def test_every_way_to_hand_over_a_model(cancer):
    X, y, pipe = cancer
    ref = OptimizedExplainer(model=pipe, n_neighbors=5).fit(X).explanations_
    for est in (OptimizedExplainer(n_neighbors=5).fit(X, pipe),
                OptimizedExplainer(n_neighbors=5).fit(X, grad_fn=pipe),
                OptimizedExplainer(n_neighbors=5, grad_fn=pipe).fit(X)):
        np.testing.assert_array_equal(est.explanations_, ref)
    via_adapter = OptimizedExplainer(n_neighbors=5).fit(X, grad_fn=as_model(pipe).gradient)
    np.testing.assert_allclose(via_adapter.explanations_, ref)
    with pytest.raises(ValueError, match="A prediction function\\? Pass the model itself"):
        OptimizedExplainer(n_neighbors=5).fit(X, grad_fn=pipe.predict_proba)
    with pytest.raises(ValueError, match="base= needs a model"):
        OptimizedExplainer(base=SmoothGrad(), n_neighbors=5).fit(X, np.ones_like(X))


def test_grid_search_over_budget_and_neighbourhood_with_labels(cancer):
    X, y, pipe = cancer
    search = GridSearchCV(
        OptimizedExplainer(model=FrozenEstimator(pipe)),
        {"eta_frac": [0.1, 0.5], "n_neighbors": [3, 6]},
        scoring=get_explanation_scorer("neg_max_sensitivity"), cv=3,
    ).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # more budget, more robust held-out explanations (same neighbourhood)
    res = search.cv_results_
    for k in (3, 6):
        rows = [i for i, p in enumerate(res["params"]) if p["n_neighbors"] == k]
        lo, hi = sorted(rows, key=lambda i: res["params"][i]["eta_frac"])
        assert res["mean_test_score"][hi] > res["mean_test_score"][lo]
    # an unfrozen estimator is unfitted by clone: the error says what to do
    with pytest.raises(Exception, match="FrozenEstimator"):
        GridSearchCV(OptimizedExplainer(model=pipe), {"eta_frac": [0.1]}, cv=2,
                     scoring=get_explanation_scorer("neg_max_sensitivity"),
                     error_score="raise").fit(X, y)


BASES = {
    "SmoothGrad": SmoothGrad(sigma=0.3, n_samples=20, random_state=0),
    "IntegratedGradients": IntegratedGradients(n_steps=8),
    "CLIME": CLIME(sigma=0.3, n_samples=60, random_state=0),
    "LIME": LIME(n_samples=60, random_state=0),
    "KernelSHAP": KernelSHAP(n_samples=64, max_background=10, random_state=0),
}


@pytest.mark.parametrize("name", BASES)
def test_every_base_through_fit_transform_and_the_path(name):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    model = Ridge().fit(np.c_[X, np.sin(2 * X)], y)

    def predict(Z):                        # a smooth model as a prediction callable
        return model.predict(np.c_[Z, np.sin(2 * Z)])

    base = BASES[name]
    fm = FunctionModel(predict=predict)
    B = base.set_params(model=fm).fit(X).transform(X)
    base.set_params(model=None)
    est = OptimizedExplainer(model=predict, base=base, u=0.6, eta_frac=0.3).fit(X)
    # the budget is measured from the base explanations
    np.testing.assert_allclose(est.gradients_, B)
    L_max = np.sum((B - B.mean(axis=0)) ** 2)
    assert est.max_faithfulness_loss_ == pytest.approx(L_max)
    assert faithfulness_loss(B, est.explanations_) <= est.eta_
    assert robustness_loss("max_sensitivity", X, est.explanations_, u=0.6) < \
        robustness_loss("max_sensitivity", X, B, u=0.6)
    # new points get their own base explanations
    Xn = X[:5] + 0.02
    Bn = base.set_params(model=fm).fit(X).transform(Xn)
    base.set_params(model=None)
    En = est.transform(Xn)
    assert np.all(np.sum((En - Bn) ** 2, axis=1)
                  <= 0.3 * np.sum((Bn - B.mean(axis=0)) ** 2, axis=1))
    # the path follows the base too
    path = explanation_path(X, model=predict, base=base, eta_fracs=[0.0, 0.3, 1.0], u=0.6)
    np.testing.assert_allclose(path.explanations[0], B)
    assert path.robustness_loss[1] == pytest.approx(est.robustness_loss_, rel=1e-6)
    # scorers measure faithfulness against the base
    score = get_explanation_scorer("neg_faithfulness_loss")(est, Xn)
    assert score == pytest.approx(-np.mean(np.sum((En - Bn) ** 2, axis=1)))


@pytest.mark.parametrize("make", [
    lambda: RandomForestRegressor(n_estimators=10, random_state=0),
    lambda: GradientBoostingRegressor(n_estimators=20, random_state=0),
    lambda: HistGradientBoostingRegressor(max_iter=20),
    lambda: KNeighborsRegressor(),
], ids=["RF", "GBR", "HistGB", "KNN"])
def test_tree_and_neighbour_models_are_refused_by_gradient_methods(make):
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:80], y[:80]
    model = make().fit(X, y)
    name = type(model).__name__
    for explainer in (Gradient(model), SmoothGrad(model, n_samples=4), UniGrad(model),
                      IntegratedGradients(model, n_steps=4)):
        with pytest.raises(ValueError, match=f"{name} is piecewise constant.*KernelSHAP"):
            explainer.fit(X)
    with pytest.raises(ValueError, match="piecewise constant.*base=KernelSHAP"):
        OptimizedExplainer(model=model, n_neighbors=5).fit(X)
    # a perturbation base works, with the same model
    est = OptimizedExplainer(model=model, n_neighbors=5, eta_frac=0.3,
                             base=KernelSHAP(n_samples=128, max_background=10,
                                             random_state=0)).fit(X[:30])
    assert np.abs(est.gradients_).max() > 0 and est.status_ == "optimal"


def test_a_step_function_is_refused_even_when_unknown():
    step = FunctionModel(predict=lambda X: np.round(2 * X).sum(axis=1))
    X = np.random.default_rng(1).uniform(-2, 2, size=(30, 2))
    with pytest.raises(ValueError, match="zero at .* probed points while its output varies"):
        UniGrad(step, radius=0.5).fit(X)
    # a constant model is not refused: it has nothing to explain, and says so by zeros
    const = FunctionModel(predict=lambda X: np.zeros(len(X)))
    np.testing.assert_array_equal(Gradient(const).fit(X).transform(X), 0.0)


def test_no_feature_name_warnings_with_a_dataframe_model():
    pd = pytest.importorskip("pandas")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X, y = X.iloc[:60], y.iloc[:60]
    model = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        E = KernelSHAP(forest, n_samples=64, max_background=10, random_state=0).fit(
            X).transform(X.iloc[:5])
        G = SmoothGrad(model, n_samples=8, random_state=0).fit(X).transform(X.iloc[:5])
        est = OptimizedExplainer(model=model, n_neighbors=5).fit(X)
        out = est.set_output(transform="pandas").transform(X.iloc[:3])
    assert E.shape == (5, 10) and G.shape == (5, 10)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(X.columns)


def test_default_neighbourhood_fits_real_data(cancer):
    X, y, pipe = cancer
    Xs = StandardScaler().fit_transform(X)
    est = OptimizedExplainer(model=pipe[-1]).fit(Xs)     # the symmetrised 10-NN graph
    assert est.k_ == 10 and est.u_ is None and est.n_isolated_ == 0
    assert est.n_neighbors_.min() >= 10
    # u="auto": the median distance to the 10th nearest point
    auto = OptimizedExplainer(model=pipe[-1], u="auto")
    with pytest.warns(Warning):
        auto.fit(Xs)
    d = np.linalg.norm(Xs[:, None] - Xs[None], axis=2)
    assert auto.u_ == pytest.approx(np.median(np.sort(d, axis=1)[:, 10]), rel=1e-12)
    assert np.mean(auto.n_neighbors_ >= 10) >= 0.5
    big = OptimizedExplainer(model=pipe[-1], u="auto")
    with pytest.warns(Warning):
        big.fit(Xs * 1000)
    assert big.u_ == pytest.approx(1000 * auto.u_, rel=1e-9)
    # the old default radius 2.0 left most standardised points alone
    old = OptimizedExplainer(model=pipe[-1], u=2.0)
    with pytest.warns(Warning):
        old.fit(Xs)
    assert old.n_isolated_ > 0.7 * len(Xs)
    # scorers and transform use the fitted neighbourhood
    score = get_explanation_scorer("neg_max_sensitivity")(est, Xs[:20])
    E = est.transform(Xs[:20])
    assert score == pytest.approx(-robustness_loss("max_sensitivity", Xs[:20], E,
                                                   n_neighbors=10) / 20)


def test_a_fit_warns_once_about_isolated_points(cancer):
    X, y, pipe = cancer
    Xs = StandardScaler().fit_transform(X)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        OptimizedExplainer(model=pipe[-1], u=2.0).fit(Xs)
    assert [w.category.__name__ for w in rec] == ["NoNeighborsWarning"]
    assert "n_isolated_" in str(rec[0].message)


@pytest.mark.parametrize("loss", ["max_sensitivity", "local_stability", "average_sensitivity",
                                  "squared"])
def test_batched_transform_equals_the_conic_per_point_solves(loss, random_problem):
    import copy

    from skexplain.losses import get_loss
    from skexplain.neighbors import knn_neighbor_graph

    kw = (dict(robustness="average_sensitivity", squared=True) if loss == "squared"
          else dict(robustness=loss))
    X, G = random_problem(120, 3, seed=11)
    Xn, Gn = random_problem(60, 3, seed=12)
    est = OptimizedExplainer(n_neighbors=6, eta_frac=0.3, **kw).fit(X, G)
    conic = copy.deepcopy(est).set_params(solver="CLARABEL")   # only transform differs
    Eb = est.transform(Xn, grad_fn=Gn)
    Ec = conic.transform(Xn, grad_fn=Gn)
    graph = knn_neighbor_graph(X, 6, X_query=Xn)
    obj = get_loss(kw["robustness"], squared=kw.get("squared"))
    ob = obj.point_values(graph, Eb, target_explanations=est.explanations_)
    oc = obj.point_values(graph, Ec, target_explanations=est.explanations_)
    assert np.all(ob <= oc * (1 + 1e-4) + 1e-12)             # as good, to the tolerance
    budget = 0.3 * np.sum((Gn - G.mean(axis=0)) ** 2, axis=1)
    assert np.all(np.sum((Eb - Gn) ** 2, axis=1) <= budget)
    # bit for bit whatever the other rows, their order and n_jobs
    perm = np.random.default_rng(0).permutation(len(Xn))
    np.testing.assert_array_equal(est.transform(Xn[perm], grad_fn=Gn[perm]), Eb[perm])
    np.testing.assert_array_equal(est.transform(Xn[7:19], grad_fn=Gn[7:19]), Eb[7:19])
    par = copy.deepcopy(est).set_params(n_jobs=2)
    np.testing.assert_array_equal(par.transform(Xn, grad_fn=Gn), Eb)
