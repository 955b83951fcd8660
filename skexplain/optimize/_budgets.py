"""Faithfulness budgets as objects: the constraint in every form the solvers need.

A budget limits how far the explanations may move from the gradients. In the
program's coordinates (gradients centred and divided by a scale, see
:class:`~skexplain.optimize.ExplanationProblem`) it is a ball around the
rescaled gradients ``H``: one ball for all points (:class:`GlobalBudget`) or
one per point (:class:`PointwiseBudget`). Each class knows how the problem
splits into independent blocks, its size for a budget fraction, its cvxpy
constraint, the exact projection onto it and the first-order solver's prox
and support function.
"""

import numpy as np

__all__ = ["BUDGETS", "Budget", "GlobalBudget", "PointwiseBudget", "get_budget"]

#: Relative margin kept inside the budget when explanations are projected
#: onto it (rounding in the back-transform must not push them outside).
MARGIN = 1e-12


class Budget:
    """Base class of the faithfulness budgets.

    Subclasses set :attr:`name` and implement every method; the estimator,
    the explanation path and the solvers only talk to this interface.

    See Also
    --------
    GlobalBudget : One budget for all points.
    PointwiseBudget : One budget per point.

    Examples
    --------
    A budget gives its size for a fraction of ``L_max`` in the program's
    coordinates (gradients rescaled to unit RMS deviation):

    >>> import numpy as np
    >>> from skexplain.losses import MaxSensitivity
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> from skexplain.optimize import ExplanationProblem, GlobalBudget, PointwiseBudget
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> G = np.array([[0.0], [1.0], [5.0]])
    >>> graph = radius_neighbor_graph(X, 1.0)
    >>> block = ExplanationProblem(G, graph, MaxSensitivity(), GlobalBudget()).block(0)
    >>> GlobalBudget().size(block, 0.5)          # eta_frac * n
    1.5
    >>> PointwiseBudget().size(block, 0.5).round(3)   # sqrt(eta_frac) * ||H_n||
    array([0.655, 0.327, 0.982])
    """

    #: Registry name (``BUDGETS[name]``).
    name = None
    #: Whether :meth:`size` and :meth:`used` are per point (arrays).
    per_point = False

    def split(self, graph):
        """Independent blocks of the points that have neighbours.

        Parameters
        ----------
        graph : NeighborGraph
            Neighbour graph of the points.

        Returns
        -------
        blocks : list of ndarray of int
            Sorted point indices of each independent sub-problem.
        """
        raise NotImplementedError

    def size(self, block, eta_frac):
        """The budget of a block in its program's coordinates.

        Parameters
        ----------
        block : Block
            One sub-problem (rescaled gradients ``H`` and their reference).
        eta_frac : float
            The budget as a fraction of ``L_max``.

        Returns
        -------
        size : float or ndarray of shape (n_points,)
            A squared radius (global) or the radii of the points' balls.
        """
        raise NotImplementedError

    def covers_mean(self, block, eta_frac):
        """Whether the block's centre (a constant explanation) is feasible.

        Parameters
        ----------
        block : Block
            One sub-problem.
        eta_frac : float
            The budget as a fraction of ``L_max``.

        Returns
        -------
        bool
            ``True`` when the constant explanation (the whole problem's mean
            gradient) is within the budget.
        """
        return eta_frac >= 1

    def zero_loss(self, block, eta_frac):
        """A feasible explanation with zero robustness loss, if the budget allows one.

        Only those :meth:`covers_mean` does not see.

        Parameters
        ----------
        block : Block
            One sub-problem.
        eta_frac : float
            The budget as a fraction of ``L_max``.

        Returns
        -------
        E : ndarray of shape (n, d) or None
            In the block's coordinates; ``None`` when none is known.
        """
        return None

    def cvxpy_constraints(self, E, H):
        """The constraint with a cvxpy Parameter for its size.

        Parameters
        ----------
        E : cvxpy.Variable of shape (n, d)
            The explanations.
        H : ndarray of shape (n, d)
            Rescaled gradients.

        Returns
        -------
        parameter : cvxpy.Parameter
            The budget's size, set before each solve.
        constraints : list of cvxpy.Constraint
            The constraint(s).
        set_size : callable
            ``set_size(size)`` gives the parameter the value of a
            :meth:`size`.
        """
        raise NotImplementedError

    def project(self, D, size):
        """Exact projection of deviations ``D = E - H`` onto the budget.

        Parameters
        ----------
        D : ndarray of shape (n, d)
            Deviations from the (rescaled) gradients.
        size : float or ndarray
            A :meth:`size`.

        Returns
        -------
        D : ndarray of shape (n, d)
            Inside the budget with a relative margin of ``MARGIN``; rows
            already inside are returned unchanged.
        """
        raise NotImplementedError

    def first_order(self, H, size, tau):
        """Proximal map and support function for the first-order solver.

        Parameters
        ----------
        H : ndarray of shape (n, d)
            Rescaled gradients (the balls' centres).
        size : float or ndarray
            A :meth:`size`.
        tau : ndarray of shape (n,)
            Primal step sizes: the prox is the projection in the metric
            ``sum_i ||.||^2 / tau_i``.

        Returns
        -------
        project : callable
            ``E -> `` the projection of ``E`` onto the set.
        support : callable
            ``W -> sup_{E in set} <W, E>``.
        """
        raise NotImplementedError

    def used(self, deviations):
        """What deviations spend of the budget (squared norms: their sum, or per row).

        Parameters
        ----------
        deviations : ndarray of shape (n, d)
            Explanations minus gradients.

        Returns
        -------
        used : float or ndarray of shape (n,)
            Sum of squared norms, or each row's.
        """
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))


