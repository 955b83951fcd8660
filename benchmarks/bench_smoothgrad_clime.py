"""SmoothGrad and C-LIME overhead over the bare batched model evaluations.

1000 points x 20 features x 200 perturbations = 200,000 model rows. The
model is an MLPRegressor (20 -> 64 -> 64 -> 1, tanh) with exact gradients.
"Bare" is the adapter's batched gradient (SmoothGrad) or prediction (C-LIME)
on a precomputed array of the same 200,000 perturbed rows, with the same
batch size; the explainers add the perturbation draws (counter-based
normals), the averaging or the per-point least squares. Prints the best of
``--repeat`` runs and the ratio (target: <= 1.5).

    python benchmarks/bench_smoothgrad_clime.py
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.neural_network import MLPRegressor

from skexplain.explainers import CLIME, SmoothGrad
from skexplain.models import as_model


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n, d, S = args.points, args.features, args.samples
    Xtr = rng.normal(size=(2000, d))
    ytr = np.sin(Xtr[:, 0]) + Xtr[:, 1] * Xtr[:, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPRegressor(hidden_layer_sizes=(64, 64), activation="tanh", max_iter=20,
                           random_state=0).fit(Xtr, ytr)
    model = as_model(mlp)
    X = rng.normal(size=(n, d))
    Xrep = (X[:, None, :] + 0.5 * rng.normal(size=(n, S, d))).reshape(-1, d)
    cols = np.zeros(n * S, dtype=np.intp)
    bs = args.batch_size

    sg = SmoothGrad(model, sigma=0.5, n_samples=S, random_state=0, batch_size=bs).fit(X)
    cl = CLIME(model, sigma=0.5, n_samples=S, random_state=0, batch_size=bs).fit(X)
    rows = [
        ("SmoothGrad", best_of(lambda: sg.transform(X), args.repeat),
         best_of(lambda: model.gradient(Xrep, cols, batch_size=bs), args.repeat)),
        ("C-LIME", best_of(lambda: cl.transform(X), args.repeat),
         best_of(lambda: model.predict(Xrep, cols, batch_size=bs), args.repeat)),
    ]
    print(f"{n} points x {d} features x {S} perturbations = {n * S} model rows, "
          f"batch_size={bs}, best of {args.repeat}")
    print("| method | explainer (s) | bare model evaluations (s) | ratio |")
    print("|---|---|---|---|")
    for name, t, bare in rows:
        print(f"| {name} | {t:.3f} | {bare:.3f} | {t / bare:.2f} |")


if __name__ == "__main__":
    main()
