"""Independent sub-problems: the pointwise program split along components.

Points in well separated clusters (one neighbour-graph component each) with
per-point budgets (``faithfulness="pointwise"``): the components do not
interact, so :class:`OptimizedExplainer` solves one program per block of
components, optionally in parallel. Compares, in the same process,

* the joint program (one :class:`ExplanationProblem` program over all points, the
  reference formulation),
* the split program with ``n_jobs=1`` and ``n_jobs=2`` (Clarabel for all, so
  that the objectives compare),

and prints the time of each, the ratios against the joint program, and the
relative objective difference.

    python benchmarks/bench_components.py
"""

import time

import numpy as np

from skexplain import OptimizedExplainer
from skexplain.losses import get_loss
from skexplain.metrics import robustness_loss
from skexplain.optimize import ExplanationProblem, PointwiseBudget, get_solver
from skexplain.optimize._path import neighbor_graph


class JointBudget(PointwiseBudget):
    """The pointwise budget without the split: one program for all points."""

    def split(self, graph):
        return [np.arange(graph.n_queries)]


def clusters(n_clusters, per, d, seed=0):
    rng = np.random.default_rng(seed)
    centres = 20.0 * np.arange(n_clusters)[:, None] * np.ones(d)
    X = (centres[:, None, :] + rng.uniform(0, 2, size=(n_clusters, per, d))).reshape(-1, d)
    G = np.sin(X) + 0.1 * rng.normal(size=X.shape)
    return X, G


def main():
    print("| clusters x points | D | loss | edges | joint s | split n_jobs=1 s | "
          "split n_jobs=2 s | joint/split1 | joint/split2 | rel. objective diff |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n_clusters, per, d, metric, u in [(8, 250, 3, "max_sensitivity", 0.5),
                                          (8, 250, 3, "average_sensitivity", 0.5),
                                          (4, 500, 3, "max_sensitivity", 0.4)]:
        X, G = clusters(n_clusters, per, d)
        _, graph, _ = neighbor_graph(X, u)
        t0 = time.perf_counter()
        E_joint = ExplanationProblem(G, graph, get_loss(metric), JointBudget()).solve(
            0.2, get_solver("CLARABEL")).explanations
        t_joint = time.perf_counter() - t0
        times, objs = [], []
        for n_jobs in (1, 2):
            t0 = time.perf_counter()
            est = OptimizedExplainer(metric, u=u, eta_frac=0.2, faithfulness="pointwise",
                                     solver="CLARABEL", n_jobs=n_jobs).fit(X, G)
            times.append(time.perf_counter() - t0)
            objs.append(est.robustness_loss_)
        r_joint = robustness_loss(metric, X, E_joint, u=u)
        diff = abs(objs[0] - r_joint) / max(abs(r_joint), 1e-12)
        print(f"| {n_clusters} x {per} | {d} | {metric} | {graph.n_edges} | {t_joint:.2f} | "
              f"{times[0]:.2f} | {times[1]:.2f} | {t_joint / times[0]:.2f} | "
              f"{t_joint / times[1]:.2f} | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
