"""Hardening, round two: units and magnitudes of X, state, errors that name the argument."""

import warnings

import numpy as np
import pytest

from skexplain import OptimizedExplainer
from skexplain.metrics import robustness_loss

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
G = np.sin(X) + X


def fit_quiet(est, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(*args)


@pytest.mark.parametrize("scale", [1e-170, 1e-40, 1e40, 1e160, 1e300])
def test_units_of_x_do_not_change_the_answer(scale):
    # powers of ten are not exact in binary, so X * scale / scale != X in the
    # last bit: the answers agree to rounding, the graphs exactly
    for kw, kws in (({}, {}), (dict(u=1.0), dict(u=1.0 * scale)),
                    (dict(u="auto"), dict(u="auto"))):
        ref = fit_quiet(OptimizedExplainer(**kw), X, G)
        got = fit_quiet(OptimizedExplainer(**kws), X * scale, G)
        np.testing.assert_allclose(got.explanations_, ref.explanations_, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(got.n_neighbors_, ref.n_neighbors_)
        if kw.get("u") == "auto":
            assert got.u_ == pytest.approx(ref.u_ * scale, rel=1e-12)
    Xn = X[:4] + 0.1
    np.testing.assert_allclose(got.transform(Xn * scale, grad_fn=G[:4]),
                               ref.transform(Xn, grad_fn=G[:4]), rtol=1e-9, atol=1e-12)
    # the metrics: max-sensitivity does not see the units, local stability
    # divides by the distances
    a = robustness_loss("max_sensitivity", X * scale, G, u=1.0 * scale)
    assert a == pytest.approx(robustness_loss("max_sensitivity", X, G, u=1.0), rel=1e-12)
    b = robustness_loss("local_stability", X * scale, G, u=1.0 * scale)
    assert b * scale == pytest.approx(robustness_loss("local_stability", X, G, u=1.0),
                                      rel=1e-9)


def test_distances_that_overflow_are_refused_by_name():
    Xo = np.array([[-1.5e308, 0.0], [1.5e308, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="distances between points overflow"):
        robustness_loss("max_sensitivity", Xo, np.ones_like(Xo), n_neighbors=1)


def test_functions_that_write_into_their_input_change_nothing_of_ours():
    from skexplain.explainers import Gradient, KernelSHAP
    from skexplain.metrics import local_lipschitz_estimate
    from skexplain.models import FunctionModel

    def vandal_grad(Z):
        out = np.cos(Z)
        Z[:] = 1e6                        # writes into the array it was given
        return out

    def vandal_predict(Z):
        out = np.sin(Z).sum(axis=1)
        Z[:] = -7.0
        return out

    Xc = X.copy()
    est = OptimizedExplainer().fit(Xc, grad_fn=vandal_grad)
    np.testing.assert_array_equal(Xc, X)                  # the caller's X
    np.testing.assert_array_equal(est.X_fit_, X)
    ref = OptimizedExplainer().fit(X, grad_fn=np.cos)
    np.testing.assert_array_equal(est.explanations_, ref.explanations_)
    # finite differences and perturbations reuse their arrays after the call
    fd = Gradient(FunctionModel(predict=vandal_predict)).fit(Xc).transform(Xc[:5])
    np.testing.assert_allclose(fd, np.cos(X[:5]), atol=1e-8)
    ks = KernelSHAP(FunctionModel(predict=vandal_predict), n_samples=20,
                    random_state=0).fit(Xc).transform(Xc[:3])
    ks_ref = KernelSHAP(lambda Z: np.sin(Z).sum(axis=1), n_samples=20,
                        random_state=0).fit(X).transform(X[:3])
    np.testing.assert_array_equal(ks, ks_ref)
    np.testing.assert_array_equal(Xc, X)
    assert local_lipschitz_estimate(vandal_grad, Xc[:5], random_state=0) == \
        local_lipschitz_estimate(np.cos, X[:5], random_state=0)


def test_a_failed_refit_leaves_the_estimator_as_it_was():
    from skexplain.explainers import SmoothGrad

    est = OptimizedExplainer().fit(X, G)
    before = {k: v for k, v in vars(est).items()}
    X5 = RNG.normal(size=(30, 5))

    def broken(Z):
        raise RuntimeError("model down")

    with pytest.raises(ValueError, match="model down"):
        est.fit(X5, grad_fn=broken)
    assert est.n_features_in_ == 3 and est.X_fit_.shape[1] == 3
    assert set(vars(est)) == set(before)
    assert all(vars(est)[k] is before[k] for k in before)
    np.testing.assert_array_equal(est.transform(X[:2], grad_fn=G[:2]), est.explanations_[:2])
    sg = SmoothGrad(np.cos, n_samples=4, random_state=0).fit(X)
    seed = sg.seed_
    with pytest.raises(ValueError):
        sg.set_params(model=broken).fit(X5)
    assert sg.n_features_in_ == 3 and sg.seed_ == seed


def test_silent_nonsense_is_now_a_clear_error():
    from sklearn.linear_model import LogisticRegression

    from skexplain.explainers import Gradient
    from skexplain.metrics import local_lipschitz_estimate, neighborhood_robustness, \
        relevance_score
    from skexplain.models import as_model

    with pytest.raises(ValueError, match="sigma=1e-30 is below the float resolution of X"):
        local_lipschitz_estimate(np.cos, X + 1e10, sigma=1e-30, random_state=0)
    for bad in (np.nan, -0.1, 1.5):
        with pytest.raises(ValueError, match="deletion must be areas in"):
            relevance_score(bad, 0.5)
    with pytest.raises(ValueError, match="preservation must be areas in"):
        relevance_score(0.5, np.inf)
    lr = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(ValueError, match="target column 5 is out of range .* 2 output"):
        as_model(lr).gradient(X[:2], 5)
    # the two real columns still work, and differ in sign only
    g0, g1 = as_model(lr).gradient(X[:2], 0), as_model(lr).gradient(X[:2], 1)
    np.testing.assert_allclose(g0, -g1)
    with pytest.raises(ValueError, match="datetime or timedelta"):
        OptimizedExplainer().fit(np.arange(6).astype("datetime64[s]").reshape(3, 2),
                                 np.ones((3, 2)))
    with pytest.raises(ValueError, match="ord must be 1, 2 or numpy.inf"):
        neighborhood_robustness(np.cos, X, ord="fro")
    with pytest.raises(ValueError, match="n_jobs"):
        Gradient(np.cos, n_jobs=0).fit(X)
    with pytest.raises(ValueError, match="n_jobs"):
        OptimizedExplainer(n_jobs=0).fit(X, G)
    with pytest.raises(ValueError, match="n_jobs=2 runs in worker processes.*cannot be"):
        lock = __import__("threading").Lock()           # a closure over a lock
        Gradient(lambda Z: (lock, np.cos(Z))[1], n_jobs=2).fit(X).transform(X)


@pytest.mark.parametrize("options, name", [({"max_iter": 1}, "max_iter"),
                                           ({"time_limit": 1e-6}, "time_limit")])
def test_a_solver_stopped_by_the_users_limit_names_solver_options(options, name):
    from skexplain.exceptions import SolverError

    with pytest.raises(SolverError, match=f"limit you set \\(solver_options \\['{name}'\\]\\)"):
        OptimizedExplainer(solver="CLARABEL", solver_options=options).fit(X, G)


def test_the_hostile_input_sweep_finds_no_raw_error_and_no_silent_nonsense():
    # benchmarks/sweep_hostile.py: ~600 bad or extreme inputs to every public
    # estimator and the metrics; each must be a clear error naming the
    # argument, or a finite answer
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "sweep_hostile.py"
    spec = importlib.util.spec_from_file_location("sweep_hostile", path)
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    bad = []
    for name, fn in sweep.cases():
        kind, detail, _ = sweep.classify(fn, 60.0, sweep._argument(name))
        if kind not in ("clear", "ok"):
            bad.append((kind, name, detail))
    assert not bad, bad[:10]


@pytest.mark.parametrize("clip", ["ab", (0, 1, 2), (1, 0), (0, np.inf), (True, 2)])
def test_pgd_clip_must_be_two_ordered_numbers(clip):
    from skexplain.attacks import pgd_attack

    with pytest.raises(ValueError, match="clip must be \\(low, high\\)"):
        pgd_attack(lambda Z: np.c_[Z.sum(1), -Z.sum(1)], np.zeros((2, 2)), [0, 0], eps=0.1,
                   clip=clip, random_state=0)
