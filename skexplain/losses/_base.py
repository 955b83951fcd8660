"""The robustness-loss interface, its numpy helpers and the registry of names."""

from dataclasses import fields

import numpy as np

__all__ = ["LOSSES", "DualBlock", "RobustnessLoss", "edge_norms", "get_loss", "register_loss"]

#: Public name -> loss class. ``register_loss`` adds a class; every entry
#: point that takes a robustness loss (``OptimizedExplainer``,
#: ``explanation_path``, the metrics and the scorers) reads it.
LOSSES = {}

_EDGE_CHUNK = 1 << 16


def register_loss(loss_class):
    """Class decorator: make a :class:`RobustnessLoss` subclass available by name.

    Parameters
    ----------
    loss_class : type
        A subclass of :class:`RobustnessLoss` with a class attribute ``name``.

    Returns
    -------
    loss_class : type
        The class itself, registered in :data:`LOSSES` under its ``name``.

    Examples
    --------
    >>> from skexplain.losses import LOSSES, MaxSensitivity
    >>> LOSSES["max_sensitivity"] is MaxSensitivity
    True
    """
    if not (isinstance(loss_class, type) and issubclass(loss_class, RobustnessLoss)):
        raise TypeError(f"register_loss takes a RobustnessLoss subclass; got {loss_class!r}.")
    if not isinstance(getattr(loss_class, "name", None), str) or not loss_class.name:
        raise TypeError(f"{loss_class.__name__} needs a class attribute `name` (a non-empty "
                        "str).")
    LOSSES[loss_class.name] = loss_class
    return loss_class


def get_loss(loss, *, name="robustness", **options):
    """The loss instance meant by a registered name or an instance.

    Parameters
    ----------
    loss : str or RobustnessLoss
        A name of :data:`LOSSES` (e.g. ``"max_sensitivity"``) or an instance.
    name : str, default="robustness"
        The argument's name in error messages.
    **options
        Options of the loss class (e.g. ``squared=True`` for
        ``"average_sensitivity"``). ``None`` and ``False`` mean "not given"
        (the defaults); an option the loss does not have is ignored (the
        estimators document ``squared`` as "only for average sensitivity").

    Returns
    -------
    loss : RobustnessLoss
        The instance (``loss`` itself when it is one).

    Raises
    ------
    ValueError
        For an unknown name, or an option that contradicts a given instance.

    Examples
    --------
    >>> from skexplain.losses import get_loss
    >>> get_loss("average_sensitivity", squared=True)
    AverageSensitivity(squared=True, include_self=False)
    >>> get_loss("max_sensitivity", squared=True)    # no squared form: ignored
    MaxSensitivity()
    """
    given = {k: v for k, v in options.items() if v is not None and v is not False}
    if isinstance(loss, RobustnessLoss):
        own = {f.name for f in fields(loss)} if _is_dataclass(loss) else set()
        for key, value in given.items():
            if key in own and getattr(loss, key) != value:
                raise ValueError(
                    f"{key}={value!r} contradicts the {name} loss {loss!r}: set the "
                    f"option on the loss object only."
                )
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(
            f"{name} must be one of {sorted(LOSSES)} or a RobustnessLoss (the {name!r} "
            f"parameter); got {loss!r}."
        )
    cls = LOSSES[loss]
    own = {f.name for f in fields(cls)} if _is_dataclass(cls) else set()
    return cls(**{k: v for k, v in given.items() if k in own})


def _is_dataclass(obj):
    return hasattr(obj, "__dataclass_fields__")


