"""skexplain.testing checks itself: every check passes a correct explainer and
fails a deliberately broken one (mutation self-tests), with the default
number of examples."""

import itertools
from math import factorial

import numpy as np
import pytest

from skexplain import OptimizedExplainer
from skexplain.explainers import LIME, Gradient, IntegratedGradients, SmoothGrad
from skexplain.explainers._smooth import gaussian_factor
from skexplain.testing import (
    CHECKS,
    CallableExplainer,
    check_explainer,
    check_linear_model,
    parametrize_with_explanation_checks,
)

D_NOISE = 2000


def _noise(n, d, seed=0):
    """The same standard normals for every point (so every row is its own)."""
    return np.random.default_rng(seed).standard_normal((n, d))


def gradient(model, X):
    return model.gradient(X)


def smoothgrad(sigma, n, *, square=False, drop=False, seed_by_rows=False):
    def explain(model, X):
        d = X.shape[1]
        Z = _noise(n, d, seed=len(X) if seed_by_rows else 0)
        scale = sigma ** 2 if square else sigma          # the variance used as the std
        G = model.gradient((X[:, None, :] + scale * Z[None]).reshape(-1, d))
        G = G.reshape(len(X), n, d)
        return G[:, 1:].sum(axis=1) / n if drop else G.mean(axis=1)   # a dropped sample
    return explain


def clime(sigma, n, *, intercept=True):
    def explain(model, X):
        d = X.shape[1]
        Z = sigma * _noise(n, d)
        out = []
        for x in X:
            y = model.predict(x + Z)
            A = np.c_[np.ones(n), Z] if intercept else Z
            out.append(np.linalg.lstsq(A, y, rcond=None)[0][-d:])
        return np.array(out)
    return explain


def integrated_gradients(n_nodes=40, drop_last=False):
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    a, w = (nodes + 1) / 2, weights / 2

    def explain(model, X, baseline):
        d = X.shape[1]
        keep = slice(0, n_nodes - 1) if drop_last else slice(None)
        path = baseline + a[keep, None, None] * (X - baseline)[None]
        G = model.gradient(path.reshape(-1, d)).reshape(path.shape)
        return (X - baseline) * np.tensordot(w[keep], G, axes=1)
    return explain


def shapley(banzhaf=False, tilt=0.0):
    """Exact interventional Shapley values by enumeration (or the Banzhaf index)."""
    def explain(model, X, background):
        n, d = X.shape
        masks = np.array(list(itertools.product([0, 1], repeat=d)), dtype=bool)
        rows = np.where(masks[None, :, None, :], X[:, None, None, :], background[None, None])
        v = model.predict(rows.reshape(-1, d)).reshape(n, len(masks), -1).mean(axis=2)
        index = {tuple(m): i for i, m in enumerate(masks)}
        phi = np.zeros((n, d))
        for m, size in zip(masks, masks.sum(axis=1)):
            for i in np.flatnonzero(~m):
                plus = m.copy()
                plus[i] = True
                weight = (0.5 ** (d - 1) if banzhaf
                          else factorial(size) * factorial(d - size - 1) / factorial(d))
                phi[:, i] += weight * (v[:, index[tuple(plus)]] - v[:, index[tuple(m)]])
        return phi * (1 + tilt * np.arange(d))
    return explain


class SigmaIgnoringSmoothGrad(SmoothGrad):
    """Smooths with sigma = 0.05 whatever it is given."""

    def _fit_extra(self, X):
        self._factor, self.covariance_ = gaussian_factor(0.05, None, X.shape[1])


class SeedIgnoringSmoothGrad(SmoothGrad):
    """Draws its noise seed from fresh entropy instead of random_state."""

    def fit(self, X, y=None):
        seed, self.random_state = self.random_state, None
        try:
            return super().fit(X, y)
        finally:
            self.random_state = seed


class OverBudget(OptimizedExplainer):
    """Moves 1 % further from the gradients than the budget allows."""

    def fit(self, X, y=None, **kw):
        super().fit(X, y, **kw)
        self.explanations_ = self.gradients_ + 1.01 * (self.explanations_ - self.gradients_)
        return self


