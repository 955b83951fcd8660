"""TreeSHAP: exact interventional Shapley values, checked against brute force."""

import itertools
import pickle
import warnings
from math import factorial

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skexplain.explainers import KernelSHAP, TreeSHAP, tree_leaves

RNG = np.random.default_rng(0)
X = RNG.normal(size=(80, 4))
Y = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + 0.3 * X[:, 3]
LABELS3 = np.digitize(Y, [-0.5, 0.5])
LABELS2 = (Y > 0).astype(int)
B = X[:12]
POINTS = X[60:66]


def brute_force_shapley(f, x, background):
    """phi_i = sum_S |S|! (d-|S|-1)! / d! (v(S+i) - v(S)), v(S) = mean_b f(x_S, b_rest)."""
    d = x.size
    masks = np.array(list(itertools.product([0, 1], repeat=d)), dtype=bool)
    rows = np.where(masks[:, None, :], x[None, None, :], background[None, :, :])
    value = f(rows.reshape(-1, d)).reshape(len(masks), len(background), -1).mean(axis=1)
    index = {tuple(m): i for i, m in enumerate(masks)}
    phi = np.zeros((d, value.shape[1]))
    for m, s in zip(masks, masks.sum(axis=1)):
        for i in np.flatnonzero(~m):
            with_i = m.copy()
            with_i[i] = True
            weight = factorial(s) * factorial(d - s - 1) / factorial(d)
            phi[i] += weight * (value[index[tuple(with_i)]] - value[index[tuple(m)]])
    return phi


def _column(out):
    out = np.asarray(out, dtype=float)
    return out[:, None] if out.ndim == 1 else out


MODELS = [
    ("tree", DecisionTreeRegressor(max_depth=5, random_state=0).fit(X, Y), "predict", None),
    ("forest", RandomForestRegressor(n_estimators=8, max_depth=6, random_state=0).fit(X, Y),
     "predict", None),
    ("extra", ExtraTreesRegressor(n_estimators=8, max_depth=6, random_state=0).fit(X, Y),
     "predict", None),
    ("boosting", GradientBoostingRegressor(n_estimators=15, max_depth=3,
                                           random_state=0).fit(X, Y), "predict", None),
    ("hist", HistGradientBoostingRegressor(max_iter=15, random_state=0).fit(X, Y),
     "predict", None),
    ("forest-proba", RandomForestClassifier(n_estimators=6, max_depth=5,
                                            random_state=0).fit(X, LABELS3),
     "predict_proba", 2),
    ("tree-proba", DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, LABELS2),
     "predict_proba", 1),
    ("boosting-binary", GradientBoostingClassifier(n_estimators=10, max_depth=2,
                                                   random_state=0).fit(X, LABELS2),
     "decision_function", 1),
    ("boosting-3", GradientBoostingClassifier(n_estimators=6, max_depth=2,
                                              random_state=0).fit(X, LABELS3),
     "decision_function", 0),
    ("hist-binary", HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, LABELS2),
     "decision_function", 1),
    ("hist-3", HistGradientBoostingClassifier(max_iter=6, random_state=0).fit(X, LABELS3),
     "decision_function", 1),
]


@pytest.mark.parametrize("name, model, method, target", MODELS, ids=[m[0] for m in MODELS])
def test_exact_shapley_values_of_every_supported_family(name, model, method, target):
    shap = TreeSHAP(model, background=B, target=target).fit(X)
    phi = shap.transform(POINTS)

    def f(rows):
        out = _column(getattr(model, method)(rows))
        if method == "decision_function" and out.shape[1] == 1:
            out = np.c_[-out, out]           # a binary raw score z explains class 1 as z
        return out[:, 0 if target is None else target]

    for x, row in zip(POINTS, phi):
        np.testing.assert_allclose(row, brute_force_shapley(f, x, B)[:, 0],
                                   rtol=1e-10, atol=1e-12)
    # efficiency: the attributions sum to f(x) minus the expected output
    expected = f(B).mean()
    column = 0 if target is None else target
    np.testing.assert_allclose(shap.expected_value_[column], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(phi.sum(axis=1) + expected, f(POINTS), rtol=1e-10, atol=1e-10)


def test_features_no_tree_splits_on_get_zero():
    # constant columns in training: no split can use them, so they are dummies
    # (Shapley's dummy axiom) even where the explained points vary on them
    train = X.copy()
    train[:, [1, 3]] = 0.5
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(train, Y)
    phi = TreeSHAP(forest, background=B).fit(train).transform(POINTS)
    assert np.all(phi[:, [1, 3]] == 0)
    assert np.all(np.abs(phi[:, [0, 2]]).sum(axis=0) > 0)


def test_matches_exact_kernel_shap_on_real_forests():
    X_d, y_d = load_diabetes(return_X_y=True)
    X_d = X_d[:, :5]
    background = X_d[:20]
    for model in (RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0),
                  HistGradientBoostingRegressor(max_iter=20, random_state=0)):
        model.fit(X_d, y_d)
        tree = TreeSHAP(model, background=background).fit(X_d).transform(X_d[100:110])
        # 2^5 = 32 coalitions: KernelSHAP enumerates them all, exactly
        kernel = KernelSHAP(model, background=background, n_samples=200).fit(X_d)
        np.testing.assert_allclose(tree, kernel.transform(X_d[100:110]), rtol=1e-8, atol=1e-8)


