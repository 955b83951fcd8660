"""The first-order solver (PDHG) against Clarabel, and its scaling in N.

Random points in D = 8, symmetrised 10-nearest-neighbour graph, gradients
``sin(x) + 0.3 x^2``, eta = 0.2 L_max, global budget.

1. N = 2,000, max-sensitivity: Clarabel (cvxpy, same program as
   ``OptimizedExplainer``; ``--clarabel-limit`` seconds at most) and PDHG
   (tol 1e-4) in the same process; prints times, the speed-up and the
   relative objective difference.
2. Small N (100, 200, 350): Clarabel vs PDHG for the three losses, the
   crossover behind ``solver="auto"``'s threshold (``--crossover``).
3. N = 10k, 30k, 100k: the kNN graph's build time, then PDHG for each loss;
   prints time, iterations, time per iteration per edge, and peak memory
   (tracemalloc of numpy allocations).

    python benchmarks/bench_first_order.py [--skip-clarabel] [--crossover] [--sizes 10000]
"""

import argparse
import time
import tracemalloc

import numpy as np

from skexplain.metrics._robustness import evaluate_terms, robustness_terms
from skexplain.neighbors import knn_neighbor_graph
from skexplain.optimize import ExplanationProgram


def make(n, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.sin(X) + 0.3 * X ** 2


def solve(X, G, metric, solver, graph=None, options=None):
    graph = knn_neighbor_graph(X, 10) if graph is None else graph
    prog = ExplanationProgram(G, graph, metric)
    t0 = time.perf_counter()
    E, status, stats = prog.solve(0.2, solver, options)
    secs = time.perf_counter() - t0
    obj = float(evaluate_terms(robustness_terms(graph, metric), graph, E).sum())
    return secs, obj, stats, graph


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-clarabel", action="store_true")
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--clarabel-limit", type=float, default=1800.0)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10000, 30000, 100000])
    args = parser.parse_args(argv)
    if args.crossover:
        print("| N | edges | loss | CLARABEL s | PDHG s |")
        print("|---|---|---|---|---|")
        for n in (100, 200, 350):
            X, G = make(n)
            graph = knn_neighbor_graph(X, 10)
            for metric in ("max_sensitivity", "local_stability", "average_sensitivity"):
                t_c = solve(X, G, metric, "CLARABEL", graph)[0]
                t_p = solve(X, G, metric, "PDHG", graph)[0]
                print(f"| {n} | {graph.n_edges} | {metric} | {t_c:.2f} | {t_p:.2f} |", flush=True)
    X, G = make(2000)
    t_fo, o_fo, st, graph = solve(X, G, "max_sensitivity", "PDHG")
    print(f"N=2000, D=8, {graph.n_edges} directed edges, max-sensitivity")
    print("| solver | seconds | objective | iterations |")
    print("|---|---|---|---|")
    print(f"| PDHG (tol 1e-4) | {t_fo:.2f} | {o_fo:.6f} | {st['num_iters']} |", flush=True)
    if not args.skip_clarabel:
        t_c, o_c, st_c, _ = solve(X, G, "max_sensitivity", "CLARABEL", graph,
                                  {"time_limit": args.clarabel_limit})
        print(f"| CLARABEL | {t_c:.2f} | {o_c:.6f} | {st_c['num_iters']} |")
        print(f"\nspeed-up {t_c / t_fo:.1f}x; relative objective difference "
              f"{abs(o_fo - o_c) / o_c:.2e}\n", flush=True)
    print("| N | loss | edges | graph s | seconds | iterations | ns per edge per iteration | "
          "peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        X, G = make(n)
        t0 = time.perf_counter()
        graph = knn_neighbor_graph(X, 10, n_jobs=-1)
        t_graph = time.perf_counter() - t0
        for metric in ("max_sensitivity", "local_stability", "average_sensitivity"):
            tracemalloc.start()
            secs, obj, st, _ = solve(X, G, metric, "PDHG", graph)
            peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
            per = secs / max(st["num_iters"], 1) / graph.n_edges * 1e9
            print(f"| {n} | {metric} | {graph.n_edges} | {t_graph:.1f} | {secs:.1f} | "
                  f"{st['num_iters']} | "
                  f"{per:.1f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
