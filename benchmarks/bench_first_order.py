"""The first-order solver (PDHG) against Clarabel, and its scaling in N.

Random points in D = 8, symmetrised 10-nearest-neighbour graph, gradients
``sin(x) + 0.3 x^2``, eta = 0.2 L_max, global budget.

1. N = 2,000, max-sensitivity, the issue's setting: a radius graph with ~10
   neighbours per point (u = 1.65: 10.4 on average). Clarabel (cvxpy, the
   program ``OptimizedExplainer`` builds, the package's default options;
   ``--clarabel-limit`` seconds at most) and PDHG (tol 1e-4, and 1e-8 as a
   second reference) in the same process; prints times, the speed-up and
   the relative objective differences. Then the symmetrised 10-NN graph
   (no isolated points, 40 % more edges): PDHG only, Clarabel too with
   ``--clarabel-knn`` (measured: 317 s, 20 interior-point iterations).
2. Small N (100, 200, 350): Clarabel vs PDHG for the three losses, the
   crossover behind ``solver="auto"``'s threshold (``--crossover``).
3. N = 10k, 30k, 100k: the kNN graph's build time, then PDHG for each loss;
   prints time, iterations, time per iteration per edge, and peak memory
   (tracemalloc of numpy allocations), and the per-edge floor: the least
   numpy work one iteration must do on the edge arrays (gather both ends,
   subtract, row norms, scale, sum back per node) and the ratio to it;
   "fit s" is the whole
   ``OptimizedExplainer(robustness=loss, n_neighbors=10).fit(X, G)`` as a
   user calls it (validation, graph with one thread, ``solver="auto"``).

    python benchmarks/bench_first_order.py [--skip-clarabel] [--crossover] [--sizes 10000]
"""

import argparse
import time
import tracemalloc

import numpy as np

from skexplain import OptimizedExplainer
from skexplain.losses import get_loss
from skexplain.neighbors import knn_neighbor_graph, radius_neighbor_graph
from skexplain.optimize import ExplanationProblem, GlobalBudget, get_solver


def make(n, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.sin(X) + 0.3 * X ** 2


def solve(X, G, metric, solver, graph=None, options=None):
    graph = knn_neighbor_graph(X, 10) if graph is None else graph
    loss = get_loss(metric)
    prob = ExplanationProblem(G, graph, loss, GlobalBudget())
    t0 = time.perf_counter()
    res = prob.solve(0.2, get_solver(solver, options))
    secs = time.perf_counter() - t0
    obj = loss.value(graph, res.explanations)
    return secs, obj, res.stats_dict(), graph


def edge_floor(G, graph, repeat=5):
    """ns per edge of the least numpy work an iteration must do on the edge
    arrays (float32, as the solver keeps them): gather both ends, subtract,
    row norms, scale, and sum back per node; the best of ``repeat`` runs."""
    E = G.astype(np.float32)
    V = np.empty((graph.n_edges, E.shape[1]), dtype=np.float32)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.take(E, graph.dst, axis=0, out=V)
        V -= np.take(E, graph.src, axis=0)
        norms = np.sqrt(np.einsum("ij,ij->i", V, V))
        V *= norms[:, None]
        np.add.reduceat(V, graph.indptr[:-1][np.diff(graph.indptr) > 0], axis=0)
        best = min(best, time.perf_counter() - t0)
    return best / graph.n_edges * 1e9


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-clarabel", action="store_true")
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--clarabel-limit", type=float, default=1800.0)
    parser.add_argument("--clarabel-knn", action="store_true")
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
    for kind, graph in (("radius u=1.65", radius_neighbor_graph(X, 1.65)),
                        ("symmetrised 10-NN", knn_neighbor_graph(X, 10))):
        print(f"N=2000, D=8, {kind} graph: {graph.n_edges} directed edges, "
              f"{graph.n_edges / X.shape[0]:.1f} neighbours per point on average, "
              f"{int(graph.isolated.sum())} isolated; max-sensitivity")
        print("| solver | seconds | objective | iterations | rel. diff. to CLARABEL |")
        print("|---|---|---|---|---|")
        rows = [(f"PDHG (tol {tol:g})",) + solve(X, G, "max_sensitivity", "PDHG", graph,
                                                 {"tol": tol, "max_iter": 10 ** 6})[:3]
                for tol in (1e-4, 1e-8)]
        run_c = not args.skip_clarabel and (kind.startswith("radius") or args.clarabel_knn)
        if run_c:
            rows.append(("CLARABEL",) + solve(X, G, "max_sensitivity", "CLARABEL", graph,
                                              {"time_limit": args.clarabel_limit})[:3])
        o_c = rows[-1][2] if run_c else np.nan
        for name, secs, obj, st in rows:
            print(f"| {name} | {secs:.2f} | {obj:.6f} | {st['num_iters']} | "
                  f"{(obj - o_c) / o_c:.2e} |", flush=True)
        if run_c:
            print(f"\nspeed-up of PDHG (tol 1e-4) over CLARABEL: {rows[-1][1] / rows[0][1]:.0f}x\n",
                  flush=True)
    print("| N | loss | edges | graph s | seconds | iterations | ns per edge per iteration | "
          "floor ns | ratio | peak MB | fit s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        X, G = make(n)
        t0 = time.perf_counter()
        graph = knn_neighbor_graph(X, 10, n_jobs=-1)
        t_graph = time.perf_counter() - t0
        floor = edge_floor(G, graph)
        for metric in ("max_sensitivity", "local_stability", "average_sensitivity"):
            tracemalloc.start()
            secs, obj, st, _ = solve(X, G, metric, "PDHG", graph)
            peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
            per = secs / max(st["num_iters"], 1) / graph.n_edges * 1e9
            t0 = time.perf_counter()
            OptimizedExplainer(robustness=metric, n_neighbors=10, eta_frac=0.2).fit(X, G)
            t_fit = time.perf_counter() - t0
            print(f"| {n} | {metric} | {graph.n_edges} | {t_graph:.1f} | {secs:.1f} | "
                  f"{st['num_iters']} | "
                  f"{per:.1f} | {floor:.1f} | {per / floor:.1f} | {peak:.0f} | {t_fit:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
