"""The path pipeline: explanations for a grid of budgets; ``fit`` is its one-budget case.

``prepare`` turns points and gradients into an :class:`ExplanationProblem`
(neighbour graph, scaled data, blocks); ``solve_blocks`` solves it for a list
of budget fractions; :func:`explanation_path` and
:meth:`OptimizedExplainer.fit` are both these two steps, and raise the
warnings the results carry once, at their own level.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from joblib import effective_n_jobs
from sklearn.neighbors import NearestNeighbors

from ..exceptions import InaccurateSolutionWarning, NoNeighborsWarning
from ..losses import get_loss
from ..metrics._robustness import faithfulness_loss
from ..neighbors import knn_neighbor_graph, radius_neighbor_graph
from ..neighbors._graph import check_knn_eps, magnitude_unit
from ..utils import check_points, compute_gradients
from ..utils._parallel import parallel_map
from ._base import base_explanations, fit_base, looks_like_model
from ._budgets import get_budget
from ._problem import ExplanationProblem, check_gradient_range, to_caller_units
from ._result import SolveResult, SolveStats, Status, WarningRecord, emit_warnings
from ._solvers import get_solver

__all__ = ["ExplanationPath", "explanation_path", "prepare", "solve_blocks"]

_CHUNK = 5  # budgets per program build (and per parallel task) along a path


@dataclass
class Prepared:
    """Points, gradients, graph and problem, ready to solve.

    Attributes
    ----------
    X, G : ndarray of shape (n_samples, n_features)
    graph : NeighborGraph
    nn : NearestNeighbors or None
        Fitted on ``X`` for a radius graph (new points' neighbours); ``None``
        for a k-nearest-neighbour graph.
    n_isolated : int
    problem : ExplanationProblem
    records : list of WarningRecord
    """

    X: np.ndarray
    G: np.ndarray
    graph: object
    nn: object
    n_isolated: int
    problem: ExplanationProblem
    records: list = field(default_factory=list)


#: Neighbours per point behind ``u="auto"``.
AUTO_NEIGHBORS = 10


def auto_radius(X, nn):
    """The radius behind ``u="auto"``: the median distance to the 10th nearest point.

    At that radius about half of the points have at least 10 neighbours
    (``k = min(10, n - 1)``): a neighbourhood in the data's own scale, whatever
    the units and the dimension, that keeps the graph sparse (about ``k``
    neighbours per point where the density is even). Points much sparser than
    the median may be left without neighbours (``n_isolated_``); the
    symmetrised k-nearest-neighbour graph (``n_neighbors=k``) leaves none.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The points.
    nn : NearestNeighbors
        Fitted on ``X``.

    Returns
    -------
    u : float
    """
    k = min(AUTO_NEIGHBORS, X.shape[0] - 1)
    dist = _kth_distance(X, nn, k)
    u = float(np.median(dist))
    return u if u > 0 else float(dist.max()) or 1.0


def _kth_distance(X, nn, k):
    """Each point's distance to its ``k``-th nearest other point, searched in
    units of the data when its magnitude would over- or underflow squares."""
    unit = magnitude_unit(X)
    if not 2.0 ** -250 <= unit <= 2.0 ** 250:
        nn = NearestNeighbors().fit(np.asarray(X, dtype=np.float64) / unit)
        return nn.kneighbors(n_neighbors=k, return_distance=True)[0][:, -1] * unit
    return nn.kneighbors(n_neighbors=k, return_distance=True)[0][:, -1]


def resolve_neighbors(X, u, n_neighbors):
    """The ``k`` of the kNN graph to build, or ``None`` for a radius graph.

    ``n_neighbors`` when given; a radius ``u`` when given (a number or
    ``"auto"``); neither: the symmetrised ``AUTO_NEIGHBORS``-nearest-neighbour
    graph (at most ``n - 1``), the default: on real data of uneven density
    every radius either isolates the sparse points or connects the dense
    ones to hundreds (measured on scikit-learn's breast-cancer, diabetes and
    digits data), while the kNN graph leaves no point alone and keeps about
    ``k`` neighbours each.
    """
    if n_neighbors is not None:
        return n_neighbors
    if u is None:
        return min(AUTO_NEIGHBORS, X.shape[0] - 1)
    return None


def neighbor_graph(X, u, *, n_neighbors=None, n_jobs=None, knn_eps=0.0):
    """Neighbour index and graph of the training points, checked.

    With ``n_neighbors`` (or neither it nor ``u``: see
    :func:`resolve_neighbors`) the symmetrised k-nearest-neighbour graph;
    else the radius-``u`` graph (``u="auto"``: :func:`auto_radius`), which
    raises if no pair lies within ``u``. ``knn_eps > 0`` (an approximate
    k-nearest-neighbour search) is refused with a radius.

    Returns
    -------
    nn : NearestNeighbors or None
        scikit-learn's index of ``X`` for a radius graph (``None`` for a
        k-nearest-neighbour graph: building it took 3.5 s at 1M points).
    graph : NeighborGraph
    records : list of WarningRecord
        A :class:`NoNeighborsWarning` when some points are isolated (one text
        whatever their number, so that a search warns once).
    """
    n_neighbors = resolve_neighbors(X, u, n_neighbors)
    knn_eps = check_knn_eps(knn_eps)
    if knn_eps and n_neighbors is None:
        raise ValueError(f"knn_eps={knn_eps!r} approximates the k-nearest-neighbour graph; "
                         f"with a radius u={u!r} it must be 0 (or use n_neighbors).")
    if n_neighbors is not None:       # no scikit-learn index: new points use a k-d tree
        return None, knn_neighbor_graph(X, n_neighbors, n_jobs=n_jobs, eps=knn_eps), []
    nn = NearestNeighbors(n_jobs=n_jobs).fit(X)
    if isinstance(u, str) and u == "auto":
        u = auto_radius(X, nn)
    graph = radius_neighbor_graph(X, u, nn=nn)
    if graph.n_edges == 0:
        d1 = _kth_distance(X, nn, 1)
        raise ValueError(
            f"No pair of points lies within u={u}: every robustness "
            "loss would be zero. Use a radius of at least the smallest "
            f"nearest-neighbour distance, {float(d1.min()):.6g}."
        )
    records = [WarningRecord(NoNeighborsWarning, ISOLATED_MESSAGE)] if graph.isolated.any() \
        else []
    return nn, graph, records


#: The text of the NoNeighborsWarning of a fit (the same whatever the count,
#: so that Python shows it once per place: once for a whole search).
ISOLATED_MESSAGE = (
    "Some points have no neighbour within the radius u: they contribute nothing to the "
    "robustness loss and their explanation is their base explanation (n_isolated_ gives "
    "how many; n_neighbors=k leaves no point alone).")


def prepare(X, gradients, *, robustness, faithfulness, squared=None, u=None, n_neighbors=None,
            n_jobs=None, knn_eps=0.0, name="y"):
    """Everything a solve needs, from validated points and gradients.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated points.
    gradients : ndarray of shape (n_samples, n_features)
        Validated gradients.
    robustness : str or RobustnessLoss
    faithfulness : str or Budget
    squared : bool or None
        ``AverageSensitivity(squared=...)`` for the name
        ``"average_sensitivity"``.
    u : float
    n_neighbors : int or None
    n_jobs : int or None
        Threads of the neighbour search.
    knn_eps : float
        Approximation of the k-nearest-neighbour search (0: exact).
    name : str
        Name of the gradients in error messages.

    Returns
    -------
    prepared : Prepared
    """
    loss = get_loss(robustness, squared=squared)
    budget = get_budget(faithfulness)
    G = check_gradient_range(gradients, name)
    nn, graph, records = neighbor_graph(X, u, n_neighbors=n_neighbors, n_jobs=n_jobs,
                                        knn_eps=knn_eps)
    problem = ExplanationProblem(G, graph, loss, budget)
    return Prepared(X=X, G=G, graph=graph, nn=nn, n_isolated=int(graph.isolated.sum()),
                    problem=problem, records=records)


def _closed(E, stats=None):
    return SolveResult(explanations=E, status=Status.OPTIMAL, solver="closed_form",
                       stats=stats or SolveStats(n_blocks=0))


def _solve_task(block, fracs, solver, state):
    """Worker: one block for a chunk of budgets, in order (warm starts carry)."""
    state = {} if state is None else state
    out = []
    for frac in fracs:
        E_hat = block.closed_form(frac)
        if E_hat is not None:
            res = _closed(E_hat, SolveStats())
        else:
            res = solver.solve(block, frac, state)
        res.explanations = block.to_caller(res.explanations, frac)
        out.append(res)
    return out


def solve_blocks(problem, fracs, solver, *, states=None, n_jobs=None, verbose=0,
                 desc="explanation path"):
    """Solve ``problem`` for each budget fraction; results in the caller's units.

    The work is cut into tasks that do not depend on ``n_jobs`` (each
    block, times chunks of ``_CHUNK`` budgets along a path), each solved
    from its own fresh state in order, so the results are identical for any
    ``n_jobs`` and joblib backend.

    Parameters
    ----------
    problem : ExplanationProblem
    fracs : sequence of float
    solver : Solver
    states : list of dict, optional
        One per block, reused across calls (one budget at a time, in this
        process): compiled programs and warm starts.
    n_jobs : int, optional
    verbose : int, default=0
        A progress bar over the tasks.
    desc : str, default="explanation path"
        The bar's label.

    Returns
    -------
    results : list of SolveResult
        One per fraction, explanations of every point.
    """
    fracs = [float(f) for f in fracs]
    out = [None] * len(fracs)
    todo = []
    for i, frac in enumerate(fracs):
        closed = problem.closed_form(frac)
        if closed is not None:
            out[i] = _closed(closed)
        else:
            todo.append(i)
    if not todo:
        return out
    solver = solver.resolve(problem.n_entries)
    n_blocks = len(problem.blocks)
    # fixed chunks of the budget grid (whatever n_jobs, and counting the
    # closed forms, as the path always has): a program is built once per chunk
    if states is not None:
        chunks = [todo]
    else:
        grid = np.array_split(np.arange(len(fracs)), -(-len(fracs) // _CHUNK))
        chunks = [c for c in ([i for i in g if i in set(todo)] for g in grid) if c]
    # the chunks with the largest budgets first (they take the most iterations:
    # 12-18 s against 4-6 s per budget at N = 100k), so that the workers
    # finish together; each chunk's result does not depend on the order
    order = sorted(range(len(chunks)), key=lambda c: -max(fracs[i] for i in chunks[c]))
    tasks = [(problem.block(b), [fracs[i] for i in chunks[c]], solver,
              None if states is None else states[b])
             for c in order for b in range(n_blocks)]
    n_workers = max(1, min(effective_n_jobs(n_jobs), len(tasks))) if states is None else 1
    parts = list(parallel_map(_solve_task, tasks, n_jobs=n_workers, verbose=verbose,
                              desc=desc))
    for pos, c in enumerate(order):
        chunk = chunks[c]
        block_results = parts[pos * n_blocks:(pos + 1) * n_blocks]
        for k, i in enumerate(chunk):
            E = problem.gradients.copy()          # isolated points keep their gradient
            per_block = [res[k] for res in block_results]
            for b, res in enumerate(per_block):
                E[problem.blocks[b]] = res.explanations
            out[i] = _combine(problem.enforce(E, fracs[i]), per_block)
    return out


def _combine(E, results):
    """One result from the blocks' results for the same budget."""
    bad = [r for r in results if not r.optimal]
    solvers = [r.solver for r in results if r.solver != "closed_form"]
    return SolveResult(
        explanations=E, status=bad[0].status if bad else Status.OPTIMAL,
        solver=solvers[0] if solvers else "closed_form",
        stats=SolveStats.combine(r.stats for r in results),
        message=(bad[0].message + (f" ({len(bad)} of {len(results)} blocks)"
                                   if len(results) > 1 else "")) if bad else "",
        attempts=[a for r in results for a in r.attempts],
        records=[w for r in results for w in r.records])


