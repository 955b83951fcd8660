"""batch_size bounds the rows of every model call after expansion, and memory."""

import tracemalloc

import numpy as np
import pytest

from skexplain.explainers import Gradient, IntegratedGradients, KernelSHAP
from skexplain.metrics import deletion_auc
from skexplain.models import FunctionModel


class Recorder:
    """A model that records the rows of every call."""

    def __init__(self, fn):
        self.fn, self.rows = fn, []

    def __call__(self, Z):
        self.rows.append(len(Z))
        return self.fn(Z)


def smooth(Z):
    return np.sin(Z).sum(axis=1)


def peak_mib(fn):
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("batch_size", [7, 40, 1000])
def test_finite_difference_gradients_respect_batch_size(batch_size):
    X = np.random.default_rng(0).normal(size=(30, 50))          # 2 d = 100 rows per point
    rec = Recorder(smooth)
    G = Gradient(FunctionModel(predict=rec), batch_size=batch_size).fit(X).transform(X)
    assert max(rec.rows) <= batch_size
    np.testing.assert_allclose(G, np.cos(X), atol=1e-8)
    ref = Gradient(FunctionModel(predict=smooth), batch_size=10 ** 6).fit(X).transform(X)
    np.testing.assert_array_equal(G, ref)                        # batch_size changes no bit


def test_kernel_shap_builds_one_point_in_blocks():
    rng = np.random.default_rng(1)
    d, m = 120, 40
    X, B = rng.normal(size=(2, d)), rng.normal(size=(m, d))
    rec = Recorder(smooth)
    small = KernelSHAP(FunctionModel(predict=rec), background=B, n_samples=600,
                       batch_size=500, random_state=0).fit(B)
    # one point alone makes (600 + 2) x 40 = 24,080 rows of 120 features (23 MB)
    phi, peak = peak_mib(lambda: small.transform(X))
    assert max(rec.rows) <= 500
    assert peak < 8, peak
    big = KernelSHAP(FunctionModel(predict=smooth), background=B, n_samples=600,
                     batch_size=10 ** 6, random_state=0).fit(B)
    np.testing.assert_array_equal(phi, big.transform(X))


def test_integrated_gradients_steps_in_blocks_and_refuses_absurd_steps():
    X = np.random.default_rng(2).normal(size=(3, 20))
    rec = Recorder(np.cos)
    ig = IntegratedGradients(FunctionModel(gradient=rec), n_steps=3000, batch_size=400).fit(X)
    phi, peak = peak_mib(lambda: ig.transform(X))
    assert max(rec.rows) <= 400 and peak < 8, peak
    np.testing.assert_allclose(phi, np.sin(X), atol=1e-6)        # int cos = sin from 0
    ref = IntegratedGradients(np.cos, n_steps=3000, batch_size=10 ** 6).fit(X).transform(X)
    np.testing.assert_array_equal(phi, ref)
    with pytest.raises(ValueError, match="n_steps=1000000000 is too many.*GiB"):
        IntegratedGradients(np.cos, n_steps=10 ** 9).fit(X)
    with pytest.raises(ValueError, match="gauss_legendre"):
        IntegratedGradients(np.cos, n_steps=5000, method="gauss_legendre").fit(X)


def test_deletion_curve_rows_are_built_in_blocks():
    rng = np.random.default_rng(3)
    d = 400
    X, S = rng.normal(size=(4, d)), rng.normal(size=(4, d))
    w = rng.normal(size=d)
    rec = Recorder(lambda Z: 1 / (1 + np.exp(-Z @ w / 20)))
    # 4 points x 401 steps x 400 features = 5 MB of masks at once before
    auc, peak = peak_mib(lambda: deletion_auc(rec, X, S, batch_size=64, per_point=True))
    assert max(rec.rows) <= 64 and peak < 2, peak
    ref = deletion_auc(lambda Z: 1 / (1 + np.exp(-Z @ w / 20)), X, S, batch_size=10 ** 6,
                       per_point=True)
    np.testing.assert_array_equal(auc, ref)


def test_lime_gram_matrices_are_bounded_by_batch_size_at_large_d():
    from skexplain.explainers import LIME

    d = 400
    X = np.random.default_rng(4).normal(size=(24, d))
    w = np.random.default_rng(5).normal(size=d)

    def run(batch_size):
        lime = LIME(lambda Z: Z @ w, n_samples=50, batch_size=batch_size, random_state=0)
        return peak_mib(lambda: lime.fit(X).transform(X))

    # (d + 1)^2 Gram entries per point (1.3 MB): one point per block at
    # batch_size 500 (was: 10 points, the 50 model rows alone counted)
    small, peak_small = run(500)
    big, peak_big = run(10 ** 6)
    assert peak_small < 8 and peak_big > 5 * peak_small, (peak_small, peak_big)
    np.testing.assert_allclose(small, big, rtol=1e-12, atol=1e-12)
