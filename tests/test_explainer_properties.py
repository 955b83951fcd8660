"""Hypothesis properties of the classic explainers (Agarwal et al.; Tan & Tian).

Closed forms: for ``a ~ N(x, Sigma)`` both SmoothGrad and C-LIME converge to
``Sigma^{-1} cov(a, f(a)) = E[grad f(a)]`` (Stein's lemma), and ridge C-LIME
to ``(Sigma + lambda I)^{-1} cov(a, f(a))``. The families below have exact
Gaussian expectations. Monte-Carlo tolerances are six standard errors,
computed in the test from an independent numpy sample: for SmoothGrad the
spread of the sampled gradients, for C-LIME the sandwich (influence
function) variance of the least-squares slope.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from skexplain.explainers import (
    CLIME,
    LIME,
    Gradient,
    IntegratedGradients,
    KernelSHAP,
    SmoothGrad,
)
from skexplain.metrics import local_lipschitz_estimate

SETTINGS = dict(max_examples=15, deadline=None)


class Family:
    """A function with exact Gaussian expectations of f and grad f."""

    def __init__(self, kind, d, rng, Sigma):
        self.kind = kind
        self.theta = rng.normal(size=d)
        self.b = rng.normal()
        self.A = rng.normal(size=(d, d)) / d
        w = rng.normal(size=d)
        s2 = w @ Sigma @ w
        if kind == "exp":  # keep the lognormal tails light
            w = w * min(1.0, np.sqrt(0.5 / s2))
        self.w = w
        self.s2 = w @ Sigma @ w

    def f(self, X):
        k, X = self.kind, np.asarray(X)
        if k == "linear":
            return X @ self.theta + self.b
        if k == "quadratic":
            return np.einsum("...i,ij,...j->...", X, self.A, X) + X @ self.theta
        if k == "sin":
            return np.sin(X @ self.w + self.b)
        return np.exp(X @ self.w)

    def grad(self, X):
        k, X = self.kind, np.asarray(X)
        if k == "linear":
            return np.broadcast_to(self.theta, X.shape).copy()
        if k == "quadratic":
            return X @ (self.A + self.A.T) + self.theta
        if k == "sin":
            return np.cos(X @ self.w + self.b)[..., None] * self.w
        return np.exp(X @ self.w)[..., None] * self.w

    def expected_grad(self, x, Sigma):
        """E[grad f(x + z)], z ~ N(0, Sigma): SmoothGrad's and C-LIME's limit."""
        k = self.kind
        if k in ("linear", "quadratic"):
            return self.grad(x)
        if k == "sin":
            return self.w * np.cos(x @ self.w + self.b) * np.exp(-self.s2 / 2)
        return self.w * np.exp(x @ self.w + self.s2 / 2)

    def expected_f(self, x, Sigma):
        k = self.kind
        if k == "linear":
            return self.f(x)
        if k == "quadratic":
            return self.f(x) + np.trace(self.A @ Sigma)
        if k == "sin":
            return np.sin(x @ self.w + self.b) * np.exp(-self.s2 / 2)
        return np.exp(x @ self.w + self.s2 / 2)


def _covariance(rng, d, sigma, full):
    if not full:
        return sigma ** 2 * np.eye(d)
    B = rng.normal(size=(d, d))
    return sigma ** 2 * (np.eye(d) + B @ B.T / d)


def _standard_errors(fam, x, Sigma, lam, n, rng, M=100_000):
    """SEs of SmoothGrad and (ridge) C-LIME with n samples, and the ridge limit."""
    d = len(x)
    L = np.linalg.cholesky(Sigma)
    Z = rng.standard_normal((M, d)) @ L.T
    A = x + Z
    se_sg = fam.grad(A).std(axis=0) / np.sqrt(n)
    c = Sigma @ fam.expected_grad(x, Sigma)           # cov(a, f(a)) by Stein
    Ainv = np.linalg.inv(Sigma + lam * np.eye(d))
    w = Ainv @ c
    fc = fam.f(A) - fam.expected_f(x, Sigma)
    psi = (Z * fc[:, None] - c - (Z * (Z @ w)[:, None] - Sigma @ w)) @ Ainv.T
    return se_sg, psi.std(axis=0) / np.sqrt(n), w


families = st.sampled_from(["linear", "quadratic", "sin", "exp"])
seeds = st.integers(0, 2 ** 32 - 1)


@settings(**SETTINGS)
@given(kind=families, seed=seeds, d=st.integers(1, 4), sigma=st.floats(0.1, 1.5),
       full=st.booleans(), ridge=st.sampled_from([0.0, 0.05, 1.0]))
def test_smoothgrad_and_clime_converge_to_the_closed_form(kind, seed, d, sigma, full, ridge):
    rng = np.random.default_rng(seed)
    Sigma = _covariance(rng, d, sigma, full)
    fam = Family(kind, d, rng, Sigma)
    X = rng.normal(size=(3, d))
    n = 4000
    sg = SmoothGrad(fam.grad, covariance=Sigma, n_samples=n, random_state=seed % 1000)
    cl = CLIME(fam.f, covariance=Sigma, alpha=ridge, n_samples=n, random_state=seed % 1000)
    E_sg = sg.fit_transform(X)
    E_cl = cl.fit_transform(X)
    for i, x in enumerate(X):
        truth = fam.expected_grad(x, Sigma)
        se_sg, se_cl, w_ridge = _standard_errors(fam, x, Sigma, ridge, n, rng)
        tol = 1e-8 * (1 + np.abs(truth))
        assert np.all(np.abs(E_sg[i] - truth) <= 6 * se_sg + tol), (E_sg[i], truth, se_sg)
        # Theorem 1 / appendix D: C-LIME -> (Sigma + lambda I)^-1 cov(a, f(a))
        if ridge == 0.0:
            np.testing.assert_allclose(w_ridge, truth, rtol=1e-8, atol=1e-10)
        assert np.all(np.abs(E_cl[i] - w_ridge) <= 6 * se_cl + tol), (E_cl[i], w_ridge, se_cl)


@settings(**SETTINGS)
@given(kind=st.sampled_from(["quadratic", "sin", "exp"]), seed=seeds, sigma=st.floats(0.2, 1.0))
def test_gap_between_smoothgrad_and_clime_shrinks_with_samples(kind, seed, sigma):
    rng = np.random.default_rng(seed)
    d = 3
    Sigma = sigma ** 2 * np.eye(d)
    fam = Family(kind, d, rng, Sigma)
    X = rng.normal(size=(20, d))

    def gap(n):  # common random numbers: the same seed gives the same perturbations
        sg = SmoothGrad(fam.grad, sigma=sigma, n_samples=n, random_state=7).fit_transform(X)
        cl = CLIME(fam.f, sigma=sigma, n_samples=n, random_state=7).fit_transform(X)
        return np.abs(sg - cl).sum(axis=1).mean()

    small, large = gap(100), gap(10_000)
    assume(small > 1e-9)
    assert large <= small / 3


@settings(**SETTINGS)
@given(seed=seeds, alpha=st.floats(-3, 3), beta=st.floats(-3, 3))
def test_linearity_with_shared_samples(seed, alpha, beta):
    rng = np.random.default_rng(seed)
    d = 3
    f1 = Family("sin", d, rng, np.eye(d))
    f2 = Family("quadratic", d, rng, np.eye(d))
    X = rng.normal(size=(4, d))
    B = rng.normal(size=(3, d))
    combo_f = lambda Z: alpha * f1.f(Z) + beta * f2.f(Z)  # noqa: E731
    combo_g = lambda Z: alpha * f1.grad(Z) + beta * f2.grad(Z)  # noqa: E731
    makers = [
        (lambda m: SmoothGrad(m, sigma=0.5, n_samples=30, random_state=1), "grad"),
        (lambda m: Gradient(m), "grad"),
        (lambda m: IntegratedGradients(m, n_steps=7), "grad"),
        (lambda m: CLIME(m, sigma=0.5, n_samples=30, random_state=1), "f"),
        (lambda m: LIME(m, n_samples=30, random_state=1), "f"),
        (lambda m: KernelSHAP(m, background=B), "f"),
        (lambda m: KernelSHAP(m, background=B, n_samples=4, random_state=1), "f"),
    ]
    for make, kind in makers:
        m1, m2, mc = (f1.grad, f2.grad, combo_g) if kind == "grad" else (f1.f, f2.f, combo_f)
        e1 = make(m1).fit(B).transform(X)
        e2 = make(m2).fit(B).transform(X)
        ec = make(mc).fit(B).transform(X)
        scale = np.abs(alpha * e1).max() + np.abs(beta * e2).max() + 1.0
        np.testing.assert_allclose(ec, alpha * e1 + beta * e2, rtol=0, atol=1e-9 * scale)


@settings(**SETTINGS)
@given(seed=seeds, d=st.integers(1, 5), sigma=st.floats(0.01, 3.0), full=st.booleans())
def test_proportionality_for_linear_models(seed, d, sigma, full):
    rng = np.random.default_rng(seed)
    Sigma = _covariance(rng, d, sigma, full)
    fam = Family("linear", d, rng, Sigma)
    X = rng.normal(size=(3, d)) * 5
    expected = np.tile(fam.theta, (3, 1))
    sg = SmoothGrad(fam.grad, covariance=Sigma, n_samples=7, random_state=0).fit_transform(X)
    cl = CLIME(fam.f, covariance=Sigma, n_samples=d + 2, random_state=0).fit_transform(X)
    np.testing.assert_allclose(sg, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cl, expected, rtol=1e-6, atol=1e-6 * np.abs(fam.theta).max())


@settings(**SETTINGS)
@given(seed=seeds, d=st.integers(1, 4),
       method=st.sampled_from(["riemann_left", "riemann_right", "riemann_middle",
                               "riemann_trapezoid", "gauss_legendre"]),
       n_steps=st.integers(2, 40))
def test_integrated_gradients_completeness(seed, d, method, n_steps):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4, d))
    base = rng.normal(size=d)
    quad = Family("quadratic", d, rng, np.eye(d))
    sin = Family("sin", d, rng, np.eye(d))
    for fam in (quad, sin):
        ig = IntegratedGradients(fam.grad, baseline=base, n_steps=n_steps, method=method)
        total = ig.fit_transform(X).sum(axis=1)
        exact = fam.f(X) - fam.f(base[None])
        s = np.abs((X - base) @ (sin.w if fam is sin else np.zeros(d)))
        m = n_steps
        if fam is quad:  # the integrand is linear in alpha
            bound = {"riemann_left": np.inf, "riemann_right": np.inf}.get(method, 0.0)
        else:  # error bounds of each rule for g(a) = sin(c + a s)
            bound = {"riemann_left": s ** 2 / (2 * m), "riemann_right": s ** 2 / (2 * m),
                     "riemann_middle": s ** 3 / (24 * m ** 2),
                     "riemann_trapezoid": s ** 3 / (12 * (m - 1) ** 2),
                     "gauss_legendre": s ** 3 / (12 * (m - 1) ** 2)}[method]
        assert np.all(np.abs(total - exact) <= bound + 1e-9 * (1 + np.abs(exact)))


@settings(**SETTINGS)
@given(seed=seeds, d=st.integers(1, 8), n_background=st.integers(1, 5),
       n_samples=st.integers(2, 300))
def test_kernel_shap_efficiency(seed, d, n_background, n_samples):
    rng = np.random.default_rng(seed)
    fam = Family("sin", d, rng, np.eye(d))
    quad = Family("quadratic", d, rng, np.eye(d))
    f = lambda Z: fam.f(Z) * quad.f(Z) + Z[:, 0]  # noqa: E731  (non-additive)
    B = rng.normal(size=(n_background, d))
    X = rng.normal(size=(3, d))
    phi = KernelSHAP(f, background=B, n_samples=n_samples, random_state=0).fit(B).transform(X)
    expected = f(X) - f(B).mean()
    np.testing.assert_allclose(phi.sum(axis=1), expected, rtol=1e-8,
                               atol=1e-8 * (1 + np.abs(expected).max()))


LIPSCHITZ_TIGHT = np.sqrt(2 / np.pi)  # sup of |E h(x+z) - E h(x'+z)| / ||x-x'|| per h_max/sigma


@settings(**SETTINGS)
@given(seed=seeds, d=st.integers(1, 4), sigma=st.floats(0.1, 2.0),
       step=st.floats(1e-3, 2.0))
def test_smoothgrad_lipschitz_bound_on_random_pairs(seed, d, sigma, step):
    """||SG(x) - SG(x')|| <= sqrt(2/pi) grad_max / sigma ||x - x'|| (see module notes).

    Agarwal et al.'s Theorem 2 states grad_max / (2 sigma); the proof's
    Lemma 5 bounds ||E X - E Y|| by a_max * TV, but the integral of
    |p - q| is 2 TV, so the constant is grad_max / sigma by their argument
    and sqrt(2/pi) grad_max / sigma exactly (the test below shows 1/(2 sigma)
    is violated).
    """
    rng = np.random.default_rng(seed)
    fam = Family("sin", d, rng, np.eye(d))
    grad_max = np.linalg.norm(fam.w)
    X = rng.normal(size=(5, d))
    U = rng.normal(size=(5, d))
    Xp = X + step * U / np.linalg.norm(U, axis=1, keepdims=True)
    n = 20_000
    sg = SmoothGrad(fam.grad, sigma=sigma, n_samples=n, shared_noise=True, random_state=0)
    sg.fit(X)
    diff = np.linalg.norm(sg.transform(X) - sg.transform(Xp), axis=1)
    # shared noise: the Monte-Carlo error of the difference is <= H step / sqrt(n)
    mc = 6 * grad_max ** 2 * step / np.sqrt(n)
    assert np.all(diff <= (LIPSCHITZ_TIGHT * grad_max / sigma) * step + mc)


def test_paper_lipschitz_constant_is_violated():
    """f = sin(x), sigma = 1: SG(x) = cos(x) e^{-1/2} has slope e^{-1/2} ~ 0.607 at pi/2,
    above grad_max / (2 sigma) = 0.5 (Agarwal et al., Theorem 2) but below
    sqrt(2/pi) ~ 0.798."""
    sg = SmoothGrad(lambda X: np.cos(X), sigma=1.0, n_samples=200_000, shared_noise=True,
                    random_state=0).fit(np.zeros((1, 1)))
    x = np.array([[np.pi / 2 - 0.01], [np.pi / 2 + 0.01]])
    e = sg.transform(x)[:, 0]
    slope = abs(e[1] - e[0]) / 0.02
    assert slope == pytest.approx(np.exp(-0.5), rel=0.02)
    assert 0.5 < slope < LIPSCHITZ_TIGHT


@settings(max_examples=6, deadline=None)
@given(seed=seeds, omega=st.floats(0.5, 4.0))
def test_smoothgrad_local_lipschitz_decreases_with_sigma(seed, omega):
    """f = sum_i sin(omega x_i + c_i): SG's Jacobian shrinks by exp(-omega^2 sigma^2 / 2)."""
    rng = np.random.default_rng(seed)
    d = 3
    c = rng.uniform(0, 2 * np.pi, size=d)
    grad = lambda X: omega * np.cos(omega * X + c)  # noqa: E731
    X = rng.normal(size=(4, d))
    sigmas = np.array([0.3, 0.6, 1.0]) / omega
    L = []
    for s in sigmas:
        sg = SmoothGrad(grad, sigma=s, n_samples=5000, shared_noise=True,
                        random_state=0).fit(X)
        L.append(local_lipschitz_estimate(sg, X, n_samples=20, sigma=1e-3 / omega,
                                          random_state=1))
    factors = np.exp(-omega ** 2 * np.diff(sigmas ** 2) / 2)
    assert L[1] < L[0] and L[2] < L[1]
    np.testing.assert_allclose(np.array(L[1:]) / np.array(L[:-1]), factors, rtol=0.1)
