"""RelEx's cost against the bare model evaluations it needs, and the digits run.

RelEx evaluates the model (value and input gradient) on ``2 * n_noise``
masked copies of each point per iteration. This script times, in the same
process, on the digits MLP of :func:`~skexplain.reproduction.run_relex`:

* ``RelEx.transform`` on 100 digits (n_noise=50, n_iter=50);
* the bare batched model calls it needs: ``n_iter`` calls of
  ``value_and_gradient`` on ``2 * n_noise * 100`` rows;

and prints their ratio (the overhead of the mask updates, noise and
bookkeeping), then the time of the full reproduction with n_jobs = 1 and 2.

    python benchmarks/bench_relex.py
"""

import time

import numpy as np

from skexplain.explainers import RelEx
from skexplain.reproduction import load_digits_problem, run_relex


def main():
    mlp, _, X_te, y_te, acc = load_digits_problem()
    P = X_te[:100]
    relex = RelEx(mlp, n_noise=50, n_iter=50, random_state=0).fit(P)
    relex.transform(P[:2])  # warm up (adapter verification)
    t0 = time.perf_counter()
    relex.transform(P)
    t_relex = time.perf_counter() - t0

    rows = np.repeat(P, 2 * 50, axis=0) * np.random.default_rng(0).uniform(size=(10000, 64))
    cols = np.zeros(len(rows), dtype=np.intp)
    adapter = relex.model_
    t0 = time.perf_counter()
    for _ in range(50):
        adapter.value_and_gradient(rows, cols, batch_size=relex.batch_size)
    t_bare = time.perf_counter() - t0

    print(f"digits MLP (64 hidden), test accuracy {acc:.3f}")
    print("| what | seconds |")
    print("|---|---|")
    print(f"| RelEx.transform, 100 points, n_noise=50, n_iter=50 | {t_relex:.2f} |")
    print(f"| bare value_and_gradient calls it needs (50 x 10,000 rows) | {t_bare:.2f} |")
    print(f"| ratio | {t_relex / t_bare:.2f} |")
    for n_jobs in (1, 2):
        t0 = time.perf_counter()
        run_relex(n_jobs=n_jobs)
        print(f"| run_relex (5 eps x 5 methods, 100 digits), n_jobs={n_jobs} | "
              f"{time.perf_counter() - t0:.1f} |", flush=True)


if __name__ == "__main__":
    main()