def _newton_ball(V, sq, radius, tau, lam=0.0):
    """Projection onto ``{||E - H||_F <= radius}`` in the metric ``diag(1/tau)``:
    ``V_i / (1 + lam tau_i)`` with ``sum ||.||^2 = radius^2`` (Newton in lam).

    ``g(lam) = sum sq / (1 + lam tau)^2 - radius^2`` is convex and decreasing,
    so Newton from the left of the root climbs to it monotonically. ``lam``
    is a starting guess (the previous iteration's multiplier): from the right
    of the root one Newton step lands on its left (the tangent is below a
    convex function), never below 0. Returns the projection and the
    multiplier."""
    f = 1.0 + lam * tau
    g = np.sum(sq / f ** 2) - radius ** 2
    if g < 0:
        lam = max(0.0, lam - g / np.sum(-2.0 * sq * tau / f ** 3))
    for _ in range(100):
        f = 1.0 + lam * tau
        g = np.sum(sq / f ** 2) - radius ** 2
        if g <= 1e-14 * radius ** 2:
            break
        lam -= g / np.sum(-2.0 * sq * tau / f ** 3)
    out = V / (1.0 + lam * tau)[:, None]
    size = np.sqrt(np.sum(out * out))
    return out * min(1.0, radius / size), lam   # exact feasibility


class GlobalBudget(Budget):
    """One budget for all points: ``sum_n ||grad f(x_n) - E_n||^2 <= eta_frac * L_max``.

    The paper's formulation (Raedler et al., section 3). The budget can move
    between points, so all points with neighbours form one program; isolated
    points keep their gradients (they spend none of it).

    See Also
    --------
    PointwiseBudget : One budget per point.

    Examples
    --------
    Deviations of squared size 8 projected onto a budget of 2 are halved:

    >>> import numpy as np
    >>> from skexplain.optimize import GlobalBudget
    >>> GlobalBudget().project(np.array([[2.0, 0.0], [0.0, 2.0]]), 2.0).round(6)
    array([[1., 0.],
           [0., 1.]])
    """

    name = "global"

    def split(self, graph):
        active = ~graph.isolated
        return [np.flatnonzero(active)] if active.any() else []

    def size(self, block, eta_frac):
        # == eta_frac * n in the rescaled coordinates when L_max is the block's own
        return float(eta_frac) * block.loss_ratio * block.H.shape[0]

    def covers_mean(self, block, eta_frac):
        return eta_frac >= 1 or eta_frac * block.loss_ratio >= 1.0

    def zero_loss(self, block, eta_frac):
        # a loss is 0 exactly when E is constant on every connected component
        # of the (positively weighted) graph; the cheapest such E takes each
        # component's mean gradient, feasible when the budget covers the
        # spread within the components. (The optimum is then 0, which an
        # interior-point solver only approaches to its absolute tolerance.)
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        g, H = block.graph, block.H
        keep = block.weights > 0
        n = H.shape[0]
        if keep.all():                  # the graph's own CSR (0.7 s vs 1.7 s at 13M edges)
            A = csr_matrix((np.ones(g.n_edges), g.dst, g.indptr), shape=(n, n))
        else:
            A = csr_matrix((np.ones(int(keep.sum())), (g.src[keep], g.dst[keep])), shape=(n, n))
        n_comp, labels = connected_components(A, directed=False)
        if n_comp == 1:
            return None                     # one component: only the mean (covers_mean)
        counts = np.bincount(labels, minlength=n_comp)
        means = np.zeros((n_comp, H.shape[1]))
        np.add.at(means, labels, H)
        means /= counts[:, None]
        E = means[labels]
        spread = float(np.einsum("ij,ij->i", H - E, H - E).sum())
        return E if spread <= self.size(block, eta_frac) * (1.0 - MARGIN) else None

    def cvxpy_constraints(self, E, H):
        import cvxpy as cp

        param = cp.Parameter(nonneg=True, name="eta")

        def set_size(size):
            param.value = size

        return param, [cp.sum_squares(E - H) <= param], set_size

    def project(self, D, size):
        used = float(np.sum(D ** 2))
        limit = size * (1.0 - MARGIN)
        return D * np.sqrt(limit / used) if used > limit else D

    def first_order(self, H, size, tau):
        radius = float(np.sqrt(size))
        last = [0.0]                    # the previous call's multiplier: Newton's start

        def project(E):
            V = E - H
            sq = np.sum(V * V, axis=1)
            if sq.sum() <= radius ** 2:
                return E
            out, last[0] = _newton_ball(V, sq, radius, tau, last[0])
            return H + out

        def support(W):  # sup_{E in C} <W, E>
            return float(np.sum(W * H) + radius * np.sqrt(np.sum(W * W)))

        return project, support

    def used(self, deviations):
        return float(np.einsum("ij,ij->i", deviations, deviations).sum())