def test_pipeline_with_feature_wise_steps_on_a_data_frame_without_warnings():
    pd = pytest.importorskip("pandas")
    data = load_diabetes(as_frame=True)
    frame = data.frame.drop(columns="target").iloc[:, :4]
    model = make_pipeline(StandardScaler(), QuantileTransformer(n_quantiles=50),
                          RandomForestRegressor(n_estimators=10, max_depth=5, random_state=0))
    model.fit(frame, data.target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shap = TreeSHAP(model, background=frame.iloc[:10]).fit(frame)
        phi = shap.transform(frame.iloc[200:204])
    x = frame.to_numpy()

    def f(rows):
        return model.predict(pd.DataFrame(rows, columns=frame.columns))

    for row, point in zip(phi, x[200:204]):
        np.testing.assert_allclose(row, brute_force_shapley(lambda r: f(r)[:, None], point,
                                                            x[:10])[:, 0], rtol=1e-10,
                                   atol=1e-10)


def test_refuses_a_step_that_mixes_features_and_non_tree_models():
    model = make_pipeline(PCA(2), RandomForestRegressor(n_estimators=3, random_state=0))
    model.fit(X, Y)
    with pytest.raises(ValueError, match=r"each feature on its own.*\['PCA'\].*KernelSHAP"):
        TreeSHAP(model).fit(X)
    with pytest.raises(ValueError, match=r"scikit-learn tree models.*got Ridge.*KernelSHAP"):
        TreeSHAP(Ridge().fit(X, Y)).fit(X)
    with pytest.raises(ValueError, match=r"not a callable.*KernelSHAP"):
        TreeSHAP(np.cos).fit(X)
    with pytest.raises(ValueError, match=r"TreeSHAP needs a model"):
        TreeSHAP().fit(X)
    with pytest.raises(ValueError, match="background must be"):
        TreeSHAP(MODELS[1][1], background=np.zeros((3, 2))).fit(X)
    boosting = MODELS[7][1]
    with pytest.raises(ValueError, match="not additive over trees"):
        TreeSHAP(boosting, output="proba").fit(X)
    multi = RandomForestClassifier(n_estimators=2, random_state=0).fit(
        X, np.c_[LABELS2, LABELS3])
    with pytest.raises(ValueError, match="single-output classifiers"):
        TreeSHAP(multi).fit(X)


def test_multi_output_regressor_explains_the_target_column():
    forest = RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0)
    forest.fit(X, np.c_[Y, X[:, 3] ** 2])
    phi = TreeSHAP(forest, background=B, target=1).fit(X).transform(POINTS)
    for row, x in zip(phi, POINTS):
        ref = brute_force_shapley(lambda r: forest.predict(r)[:, 1:], x, B)[:, 0]
        np.testing.assert_allclose(row, ref, rtol=1e-10, atol=1e-12)


def test_results_do_not_depend_on_batch_size_rows_or_n_jobs():
    model = MODELS[1][1]
    shap = TreeSHAP(model, max_background=30, random_state=0).fit(X)
    full = shap.transform(X)
    for params in ({"batch_size": 50}, {"batch_size": 7}, {"n_jobs": 2}):
        other = TreeSHAP(model, max_background=30, random_state=0, **params).fit(X)
        np.testing.assert_array_equal(other.transform(X), full)
    perm = RNG.permutation(len(X))
    np.testing.assert_array_equal(shap.transform(X[perm]), full[perm])
    np.testing.assert_array_equal(shap.transform(X[5:9]), full[5:9])
    # the background is the seeded subsample of the training rows
    other = TreeSHAP(model, max_background=30, random_state=1).fit(X)
    assert not np.array_equal(other.background_, shap.background_)
    np.testing.assert_array_equal(TreeSHAP(model, max_background=30, random_state=0)
                                  .fit(X).background_, shap.background_)


def test_estimator_conventions():
    model = MODELS[3][1]
    fitted = TreeSHAP(model, background=B).fit(X, Y)          # y is ignored
    # clone (GridSearchCV, cross_validate) keeps a FrozenEstimator fitted
    frozen = clone(TreeSHAP(FrozenEstimator(model), background=B)).fit(X)
    np.testing.assert_array_equal(frozen.transform(POINTS), fitted.transform(POINTS))
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.transform(POINTS), fitted.transform(POINTS))
    with pytest.raises(ValueError, match="4 features"):
        fitted.transform(X[:, :3])


def test_tree_leaves_boxes_partition_the_space_and_reproduce_predictions():
    forest = MODELS[1][1]
    trees, offset, dtype = tree_leaves(forest, 4, "predict")
    assert dtype == np.float32 and len(trees) == 8
    Z = RNG.normal(size=(200, 4)).astype(np.float32).astype(np.float64)
    total = np.zeros(len(Z))
    for lo, hi, v in trees:
        inside = np.all((lo[None] < Z[:, None]) & (Z[:, None] <= hi[None]), axis=2)
        np.testing.assert_array_equal(inside.sum(axis=1), 1)    # one leaf per point
        total += inside @ v[:, 0]
    np.testing.assert_allclose(total + offset[0], forest.predict(Z), rtol=1e-12)


def test_as_the_base_of_an_optimised_explainer():
    from skexplain import OptimizedExplainer

    forest = MODELS[1][1]
    base = TreeSHAP(background=B)
    shap = TreeSHAP(forest, background=B).fit(X)
    opt = OptimizedExplainer(model=forest, base=base, eta_frac=0.3).fit(X)
    # the faithfulness term is measured from the exact Shapley values
    np.testing.assert_array_equal(opt.gradients_, shap.transform(X))
    assert opt.robustness_loss_ < opt.gradient_robustness_loss_
    # no budget: the base explanations themselves, for new points too
    exact = OptimizedExplainer(model=forest, base=base, eta_frac=0.0).fit(X)
    np.testing.assert_allclose(exact.transform(POINTS), shap.transform(POINTS),
                               rtol=1e-12, atol=1e-12)
