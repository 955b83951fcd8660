"""TreeSHAP against exact KernelSHAP (and shap's TreeExplainer when installed).

Interventional Shapley values of scikit-learn tree ensembles on the
diabetes data (d = 10, so KernelSHAP enumerates all 1,022 coalitions and is
exact: "equal accuracy"), 100-row background drawn from the data, the first
``--points`` rows explained. Prints, per model, the times, the speed-up and
the largest difference from exact KernelSHAP, and the largest efficiency
error ``|sum phi + E f(b) - f(x)|``. shap is optional: the row is skipped
when it is not installed (it is not a dependency of skexplain).

    python benchmarks/bench_treeshap.py [--points 100] [--trees 100]
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)

from skexplain.explainers import KernelSHAP, TreeSHAP


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def shap_row(model, B, P, reference, f):
    try:
        import shap
    except ImportError:
        return None
    explainer = shap.TreeExplainer(model, data=B, feature_perturbation="interventional")
    phi, t = timed(lambda: np.asarray(explainer.shap_values(P, check_additivity=False)))
    base = float(np.ravel(explainer.expected_value)[0])
    return t, np.abs(phi - reference).max(), np.abs(phi.sum(1) + base - f).max()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args(argv)
    X, y = load_diabetes(return_X_y=True)
    P = X[:args.points]
    models = {
        "RandomForest": RandomForestRegressor(args.trees, random_state=0, n_jobs=2),
        "ExtraTrees": ExtraTreesRegressor(args.trees, random_state=0, n_jobs=2),
        "GradientBoosting": GradientBoostingRegressor(n_estimators=args.trees, random_state=0),
        "HistGradientBoosting": HistGradientBoostingRegressor(max_iter=args.trees,
                                                              random_state=0),
    }
    print(f"diabetes: d = 10, {args.points} points, 100 background rows, "
          f"{args.trees} trees")
    print("| model | leaves | TreeSHAP s | KernelSHAP (exact) s | speed-up | "
          "max |diff| | TreeSHAP efficiency err | shap s | shap max |diff| | "
          "shap efficiency err |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, model in models.items():
        model.fit(X, y)
        tree = TreeSHAP(model, random_state=0).fit(X)
        kernel = KernelSHAP(model, random_state=0, batch_size=100_000).fit(X)
        assert kernel.exact_
        phi_t, t_t = timed(lambda: tree.transform(P))
        phi_k, t_k = timed(lambda: kernel.transform(P))
        f = model.predict(P)
        eff = np.abs(phi_t.sum(1) + tree.expected_value_[0] - f).max()
        shap_cells = "| – | – | – |"
        row = shap_row(model, tree.background_, P, phi_t, f)
        if row is not None:
            shap_cells = f"| {row[0]:.2f} | {row[1]:.2g} | {row[2]:.2g} |"
        print(f"| {name} | {tree._lo.shape[0]} | {t_t:.2f} | {t_k:.2f} | {t_k / t_t:.0f}x | "
              f"{np.abs(phi_t - phi_k).max():.1e} | {eff:.1e} {shap_cells}")


if __name__ == "__main__":
    main()