class PointwiseBudget(Budget):
    """One budget per point: ``||grad f(x_n) - E_n||^2 <= eta_frac * ||grad f(x_n) - mean||^2``.

    No point can be traded against another (the paper's conclusion asks for
    such pointwise metrics), so the connected components of the neighbour
    graph are independent programs; small components are grouped into
    blocks of at least ``MIN_BLOCK_EDGES`` directed edges (one cvxpy compile
    per two-point component would cost more than it saves). ``transform``
    uses the same budget for a new point.

    See Also
    --------
    GlobalBudget : One budget for all points.

    Examples
    --------
    Each row is shrunk onto its own radius:

    >>> import numpy as np
    >>> from skexplain.optimize import PointwiseBudget
    >>> PointwiseBudget().project(np.array([[3.0, 4.0], [0.1, 0.0]]), np.array([1.0, 1.0])).round(6)
    array([[0.6, 0.8],
           [0.1, 0. ]])
    """

    name = "pointwise"
    per_point = True

    def split(self, graph):
        active = ~graph.isolated
        if not active.any():
            return []
        n_comp, labels = graph.components()
        edges = np.bincount(labels[graph.src], minlength=n_comp)
        # a component starts a new block when the edges before it fill one
        start = np.cumsum(edges) - edges
        group = start // MIN_BLOCK_EDGES
        node_group = np.where(active, group[labels], -1)
        order = np.argsort(node_group, kind="stable")
        order = order[node_group[order] >= 0]
        cuts = np.flatnonzero(np.diff(node_group[order])) + 1
        return np.split(order, cuts)

    def size(self, block, eta_frac):
        return np.sqrt(eta_frac * block.point_budget_unit)

    def cvxpy_constraints(self, E, H):
        import cvxpy as cp

        # rows whose gradient equals the centre have a zero budget: fix them
        free = np.any(H != 0, axis=1)
        param = cp.Parameter(int(free.sum()), nonneg=True, name="radius")
        constraints = []
        if free.any():
            constraints.append(cp.norm(E[free] - H[free], 2, axis=1) <= param)
        if (~free).any():
            constraints.append(E[~free] == H[~free])

        def set_size(size):
            param.value = np.asarray(size)[free]

        return param, constraints, set_size

    def project(self, D, size):
        norms = np.linalg.norm(D, axis=1)
        limit = np.asarray(size, dtype=np.float64) * (1.0 - MARGIN)
        over = norms > limit
        D = D.copy()
        D[over] *= (limit[over] / norms[over])[:, None]
        return D

    def first_order(self, H, size, tau):
        radius = np.asarray(size, dtype=np.float64)

        def project(E):
            V = E - H
            size_ = np.linalg.norm(V, axis=1)
            scale = np.where(size_ > radius, radius / np.where(size_ > 0, size_, 1.0), 1.0)
            return H + V * scale[:, None]

        def support(W):
            return float(np.sum(W * H) + np.sum(radius * np.linalg.norm(W, axis=1)))

        return project, support

    def used(self, deviations):
        return np.einsum("ij,ij->i", deviations, deviations)


#: Smallest number of directed edges in a block of grouped components.
MIN_BLOCK_EDGES = 2000

#: Public name -> budget class (the ``faithfulness`` parameter).
BUDGETS = {"global": GlobalBudget, "pointwise": PointwiseBudget}


def get_budget(budget, *, name="faithfulness"):
    """The budget meant by a name of :data:`BUDGETS` or an instance.

    Parameters
    ----------
    budget : str or Budget
        ``"global"``, ``"pointwise"`` or a :class:`Budget`.
    name : str, default="faithfulness"
        The argument's name in error messages.

    Returns
    -------
    budget : Budget
        The instance (``budget`` itself when it is one).

    Examples
    --------
    >>> from skexplain.optimize import get_budget
    >>> get_budget("pointwise")
    PointwiseBudget()
    """
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, str) and budget in BUDGETS:
        return BUDGETS[budget]()
    raise ValueError(f"The {name!r} parameter must be a Budget or one of {sorted(BUDGETS)}; "
                     f"got {budget!r}.")
