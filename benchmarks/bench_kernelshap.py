"""Sampled KernelSHAP: accuracy against the exact Shapley values, beside shap.

A fixed non-linear model of d = 10 (and 16) features, 20 background rows,
50 explained rows. For each budget of coalitions and seed, the RMSE of the
attributions against the exact values (skexplain with every coalition,
2^d - 2) for skexplain's ``KernelSHAP(n_samples=budget)`` and, when ``shap``
is installed in this environment, ``shap.KernelExplainer(...,
nsamples=budget)`` (never required; skipped when absent), both with shap's
default ``l1_reg="auto"`` (which selects features by a lasso below 20 % of
the coalitions) and with ``l1_reg=False`` (plain weighted least squares, the
like-for-like comparison). Prints mean RMSE over the seeds and the ratio
skexplain / shap(l1_reg=False) (< 1: skexplain is closer).

    python benchmarks/bench_kernelshap.py [--seeds 5]
"""

import argparse
import importlib.util

import numpy as np

from skexplain.explainers import KernelSHAP


def model(X):
    return (np.sin(X[:, 0] * X[:, 1]) + X[:, 2] * X[:, 3] ** 2 - np.tanh(X[:, 4:].sum(1))
            + 0.5 * X[:, 5] * X[:, -1])


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    has_shap = importlib.util.find_spec("shap") is not None
    if has_shap:
        import shap
    print("| d | budget | skexplain RMSE | shap RMSE (l1_reg auto) | shap RMSE (l1_reg False) "
          "| ratio to shap (False) |")
    print("|---|---|---|---|---|---|")
    for d, budgets in ((10, (128, 256, 512, 768, 1000, 1021)), (16, (512, 2048, 8192))):
        rng = np.random.default_rng(0)
        B, X = rng.normal(size=(20, d)), rng.normal(size=(50, d))
        exact = KernelSHAP(model, background=B, n_samples=2 ** d).fit(B).transform(X)
        for budget in budgets:
            ours, theirs, plain = [], [], []
            for seed in range(args.seeds):
                est = KernelSHAP(model, background=B, n_samples=budget, random_state=seed)
                ours.append(np.sqrt(np.mean((est.fit(B).transform(X) - exact) ** 2)))
                if has_shap:
                    np.random.seed(seed)       # shap draws from numpy's global generator
                    ex = shap.KernelExplainer(model, B)
                    phi = ex.shap_values(X, nsamples=budget, silent=True)
                    theirs.append(np.sqrt(np.mean((np.asarray(phi) - exact) ** 2)))
                    np.random.seed(seed)
                    phi = ex.shap_values(X, nsamples=budget, silent=True, l1_reg=False)
                    plain.append(np.sqrt(np.mean((np.asarray(phi) - exact) ** 2)))
            o = float(np.mean(ours))
            t = float(np.mean(theirs)) if theirs else float("nan")
            q = float(np.mean(plain)) if plain else float("nan")
            print(f"| {d} | {budget} | {o:.2e} | {t:.2e} | {q:.2e} | {o / q:.2f} |", flush=True)


if __name__ == "__main__":
    main()