@dataclass
class ExplanationPath:
    """Explanations and losses along a grid of faithfulness budgets.

    Returned by :func:`explanation_path`; each parameter is an attribute of
    the same name.

    Parameters
    ----------
    eta_fracs : ndarray of shape (k,)
        The budgets, as fractions of ``L_max``.
    explanations : ndarray of shape (k, n_samples, n_features)
        The optimised explanations at each budget.
    faithfulness_loss : ndarray of shape (k,)
        ``sum_n ||grad f(x_n) - E_n||^2`` at each budget (<= eta).
    robustness_loss : ndarray of shape (k,)
        The robustness loss at each budget.
    eta : ndarray of shape (k,)
        Absolute budgets ``eta_frac * max_faithfulness_loss``.
    max_faithfulness_loss : float
        ``L_max``.
    status : list of str
        Each budget's solver status.
    solve_time : ndarray of shape (k,)
        Solver time of each budget (0 for the closed forms at 0 and >= 1).
    build_time : float
        Time to compute the gradients, the neighbour graph and the problem.
    total_time : float
        Seconds for the whole path.
    robustness : str or None, default=None
        The robustness loss's name (e.g. ``"max_sensitivity"``), for labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import explanation_path
    >>> X = np.linspace(0, 3, 7)[:, None]
    >>> path = explanation_path(X, X ** 2, [0.0, 0.2, 1.0], u=0.6)
    >>> float(path.robustness_loss[-1]), path.pareto_mask().tolist()
    (0.0, [True, True, True])
    """

    eta_fracs: np.ndarray
    explanations: np.ndarray
    faithfulness_loss: np.ndarray
    robustness_loss: np.ndarray
    eta: np.ndarray
    max_faithfulness_loss: float
    status: list
    solve_time: np.ndarray
    build_time: float
    total_time: float
    robustness: str = None

    def pareto_mask(self):
        """Mark the budgets on the faithfulness/robustness Pareto front.

        Returns
        -------
        mask : ndarray of bool of shape (k,)
            True where no other budget is at least as good in both losses
            and better in one.
        """
        f, r = self.faithfulness_loss, self.robustness_loss
        tol = 1e-9 * (1.0 + np.abs(f).max() + np.abs(r).max())
        dominated = ((f[None, :] <= f[:, None] + tol) & (r[None, :] <= r[:, None] + tol)
                     & ((f[None, :] < f[:, None] - tol) | (r[None, :] < r[:, None] - tol)))
        return ~dominated.any(axis=1)

    def plot(self, ax=None):
        """Robustness against faithfulness along the path (extra ``plot``).

        A shortcut for :meth:`skexplain.plotting.FrontDisplay.from_path`.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default a new figure's axes.

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on.
        """
        from ..plotting import FrontDisplay

        return FrontDisplay.from_path(self, ax=ax).ax_