class Reflected(OptimizedExplainer):
    """Reflects its explanations through the gradients (same budget, less robust)."""

    def fit(self, X, y=None, **kw):
        super().fit(X, y, **kw)
        self.explanations_ = 2 * self.gradients_ - self.explanations_
        return self


class RoundedZeroBudget(OptimizedExplainer):
    """Scales the explanations by 1 + 1e-12 (a units round trip gone wrong)."""

    def fit(self, X, y=None, **kw):
        super().fit(X, y, **kw)
        self.explanations_ = self.explanations_ * (1 + 1e-12)
        return self

    def transform(self, X, grad_fn=None):
        return super().transform(X, grad_fn=grad_fn) * (1 + 1e-12)


class HumpedBudget(OptimizedExplainer):
    """Uses the budget 4 eta_frac (1 - eta_frac): not monotone in eta_frac."""

    def fit(self, X, y=None, **kw):
        eta = self.eta_frac
        self.eta_frac = min(1.0, 4 * eta * (1 - eta))
        try:
            return super().fit(X, y, **kw)
        finally:
            self.eta_frac = eta


def named_gradient(model, X):
    """Reads the implementation (the model's description), not the function."""
    return model.gradient(X) * (1 + 0.01 * len(model.name))


# check -> (a correct explainer, a deliberately broken one)
MUTATIONS = {
    "linearity": (CallableExplainer(gradient, kind="gradient"),
                  CallableExplainer(lambda m, X: np.tanh(m.gradient(X)), kind="gradient",
                                    name="tanh(gradient): non-linear post-processing")),
    "linear_model": (CallableExplainer(smoothgrad(0.5, 64), kind="gradient"),
                     CallableExplainer(smoothgrad(0.5, 64, drop=True), kind="gradient",
                                       name="SmoothGrad with a dropped sample")),
    "completeness": (CallableExplainer(integrated_gradients(), kind="path"),
                     CallableExplainer(integrated_gradients(drop_last=True), kind="path",
                                       name="IG with a dropped node")),
    "efficiency": (CallableExplainer(shapley(), kind="shapley"),
                   CallableExplainer(shapley(banzhaf=True), kind="shapley",
                                     name="Banzhaf index")),
    "dummy": (CallableExplainer(gradient, kind="gradient"),
              CallableExplainer(lambda m, X: m.gradient(X) + 0.01 * m.gradient(X).mean(
                  axis=1, keepdims=True), kind="gradient", name="gradient plus its mean")),
    "symmetry": (CallableExplainer(shapley(), kind="shapley"),
                 CallableExplainer(shapley(tilt=0.1), kind="shapley",
                                   name="Shapley tilted by feature index")),
    "implementation_invariance": (CallableExplainer(gradient, kind="gradient"),
                                  CallableExplainer(named_gradient, kind="gradient")),
    "smoothing_limit": (CallableExplainer(smoothgrad(0.5, D_NOISE), kind="gradient",
                                          noise="gaussian", scale=0.5, n_samples=D_NOISE),
                        CallableExplainer(smoothgrad(0.5, D_NOISE, square=True),
                                          kind="gradient", noise="gaussian", scale=0.5,
                                          n_samples=D_NOISE, name="sigma^2 used for sigma")),
    "smoothgrad_lipschitz": (
        CallableExplainer(smoothgrad(1.0, 4000), kind="gradient", noise="gaussian", scale=1.0,
                          n_samples=4000),
        CallableExplainer(gradient, kind="gradient", noise="gaussian", scale=1.0,
                          n_samples=4000, name="SmoothGrad ignoring sigma")),
    "lipschitz_decreases_with_sigma": (SmoothGrad(), SigmaIgnoringSmoothGrad()),
    "batch_invariance": (CallableExplainer(smoothgrad(0.5, 16), kind="gradient"),
                         CallableExplainer(smoothgrad(0.5, 16, seed_by_rows=True),
                                           kind="gradient", name="noise seeded by row count")),
    "determinism": (LIME(n_samples=30), SeedIgnoringSmoothGrad(n_samples=10)),
    "budget": (OptimizedExplainer(n_neighbors=4), OverBudget(n_neighbors=4)),
    "robustness_improves": (OptimizedExplainer(n_neighbors=4), Reflected(n_neighbors=4)),
    "zero_budget": (OptimizedExplainer(n_neighbors=4), RoundedZeroBudget(n_neighbors=4)),
    "pareto_front": (OptimizedExplainer(n_neighbors=4), HumpedBudget(n_neighbors=4)),
}


