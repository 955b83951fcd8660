"""Explanation objects (explain(X)) and multi-output attributions (target="all")."""

import pickle

import numpy as np
import pytest
from scipy import stats
from sklearn import config_context
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from skexplain import OptimizedExplainer
from skexplain.explainers import (
    CLIME,
    LIME,
    Explanation,
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
    TreeSHAP,
    UniGrad,
)
from skexplain.models import FunctionModel

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
LABELS = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]
LR = LogisticRegression(max_iter=1000).fit(X_IRIS, LABELS)        # string class labels
FOREST = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X_IRIS, LABELS)

FACTORIES = {
    "Gradient": lambda **kw: Gradient(LR, **kw),
    "GradientXInput": lambda **kw: GradientXInput(LR, **kw),
    "IntegratedGradients": lambda **kw: IntegratedGradients(LR, n_steps=6, **kw),
    "SmoothGrad": lambda **kw: SmoothGrad(LR, sigma=0.3, n_samples=8, random_state=0, **kw),
    "UniGrad": lambda **kw: UniGrad(LR, radius=0.3, n_samples=8, random_state=0, **kw),
    "KernelSmoothGrad": lambda **kw: KernelSmoothGrad(
        LR, sampler=stats.norm(scale=0.3), n_samples=8, random_state=0, **kw),
    "CLIME": lambda **kw: CLIME(LR, sigma=0.3, n_samples=20, random_state=0, **kw),
    "LIME": lambda **kw: LIME(LR, n_samples=30, random_state=0, **kw),
    "KernelSHAP": lambda **kw: KernelSHAP(LR, n_samples=20, max_background=10, random_state=0,
                                          **kw),
    "TreeSHAP": lambda **kw: TreeSHAP(FOREST, max_background=10, random_state=0, **kw),
    "FeatureAblation": lambda **kw: FeatureAblation(LR, baseline="mean", **kw),
    "ShapleySampling": lambda **kw: ShapleySampling(LR, baseline="mean", n_permutations=3,
                                                    random_state=0, **kw),
    "GradientSHAP": lambda **kw: GradientSHAP(LR, n_samples=6, max_background=10,
                                              random_state=0, **kw),
    "RelEx": lambda **kw: RelEx(LR, n_noise=3, n_iter=3, random_state=0, **kw),
}
ROWS = X_IRIS[::15]


@pytest.mark.parametrize("name", list(FACTORIES))
def test_target_all_stacks_each_output_bit_for_bit(name):
    make = FACTORIES[name]
    allv = make(target="all").fit(X_IRIS).transform(ROWS)
    assert allv.shape == (len(ROWS), 4, 3)
    for j, label in enumerate(["setosa", "versicolor", "virginica"]):
        one = make(target=label).fit(X_IRIS).transform(ROWS)
        np.testing.assert_array_equal(allv[..., j], one)
    # a list picks outputs in its order; n_jobs splits rows, not results
    sub = make(target=["virginica", "setosa"], n_jobs=2).fit(X_IRIS).transform(ROWS)
    np.testing.assert_array_equal(sub, allv[..., [2, 0]])


@pytest.mark.parametrize("name", list(FACTORIES))
def test_explain_matches_transform_and_names_outputs(name):
    est = FACTORIES[name](target=["virginica", "setosa"]).fit(X_IRIS)
    e = est.explain(ROWS)
    np.testing.assert_array_equal(e.values, est.transform(ROWS))
    assert e.output_names.tolist() == ["virginica", "setosa"]
    assert e.method == name and "model" not in e.params
    np.testing.assert_array_equal(e.data, ROWS)
    assert e.feature_names.tolist() == ["x0", "x1", "x2", "x3"]


@pytest.mark.parametrize("name", ["KernelSHAP", "TreeSHAP"])
def test_shap_base_values_add_up_to_the_model_output(name):
    # KernelSHAP with few features enumerates all coalitions: exact, efficient
    e = FACTORIES[name](target="all").fit(X_IRIS).explain(ROWS)
    model = FOREST if name == "TreeSHAP" else LR
    np.testing.assert_allclose(e.base_values + e.values.sum(axis=1),
                               model.predict_proba(ROWS), atol=1e-10)
    bg = FACTORIES[name](target="all").fit(X_IRIS).background_
    np.testing.assert_allclose(e.base_values[0], model.predict_proba(bg).mean(axis=0),
                               atol=1e-12)


