"""Hostile input: extreme magnitudes, rejected solver settings, messages that
name the argument, dtype behaviour."""

import warnings

import numpy as np
import pytest

from skexplain import OptimizedExplainer
from skexplain.exceptions import NoNeighborsWarning
from skexplain.metrics import faithfulness_loss, max_sensitivity

RNG = np.random.default_rng(0)
X = RNG.uniform(-2, 2, size=(30, 3))
G = np.cos(X) + 0.2 * X


def _fit(G, **kw):
    kw = {"u": 1.2, "eta_frac": 0.2, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        # no numpy overflow warning even where a reported loss is inf
        warnings.simplefilter("error", RuntimeWarning)
        return OptimizedExplainer(**kw).fit(X, G)


@pytest.mark.parametrize("faithfulness", ["global", "pointwise"])
@pytest.mark.parametrize("magnitude", [1e-200, 1e-30, 1e30, 1e200])
def test_gradients_of_any_magnitude_give_scaled_explanations(magnitude, faithfulness):
    # the problem is homogeneous: E(c G) = c E(G); squaring 1e200 overflows and
    # squaring 1e-200 underflows, so the solve must scale before squaring
    ref = _fit(G, faithfulness=faithfulness)
    est = _fit(G * magnitude, faithfulness=faithfulness)
    np.testing.assert_allclose(est.explanations_ / magnitude, ref.explanations_,
                               rtol=1e-6, atol=1e-6)
    assert est.eta_frac_ == ref.eta_frac_
    # losses in squared gradient units: exact, or inf / 0 where the true
    # value leaves the float range ((1e200)^2, (1e-200)^2)
    for name in ("faithfulness_loss_", "max_faithfulness_loss_", "eta_"):
        with np.errstate(over="ignore", under="ignore"):
            expected = getattr(ref, name) * np.float64(magnitude) ** 2
        if np.isfinite(expected) and expected > 1e-300:
            np.testing.assert_allclose(getattr(est, name), expected, rtol=1e-6)
        else:
            assert getattr(est, name) == (np.inf if magnitude > 1 else 0.0)
    # out of sample too
    X_new = RNG.uniform(-2, 2, size=(4, 3))
    G_new = np.cos(X_new) + 0.2 * X_new
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        np.testing.assert_allclose(est.transform(X_new, grad_fn=G_new * magnitude) / magnitude,
                                   ref.transform(X_new, grad_fn=G_new), rtol=1e-6, atol=1e-6)


def test_huge_gradients_with_the_first_order_solver():
    ref = _fit(G, solver="PDHG", solver_options={"tol": 1e-7})
    est = _fit(G * 1e200, solver="PDHG", solver_options={"tol": 1e-7})
    np.testing.assert_allclose(est.explanations_ / 1e200, ref.explanations_, atol=1e-6)


def test_solver_settings_rejected_by_the_solver_name_solver_options():
    with pytest.raises(ValueError, match=r"solver_options .*'max_iters'.* rejected by the "
                                         r"CLARABEL solver"):
        _fit(G, solver="CLARABEL", solver_options={"max_iters": 5})


def test_shape_messages_name_both_arguments():
    with pytest.raises(ValueError, match=r"explanations must have the same shape as "
                                         r"gradients, \(30, 3\); got \(3, 3\)"):
        faithfulness_loss(G, G[:3])
    with pytest.raises(ValueError, match=r"explanations must have the same shape as X"):
        max_sensitivity(X, G[:, :2], u=1.0)


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_integer_and_float32_input_is_computed_in_float64(dtype):
    Xd = np.round(X * 3).astype(dtype)
    Xd = np.unique(Xd, axis=0)
    Gd = (np.cos(Xd.astype(np.float64)) * 4).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        est = OptimizedExplainer(u=2.0, eta_frac=0.3).fit(Xd, Gd)
        ref = OptimizedExplainer(u=2.0, eta_frac=0.3).fit(Xd.astype(np.float64),
                                                          Gd.astype(np.float64))
    assert est.explanations_.dtype == np.float64
    np.testing.assert_array_equal(est.explanations_, ref.explanations_)


@pytest.mark.parametrize("dtype", [bool, np.float16])
def test_boolean_and_float16_points_are_computed_in_float64(dtype):
    Xd = np.unique(np.round(X).astype(dtype), axis=0)
    Gd = np.cos(Xd.astype(np.float64)) + Xd.astype(np.float64) ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        est = OptimizedExplainer(u=1.5, eta_frac=0.3).fit(Xd, Gd)
        ref = OptimizedExplainer(u=1.5, eta_frac=0.3).fit(Xd.astype(np.float64), Gd)
    assert est.explanations_.dtype == np.float64
    np.testing.assert_array_equal(est.explanations_, ref.explanations_)
    assert max_sensitivity(Xd, Gd, u=1.5) == max_sensitivity(Xd.astype(np.float64), Gd, u=1.5)


# the hostile-input list, once per public estimator (estimator_name: conftest)
from skexplain.explainers import CLIME, LIME, KernelSHAP, RelEx, SmoothGrad, UniGrad  # noqa: E402


@pytest.mark.filterwarnings("ignore::skexplain.exceptions.NoNeighborsWarning")
def test_every_estimator_rejects_empty_non_finite_and_wrongly_shaped_x(estimator_name,
                                                                      estimators):
    name = estimator_name
    Xs = np.random.default_rng(1).uniform(-1, 1, size=(12, 3))
    nan, inf = Xs.copy(), Xs.copy()
    nan[3, 1], inf[5, 2] = np.nan, -np.inf
    bad = {"empty": np.zeros((0, 3)), "1-D": Xs[:, 0], "3-D": Xs[None], "NaN": nan, "inf": inf}
    for what, Xb in bad.items():
        with pytest.raises(ValueError, match=r"sample|2D array|NaN|infinity|inf") as e:
            estimators[name]().fit(Xb)
        assert "X" in str(e.value) or "array" in str(e.value), (what, str(e.value))
    fitted = estimators[name]().fit(Xs)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(Xs[:, :2])


@pytest.mark.parametrize("make, param", [
    (lambda v: SmoothGrad(np.cos, sigma=v), "sigma"),
    (lambda v: SmoothGrad(np.cos, n_samples=v), "n_samples"),
    (lambda v: UniGrad(np.cos, radius=v), "radius"),
    (lambda v: CLIME(np.sin, sigma=v), "sigma"),
    (lambda v: CLIME(np.sin, n_samples=v), "n_samples"),
    (lambda v: LIME(np.sin, n_samples=v), "n_samples"),
    (lambda v: KernelSHAP(np.sin, n_samples=v), "n_samples"),
    (lambda v: RelEx(np.sin, n_noise=v), "n_noise"),
    (lambda v: OptimizedExplainer(grad_fn=np.cos, n_neighbors=v), "n_neighbors"),
])
@pytest.mark.parametrize("value", [0, -1])
def test_zero_and_negative_scales_and_counts_name_the_parameter(make, param, value):
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        make(value).fit(X)


@pytest.mark.parametrize("cls", [SmoothGrad, CLIME, LIME, KernelSHAP, RelEx])
def test_a_model_with_neither_gradient_nor_predict_is_named(cls):
    with pytest.raises(ValueError, match="model must be a fitted scikit-learn estimator, a "
                                         "torch module, a callable or a FunctionModel; "
                                         "got object"):
        cls(object()).fit(X).transform(X)


@pytest.mark.parametrize("faithfulness", ["global", "pointwise"])
@pytest.mark.parametrize("eta_frac", [0.0, 0.3, 1.0])
def test_huge_gradients_with_closed_form_budgets_give_no_nan(eta_frac, faithfulness):
    # eta_frac = 0 times an L_max that overflows was 0 * inf = NaN (and a
    # numpy warning) in eta_ and point_budgets_
    Gh = G * 1e200
    Gh[-1] = 0.0                                     # a row at distance 0 from 0
    est = _fit(Gh, eta_frac=eta_frac, faithfulness=faithfulness)
    assert not np.isnan(est.eta_) and not np.isnan(est.point_budgets_).any()
    assert est.eta_ == (0.0 if eta_frac == 0 else np.inf)
    assert np.isfinite(est.explanations_).all()
    if eta_frac == 0:
        np.testing.assert_array_equal(est.explanations_, Gh)


def test_explanation_path_with_huge_gradients_has_no_nan_budget():
    from skexplain.optimize import explanation_path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNeighborsWarning)
        warnings.simplefilter("error", RuntimeWarning)
        path = explanation_path(X, G * 1e200, [0.0, 0.5], u=1.2)
        ref = explanation_path(X, G, [0.0, 0.5], u=1.2)
    assert path.eta[0] == 0.0 and path.eta[1] == np.inf
    np.testing.assert_allclose(path.explanations / 1e200, ref.explanations, rtol=1e-6, atol=1e-9)