def test_every_check_has_a_mutation():
    assert set(MUTATIONS) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_correct_explainer_passes_and_a_broken_one_fails(name):
    correct, broken = MUTATIONS[name]
    good = check_explainer(correct, properties=[name])
    assert [r.status for r in good.results] == ["passed"], str(good)
    bad = check_explainer(broken, properties=[name])
    assert [r.status for r in bad.results] == ["failed"], str(bad)
    # hypothesis's shrunk example (its heading changes between versions)
    assert "run(" in bad.results[0].message and "case_seed=" in bad.results[0].message


def test_a_second_mutation_of_the_smoothing_limit_c_lime_without_intercept():
    ok = CallableExplainer(clime(0.5, D_NOISE), kind="gradient", noise="gaussian", scale=0.5,
                           n_samples=D_NOISE, estimator="least_squares")
    broken = CallableExplainer(clime(0.5, D_NOISE, intercept=False), kind="gradient",
                               noise="gaussian", scale=0.5, n_samples=D_NOISE,
                               estimator="least_squares", name="C-LIME without intercept")
    assert check_explainer(ok, properties="smoothing_limit").passed
    assert not check_explainer(broken, properties="smoothing_limit").passed


def test_checks_run_without_hypothesis_and_say_what_failed():
    # a plain call: one case, an AssertionError naming the explainer and the numbers
    bad = CallableExplainer(smoothgrad(0.5, 64, drop=True), kind="gradient", name="dropped")
    with pytest.raises(AssertionError, match=r"dropped: a linear model is not explained by "
                                             r"its closed form \(gradient\).*theta"):
        check_linear_model(bad, random_state=3)


def test_inapplicable_properties_are_skipped_with_the_reason():
    report = check_explainer(CallableExplainer(lambda m, X: shapley()(m, X, X), kind="shapley"),
                             properties=["efficiency", "completeness", "budget"],
                             max_examples=2)
    assert [r.status for r in report.results] == ["skipped"] * 3
    assert report.results[0].message == "the callable takes no background"
    assert "path methods" in report.results[1].message
    assert report.passed


def test_errors_are_failures_with_the_falsifying_example():
    def crashes(model, X):
        raise RuntimeError("boom")
    report = check_explainer(CallableExplainer(crashes, kind="gradient"),
                             properties="linearity", max_examples=2)
    (result,) = report.results
    assert result.status == "failed"
    assert "raised RuntimeError: boom" in result.message and "case_seed=" in result.message
    with pytest.raises(AssertionError, match="failed 1 check"):
        report.raise_on_failure()


def test_expected_failures_are_reported_as_such():
    broken = MUTATIONS["linearity"][1]
    report = check_explainer(broken, properties=["linearity", "dummy"],
                             expected_failed_checks={"linearity": "tanh is not linear",
                                                     "dummy": "claimed, but passes"})
    assert [r.status for r in report.results] == ["xfailed", "xpassed"]
    assert report.results[0].message.startswith("tanh is not linear")
    assert not report.passed                     # an unexpected pass is a failure
    assert "xpassed" in str(report)


def test_the_same_random_state_draws_the_same_cases():
    seen = []

    def record(model, X):
        seen.append(X.copy())
        return model.gradient(X)
    for _ in range(2):
        check_explainer(CallableExplainer(record, kind="gradient"), properties="dummy",
                        max_examples=3, random_state=5)
    half = len(seen) // 2
    assert half > 0
    assert all(np.array_equal(a, b) for a, b in zip(seen[:half], seen[half:]))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="explain must be callable"):
        CallableExplainer(3)
    with pytest.raises(ValueError, match="kind must be one of"):
        CallableExplainer(gradient, kind="saliency")
    with pytest.raises(ValueError, match="noise needs a positive scale and n_samples"):
        CallableExplainer(gradient, noise="gaussian")
    with pytest.raises(ValueError, match="Unknown check 'linarity'"):
        check_explainer(Gradient(), properties=["linarity"])
    with pytest.raises(ValueError, match="explainer must be a skexplain explainer"):
        check_explainer(object(), properties=["linearity"])
    with pytest.raises(ValueError, match="max_examples must be a positive integer; got 0"):
        check_explainer(Gradient(), max_examples=0)
    with pytest.raises(ValueError, match="random_state must be an integer"):
        parametrize_with_explanation_checks([Gradient()], random_state=None)