def test_kernel_shap_expected_value_is_the_background_mean():
    f = FunctionModel(predict=lambda X: X[:, 0] * X[:, 1] + 2.0)
    B = np.array([[1.0, 2.0], [3.0, 0.0]])
    shap = KernelSHAP(f, background=B).fit(B)
    np.testing.assert_allclose(shap.expected_value_, [(2 + 2 + 0 + 2) / 2])


def test_lime_and_clime_intercept_and_r2_on_a_linear_model():
    w, c = np.array([1.5, -2.0, 0.5]), 4.0
    f = FunctionModel(predict=lambda X: X @ w + c)
    X = np.random.default_rng(0).normal(size=(6, 3))
    for est in (LIME(f, alpha=0.0, n_samples=40, random_state=0),
                CLIME(f, sigma=0.5, n_samples=40, random_state=0)):
        e = est.fit(X).explain(X)
        np.testing.assert_allclose(e.values, np.tile(w, (6, 1)), atol=1e-10)
        # the surrogate's intercept is its prediction at x: f(x), exactly linear
        np.testing.assert_allclose(e.base_values, X @ w + c, atol=1e-9)
        np.testing.assert_allclose(e.scores, 1.0, atol=1e-12)
    # a non-linear model: R^2 strictly between 0 and 1, matching a hand fit
    g = FunctionModel(predict=lambda X: np.sin(3 * X[:, 0]) + X[:, 1] ** 2)
    est = CLIME(g, sigma=0.5, n_samples=200, random_state=0).fit(X)
    e = est.explain(X[:1])
    Z = est._perturbations(X[:1])[0]
    y = g.predict(X[:1] + Z, 0)
    A = np.c_[np.ones(len(Z)), Z]
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    r2 = 1 - np.sum((y - A @ coef) ** 2) / np.sum((y - y.mean()) ** 2)
    np.testing.assert_allclose([e.base_values[0], e.scores[0]], [coef[0], r2], rtol=1e-9)
    assert 0 < r2 < 1


def test_integrated_gradients_base_value_is_f_at_the_baseline():
    f = FunctionModel(predict=lambda X: (X ** 2).sum(axis=1), gradient=lambda X: 2 * X)
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    e = IntegratedGradients(f, baseline=[0.5, -1.0], method="gauss_legendre",
                            n_steps=2).fit(X).explain(X)
    np.testing.assert_allclose(e.base_values, [1.25, 1.25])
    np.testing.assert_allclose(e.base_values + e.values.sum(axis=1), (X ** 2).sum(axis=1))
    # a gradient-only model has no value at the baseline
    assert IntegratedGradients(lambda X: 2 * X).fit(X).explain(X).base_values is None


def test_slicing_keeps_fields_aligned():
    e = FACTORIES["KernelSHAP"](target="all").fit(X_IRIS).explain(ROWS)
    row = e[2]
    assert row.axes == ("features", "outputs")
    np.testing.assert_array_equal(row.values, e.values[2])
    np.testing.assert_array_equal(row.data, ROWS[2])
    np.testing.assert_array_equal(row.base_values, e.base_values[2])
    feat = e[:, "x2"]
    assert feat.axes == ("samples", "outputs")
    np.testing.assert_array_equal(feat.values, e.values[:, 2])
    np.testing.assert_array_equal(feat.data, ROWS[:, 2])
    cls = e[..., "virginica"]
    assert cls.axes == ("samples", "features")
    np.testing.assert_array_equal(cls.values, e.values[..., 2])
    np.testing.assert_array_equal(cls.base_values, e.base_values[:, 2])
    sub = e[[0, 3], ["x1", "x3"], 1:]
    np.testing.assert_array_equal(sub.values, e.values[[0, 3]][:, [1, 3]][:, :, 1:])
    assert sub.feature_names.tolist() == ["x1", "x3"]
    assert sub.output_names.tolist() == ["versicolor", "virginica"]
    np.testing.assert_array_equal(sub.data, ROWS[[0, 3]][:, [1, 3]])
    assert float(e[1, 0, 2].values) == e.values[1, 0, 2]
    np.testing.assert_array_equal(np.asarray(e), e.values)
    with pytest.raises(KeyError, match="'petal' is not one of the features names"):
        e[:, "petal"]
    with pytest.raises(IndexError, match="too many indices"):
        e[0, 0, 0, 0]


