"""Model adapters: exact gradients against finite differences, targets, errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import (
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR, LinearSVC

from skexplain.exceptions import FiniteDifferenceWarning
from skexplain.models import EstimatorModel, FunctionModel, as_model

Xr, yr = make_regression(80, 4, noise=1.0, random_state=0)
yr = yr / yr.std()
Xc, yc = make_classification(120, 4, n_informative=3, n_redundant=0, n_classes=3,
                             random_state=0)
Xb, yb = make_classification(120, 4, n_informative=3, n_redundant=0, random_state=1)


def _fit_all():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of tiny MLPs
        out = []
        for act in ("identity", "logistic", "tanh", "relu"):
            out += [
                (f"mlp_reg_{act}", MLPRegressor(hidden_layer_sizes=(7, 5), activation=act,
                                                 max_iter=300, random_state=0).fit(Xr, yr),
                 Xr, None, "predict"),
                (f"mlp_multi_{act}", MLPClassifier(hidden_layer_sizes=(6,), activation=act,
                                                   max_iter=300, random_state=0).fit(Xc, yc),
                 Xc, 2, "proba"),
                (f"mlp_bin_{act}", MLPClassifier(hidden_layer_sizes=(6,), activation=act,
                                                 max_iter=300, random_state=0).fit(Xb, yb),
                 Xb, 0, "proba"),
            ]
        out += [
            ("mlp_multi_logits", MLPClassifier(hidden_layer_sizes=(6,), max_iter=300,
                                               random_state=0).fit(Xc, yc), Xc, 1, "decision"),
            ("mlp_bin_logit", MLPClassifier(hidden_layer_sizes=(6,), max_iter=300,
                                            random_state=0).fit(Xb, yb), Xb, None, "decision"),
            ("mlp_multilabel", MLPClassifier(hidden_layer_sizes=(6,), max_iter=300,
                                             random_state=0).fit(Xb, np.c_[yb, 1 - yb]),
             Xb, 1, "proba"),
            ("mlp_poisson", MLPRegressor(loss="poisson", hidden_layer_sizes=(5,), max_iter=300,
                                         random_state=0).fit(Xr, np.abs(yr)), Xr, None, "predict"),
            ("linreg", LinearRegression().fit(Xr, yr), Xr, None, "predict"),
            ("ridge_2out", Ridge().fit(Xr, np.c_[yr, -2 * yr]), Xr, 1, "predict"),
            ("lasso", Lasso(alpha=0.01).fit(Xr, yr), Xr, None, "predict"),
            ("logreg_bin", LogisticRegression().fit(Xb, yb), Xb, None, "proba"),
            ("logreg_multi", LogisticRegression().fit(Xc, yc), Xc, 1, "proba"),
            ("logreg_decision", LogisticRegression().fit(Xc, yc), Xc, 0, "decision"),
            ("sgd_ovr", SGDClassifier(loss="log_loss", random_state=0).fit(Xc, yc), Xc, 2,
             "proba"),
            ("linear_svc", LinearSVC().fit(Xc, yc), Xc, 2, "decision"),
            ("kernel_ridge", KernelRidge(kernel="rbf", gamma=0.2, alpha=0.1).fit(Xr, yr), Xr,
             None, "predict"),
            ("kernel_ridge_obj", KernelRidge(kernel=RBF(2.0), alpha=0.1).fit(Xr, yr), Xr, None,
             "predict"),
            ("svr", SVR(kernel="rbf", C=3.0).fit(Xr, yr), Xr, None, "predict"),
            ("gpr_aniso", GaussianProcessRegressor(
                C(2.0, "fixed") * RBF([1.0, 2.0, 3.0, 4.0], "fixed") + WhiteKernel(0.1, "fixed"),
                normalize_y=True).fit(Xr, yr), Xr, None, "predict"),
            ("gpr_iso", GaussianProcessRegressor(RBF(2.0, "fixed"), alpha=1e-2).fit(Xr, yr),
             Xr, None, "predict"),
        ]
    return out


MODELS = _fit_all()


def _central_fd(method, X, col, h=1e-5):
    """Central differences of an estimator method, written independently."""
    n, d = X.shape
    G = np.empty((n, d))
    for i in range(d):  # test reference: a loop over features is fine here
        e = np.zeros(d)
        e[i] = h
        fp = np.asarray(method(X + e), dtype=float)
        fm = np.asarray(method(X - e), dtype=float)
        if fp.ndim == 2:
            fp, fm = fp[:, col], fm[:, col]
        G[:, i] = (fp - fm) / (2 * h)
    return G


def _method(est, output):
    if output == "proba":
        return est.predict_proba
    if output == "decision":
        if isinstance(est, MLPClassifier):  # logits: the output layer before activation
            return lambda X: as_model(est, output="decision").outputs(X)
        f = est.decision_function
        return (lambda X: np.c_[-f(X), f(X)]) if len(est.classes_) == 2 else f
    return est.predict


@pytest.mark.parametrize("name, est, X, target, output", MODELS, ids=[m[0] for m in MODELS])
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2 ** 31 - 1))
def test_exact_gradient_matches_central_differences(name, est, X, target, output, seed):
    rng = np.random.default_rng(seed)
    P = X[rng.choice(len(X), 6)] + 0.3 * rng.standard_normal((6, X.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FiniteDifferenceWarning)
        m = as_model(est, output=output)
        cols = m.resolve_target(target, P)
        G = m.gradient(P, cols)
        f = m.predict(P, cols)
    assert m.exact_gradient, name
    method = _method(est, output)
    ref_out = np.asarray(method(P), dtype=float)
    ref_out = ref_out[:, cols[0]] if ref_out.ndim == 2 else ref_out
    np.testing.assert_allclose(f, ref_out, rtol=1e-9, atol=1e-12)
    ref = _central_fd(method, P, cols[0])
    scale = np.abs(ref).max() + 1e-3
    np.testing.assert_allclose(G, ref, atol=2e-5 * scale, rtol=1e-4)


def test_finite_difference_fallback_for_other_estimators():
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=0.5)).fit(Xr, yr)
    m = as_model(pipe)
    assert isinstance(m, EstimatorModel) and not m.exact_gradient
    exact = pipe[-1].coef_ / pipe[0].scale_
    G = m.gradient(Xr[:5], 0)
    np.testing.assert_allclose(G, np.tile(exact, (5, 1)), rtol=1e-7)


def test_function_model_finite_differences_and_batching():
    f = lambda X: np.sin(X[:, 0]) * X[:, 1] ** 2  # noqa: E731
    m = FunctionModel(predict=f)
    X = np.random.default_rng(0).normal(size=(7, 2))
    exact = np.c_[np.cos(X[:, 0]) * X[:, 1] ** 2, 2 * np.sin(X[:, 0]) * X[:, 1]]
    np.testing.assert_allclose(m.gradient(X, 0), exact, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(m.gradient(X, 0, batch_size=3), m.gradient(X, 0))
    np.testing.assert_array_equal(m.predict(X, 0, batch_size=2), f(X))


def test_targets():
    est = LogisticRegression().fit(Xc, yc)
    m = as_model(est)
    assert m.resolve_target(2, Xc[:3]).tolist() == [2, 2, 2]
    pred = m.resolve_target("predicted", Xc[:20])
    np.testing.assert_array_equal(est.classes_[pred], est.predict(Xc[:20]))
    with pytest.raises(ValueError, match="target is required"):
        m.resolve_target(None, Xc[:3])
    with pytest.raises(ValueError, match="not one of the model's classes"):
        m.resolve_target(7, Xc[:3])
    # binary: None is the positive class, labels map to columns
    mb = as_model(LogisticRegression().fit(Xb, np.where(yb, "yes", "no")))
    assert mb.resolve_target(None, Xb[:2]).tolist() == [1, 1]
    assert mb.resolve_target("no", Xb[:2]).tolist() == [0, 0]
    # the two binary columns have opposite gradients
    np.testing.assert_allclose(mb.gradient(Xb[:4], 0), -mb.gradient(Xb[:4], 1))


def test_bad_models_raise_clear_errors():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="model is required"):
        as_model(None)
    with pytest.raises(ValueError, match="must be a fitted scikit-learn estimator"):
        as_model(42)
    with pytest.raises(NotFittedError):
        as_model(Ridge())
    with pytest.raises(ValueError, match="is a classifier"):
        as_model(LogisticRegression().fit(Xb, yb), output="predict")
    bad_shape = FunctionModel(gradient=lambda X: X[:, :1])
    with pytest.raises(ValueError, match=r"gradient must return an array of shape \(3, 2\)"):
        bad_shape.gradient(X, 0)
    raises = FunctionModel(predict=lambda X: 1 / 0)
    with pytest.raises(ValueError, match="model raised ZeroDivisionError"):
        raises.predict(X, 0)
    nan = FunctionModel(predict=lambda X: np.full(len(X), np.nan))
    with pytest.raises(ValueError, match="NaN or infinite"):
        nan.predict(X, 0)
    short = FunctionModel(predict=lambda X: np.zeros(len(X) + 1))
    with pytest.raises(ValueError, match="one output"):
        short.predict(X, 0)
    only_grad = FunctionModel(gradient=lambda X: X)
    with pytest.raises(ValueError, match="only a gradient function"):
        only_grad.predict(X, 0)


def test_unsupported_variant_falls_back_with_warning():
    est = LogisticRegression().fit(Xc, yc)
    est.predict_proba = lambda X: np.full((len(X), 3), 1 / 3)  # not what coef_ gives
    m = as_model(est)
    with pytest.warns(FiniteDifferenceWarning):
        G = m.gradient(Xc[:3], 0)
    assert not m.exact_gradient
    np.testing.assert_allclose(G, 0.0, atol=1e-8)


def test_torch_module_adapter():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    net = net.double()
    m = as_model(net)
    X = np.random.default_rng(0).normal(size=(4, 3))
    out = m.outputs(X)
    with torch.no_grad():
        np.testing.assert_allclose(out, net(torch.as_tensor(X)).numpy())
    G = m.gradient(X, 1)
    W1, b1 = net[0].weight.detach().numpy(), net[0].bias.detach().numpy()
    W2 = net[2].weight.detach().numpy()
    h = np.tanh(X @ W1.T + b1)
    exact = ((1 - h ** 2) * W2[1]) @ W1
    np.testing.assert_allclose(G, exact, rtol=1e-10)


def test_value_and_gradient_equals_separate_calls():
    from sklearn.neural_network import MLPClassifier
    from skexplain.models import FunctionModel, as_model
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    mlp = MLPClassifier(hidden_layer_sizes=(6,), max_iter=300, random_state=0).fit(X, y)
    cols = rng.integers(0, 3, size=60)
    for model in (as_model(mlp), FunctionModel(predict=lambda Z: np.sin(Z).sum(1),
                                               gradient=np.cos)):
        c = cols if model.classes_ is not None else np.zeros(60, dtype=int)
        v, g = model.value_and_gradient(X, c, batch_size=7)
        np.testing.assert_allclose(v, model.predict(X, c), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(g, model.gradient(X, c), rtol=1e-13, atol=1e-15)
