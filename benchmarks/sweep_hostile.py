"""A hostile-input sweep: every public estimator and metric fed bad arguments.

Each case calls one public entry point with one bad or extreme input and is
classified as

* ``clear``: a ValueError / TypeError (or a skexplain exception) whose
  message names the offending argument (or the value's problem);
* ``raw``: any other exception (a message from deep inside numpy, scipy,
  scikit-learn or cvxpy, or one that names nothing the caller passed);
* ``wrong``: it returned, but with non-finite numbers, or with a value that
  differs from the answer on the cleaned input where one is known;
* ``ok``: it returned a finite answer (the input was extreme but legal);
* ``slow``: it took longer than the per-case limit (``--limit`` s).

Prints the counts and every case that is not ``clear`` or ``ok``.

    python benchmarks/sweep_hostile.py [--limit 20]
"""

import argparse
import itertools
import re
import time
import warnings

import numpy as np

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
G = np.sin(X) + X


def smooth_predict(Z):
    return np.sin(Z).sum(axis=1)


def smooth_gradient(Z):
    return np.cos(Z)


def bad_values():
    """(label, value) pairs of hostile arrays of X's shape and other arguments."""
    nan = X.copy()
    nan[0, 0] = np.nan
    inf = X.copy()
    inf[1, 1] = np.inf
    return {
        "X": [("nan", nan), ("inf", inf), ("1-D", X[:, 0]), ("3-D", X[None]),
              ("empty", X[:0]), ("one row", X[:1]), ("strings", X.astype(str)),
              ("object", np.array([[object()] * 3] * 5)), ("complex", X + 1j),
              ("datetime", np.arange(120).astype("datetime64[s]").reshape(40, 3)),
              ("huge", X * 1e200), ("tiny", X * 1e-200), ("ragged", [[1.0, 2.0], [3.0]])],
        "int": [("0", 0), ("-1", -1), ("1.5", 1.5), ("'a'", "a"), ("nan", np.nan),
                ("True", True), ("10**12", 10 ** 12)],
        "float": [("0", 0.0), ("-1", -1.0), ("nan", np.nan), ("inf", np.inf), ("'a'", "a"),
                  ("1e-300", 1e-300), ("None", None)],
    }


def cases():
    """(name, callable) for each hostile case."""
    from skexplain import OptimizedExplainer, explanation_path
    from skexplain.explainers import (LIME, CLIME, FeatureAblation, Gradient,
                                      GradientSHAP, GradientXInput, IntegratedGradients,
                                      KernelSHAP, ShapleySampling, SmoothGrad, UniGrad)
    from skexplain.metrics import (comprehensiveness, deletion_auc, faithfulness_correlation,
                                   infidelity, local_lipschitz_estimate,
                                   perturbation_sensitivity, relative_input_stability,
                                   robustness_loss)
    from skexplain.models import FunctionModel

    model = FunctionModel(predict=smooth_predict, gradient=smooth_gradient)
    explainers = {
        "Gradient": lambda **kw: Gradient(model, **kw),
        "GradientXInput": lambda **kw: GradientXInput(model, **kw),
        "IntegratedGradients": lambda **kw: IntegratedGradients(model, **kw),
        "SmoothGrad": lambda **kw: SmoothGrad(model, n_samples=5, random_state=0, **kw),
        "UniGrad": lambda **kw: UniGrad(model, n_samples=5, random_state=0, **kw),
        "CLIME": lambda **kw: CLIME(model, n_samples=20, random_state=0, **kw),
        "LIME": lambda **kw: LIME(model, n_samples=20, random_state=0, **kw),
        "KernelSHAP": lambda **kw: KernelSHAP(model, n_samples=20, random_state=0, **kw),
        "GradientSHAP": lambda **kw: GradientSHAP(model, n_samples=5, random_state=0, **kw),
        "FeatureAblation": lambda **kw: FeatureAblation(model, **kw),
        "ShapleySampling": lambda **kw: ShapleySampling(model, n_permutations=2,
                                                        random_state=0, **kw),
    }
    bad = bad_values()
    out = []
    # every explainer: bad X at fit and at transform, bad batch_size / n_jobs / target
    for (name, make), (label, Xb) in itertools.product(explainers.items(), bad["X"]):
        out.append((f"{name}.fit(X={label})", lambda m=make, Xb=Xb: m().fit(Xb).transform(Xb)))
        out.append((f"{name}.transform(X={label})",
                    lambda m=make, Xb=Xb: m().fit(X).transform(Xb)))
    for (name, make), (label, v) in itertools.product(explainers.items(), bad["int"]):
        out.append((f"{name}(batch_size={label})",
                    lambda m=make, v=v: m(batch_size=v).fit(X).transform(X[:3])))
        out.append((f"{name}(n_jobs={label})",
                    lambda m=make, v=v: m(n_jobs=v).fit(X).transform(X[:3])))
    for name, make in explainers.items():
        for label, t in (("5", 5), ("'nope'", "nope"), ("-3", -3), ("[0, 9]", [0, 9])):
            out.append((f"{name}(target={label})",
                        lambda m=make, t=t: m(target=t).fit(X).transform(X[:3])))
    # OptimizedExplainer: bad X, gradients, parameters
    for label, Xb in bad["X"]:
        out.append((f"OptimizedExplainer.fit(X={label})",
                    lambda Xb=Xb: OptimizedExplainer().fit(Xb, G)))
    for label, Gb in bad["X"]:
        out.append((f"OptimizedExplainer.fit(G={label})",
                    lambda Gb=Gb: OptimizedExplainer().fit(X, Gb)))
    for param, values in (("eta_frac", bad["float"]), ("u", bad["float"]),
                          ("n_neighbors", bad["int"])):
        for label, v in values:
            out.append((f"OptimizedExplainer({param}={label})",
                        lambda p=param, v=v: OptimizedExplainer(**{p: v}).fit(X, G)))
    for label, opts in (("{'tol': 'abc'}", {"tol": "abc"}), ("{'max_iter': 0}",
                                                              {"max_iter": 0}),
                        ("{'bogus': 1}", {"bogus": 1})):
        out.append((f"OptimizedExplainer(solver='PDHG', solver_options={label})",
                    lambda o=opts: OptimizedExplainer(solver="PDHG", solver_options=o).fit(X, G)))
    out.append(("OptimizedExplainer(solver='CLARABEL', max_iter=1)",
                lambda: OptimizedExplainer(solver="CLARABEL",
                                           solver_options={"max_iter": 1}).fit(X, G)))
    out.append(("explanation_path(faithfulness='Global')",
                lambda: explanation_path(X, G, [0.2], faithfulness="Global")))
    out.append(("explanation_path(eta_fracs=[nan])",
                lambda: explanation_path(X, G, [np.nan])))
    # metrics
    for label, Xb in bad["X"]:
        out.append((f"robustness_loss(X={label})",
                    lambda Xb=Xb: robustness_loss("max_sensitivity", Xb, G, n_neighbors=3)))
        out.append((f"perturbation_sensitivity(X={label})",
                    lambda Xb=Xb: perturbation_sensitivity(smooth_gradient, Xb, random_state=0)))
        out.append((f"infidelity(X={label})",
                    lambda Xb=Xb: infidelity(smooth_predict, Xb, G, random_state=0)))
    for label, v in bad["float"]:
        out.append((f"local_lipschitz_estimate(sigma={label})",
                    lambda v=v: local_lipschitz_estimate(smooth_gradient, X, sigma=v,
                                                         random_state=0)))
        out.append((f"perturbation_sensitivity(radius={label})",
                    lambda v=v: perturbation_sensitivity(smooth_gradient, X, radius=v)))
        out.append((f"relative_input_stability(eps_min={label})",
                    lambda v=v: relative_input_stability(smooth_gradient, X, eps_min=v)))
    for label, v in bad["int"]:
        out.append((f"faithfulness_correlation(subset_size={label})",
                    lambda v=v: faithfulness_correlation(smooth_predict, X, G, subset_size=v)))
        out.append((f"deletion_auc(n_steps={label})",
                    lambda v=v: deletion_auc(lambda Z: np.c_[1 / (1 + np.exp(Z.sum(1))),
                                                             1 - 1 / (1 + np.exp(Z.sum(1)))],
                                             X, G, n_steps=v)))
    out.append(("comprehensiveness(fractions=[2])",
                lambda: comprehensiveness(smooth_predict, X, G, fractions=[2.0])))
    out.append(("robustness_loss(graph=object())",
                lambda: robustness_loss("max_sensitivity", X, G, graph=object())))
    return out


