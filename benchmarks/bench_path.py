"""The explanation path against one solve and against fresh fits.

On the paper's D = 2 grid (81 points, sin x^3, u = 5, max-sensitivity: a
dense neighbour graph), times

* ``explanation_path`` over 20 budgets (one graph, one parametrised program,
  18 solves plus the closed forms at 0 and 1);
* one solve (a single budget, program already built: the solver time);
* 20 fresh ``OptimizedExplainer.fit`` calls (graph, program, compile, solve);

and prints path / (20 x one solve) (target <= 1.2) and path / fresh fits.

    python benchmarks/bench_path.py
"""

import time

import numpy as np

from skexplain import OptimizedExplainer, explanation_path
from skexplain.datasets import make_paper_problem
from skexplain.losses import get_loss
from skexplain.optimize import ExplanationProblem, GlobalBudget, get_solver
from skexplain.optimize._path import neighbor_graph


def main():
    X, G = make_paper_problem("sin_x3", 2)[:2]
    u, metric = 5.0, "max_sensitivity"
    fracs = np.r_[0.0, np.logspace(-3, 0, 19)]
    free = fracs[(fracs > 0) & (fracs < 1)]

    t0 = time.perf_counter()
    path = explanation_path(X, G, fracs, robustness=metric, u=u)
    t_path = time.perf_counter() - t0

    t0 = time.perf_counter()
    explanation_path(X, G, fracs, robustness=metric, u=u, n_jobs=2)
    t_path2 = time.perf_counter() - t0

    _, graph, _ = neighbor_graph(X, u)
    program = ExplanationProblem(G, graph, get_loss(metric), GlobalBudget())
    solver, states = get_solver("auto"), [{} for _ in program.blocks]
    program.solve(0.2, solver, states=states)  # compile once
    singles = []
    for frac in (0.01, 0.1, 0.5):
        t0 = time.perf_counter()
        program.solve(frac, solver, states=states)
        singles.append(time.perf_counter() - t0)
    one = float(np.median(singles))

    t0 = time.perf_counter()
    for frac in fracs:
        OptimizedExplainer(robustness=metric, u=u, eta_frac=frac).fit(X, G)
    t_fresh = time.perf_counter() - t0

    print(f"{X.shape[0]} points, {graph.n_edges} edges, {len(fracs)} budgets "
          f"({len(free)} solved, 0 and 1 closed form)")
    print("| what | seconds |")
    print("|---|---|")
    print(f"| explanation_path, 20 budgets | {t_path:.3f} |")
    print(f"| explanation_path, 20 budgets, n_jobs=2 | {t_path2:.3f} |")
    print(f"| one solve (built program), median | {one:.3f} |")
    print(f"| 20 x one solve | {20 * one:.3f} |")
    print(f"| 20 fresh fits | {t_fresh:.3f} |")
    print(f"path / (20 x one solve) = {t_path / (20 * one):.2f}; "
          f"path / fresh fits = {t_path / t_fresh:.2f}")
    assert np.all(path.faithfulness_loss <= path.eta * (1 + 1e-12) + 1e-12)


if __name__ == "__main__":
    main()
