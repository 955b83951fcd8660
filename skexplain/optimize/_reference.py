"""The paper's appendix-C formulation, one cvxpy constraint per pair.

Deliberately unvectorised: it is the independent reference that tests and
benchmarks compare the vectorised :class:`ExplanationProblem` against. Do not
use it for real work (its build time grows with Python loops over pairs).
"""

import cvxpy as cp
import numpy as np

__all__ = ["pairwise_reference_problem"]


def pairwise_reference_problem(X, G, u, robustness, eta, *, squared=False,
                               faithfulness="global"):
    """Build ``min L_robust(E) s.t. faithfulness <= eta`` pair by pair.

    For ``faithfulness="pointwise"``, ``eta`` is the fraction ``eta_frac``
    and point ``n`` gets the budget ``eta * ||G_n - mean(G)||^2``.

    Returns
    -------
    problem : cvxpy.Problem
    E : cvxpy.Variable of shape (n, d)
    """
    X = np.asarray(X, dtype=float)
    G = np.asarray(G, dtype=float)
    n, d = G.shape
    E = cp.Variable((n, d))
    objective, constraints = 0, []
    for i in range(n):
        nbrs = [(j, np.linalg.norm(X[i] - X[j])) for j in range(n)
                if j != i and np.linalg.norm(X[i] - X[j]) <= u * (1 + 1e-9)]
        if not nbrs:
            continue
        if robustness == "average_sensitivity":
            p = 2 if squared else 1
            objective += sum(cp.norm(E[i] - E[j]) ** p for j, _ in nbrs) / len(nbrs)
            continue
        t = cp.Variable()
        for j, dist in nbrs:
            scale = dist if robustness == "local_stability" else 1.0
            constraints.append(cp.norm(E[i] - E[j]) / scale <= t)
        objective += t
    if faithfulness == "global":
        constraints.append(cp.sum_squares(G - E) <= eta)
    else:
        mean = G.mean(axis=0)
        for i in range(n):
            constraints.append(
                cp.sum_squares(G[i] - E[i]) <= eta * np.sum((G[i] - mean) ** 2))
    # (cvxpy may warn that the objective has many subexpressions: it is
    # unvectorised on purpose)
    return cp.Problem(cp.Minimize(objective), constraints), E