def _sigmoid_model():
    from skexplain.models import FunctionModel
    return FunctionModel(predict=lambda Z: 1.0 / (1.0 + np.exp(-Z.sum(axis=1))))


def _public_functions():
    from skexplain import metrics as M
    from skexplain.attacks import pgd_attack
    from skexplain.explainers import Gradient
    from skexplain.optimize import explanation_path

    model = _sigmoid_model()
    expl = Gradient(np.cos).fit(X)
    ones = lambda A: np.ones(np.shape(A))  # noqa: E731
    return {
        "local_lipschitz_estimate": lambda A: M.local_lipschitz_estimate(expl, A, sigma=0.1),
        "neighborhood_robustness": lambda A: M.neighborhood_robustness(expl, A),
        "marginal_faithfulness": lambda A: M.marginal_faithfulness(model, A, ones(A)),
        "deletion_auc": lambda A: M.deletion_auc(model, A, ones(A)),
        "preservation_auc": lambda A: M.preservation_auc(model, A, ones(A)),
        "class_retrieval_rate": lambda A: M.class_retrieval_rate(model, A, ones(A),
                                                                 np.zeros(len(A), int)),
        "spearman_similarity": lambda A: M.spearman_similarity(A, A),
        "topk_intersection": lambda A: M.topk_intersection(A, A, k=1),
        "pgd_attack": lambda A: pgd_attack(model, A, np.zeros(len(A), int), 0.1),
        "explanation_path": lambda A: explanation_path(A, ones(A), [0.5]),
        "max_sensitivity": lambda A: max_sensitivity(A, ones(A), u=1.0),
        "faithfulness_loss": lambda A: faithfulness_loss(A, ones(A)),
    }


