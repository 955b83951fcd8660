"""The optimisation problem: scaled data, independent blocks, back to the caller's units.

``ExplanationProblem`` holds, once, everything the solvers need: the
gradients centred and divided by a scale (so that gradients of any
magnitude give O(1) data), the neighbour graph with its distances divided by
a power of two close to a typical neighbour distance (so that the units of
``X`` do not matter: local stability's ``1 / distance`` weights are O(1)),
the loss, the budget, and the split into independent blocks.
"""

from dataclasses import dataclass, replace

import numpy as np

from ._budgets import Budget

__all__ = ["Block", "ExplanationProblem", "MAX_GRADIENT", "check_gradient_range", "enforce_budget"]

#: Largest gradient magnitude the optimisation accepts. Gradients of any
#: magnitude up to this are rescaled internally; beyond it sums and
#: differences of two gradients (the mean, ``G - mean``) can overflow a float.
MAX_GRADIENT = 1e300


def check_gradient_range(G, name):
    """Raise a ValueError naming ``name`` if ``|G|`` exceeds :data:`MAX_GRADIENT`."""
    if G.size and np.max(np.abs(G)) > MAX_GRADIENT:
        raise ValueError(
            f"{name} has entries up to {np.max(np.abs(G)):.3g} in magnitude; the "
            f"optimisation takes gradients up to {MAX_GRADIENT:g} (their means and "
            "differences must not overflow a float). Divide the model's output, or the "
            "gradients, by a constant: the explanations scale with it."
        )
    return G


def scaled_deviations(G, center):
    """``(G - center) / unit``, ``unit`` (the largest absolute deviation, or 1)
    and the rows' squared norms in units of ``unit^2``.

    Squared norms of gradients of magnitude 1e-200 or 1e200 under- or
    overflow; in units of the largest deviation they lie in ``[0, d]``.
    """
    dev = G - center
    unit = float(np.max(np.abs(dev))) if dev.size else 0.0
    unit = unit if unit > 0 else 1.0
    dev_u = dev / unit
    return dev_u, unit, np.einsum("ij,ij->i", dev_u, dev_u)


def to_caller_units(unit, *values):
    """``value * unit^2`` for each value (inf or 0 only where the true value
    over- or underflows a float; a zero stays 0, never ``0 * inf``)."""
    u = np.float64(unit)
    with np.errstate(over="ignore", under="ignore"):
        return tuple(v * u * u if isinstance(v, np.ndarray) else float(np.float64(v) * u * u)
                     for v in values)


#: Typical neighbour distances within ``[1 / DISTANCE_BAND, DISTANCE_BAND]``
#: are used as they are (the solvers' own scaling copes there, and the
#: numbers a solver sees, hence its results, do not change); outside that
#: band they are divided by a power of two near their median.
DISTANCE_BAND = 64.0


def distance_scale(graph):
    """The power of two the optimiser divides distances by (1 if none needed).

    1 when the median positive neighbour distance lies within
    ``[1 / DISTANCE_BAND, DISTANCE_BAND]`` (or there is none), else the
    power of two nearest to it. Dividing by a power of two is exact.
    """
    d = graph.dist[graph.dist > 0]
    if d.size == 0:
        return 1.0
    med = float(np.median(d))
    if not np.isfinite(med) or med <= 0 or 1.0 / DISTANCE_BAND <= med <= DISTANCE_BAND:
        return 1.0
    return float(2.0 ** np.round(np.log2(med)))


def scale_graph(graph, scale):
    """The graph with its distances (and radius) divided by ``scale``."""
    if scale == 1.0:
        return graph
    return replace(graph, dist=graph.dist / scale, radius=graph.radius / scale)


def enforce_budget(E, G, unit, allowed, per_point):
    """``E`` moved towards ``G`` just enough to meet the budget exactly.

    Measured in units of ``unit`` (the largest gradient deviation: no
    overflow), deviations over the budget are shrunk by the exact ratio,
    then halved while rounding still leaves them over, and finally set to
    zero (the gradient) if rounding leaves no room at all (a budget of
    1e-30 on gradients of magnitude 1).

    Parameters
    ----------
    E, G : ndarray of shape (n, d)
        Explanations and gradients, in the caller's units.
    unit : float or ndarray of shape (n, 1)
        The scale deviations are measured in (one per row allowed with
        ``per_point``).
    allowed : float or ndarray of shape (n,)
        The budget in ``unit ** 2``: one for all rows or one per row.
    per_point : bool
        Whether ``allowed`` is per row.

    Returns
    -------
    E : ndarray of shape (n, d)
    """
    for attempt in range(66):
        dev = (E - G) / unit
        used = (np.einsum("ij,ij->i", dev, dev) if per_point
                else float(np.einsum("ij,ij->i", dev, dev).sum()))
        over = np.asarray(used > allowed)
        if not over.any():
            return E
        # first the exact ratio (rounding makes it miss by ~1e-16), then halvings
        if attempt == 0:
            factor = np.sqrt(np.divide(allowed, used, out=np.zeros(np.shape(used)),
                                       where=over) * (1.0 - 1e-12))
        else:
            factor = np.full(np.shape(used), 0.0 if attempt == 65 else 0.5)
        if per_point:
            E = E.copy()
            E[over] = G[over] + (E[over] - G[over]) * factor[over][:, None]
        else:
            E = G + (E - G) * float(factor)
    return E


