"""Out-of-sample explanations: the batched first-order solve against the
per-point conic solves, in the same process.

A 2,000-point fit (D = 8, symmetrised 10-NN graph, eta = 0.2 L_max), then
new points explained (each against its 10 nearest training points) by
``transform`` with the default solver (all new points' problems at once by
the batched first-order method) and with ``solver="CLARABEL"`` (one small
cvxpy problem per point). Prints the times, the speed-up and the largest
relative difference of the points' own objectives.

    python benchmarks/bench_transform.py [--new 5000] [--conic-points 500] [--repeat 3]

The conic run is timed on ``--conic-points`` new points (it is linear in
the number of points) and extrapolated to ``--new``; the objectives are
compared on those points. Times are medians of ``--repeat`` runs. With the
default solver the max losses' points are solved by the batched
interior-point method and the sum losses' by batched PDHG.
"""

import argparse
import copy
import time

import numpy as np

from skexplain import OptimizedExplainer
from skexplain.losses import get_loss
from skexplain.neighbors import knn_neighbor_graph


def make(n, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.sin(X) + 0.3 * X ** 2


def own_objectives(est, Xn, En, k, loss):
    graph = knn_neighbor_graph(est.X_fit_, k, X_query=Xn)
    return loss.point_values(graph, En, target_explanations=est.explanations_)


def timed(transform, Xn, Gn, repeat):
    """The result and the median time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = transform(Xn, grad_fn=Gn)
        times.append(time.perf_counter() - t0)
    return out, float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--new", type=int, default=5000)
    parser.add_argument("--conic-points", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="median of this many runs")
    parser.add_argument("--losses", nargs="*",
                        default=["max_sensitivity", "local_stability", "average_sensitivity"])
    args = parser.parse_args(argv)
    X, G = make(2000)
    Xn, Gn = make(args.new, seed=1)
    m = min(args.conic_points, args.new)
    print(f"fit: 2000 points, D = 8, 10-NN; new points: {args.new} (conic timed on {m})")
    print("| loss | batched s | conic s (per point x N) | speed-up | max rel. objective diff |")
    print("|---|---|---|---|---|")
    for name in args.losses:
        batched = OptimizedExplainer(name, n_neighbors=10, eta_frac=0.2).fit(X, G)
        # the same fit; only transform's solver differs (solver="CLARABEL" makes the
        # new points conic; fitting 2,000 points with Clarabel itself takes minutes)
        conic = copy.deepcopy(batched).set_params(solver="CLARABEL")
        Eb, t_b = timed(batched.transform, Xn, Gn, args.repeat)
        Ec, t_c = timed(conic.transform, Xn[:m], Gn[:m], args.repeat)
        t_c *= args.new / m
        loss = get_loss(name)
        ob = own_objectives(batched, Xn[:m], Eb[:m], 10, loss)
        oc = own_objectives(batched, Xn[:m], Ec, 10, loss)
        rel = np.max((ob - oc) / np.maximum(oc, 1e-12))
        print(f"| {name} | {t_b:.2f} | {t_c:.1f} | {t_c / t_b:.0f}x | {rel:.1e} |", flush=True)


if __name__ == "__main__":
    main()