def test_to_frame_and_pickle():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X_IRIS, columns=["sl", "sw", "pl", "pw"],
                         index=[f"r{i}" for i in range(len(X_IRIS))])
    lr = LogisticRegression(max_iter=1000).fit(frame, LABELS)
    e = Gradient(lr, target="versicolor").fit(frame).explain(frame.iloc[[3, 7]])
    df = e.to_frame()
    assert df.columns.tolist() == ["sl", "sw", "pl", "pw"] and df.index.tolist() == ["r3", "r7"]
    np.testing.assert_array_equal(df.to_numpy(), e.values)
    assert e.target.tolist() == ["versicolor", "versicolor"]
    multi = Gradient(lr, target="all").fit(frame).explain(frame.iloc[:2]).to_frame()
    assert multi.columns.names == ["output", "feature"]
    np.testing.assert_array_equal(multi[("virginica", "pl")].to_numpy(),
                                  Gradient(lr, target="virginica").fit(frame).transform(
                                      frame.iloc[:2])[:, 2])
    again = pickle.loads(pickle.dumps(e))
    np.testing.assert_array_equal(again.values, e.values)
    assert again.feature_names.tolist() == e.feature_names.tolist()
    assert again[0, "pl"].values == e.values[0, 2]


def test_explanation_validates_shapes_by_field():
    with pytest.raises(ValueError, match=r"base_values must have shape \(2,\)"):
        Explanation(np.zeros((2, 3)), base_values=np.zeros(3))
    with pytest.raises(ValueError, match=r"feature_names must have shape \(3,\)"):
        Explanation(np.zeros((2, 3)), feature_names=["a"])
    with pytest.raises(ValueError, match="values must have shape"):
        Explanation(np.zeros(3))


def test_bad_multi_targets_are_refused_by_name():
    with pytest.raises(ValueError, match="not one of the model's classes"):
        Gradient(LR, target=["setosa", "rose"]).fit(X_IRIS)
    with pytest.raises(ValueError, match="lists an output twice"):
        Gradient(LR, target=["setosa", "setosa"]).fit(X_IRIS)
    with pytest.raises(ValueError, match="empty list"):
        Gradient(LR, target=[]).fit(X_IRIS)
    # a DataFrame output cannot hold (n, d, k): say so, before scikit-learn fails
    pytest.importorskip("pandas")
    with config_context(transform_output="pandas"):
        with pytest.raises(ValueError, match=r"explain\(X\).to_frame\(\)"):
            Gradient(LR, target="all").fit(X_IRIS).transform(ROWS)


def test_optimized_explainer_explain():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    g = lambda X: np.cos(X) + 0.2 * X                                      # noqa: E731
    opt = OptimizedExplainer(eta_frac=0.2, n_neighbors=5).fit(X, g)
    e = opt.explain(X)
    np.testing.assert_array_equal(e.values, opt.explanations_)
    np.testing.assert_array_equal(e.reference_values, g(X))
    assert e.method == "OptimizedExplainer" and e.params["eta_frac"] == 0.2
    new = opt.explain(X[:3] + 0.05)
    np.testing.assert_array_equal(new.values, opt.transform(X[:3] + 0.05))
    lin = LinearRegression().fit(X_IRIS, Y_IRIS)
    assert OptimizedExplainer(model=lin).fit(X_IRIS[:30]).explain(X_IRIS[:2]).shape == (2, 4)


