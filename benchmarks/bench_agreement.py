"""Benchmark: the agreement-rate grid, and vectorised vs per-pair programs.

Run: ``python benchmarks/bench_agreement.py [--skip-grid]``

Prints
1. the whole D = 2, 3, 4 grid end to end (135 fits), with the solver's share
   (target: under 60 s on 2 cores, fit time <= 1.3 x solver time);
2. for a few cells, the time to build and solve the vectorised program of
   :class:`~skexplain.optimize.ExplanationProblem` against the paper's
   appendix formulation with one cvxpy constraint per (n, n') pair, in the
   same process, and the objective values of both.
"""

import argparse
import time

from skexplain.datasets import make_paper_problem
from skexplain.losses import get_loss
from skexplain.metrics import ROBUSTNESS_METRICS, robustness_loss
from skexplain.neighbors import radius_neighbor_graph
from skexplain.optimize import ExplanationProblem, GlobalBudget, get_solver
from skexplain.optimize._conic import DEFAULT_SOLVER_OPTIONS
from skexplain.optimize._reference import pairwise_reference_problem
from skexplain.reproduction import format_agreement_table, run_agreement

CELLS = [(2, "x3", 2.0), (2, "sin_x3", 5.0), (3, "sin", 5.0), (4, "x3", 10.0)]


def bench_grid():
    t0 = time.perf_counter()
    rows = run_agreement()
    total = time.perf_counter() - t0
    print(format_agreement_table(rows))
    fit = sum(r["fit_time"] for r in rows)
    solve = sum(r["solve_time"] for r in rows)
    print(f"\nwhole grid ({3 * len(rows)} fits): {total:.1f} s end to end; "
          f"fit {fit:.1f} s; solver {solve:.1f} s; fit / solver = {fit / solve:.2f}\n")


def bench_reference():
    opts = DEFAULT_SOLVER_OPTIONS["CLARABEL"]
    print("| D | function | u | loss | edges | vectorised s | per-pair s | "
          "ratio | objective (vec) | objective (pairs) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for D, name, u in CELLS:
        X, G = make_paper_problem(name, D)
        for metric in ROBUSTNESS_METRICS:
            t0 = time.perf_counter()
            graph = radius_neighbor_graph(X, u)
            prog = ExplanationProblem(G, graph, get_loss(metric), GlobalBudget())
            E = prog.solve(0.2, get_solver("CLARABEL")).explanations
            t_vec = time.perf_counter() - t0
            eta = 0.2 * prog.max_faithfulness_loss
            t0 = time.perf_counter()
            ref, _ = pairwise_reference_problem(X, G, u, metric, eta)
            ref.solve(solver="CLARABEL", **opts)
            t_ref = time.perf_counter() - t0
            obj = robustness_loss(metric, X, E, u=u, graph=graph)
            print(f"| {D} | {name} | {u:g} | {metric} | {graph.n_edges} | "
                  f"{t_vec:.3f} | {t_ref:.3f} | {t_ref / t_vec:.1f}x | "
                  f"{obj:.6g} | {ref.value:.6g} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-grid", action="store_true")
    args = parser.parse_args()
    if not args.skip_grid:
        bench_grid()
    bench_reference()