@parametrize_with_explanation_checks(
    [Gradient(), IntegratedGradients(n_steps=16), CallableExplainer(gradient, kind="gradient")],
    properties=["linearity", "completeness"], max_examples=3)
def test_parametrize_with_explanation_checks(explainer, check):
    check(explainer)


def test_parametrize_ids_and_marks():
    mark = parametrize_with_explanation_checks(
        [Gradient(), CallableExplainer(gradient, kind="gradient", name="saliency")],
        properties=["linearity", "dummy"], expected_failed_checks={"dummy": "reason"})
    params = mark.args[1]
    assert [p.id for p in params] == ["Gradient-linearity", "Gradient-dummy",
                                      "saliency-linearity", "saliency-dummy"]
    assert [len(p.marks) for p in params] == [0, 1, 0, 1]
    assert params[1].marks[0].kwargs == {"reason": "reason", "strict": True}


def test_shap_kernel_explainer_wrapped_in_two_lines():
    shap = pytest.importorskip("shap")

    def shap_kernel(model, X, background):
        return shap.KernelExplainer(model.predict, background).shap_values(X, silent=True)
    report = check_explainer(
        CallableExplainer(shap_kernel, kind="shapley", name="shap.KernelExplainer"),
        properties=["efficiency", "symmetry", "dummy", "linear_model", "linearity"],
        expected_failed_checks={"linearity": "shap returns zeros for outputs below ~1e-7"})
    assert [r.status for r in report.results] == ["passed"] * 4 + ["xfailed"], str(report)


def test_closed_form_models_validate_their_arguments():
    from skexplain.testing import ClosedFormModel

    with pytest.raises(ValueError, match="kind must be one of"):
        ClosedFormModel("cubic", theta=[1.0])
    with pytest.raises(ValueError, match="A sin ClosedFormModel needs w"):
        ClosedFormModel("sin", theta=[1.0])
    m = ClosedFormModel("exp", w=np.array([0.5, -0.2]))
    with pytest.raises(ValueError, match="exactly one of covariance"):
        m.expected_gradient(np.zeros(2))


def test_strategies_draw_what_they_say():
    from hypothesis import given, settings

    from skexplain.testing import (
        backgrounds,
        closed_form_models,
        covariances,
        points,
        sklearn_models,
    )

    @settings(max_examples=10, deadline=None)
    @given(closed_form_models(3, kinds=["sin", "exp"]), points(3, max_points=4),
           covariances(3, full=True), backgrounds(3, max_rows=2), sklearn_models(3))
    def run(model, X, S, B, est):
        assert model.kind in ("sin", "exp") and X.shape[1] == 3 and 1 <= len(X) <= 4
        assert np.allclose(S, S.T) and np.linalg.eigvalsh(S).min() > 0
        assert 1 <= len(B) <= 2
        # the drawn model's gradient is the derivative of its prediction
        h = 1e-6
        fd = (model.predict(X + h * np.eye(3)[0]) - model.predict(X - h * np.eye(3)[0])) / (2 * h)
        np.testing.assert_allclose(model.gradient(X)[:, 0], fd, rtol=1e-5, atol=1e-5)
        assert est.predict(X).shape == (len(X),)
    run()


def test_equivalent_networks_differ_in_weights_not_in_function():
    from skexplain.testing import equivalent_networks

    f, g = equivalent_networks(3, random_state=1)
    X = np.random.default_rng(2).normal(size=(50, 3))
    np.testing.assert_allclose(f(X), g(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f.gradient(X), g.gradient(X), rtol=1e-10, atol=1e-12)
    h = 1e-6
    fd = (f(X + h * np.eye(3)[1]) - f(X - h * np.eye(3)[1])) / (2 * h)
    np.testing.assert_allclose(f.gradient(X)[:, 1], fd, rtol=1e-5, atol=1e-7)
    assert f.name != g.name