def explanation_path(X, grad_fn=None, eta_fracs=None, *, model=None, base="gradient",
                     target=None, output="auto", robustness="max_sensitivity", u=None,
                     n_neighbors=None, knn_eps=0.0, faithfulness="global", squared=False,
                     solver="auto", solver_options=None, batch_size=None, n_jobs=None,
                     verbose=0):
    """Optimised explanations for each budget, building the program once.

    The neighbour graph and the problem are built once; along the budgets
    the conic solvers re-solve one compiled (DPP) program and PDHG starts
    from the previous budget's solution. ``eta_frac = 0`` and ``>= 1`` use
    the closed forms (the gradients and the mean gradient).
    :class:`~skexplain.OptimizedExplainer` ``.fit`` is the same pipeline for
    one budget.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points to explain.
    grad_fn : callable or array-like of shape (n_samples, n_features), optional
        Gradients at ``X`` or a callable; not with ``model``.
    eta_fracs : array-like, default=None
        Budgets as fractions of ``L_max``; ``None``: 0 and 19 values
        log-spaced from 1e-3 to 1 (20 in all).
    model : object or None, default=None
        The model, instead of ``grad_fn``: its base explanations are the
        ones kept faithful to (as in :class:`~skexplain.OptimizedExplainer`).
    base : "gradient" or BaseExplainer, default="gradient"
        The base explanations of ``model``.
    target : None, "predicted", class label or int, default=None
        Which output of ``model`` to explain.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn model to explain.
    robustness : str or RobustnessLoss, default="max_sensitivity"
        A name of :data:`skexplain.losses.LOSSES` or a loss object.
    u : float, "auto" or None, default=None
        Neighbourhood radius (see :class:`~skexplain.OptimizedExplainer`;
        neither ``u`` nor ``n_neighbors``: the 10-nearest-neighbour graph).
    n_neighbors : int or None, default=None
        The symmetrised k-nearest-neighbour graph instead of a radius.
    knn_eps : float, default=0.0
        ``> 0``: an approximate k-nearest-neighbour search (see
        :class:`~skexplain.OptimizedExplainer`); 0 with a radius ``u``.
    faithfulness : {"global", "pointwise"} or Budget, default="global"
        The budget.
    squared : bool, default=False
        Only for ``average_sensitivity``: square the distance.
    solver : str or Solver, default="auto"
        As in :class:`~skexplain.OptimizedExplainer`.
    solver_options : dict or None, default=None
        As in :class:`~skexplain.OptimizedExplainer`.
    batch_size : int or None, default=None
        Rows per call of a gradient callable.
    n_jobs : int or None, default=None
        Workers (joblib, ``sklearn.utils.parallel``): the budgets are split
        in contiguous chunks of 5 (times the independent blocks of a
        pointwise budget), and each task builds its program once; also the
        threads of the k-nearest-neighbour search. The tasks do not depend
        on ``n_jobs``, so neither do the results (to the last bit).
    verbose : int, default=0
        ``> 0``: a tqdm progress bar over the tasks (extra ``progress``).

    Returns
    -------
    path : ExplanationPath
        Explanations, both losses and statuses at each budget.

    See Also
    --------
    OptimizedExplainer : One budget, as a scikit-learn transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import explanation_path
    >>> X = np.linspace(0, 3, 7)[:, None]
    >>> path = explanation_path(X, lambda X: X ** 2, [0.0, 0.5, 1.0], u=0.6)
    >>> bool(np.all(np.diff(path.robustness_loss) <= 1e-9))  # more budget, more robust
    True
    """
    records, path = _path_and_records(
        X, grad_fn, eta_fracs, model=model, base=base, target=target, output=output,
        robustness=robustness, u=u, n_neighbors=n_neighbors, knn_eps=knn_eps,
        faithfulness=faithfulness,
        squared=squared, solver=solver, solver_options=solver_options, batch_size=batch_size,
        n_jobs=n_jobs, verbose=verbose)
    emit_warnings(records, stacklevel=2)
    return path