@pytest.mark.parametrize("name", sorted(_public_functions()))
def test_public_functions_name_the_argument_for_3d_empty_and_nan_input(name):
    fn = _public_functions()[name]
    for bad in (X[None], X[:0], np.where(X > 1.8, np.nan, X)):
        with pytest.raises(ValueError) as e:
            fn(bad)
        # the message names an argument (X, A, gradients, ...) or says "array"
        assert any(w in str(e.value) for w in ("X ", "X:", "A ", "A:", "gradients", "Input X",
                                               "Input A", "explanations")), str(e.value)


def test_gradients_beyond_the_float_safe_range_are_rejected_by_name():
    from skexplain.optimize import explanation_path

    near_max = G * 1e306                       # means and differences would overflow
    with pytest.raises(ValueError, match=r"y has entries up to .* takes gradients up to 1e\+300"):
        _fit(near_max)
    with pytest.raises(ValueError, match=r"grad_fn has entries up to"):
        explanation_path(X, near_max, [0.5], u=1.2)
    est = _fit(G)
    with pytest.raises(ValueError, match=r"grad_fn has entries up to"):
        est.transform(X[:2] + 0.01, grad_fn=near_max[:2])
    ok = _fit(G * 1e299)                       # the largest accepted magnitude works
    np.testing.assert_allclose(ok.explanations_ / 1e299, est.explanations_, rtol=1e-6,
                               atol=1e-6)