@dataclass
class Block:
    """One independent program, in its own rescaled coordinates.

    ``H = (G - center) / scale`` with ``scale`` the block's RMS deviation
    from the whole problem's centre, so ``H`` is O(1) whatever the
    magnitude of the gradients.

    Attributes
    ----------
    rows : ndarray of int
        The block's points in the whole problem.
    H : ndarray of shape (n, d)
        Rescaled gradients.
    graph : NeighborGraph
        The block's neighbour graph, distances divided by the problem's
        distance scale.
    weights : ndarray of shape (n_edges,)
        The loss's edge weights on ``graph``.
    loss : RobustnessLoss
    budget : Budget
    center : ndarray of shape (d,)
    scale : float
    loss_ratio : float
        ``L_max`` of the whole problem over the block's own
        ``sum ||G - center||^2`` (``inf`` when the latter is 0).
    point_budget_unit : ndarray of shape (n,)
        ``||H_n||^2``: the pointwise budget at ``eta_frac = 1``.
    """

    rows: np.ndarray
    H: np.ndarray
    graph: object
    weights: np.ndarray
    loss: object
    budget: Budget
    center: np.ndarray
    scale: float
    loss_ratio: float
    point_budget_unit: np.ndarray

    @property
    def size(self):
        """Explanation entries (points x features)."""
        return int(self.H.size)

    @property
    def zero(self):
        """Whether every gradient equals the centre (nothing to optimise)."""
        return not np.any(self.point_budget_unit > 0)

    def closed_form(self, eta_frac):
        """``H`` itself at a zero budget, 0 (the centre) when a constant
        explanation is feasible, a zero-loss explanation when the budget
        allows one (:meth:`Budget.zero_loss`), else ``None`` (a solver is
        needed)."""
        if eta_frac == 0 or self.zero:
            return self.H.copy()
        if self.budget.covers_mean(self, eta_frac):
            return np.zeros_like(self.H)
        return self.budget.zero_loss(self, eta_frac)

    def to_caller(self, E_hat, eta_frac):
        """Back to the caller's units, after projecting onto the budget.

        Interior-point solutions may exceed the budget by ~1e-9 relative;
        ``H + a D`` with ``a <= 1`` moves towards the (feasible) gradients,
        which by convexity raises the robustness loss by at most the same
        relative amount.
        """
        D = self.budget.project(np.asarray(E_hat, dtype=np.float64) - self.H,
                                self.budget.size(self, eta_frac))
        return self.center + self.scale * (self.H + D)