def _path_and_records(X, grad_fn=None, eta_fracs=None, *, model=None, base="gradient",
                     target=None, output="auto", robustness="max_sensitivity", u=None,
                     n_neighbors=None, knn_eps=0.0, faithfulness="global", squared=False,
                     solver="auto", solver_options=None, batch_size=None, n_jobs=None,
                     verbose=0):
    """:func:`explanation_path` without emitting its warnings: returns
    ``(warning records, path)`` for callers that report them their own way."""
    t0 = time.perf_counter()
    X = check_points(X, min_samples=2)
    fracs = (np.r_[0.0, np.logspace(-3, 0, 19)] if eta_fracs is None
             else np.asarray(eta_fracs, dtype=np.float64).ravel())
    if fracs.size == 0 or not np.all(np.isfinite(fracs)) or np.any(fracs < 0):
        raise ValueError("eta_fracs must be a non-empty array of finite values >= 0.")
    slv = get_solver(solver, solver_options)
    if model is None and grad_fn is not None and looks_like_model(grad_fn):
        model, grad_fn = grad_fn, None
    if model is not None:
        if grad_fn is not None:
            raise ValueError("give grad_fn or model, not both.")
        G = base_explanations(fit_base(X, model=model, base=base, target=target,
                                       output=output, batch_size=batch_size), X)
    elif grad_fn is None:
        raise ValueError("explanation_path needs grad_fn (gradients or a gradient callable) "
                         "or model=.")
    else:
        G = compute_gradients(grad_fn, X, batch_size=batch_size, name="grad_fn")
    prep = prepare(X, G, robustness=robustness, faithfulness=faithfulness, squared=squared,
                   u=u, n_neighbors=n_neighbors, n_jobs=n_jobs, knn_eps=knn_eps,
                   name="grad_fn")
    problem = prep.problem
    build = time.perf_counter() - t0
    results = solve_blocks(problem, fracs, slv, n_jobs=n_jobs, verbose=verbose)
    Es = [r.explanations for r in results]
    L = problem.max_faithfulness_loss
    unit, loss_u = problem.reference
    eta = to_caller_units(unit, fracs * loss_u)[0]   # 0 * (an L_max that overflows) is not NaN
    r_loss = [problem.loss.value(prep.graph, E) for E in Es]
    records = list(prep.records)
    n_bad = sum(not r.optimal for r in results)
    for r in results:
        records += r.records
    if n_bad:
        first = next(r for r in results if not r.optimal)
        records.append(WarningRecord(InaccurateSolutionWarning,
                                     f"{n_bad} of {fracs.size} budgets ended with an "
                                     f"inaccurate solver status: {first.message}"))
    return records, ExplanationPath(
        eta_fracs=fracs, explanations=np.stack(Es),
        faithfulness_loss=np.array([faithfulness_loss(G, E) for E in Es]),
        robustness_loss=np.array(r_loss), eta=eta, max_faithfulness_loss=L,
        status=[str(r.status) for r in results],
        solve_time=np.array([r.stats.solve_time for r in results]), build_time=build,
        total_time=time.perf_counter() - t0, robustness=problem.loss.name,
    )