def _safe_row_norms(D):
    """Euclidean row norms that neither overflow (1e200) nor underflow (1e-200)
    in the squares: rows outside a safe range are rescaled by their largest
    entry first. ``inf`` only where the norm itself exceeds the float range."""
    sq = np.einsum("ij,ij->i", D, D)
    out = np.sqrt(sq)
    bad = (sq > 1e300) | ((sq < 1e-280) & (sq >= 0))
    if bad.any():
        Db = D[bad]
        m = np.max(np.abs(Db), axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            safe = np.where((m > 0) & np.isfinite(m), m, 1.0)
            scaled = m * np.sqrt(np.einsum("ij,ij->i", Db / safe[:, None], Db / safe[:, None]))
        out[bad] = np.where(np.isfinite(m), scaled, np.inf)
    return out


def edge_norms(E, src, dst, E_dst=None):
    """``||E[src] - E_dst[dst]||`` for every edge, in memory-capped chunks.

    Parameters
    ----------
    E : ndarray of shape (n_queries, n_features)
        Explanations of the edges' source points.
    src, dst : ndarray of int of shape (n_edges,)
        Source and target point of each edge.
    E_dst : ndarray of shape (n_targets, n_features), optional
        Explanations of the targets, default ``E``.

    Returns
    -------
    norms : ndarray of shape (n_edges,)
        Neither over- nor underflows in the squares (rows of magnitude
        1e200 or 1e-200 are rescaled first).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.losses import edge_norms
    >>> edge_norms(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([0]), np.array([1]))
    array([5.])
    """
    E_dst = E if E_dst is None else E_dst
    dtype = np.result_type(E, E_dst)
    out = np.empty(src.shape[0])
    for start in range(0, src.shape[0], _EDGE_CHUNK):
        sl = slice(start, start + _EDGE_CHUNK)
        # np.take, not fancy indexing: 0.5 s instead of 2.6 s at 13M edges
        D = np.take(E, src[sl], axis=0).astype(dtype, copy=False)
        D -= np.take(E_dst, dst[sl], axis=0)
        out[sl] = _safe_row_norms(D)
    return out


class DualBlock:
    """What the first-order solver needs of a loss on a pair layout.

    The solver works with ``F(K E)``, ``K`` the weighted edge-difference
    operator stored per unordered pair ``{lo, hi}`` (see
    :class:`~skexplain.optimize.PDHGSolver`). A block holds the loss's part
    of an iteration: the proximal step of the conjugate ``F*`` (a projection
    for the 1-homogeneous losses), the weighted combination of the dual rows
    the adjoint needs, the primal value and the conjugate's value.

    Attributes
    ----------
    n_blocks : int
        Dual rows per pair: 2 (one per direction, the max losses) or 1.
    row_weight : ndarray of shape (n_pairs,)
        Sum of the weights of the operator rows of each pair (the diagonal
        preconditioner is built from it).
    adaptive_steps : bool
        Whether ``step_scale="adaptive"`` moves the steps' common factor from
        one iteration to the next (else it keeps the estimated one). Only
        for a :meth:`prox` that this factor does not change (a projection in
        the steps' metric, so the block need not be rebuilt), and where it
        pays: the max losses (their moves stay far from the norm's bound).

    Examples
    --------
    Weak duality holds for any dual point the prox returns:
    ``<K^T Z, E> <= F(K E) + F*(Z)``.

    >>> import numpy as np
    >>> from skexplain.losses import MaxSensitivity
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> from skexplain.optimize import PDHGSolver
    >>> from skexplain.optimize._pdhg import PairOperator
    >>> X = np.array([[0.0], [1.0], [2.0]]); E = np.array([[0.0], [1.0], [3.0]])
    >>> g = radius_neighbor_graph(X, 1.0)
    >>> loss = MaxSensitivity()
    >>> op = PairOperator(g.src, g.dst, loss.edge_weights(g), 3, np.float64)
    >>> block = loss.dual_block(op, 3.0, np.float64)
    >>> block.primal(op.diff(E))                          # 1 + 2 + 2
    5.0
    >>> Z = block.prox(np.random.default_rng(0).normal(size=(2, op.p, 1)))
    >>> bool(np.sum(block.weighted(Z) * op.diff(E)) <= 5.0)
    True
    """

    n_blocks = 1
    row_weight = None
    adaptive_steps = False

    def prox(self, V):
        """Proximal step of ``F*`` in the preconditioned metric, in place.

        Parameters
        ----------
        V : ndarray of shape (n_blocks, n_pairs, n_features)
            The dual point after the forward step.

        Returns
        -------
        Z : ndarray
            ``V``, overwritten with the new dual iterate.
        """
        raise NotImplementedError

    def weighted(self, Z):
        """Per-pair rows ``P`` with ``K^T Z = S_lo P - S_hi P``.

        Parameters
        ----------
        Z : ndarray of shape (n_blocks, n_pairs, n_features)
            Dual iterate.

        Returns
        -------
        P : ndarray of shape (n_pairs, n_features)
            ``w_f Z_f - w_b Z_b`` (max losses) or ``c Z`` (sum losses).
        """
        raise NotImplementedError

    def primal(self, delta):
        """``F(K E)`` from the pair differences ``E_lo - E_hi``.

        Parameters
        ----------
        delta : ndarray of shape (n_pairs, n_features)
            The pair differences of the explanations.

        Returns
        -------
        value : float
            The loss.
        """
        raise NotImplementedError

    def conjugate(self, Z):
        """``F*(Z)`` for a dual point in the conjugate's domain.

        Parameters
        ----------
        Z : ndarray of shape (n_blocks, n_pairs, n_features)
            A dual point.

        Returns
        -------
        value : float
            0 for the 1-homogeneous losses (an indicator).
        """
        return 0.0


class RobustnessLoss:
    """Base class of the robustness losses on a neighbour graph.

    A robustness loss is ``sum_n reduce_{n' in N(n)} w(n, n') ||E_n -
    E_n'||^p``: a weight per directed edge of the neighbour graph, a power
    ``p`` of the Euclidean distance between explanations and a reduction
    over each point's neighbours (``max`` or a weighted ``sum``). A point
    without neighbours contributes 0. Subclasses set :attr:`name` and
    implement :meth:`edge_weights`; the two families :class:`MaxLoss` and
    :class:`SumLoss` supply every form the package needs:

    * the numpy value, per point and in total (:meth:`point_values`,
      :meth:`value`): the metrics;
    * the cvxpy objective of the joint program and of one new point's
      program (:meth:`cvxpy_objective`, :meth:`cvxpy_point_objective`,
      :meth:`point_closed_form`): the conic solvers and ``transform``;
    * the first-order solver's dual block (:meth:`dual_block`).

    A new loss is one subclass and one :func:`register_loss` line (set
    :attr:`distance_degree` when its weights are homogeneous in the
    distances).

    See Also
    --------
    MaxSensitivity : Largest distance to a neighbour's explanation.
    LocalStability : Largest distance quotient.
    AverageSensitivity : Mean distance to the neighbours' explanations.

    Examples
    --------
    A loss is evaluated on a neighbour graph:

    >>> import numpy as np
    >>> from skexplain.losses import MaxSensitivity
    >>> from skexplain.neighbors import radius_neighbor_graph
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> E = np.array([[0.0], [1.0], [3.0]])
    >>> MaxSensitivity().point_values(radius_neighbor_graph(X, 1.0), E)
    array([1., 2., 2.])
    """

    #: Registry name (``LOSSES[name]``).
    name = None
    #: ``"max"`` or ``"sum"``: how a point's edge terms are combined.
    reduction = None
    #: Degree ``k`` with ``w(c dist) = c**k w(dist)`` when the weights are
    #: homogeneous in the distances (0: none; local stability: -1). Then the
    #: optimiser divides the distances by a typical one first, so the units
    #: of ``X`` do not matter; ``None`` (the default for a new loss): the
    #: weights see the distances in the caller's units.
    distance_degree = None

    @property
    def power(self):
        """Power ``p`` of the explanation distance (1 unless squared)."""
        return 1

    def edge_weights(self, graph):
        """Non-negative weight of each directed edge of ``graph``.

        Parameters
        ----------
        graph : NeighborGraph
            Neighbour graph; its distances are in the units the weights must
            be in (the optimiser passes a graph with rescaled distances).

        Returns
        -------
        weights : ndarray of shape (n_edges,)
            Non-negative.
        """
        raise NotImplementedError

    # ------------------------------------------------------------- numpy
    def point_values(self, graph, explanations, *, target_explanations=None):
        """Each point's term of the loss (0 for points without neighbours).

        Parameters
        ----------
        graph : NeighborGraph
            Neighbour graph of the points.
        explanations : ndarray of shape (n_queries, n_features)
            Explanations of the graph's query points.
        target_explanations : ndarray of shape (n_targets, n_features), optional
            Explanations of the neighbours when they are other points (a
            graph from new points to training points); default
            ``explanations``.

        Returns
        -------
        values : ndarray of shape (n_queries,)
            Each point's term.
        """
        w = self.edge_weights(graph)
        vals = w * edge_norms(explanations, graph.src, graph.dst,
                              target_explanations) ** self.power
        out = np.zeros(graph.n_queries)
        nonempty = np.flatnonzero(graph.degree > 0)
        if nonempty.size:
            ufunc = np.maximum if self.reduction == "max" else np.add
            out[nonempty] = ufunc.reduceat(vals, graph.indptr[nonempty])
        return out

    def value(self, graph, explanations):
        """The loss: the sum of :meth:`point_values`.

        Parameters
        ----------
        graph : NeighborGraph
            Neighbour graph of the points.
        explanations : ndarray of shape (n_samples, n_features)
            Explanations of the points.

        Returns
        -------
        value : float
            The total loss.
        """
        return float(self.point_values(graph, explanations).sum())

    # ------------------------------------------------------------- cvxpy
    def cvxpy_objective(self, graph, weights, E):
        """Objective and constraints of the joint program.

        Parameters
        ----------
        graph : NeighborGraph
            Neighbour graph of the points.
        weights : ndarray of shape (n_edges,)
            :meth:`edge_weights` of ``graph``.
        E : cvxpy.Variable of shape (n_samples, n_features)
            The explanations.

        Returns
        -------
        objective : cvxpy.Expression
            To minimise.
        constraints : list of cvxpy.Constraint
            Epigraph constraints (empty where the objective is direct).
        """
        raise NotImplementedError

    def cvxpy_point_objective(self, e, WE, w):
        """Objective of one new point's program against fixed neighbours.

        Parameters
        ----------
        e : cvxpy.Variable of shape (n_features,)
            The new point's explanation.
        WE : cvxpy.Parameter of shape (k, n_features)
            The neighbours' explanations, row ``j`` multiplied by ``w_j``.
        w : cvxpy.Parameter of shape (k, 1)
            The neighbours' edge weights.

        Returns
        -------
        objective : cvxpy.Expression
            The point's own term of the loss.
        """
        raise NotImplementedError

    def point_closed_form(self, g, radius, EJ, w):
        """One new point's solution in closed form, where there is one.

        Parameters
        ----------
        g : ndarray of shape (n_features,)
            The point's gradient (the centre of its faithfulness ball).
        radius : float
            Radius of the ball.
        EJ : ndarray of shape (k, n_features)
            The neighbours' explanations.
        w : ndarray of shape (k,)
            Their edge weights.

        Returns
        -------
        e : ndarray of shape (n_features,) or None
            ``None``: no closed form, the point needs a solver.
        """
        return None

    # -------------------------------------------------------- first order
    def dual_block(self, pairs, primal_weight, dtype):
        """The first-order solver's view of the loss on a pair layout.

        Parameters
        ----------
        pairs : object
            The solver's pair operator, with attributes ``lo``, ``hi``
            (the pairs), ``w_f``, ``w_b`` (weights of the edges ``lo -> hi``
            and ``hi -> lo``, 0 where missing), ``n`` and ``p`` (numbers of
            points and pairs).
        primal_weight : float
            The solver's ``omega``: dual step sizes are ``omega / (2 w)``.
        dtype : numpy dtype
            Working precision of the per-pair arrays.

        Returns
        -------
        block : DualBlock
            The loss's part of a PDHG iteration.
        """
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"