def _argument(case):
    """The argument a case makes hostile: ``name(arg=...)`` or ``name.fit(arg=...)``."""
    found = re.findall(r"[(,] ?(\w+)=", case)
    return found[-1] if found else None


def classify(fn, limit, arg=None):
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fn()
    except (ValueError, TypeError) as exc:
        kind = "clear" if _names_something(exc, arg) else "raw"
        return kind, f"{type(exc).__name__}: {str(exc)[:150]}", time.perf_counter() - t0
    except Exception as exc:                                 # noqa: BLE001
        from skexplain import exceptions

        own = type(exc).__module__.startswith("skexplain") or isinstance(
            exc, tuple(v for v in vars(exceptions).values() if isinstance(v, type)
                       and issubclass(v, Exception)))
        kind = "clear" if own else "raw"
        return kind, f"{type(exc).__name__}: {str(exc)[:150]}", time.perf_counter() - t0
    elapsed = time.perf_counter() - t0
    vals = _numbers(res)
    if vals is not None and not np.all(np.isfinite(vals)):
        return "wrong", "non-finite result", elapsed
    return ("slow" if elapsed > limit else "ok"), "", elapsed


def _numbers(res):
    if hasattr(res, "explanations_"):
        return np.asarray(res.explanations_, dtype=float)
    try:
        arr = np.asarray(res, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr


def _names_something(exc, arg):
    """A message that names the argument made hostile (or, for a model's
    failure, says it was the model)."""
    text = str(exc)
    names = {arg} if arg else set()
    if arg in ("X", "G"):
        names |= {"y", "grad_fn", "model", "sample(s)", "points"}
    return any(re.search(rf"(^|[^\w]){re.escape(n)}([^\w]|$)", text) for n in names)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=20.0)
    args = parser.parse_args(argv)
    counts = {"clear": 0, "ok": 0, "raw": 0, "wrong": 0, "slow": 0}
    bad = []
    all_cases = cases()
    t0 = time.perf_counter()
    for name, fn in all_cases:
        kind, detail, elapsed = classify(fn, args.limit, _argument(name))
        counts[kind] += 1
        if kind in ("raw", "wrong", "slow"):
            bad.append((kind, name, detail, elapsed))
    print(f"{len(all_cases)} cases in {time.perf_counter() - t0:.0f} s: " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))
    for kind, name, detail, elapsed in bad:
        print(f"  {kind:5s} {name}  ({elapsed:.1f} s) {detail}")


if __name__ == "__main__":
    main()