def test_optimized_explainer_several_outputs_are_independent_fits():
    Xs = X_IRIS[::3]
    multi = OptimizedExplainer(model=LR, target=["virginica", "setosa"], eta_frac=0.3,
                               n_neighbors=5).fit(Xs)
    assert multi.outputs_ == ["virginica", "setosa"] and multi.explanations_.shape == (50, 4, 2)
    new = X_IRIS[1:8:3] + 0.05
    for j, label in enumerate(["virginica", "setosa"]):
        one = OptimizedExplainer(model=LR, target=label, eta_frac=0.3, n_neighbors=5).fit(Xs)
        np.testing.assert_array_equal(multi.explanations_[..., j], one.explanations_)
        np.testing.assert_array_equal(multi.transform(new)[..., j], one.transform(new))
        assert multi.estimators_[j].eta_ == one.eta_
    e = multi.explain(new)
    assert e.output_names.tolist() == ["virginica", "setosa"]
    np.testing.assert_array_equal(e.values, multi.transform(new))
    np.testing.assert_array_equal(e.reference_values[..., 1],
                                  Gradient(LR, target="setosa").fit(Xs).transform(new))
    # a refit with one output leaves nothing of the multi-output fit, and back
    multi.set_params(target="setosa").fit(Xs)
    assert not hasattr(multi, "estimators_") and multi.explanations_.ndim == 2
    multi.set_params(target="all").fit(Xs)
    assert not hasattr(multi, "eta_") and multi.explanations_.shape == (50, 4, 3)
    with pytest.raises(ValueError, match="needs the model"):
        OptimizedExplainer(target="all").fit(Xs, np.cos(Xs))
    from skexplain.metrics import get_explanation_scorer

    with pytest.raises(ValueError, match="scorers score one output"):
        get_explanation_scorer("neg_max_sensitivity")(multi, X_IRIS[2::3])
    with pytest.raises(ValueError, match="OptimizedExplainer's target"):
        OptimizedExplainer(model=LR, base=Gradient(target="all")).fit(Xs)


@pytest.mark.parametrize("name", ["KernelSHAP", "LIME", "CLIME"])
def test_all_outputs_share_one_pass_of_model_calls(name):
    rows = []

    def predict(X):
        rows.append(len(X))
        return np.c_[np.sin(X).sum(1), X[:, 0] * X[:, 1], np.cos(X[:, 2])]

    f = FunctionModel(predict=predict)
    X = np.random.default_rng(0).normal(size=(30, 3))
    make = {"KernelSHAP": lambda **kw: KernelSHAP(f, random_state=0, max_background=5,
                                                  batch_size=200, **kw),
            "LIME": lambda **kw: LIME(f, n_samples=20, random_state=0, batch_size=50, **kw),
            "CLIME": lambda **kw: CLIME(f, sigma=0.3, n_samples=20, random_state=0,
                                        batch_size=50, **kw)}[name]
    one = make(target=1).fit(X)
    rows.clear()
    single = one.transform(X)
    n_single, max_single = sum(rows), max(rows)
    every = make(target="all").fit(X)
    rows.clear()
    allv = every.transform(X)
    assert sum(rows) == n_single and max(rows) <= max_single   # not 3x, batch_size kept
    np.testing.assert_array_equal(allv[..., 1], single)


def test_explanation_refuses_non_finite_values():
    with pytest.raises(ValueError, match="values must be finite; got 1 NaN"):
        Explanation(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="base_values must be finite"):
        Explanation(np.ones((2, 2)), base_values=[0.0, np.inf])


def test_several_outputs_of_a_model_given_to_fit_and_no_frame_output():
    Xs = X_IRIS[::5]
    via_fit = OptimizedExplainer(target="all", n_neighbors=4).fit(Xs, LR)   # fit(X, model)
    via_param = OptimizedExplainer(model=LR, target="all", n_neighbors=4).fit(Xs)
    np.testing.assert_array_equal(via_fit.explanations_, via_param.explanations_)
    pytest.importorskip("pandas")
    with config_context(transform_output="pandas"):
        with pytest.raises(ValueError, match="to_frame"):
            via_param.transform(Xs[:2])


def test_shared_model_pass_refuses_output_dependent_rows():
    from skexplain.explainers import BaseExplainer

    class Shifted(BaseExplainer):              # its model rows depend on the output
        def __init__(self, model=None, *, target=None, output="auto", batch_size=10000,
                     n_jobs=None):
            self.model, self.target, self.output = model, target, output
            self.batch_size, self.n_jobs = batch_size, n_jobs

        _callable_as = "predict"

        def _model_rows_per_point(self):
            return 1

        def _explain(self, X, columns):
            return np.tile(self._predict(X + columns[:, None], columns)[:, None], (1, 4))

    est = Shifted(LR, target="all").fit(X_IRIS)
    with pytest.raises(RuntimeError, match="cannot share one pass"):
        est.transform(ROWS)