class ExplanationProblem:
    """The problem: minimise robustness(E) subject to faithfulness(E) <= budget, prepared once.

    The data of the problem, prepared once and shared by every solve (a fit
    is one budget, the explanation path many): the gradients' centre
    (``mean(G)``) and ``L_max = sum_n ||G_n - mean(G)||^2`` kept as a
    ``(unit, loss)`` pair that neither over- nor underflows, the neighbour
    graph with distances in units of :attr:`distance_scale`, the loss and
    the budget, and the independent blocks the budget allows.

    Parameters
    ----------
    gradients : ndarray of shape (n_samples, n_features)
        Gradients of the model at the points (at most ``MAX_GRADIENT``).
    graph : NeighborGraph
        Neighbour graph of the points, in the caller's units.
    loss : RobustnessLoss
        The robustness loss (an object of :mod:`skexplain.losses`).
    budget : Budget
        :class:`GlobalBudget` or :class:`PointwiseBudget`.

    Attributes
    ----------
    center : ndarray of shape (n_features,)
        Mean gradient.
    max_faithfulness_loss : float
        ``L_max`` in the caller's units.
    point_max_loss : ndarray of shape (n_samples,)
        ``||G_n - mean(G)||^2``.
    scale : float
        RMS deviation of the gradients from their mean.
    distance_scale : float
        The power of two distances are divided by (1 for a loss whose
        weights are not homogeneous in the distances, see
        :attr:`~skexplain.losses.RobustnessLoss.distance_degree`).
    blocks : list of ndarray of int
        Sorted point indices of each independent program (points without
        neighbours are in none: they keep their gradient).

    Examples
    --------
    Two neighbours with gradients 0 and 2: ``L_max = 2``, so ``eta_frac =
    0.25`` allows ``||G - E||^2 <= 0.5``, spent symmetrically:

    >>> import numpy as np
    >>> from skexplain.losses import MaxSensitivity
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> from skexplain.optimize import ExplanationProblem, GlobalBudget, get_solver
    >>> graph = radius_neighbor_graph(np.array([[0.0], [1.0]]), u=1.0)
    >>> problem = ExplanationProblem(np.array([[0.0], [2.0]]), graph, MaxSensitivity(),
    ...                              GlobalBudget())
    >>> result = problem.solve(0.25, get_solver("CLARABEL"))
    >>> result.explanations.round(4), result.status
    (array([[0.5],
           [1.5]]), <Status.OPTIMAL: 'optimal'>)
    >>> problem.solve(0.25, get_solver("PDHG")).explanations.round(4)
    array([[0.5],
           [1.5]])
    """

    def __init__(self, gradients, graph, loss, budget):
        G = np.asarray(gradients, dtype=np.float64)
        self.gradients = G
        self.graph = graph
        self.loss = loss
        self.budget = budget
        self.center = G.mean(axis=0)
        _, unit, point_u = scaled_deviations(G, self.center)
        loss_u = float(point_u.sum())
        self.reference = (unit, loss_u)
        self._point_u = point_u
        self.point_max_loss, self.max_faithfulness_loss = to_caller_units(unit, point_u, loss_u)
        self.scale = unit * np.sqrt(loss_u / G.shape[0]) if loss_u > 0 else 1.0
        # only weights homogeneous in the distances may see rescaled ones
        self.distance_scale = (distance_scale(graph) if loss.distance_degree is not None
                               else 1.0)
        self.blocks = budget.split(graph)
        self._scaled_graph = scale_graph(graph, self.distance_scale)

    @property
    def n_entries(self):
        """Explanation entries of the points with neighbours (points x features)."""
        return int(sum(b.size for b in self.blocks)) * self.gradients.shape[1]

    def budgets(self, eta_frac):
        """The budget in the caller's units.

        Parameters
        ----------
        eta_frac : float
            Fraction of ``L_max``.

        Returns
        -------
        eta : float
            ``eta_frac * L_max``.
        point_budgets : ndarray of shape (n_samples,)
            ``eta_frac * ||G_n - mean(G)||^2``.
        """
        unit, loss_u = self.reference
        return to_caller_units(unit, eta_frac * loss_u, eta_frac * self._point_u)

    def block(self, i):
        """The ``i``-th independent program, built from arrays.

        Parameters
        ----------
        i : int
            Index into :attr:`blocks`.

        Returns
        -------
        block : Block
            The block's rescaled data, graph, weights and budget reference.
        """
        rows = self.blocks[i]
        G = self.gradients[rows]
        n = G.shape[0]
        dev_u, unit, point_u = scaled_deviations(G, self.center)
        own_u = float(point_u.sum())
        rms_u = np.sqrt(own_u / n) if own_u > 0 else 1.0
        ref_unit, ref_u = self.reference
        graph = (self._scaled_graph if rows.size == self.graph.n_queries
                 else self._scaled_graph.subgraph(rows))
        return Block(
            rows=rows, H=dev_u / rms_u, graph=graph, weights=self.loss.edge_weights(graph),
            loss=self.loss, budget=self.budget, center=self.center, scale=unit * rms_u,
            loss_ratio=((ref_u / own_u) * (ref_unit / unit) ** 2 if own_u > 0 else np.inf),
            point_budget_unit=point_u / rms_u ** 2,
        )

    def closed_form(self, eta_frac):
        """The gradients (``eta_frac = 0``), the mean gradient (``>= 1``), else ``None``.

        Parameters
        ----------
        eta_frac : float
            The budget as a fraction of ``L_max``.

        Returns
        -------
        explanations : ndarray of shape (n_samples, n_features) or None
            ``None`` when a solver is needed.
        """
        if eta_frac == 0 or self.reference[1] == 0:
            return self.gradients.copy()
        if eta_frac >= 1:
            return np.tile(self.center, (self.gradients.shape[0], 1))
        return None

    def enforce(self, E, eta_frac):
        """Move explanations just inside the budget, exactly, in the caller's units.

        Each block's explanations were projected onto the budget in its own
        coordinates; the back-transform can still exceed a tiny budget by
        rounding (``eta = 1e-30`` on gradients of magnitude 1). Measured in
        units of the largest gradient deviation (no overflow), deviations
        over the budget are shrunk towards the gradients, and rows where
        rounding leaves no room get their gradient.

        Parameters
        ----------
        E : ndarray of shape (n_samples, n_features)
            Explanations in the caller's units.
        eta_frac : float
            The budget as a fraction of ``L_max``.

        Returns
        -------
        E : ndarray of shape (n_samples, n_features)
            Within the budget (``E`` itself when it already is).
        """
        unit, loss_u = self.reference
        per_point = self.budget.per_point
        allowed = eta_frac * (self._point_u if per_point else loss_u)
        return enforce_budget(E, self.gradients, unit, allowed, per_point)

    def solve(self, eta_frac, solver, *, states=None, n_jobs=None):
        """Solve for one budget.

        Parameters
        ----------
        eta_frac : float
            Budget as a fraction of ``L_max``.
        solver : Solver
            From :func:`get_solver`.
        states : list of dict, optional
            One per block, kept between calls (compiled programs, warm
            starts); ``None``: fresh ones.
        n_jobs : int, optional
            Joblib workers for the blocks (the path runs each budget chunk
            in one worker instead).

        Returns
        -------
        result : SolveResult
            Explanations of all points in the caller's units.
        """
        from ._path import solve_blocks

        return solve_blocks(self, [eta_frac], solver, states=states, n_jobs=n_jobs)[0]
