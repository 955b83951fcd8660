"""OptimizedExplainer: explanations optimised for robustness under a faithfulness budget."""

import copy
import time
from dataclasses import replace
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InaccurateSolutionWarning, NoNeighborsWarning
from ..explainers import BaseExplainer
from ..explainers._base import _is_multi_target, _refuse_frame_output
from ..models import as_model
from ..losses import MaxLoss, RobustnessLoss, get_loss
from ..metrics._robustness import faithfulness_loss
from ..neighbors import knn_neighbor_graph, radius_neighbor_graph
from ..utils._state import all_or_nothing
from ..utils import compute_gradients, validate_points
from ..utils._parallel import parallel_map, progress_bar
from ._base import base_explanations, fit_base, looks_like_model
from ._budgets import Budget, PointwiseBudget, get_budget
from ._conic import ConicSolver, PointPrograms
from ._out_of_sample import batched_supported, solve_points_first_order
from ._point_interior import solve_points_interior
from ._pdhg import PDHGSolver
from ._path import prepare, resolve_neighbors, solve_blocks
from ._problem import check_gradient_range, enforce_budget, scale_graph
from ._result import Status, WarningRecord, emit_warnings
from ._solvers import AutoSolver, Solver, get_solver

__all__ = ["OptimizedExplainer"]


def _solve_point_chunk(tasks, loss, backend, options):
    """Worker: solve the out-of-sample problems of a chunk of points."""
    programs = PointPrograms(loss, backend, options)
    out, statuses = [], []
    for g, r, EJ, w in tasks:
        e, status = programs.solve(g, r, EJ, w)
        out.append(e)
        statuses.append(status)
    return out, statuses


class OptimizedExplainer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Explanations that minimise a robustness loss under a faithfulness budget.

    For the N training points jointly (the transductive setting of Raedler
    et al., after Tadesse et al.) ``fit`` solves the second-order cone program::

        min_E  L_robust(E)   s.t.   sum_n ||grad f(x_n) - E_n||^2 <= eta

    with ``eta = eta_frac * L_max`` and ``L_max = sum_n ||grad f(x_n) -
    mean grad f||^2``, the faithfulness loss of the perfectly robust
    explanation (the mean gradient). The robustness losses (Table 2 of the
    paper) compare each explanation with those of its neighbours within
    radius ``u``; see :mod:`skexplain.metrics` for their exact definitions.

    Two ways to give the model. **A model** (``model=``: a fitted
    scikit-learn estimator or Pipeline, a torch module, a prediction
    callable, a ``FunctionModel``): ``fit(X, y=None)`` ignores ``y`` (so the
    explainer works as the last step of a Pipeline, or in GridSearchCV with
    labels) and ``transform`` computes what it needs; the faithfulness term
    is ``||B(x_n) - E_n||^2`` with ``B`` the *base* explanation: the model's
    gradient (``base="gradient"``) or any explainer (``base=SmoothGrad(...)``,
    ``KernelSHAP(...)``, ...), which makes any attribution method robust at
    a chosen faithfulness cost; ``L_max``, the budgets, the scorers and
    :func:`explanation_path` follow the base. **Gradients** (no model):
    ``fit(X, gradients)`` with an array, or a gradient callable as
    ``grad_fn``; ``transform(X, grad_fn=...)`` then needs them for new points.

    Parameters
    ----------
    robustness : str or RobustnessLoss, default="max_sensitivity"
        The robustness loss to minimise: a name of
        :data:`skexplain.losses.LOSSES` (``"max_sensitivity"``,
        ``"local_stability"``, ``"average_sensitivity"``, or any loss
        registered with :func:`~skexplain.losses.register_loss`) or a loss
        object such as ``AverageSensitivity(include_self=True)``.
    u : float, "auto" or None, default=None
        Neighbourhood radius (Euclidean), the paper's formulation: the
        neighbours of a point are the points within ``u``. ``"auto"``: the
        median distance to each point's 10th nearest point (the fitted value
        is ``u_``). ``None`` (and no ``n_neighbors``): the symmetrised
        10-nearest-neighbour graph, the default, because on real data of
        uneven density every radius either leaves the sparse points alone or
        gives the dense ones hundreds of neighbours (standardised breast
        cancer, 569 points: the median 10th-neighbour radius isolates 116
        points and gives up to 135 neighbours; the paper's radii suit its
        grids on ``[-5, 5]^D``). A point without neighbours contributes
        nothing and is explained by its base explanation (one
        :class:`NoNeighborsWarning` per fit; ``n_isolated_`` counts them); a
        radius with no pair of neighbours is an error. Unused when
        ``n_neighbors`` is set.
    eta_frac : float, default=0.2
        Faithfulness budget as a fraction of ``L_max``. ``0`` returns the
        gradients; ``>= 1`` makes the mean gradient feasible, which is then
        returned (it has zero robustness loss). Neither case calls a solver.
    model : object or None, default=None
        The model to explain (anything :func:`~skexplain.models.as_model`
        accepts; a bare callable is read as the prediction function). Wrap a
        fitted scikit-learn estimator in ``sklearn.frozen.FrozenEstimator``
        for GridSearchCV or ``clone``, which unfit an estimator parameter
        (an unfitted model gives an error that says so). A model passed to
        ``fit`` or as ``grad_fn`` is read as this parameter.
    base : "gradient" or BaseExplainer, default="gradient"
        The base explanations the budget is measured from: the model's
        input gradient, or an explainer instance of
        :mod:`skexplain.explainers` (cloned, given ``model`` unless it has
        its own). Only with a model. Gradient bases refuse piecewise-constant
        models (tree ensembles, k-NN): use ``base=KernelSHAP(...)`` there.
    target : None, "predicted", "all", class label, int or list, default=None
        Which output of the model to explain (as for the explainers).
        ``"all"`` or a list: one independent optimisation per output (each
        a copy of this estimator with that output, in ``estimators_``);
        ``explanations_`` and :meth:`transform` then have shape
        ``(n_samples, n_features, n_outputs)``, and the per-output
        attributes (``eta_``, losses, solver statistics) are on
        ``estimators_[j]``.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn model to explain.
    eta : float or None, default=None
        Absolute budget; when given it replaces ``eta_frac`` (the effective
        fraction ``eta / L_max`` is stored as ``eta_frac_``).
    faithfulness : {"global", "pointwise"} or Budget, default="global"
        ``"global"``: the single budget above (the paper's formulation).
        ``"pointwise"``: one budget per point,
        ``||grad f(x_n) - E_n||^2 <= eta_frac * ||grad f(x_n) - mean grad f||^2``,
        so no point can be traded against another (the paper's conclusion
        asks for such pointwise metrics).
    squared : bool, default=False
        Only for ``average_sensitivity``: square the explanation distance as
        in the paper's Table 2. The default follows its appendix C.3
        (unsquared), as for the other two losses.
    solver : {"auto", "CLARABEL", "SCS", "MOSEK", "PDHG"} or Solver, default="auto"
        A name of :data:`skexplain.optimize.SOLVERS` (any case) or a solver
        object (e.g. ``PDHGSolver(tol=1e-6)``). ``"auto"`` uses ``"PDHG"``
        from 1000 explanation entries (points with neighbours x features;
        the interior-point solvers take minutes on 350-point 10-NN graphs in
        D = 8 or 100 points in D = 30), else MOSEK when it is installed *and*
        licensed, else CLARABEL, and falls back to PDHG when that fails or
        is inaccurate (:class:`~skexplain.optimize.AutoSolver`). An
        unlicensed MOSEK falls back to CLARABEL with a
        :class:`SolverFallbackWarning`. ``"PDHG"``: the package's
        first-order primal-dual solver for large problems (O(edges x d) per
        iteration, no cvxpy compile). Every ``"optimal"`` status is a
        measured claim (see the user guide, "What optimal means"); an
        inaccurate one warns once (:class:`InaccurateSolutionWarning`).
        ``transform``'s per-point problems are solved all at once, each to
        a certified relative gap of 1e-6: the max losses' by a batched
        primal-dual interior-point method, the sum losses' by batched PDHG
        (``"PDHG"`` or a :class:`PDHGSolver` uses PDHG for both, with its
        ``tol``); the rare points not certified get the conic solver, and
        ``solver`` naming a conic backend solves one small conic problem per
        point.
    solver_options : dict or None, default=None
        Options of the solver: keyword arguments of the cvxpy solver, or for
        ``"PDHG"`` ``tol``, ``max_iter``, ``check_every``, ``primal_weight``,
        ``dtype``, ``relaxation``, ``step_scale`` (see
        :class:`~skexplain.optimize.PDHGSolver`); for
        ``"auto"`` one dict for every solver that accepts it, or a dict of
        dicts keyed by solver name. Rejected options are an error that names
        ``solver_options``.
    n_neighbors : int or None, default=None
        Use the ``n_neighbors`` nearest points instead of a radius: in
        ``fit`` the symmetrised k-nearest-neighbour graph (``j`` neighbours
        ``i`` when either is among the other's ``k`` nearest, so every point
        has at least ``k`` neighbours and none is isolated), in
        :meth:`transform` each new point's ``k`` nearest training points.
        Built with scipy's k-d tree (new points' neighbours, below 200,000
        training entries, by exact brute force), O(N k) memory; the natural choice
        for large N or uneven densities, where one radius leaves some points
        alone and gives others hundreds of neighbours.
    knn_eps : float, default=0.0
        ``0``: exact nearest neighbours. ``> 0``: an approximate k-d tree
        search (scipy's ``eps``) for the kNN graph of ``fit`` and, where the
        tree is used, the new points' neighbours in :meth:`transform`: each
        point's ``k``-th neighbour is at most ``1 + knn_eps`` times farther
        than its true ``k``-th nearest point. Measured on 1,000,000 standard
        normal points in 8 dimensions, ``k = 10``, 2 cores: ``0.4`` found
        99.2 % of the true neighbours in 27 s instead of 79 s (``0.35``:
        99.5 %, 31 s; see the user guide). Must be 0 with a radius ``u``.
    grad_fn : callable or None, default=None
        Gradient function ``X -> (n, d)`` used when ``fit``/``transform`` are
        not given gradients (without a ``model``). Must be picklable (a
        module-level function) for the fitted estimator to pickle.
    batch_size : int or None, default=None
        Evaluate a gradient callable on blocks of at most this many rows.
    n_jobs : int or None, default=None
        Number of joblib workers (``sklearn.utils.parallel``; any joblib
        backend, e.g. dask, see the README) for independent solves: in
        ``fit`` the sub-problems of the neighbour graph's connected
        components when the budget is pointwise (see Notes), in
        :meth:`transform` the per-point problems. Only numpy arrays are sent
        to the workers and each solve is single-threaded. Results do not
        depend on it, to the last bit.
    verbose : int, default=0
        ``> 0``: progress bars on stderr (extra ``progress``) counting the
        user's units: the base explainer's points (when it has ``verbose``),
        the pointwise budget's independent blocks in ``fit``, the new points
        in :meth:`transform`. Results do not depend on it.

    Attributes
    ----------
    explanations_ : ndarray of shape (n_samples, n_features)
        Optimised explanations of the training points.
    gradients_ : ndarray of shape (n_samples, n_features)
        The base explanations of the training points (the gradients, unless
        ``base`` is an explainer).
    base_ : BaseExplainer or None
        The fitted base explainer (with a ``model``), which ``transform``
        applies to new points.
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training points (needed to find the neighbours of new points).
    estimators_ : list of OptimizedExplainer
        Only with several outputs (``target="all"`` or a list): the fitted
        estimator of each output.
    outputs_ : list
        Only with several outputs: their names (class labels or indices).
    eta_ : float
        Total faithfulness budget used.
    eta_frac_ : float
        ``eta_ / max_faithfulness_loss_``.
    max_faithfulness_loss_ : float
        ``L_max``.
    point_budgets_ : ndarray of shape (n_samples,)
        Per-point budget ``eta_frac_ * ||grad f(x_n) - mean grad f||^2``
        (binding only when ``faithfulness="pointwise"``).
    faithfulness_loss_ : float
        Faithfulness loss of ``explanations_``.
    robustness_loss_ : float
        Robustness loss of ``explanations_`` on ``graph_`` (the graph
        optimised over: approximate with ``knn_eps > 0``, where the metrics,
        which search exactly, can give a slightly different value).
    gradient_robustness_loss_ : float
        Robustness loss of the raw gradients, for comparison.
    graph_ : NeighborGraph
        Neighbour pairs of the training points.
    neighbors_ : NearestNeighbors or None
        scikit-learn's index of the training points, which answers new
        points' radius queries in :meth:`transform`; ``None`` with a
        k-nearest-neighbour graph (new points are then searched with a k-d
        tree).
    n_neighbors_ : ndarray of shape (n_samples,)
        Number of neighbours of each training point (with ``n_neighbors=k``
        at least ``k``: the graph is symmetrised).
    n_isolated_ : int
        Training points without neighbours.
    u_ : float or None
        The radius used (``None`` for a kNN graph).
    k_ : int or None
        The ``k`` of the kNN graph used (``None`` for a radius graph).
    loss_ : RobustnessLoss
        The loss object solved for.
    distance_scale_ : float
        The power of two neighbour distances were divided by (1 for
        distances of ordinary size; see the user guide).
    solver_ : str
        Solver that produced the explanations (``"closed_form"`` when no
        solve was needed).
    status_ : Status
        ``"optimal"`` or ``"optimal_inaccurate"`` (a ``str``).
    solver_stats_ : dict
        ``solve_time``, ``compile_time``, ``num_iters``, ``gap`` (the
        relative gap the status rests on, where measured), the PDHG
        residuals, ``n_blocks``, ``attempts`` (every solver tried, with its
        status) and ``fit_time`` of the whole ``fit``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has feature names.

    Notes
    -----
    **Independent sub-problems.** A training point without neighbours has no
    robustness term, so its explanation is its gradient (spending budget on
    it could only hurt the others). With ``faithfulness="pointwise"`` the
    connected components of the neighbour graph do not interact at all and
    are solved as separate programs (small components grouped into blocks of
    at least 2000 edges), in parallel with ``n_jobs``. The global budget
    couples all components, so there the points with neighbours form one
    program. ``solver_stats_["n_blocks"]`` gives the number of programs.

    **Out-of-sample explanations.** ``transform`` explains a new point ``x``
    with gradient ``g`` on its own: among its training neighbours ``J``
    within ``u`` (fitted explanations ``E_j``) it solves ::

        min_e  L_robust(e; E_J)   s.t.   ||g - e||^2 <= eta_frac_ * ||g - mean grad f||^2

    where ``L_robust(e; E_J)`` is the point's own term of the robustness
    loss: ``max_j ||e - E_j||`` (max-sensitivity), ``max_j ||e - E_j|| /
    ||x - x_j||`` (local stability) or ``mean_j ||e - E_j||^p`` (average
    sensitivity). The mean gradient is that of the training points. The
    per-point budget is the pointwise version of the training budget, so
    ``eta_frac = 0`` returns ``g`` and the mean gradient is always feasible.
    A point without training neighbours gets ``g``. Each point is solved
    independently, so the result does not depend on the other rows passed
    with it. A row identical to a training point, with the same gradient,
    gets its fitted explanation, so ``fit(X).transform(X)`` equals
    ``fit_transform(X)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import OptimizedExplainer
    >>> X = np.linspace(-2, 2, 9).reshape(-1, 1)
    >>> G = 3 * X ** 2                      # gradient of x**3
    >>> opt = OptimizedExplainer(u=0.5, eta_frac=0.2).fit(X, G)
    >>> bool(opt.faithfulness_loss_ <= 1.0001 * opt.eta_)
    True
    >>> bool(opt.robustness_loss_ < opt.gradient_robustness_loss_)
    True
    """

    #: The scorers pass the gradients at new points to ``transform``.
    _transform_takes_gradients = True

    _parameter_constraints = {
        "model": "no_validation",
        "base": [str, BaseExplainer],
        "target": "no_validation",
        "output": [StrOptions({"auto", "predict", "proba", "decision"})],
        "robustness": [str, RobustnessLoss],
        "u": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "knn_eps": [Interval(Real, 0, None, closed="left")],
        "eta_frac": [Interval(Real, 0, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="left"), None],
        "faithfulness": [str, Budget],
        "squared": ["boolean"],
        "solver": [str, Solver],
        "solver_options": [dict, None],
        "grad_fn": "no_validation",      # a callable, or a model object (read as model)
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Interval(Integral, -(2 ** 31) + 1, -1, closed="both"),
                   Interval(Integral, 1, 2 ** 31 - 1, closed="both"), None],
        "verbose": ["verbose"],
    }

    def __init__(self, robustness="max_sensitivity", u=None, eta_frac=0.2, *,
                 model=None, base="gradient", target=None, output="auto",
                 eta=None, faithfulness="global", squared=False, solver="auto",
                 solver_options=None, n_neighbors=None, knn_eps=0.0, grad_fn=None,
                 batch_size=None, n_jobs=None, verbose=0):
        self.model = model
        self.base = base
        self.target = target
        self.output = output
        self.robustness = robustness
        self.u = u
        self.n_neighbors = n_neighbors
        self.knn_eps = knn_eps
        self.eta_frac = eta_frac
        self.eta = eta
        self.faithfulness = faithfulness
        self.squared = squared
        self.solver = solver
        self.solver_options = solver_options
        self.grad_fn = grad_fn
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------ fit
    def _model_source(self, y, grad_fn):
        """The model whose base explanations are optimised, or ``None``.

        The ``model`` parameter; else a model object passed where gradients
        are expected (``fit(X, mlp)``, ``grad_fn=mlp``,
        ``OptimizedExplainer(grad_fn=mlp)``), which is read as the model.
        """
        if self.model is not None:
            if grad_fn is not None:
                raise ValueError("grad_fn and the model parameter are two sources of the "
                                 "base explanations: give one of them.")
            return self.model
        for candidate in (grad_fn, y, self.grad_fn):
            if candidate is not None and looks_like_model(candidate):
                return candidate
        return None

    def _gradient_source(self, y, grad_fn):
        if y is not None and grad_fn is not None:
            raise ValueError(
                "Pass the gradients once: either as y (the second argument of "
                "fit) or as grad_fn, not both."
            )
        if grad_fn is not None:
            return grad_fn, "grad_fn"
        if y is not None:
            return y, "y"
        if self.grad_fn is not None:
            return self.grad_fn, "grad_fn"
        raise ValueError(
            "OptimizedExplainer needs a model or its gradients: "
            "OptimizedExplainer(model=fitted_model) (then fit(X) ignores y), or "
            "fit(X, gradients) with an (n_samples, n_features) array, fit(X, "
            "grad_fn=callable), or OptimizedExplainer(grad_fn=callable)."
        )

    @all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, grad_fn=None):
        """Optimise the explanations of the points ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain (at least 2).
        y : array-like of shape (n_samples, n_features) or callable, optional
            The model's gradients at ``X``, or a callable ``X -> gradients``;
            named ``y`` so that cross-validation slices a gradient array
            along with ``X``.
        grad_fn : callable or array-like, optional
            Same as ``y``, as a keyword (e.g. a fit parameter routed by
            ``GridSearchCV``). When neither is given the constructor's
            ``grad_fn`` is used.

        Returns
        -------
        self : OptimizedExplainer
            The fitted estimator.
        """
        t_start = time.perf_counter()
        # names and options first: a typo fails before the gradients are computed
        loss = get_loss(self.robustness, squared=self.squared)
        get_budget(self.faithfulness)
        solver = get_solver(self.solver, self.solver_options)
        X = validate_points(self, X, min_samples=2)
        model = self._model_source(y, grad_fn)
        if _is_multi_target(self.target):
            return self._fit_outputs(X, model)
        for name in ("estimators_", "outputs_"):     # a refit with one output
            self.__dict__.pop(name, None)
        if model is not None:             # base explanations of the model; y is ignored
            base = fit_base(X, model=model, base=self.base, target=self.target,
                            output=self.output, batch_size=self.batch_size,
                            n_jobs=self.n_jobs, verbose=self.verbose)
            G, source, name = base_explanations(base, X), None, "base explanations"
        else:
            if not (isinstance(self.base, str) and self.base == "gradient"):
                raise ValueError("base= needs a model: OptimizedExplainer(model=..., "
                                 f"base={self.base!r}).")
            base = None
            if self.grad_fn is not None and not callable(self.grad_fn):
                raise ValueError(
                    "The 'grad_fn' parameter of OptimizedExplainer must be a callable "
                    f"X -> gradients, a model or None; got {type(self.grad_fn).__name__}.")
            source, name = self._gradient_source(y, grad_fn)
            G = compute_gradients(source, X, batch_size=self.batch_size, name=name)
        prep = prepare(X, G, robustness=loss, faithfulness=self.faithfulness, u=self.u,
                       n_neighbors=self.n_neighbors, n_jobs=self.n_jobs,
                       knn_eps=self.knn_eps, name=name)
        problem = prep.problem
        L_max = problem.max_faithfulness_loss
        if self.eta is not None:
            frac = float(self.eta) / L_max if L_max > 0 else 0.0
        else:
            frac = float(self.eta_frac)
        result = solve_blocks(problem, [frac], solver, n_jobs=self.n_jobs,
                              verbose=self.verbose if len(problem.blocks) > 1 else 0,
                              desc="OptimizedExplainer.fit (independent blocks)")[0]
        E = result.explanations

        self.X_fit_ = X
        self.gradients_ = G
        self.base_ = base
        self.explanations_ = E
        self.loss_ = loss
        self.graph_ = prep.graph
        k = resolve_neighbors(X, self.u, self.n_neighbors)
        self.k_ = k
        self.u_ = prep.graph.radius if k is None else None
        self.neighbors_ = prep.nn
        self.n_neighbors_ = prep.graph.degree
        self.n_isolated_ = prep.n_isolated
        self.max_faithfulness_loss_ = L_max
        self.eta_frac_ = frac
        self.eta_, self.point_budgets_ = problem.budgets(frac)
        self.gradient_mean_ = problem.center
        self.gradient_scale_ = problem.scale
        self.distance_scale_ = problem.distance_scale
        self.faithfulness_loss_ = faithfulness_loss(G, E)
        self.robustness_loss_ = loss.value(prep.graph, E)
        self.gradient_robustness_loss_ = loss.value(prep.graph, G)
        self.solver_ = result.solver
        self.status_ = result.status
        self.grad_fn_ = source if callable(source) and model is None else (
            None if model is not None else self.grad_fn)
        stats = result.stats_dict()
        stats["fit_time"] = time.perf_counter() - t_start
        self.solver_stats_ = stats
        # fit is wrapped by all_or_nothing and sklearn's _fit_context: 4 frames
        # up is the caller
        emit_warnings(prep.records + result.warnings(), stacklevel=4)
        return self

    def _fit_outputs(self, X, model):
        """``target="all"`` or a list: one optimisation per output, each a
        copy of this estimator with that output (independent problems)."""
        if model is None:
            raise ValueError(f"target={self.target!r} needs the model: "
                             "OptimizedExplainer(model=..., target='all'); gradients "
                             "given as arrays or callables have one output.")
        keep = ("n_features_in_", "feature_names_in_")
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")
                     and k not in keep]:
            delattr(self, name)                      # no attribute of an earlier fit
        base_model = getattr(self.base, "model", None) if not isinstance(self.base, str) \
            else None
        adapter = as_model(base_model if base_model is not None else model,
                           callable_as="predict", output=self.output)
        _, names = adapter.resolve_targets(self.target, X, batch_size=self.batch_size)
        subs = []
        for name in names:
            sub = copy.copy(self)
            sub.__dict__.pop("estimators_", None)
            # the model however it was given (fit(X, model), grad_fn=model, ...)
            sub.target, sub.model, sub.grad_fn = name, model, None
            subs.append(sub.fit(X))
        self.estimators_, self.outputs_ = subs, list(names)
        self.explanations_ = np.stack([e.explanations_ for e in subs], axis=-1)
        self.gradients_ = np.stack([e.gradients_ for e in subs], axis=-1)
        self.X_fit_ = X
        return self

    def fit_transform(self, X, y=None, *, grad_fn=None):
        """Fit and return the optimised explanations of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain (at least 2).
        y : array-like of shape (n_samples, n_features) or callable, optional
            The model's gradients at ``X``, or a callable (as in :meth:`fit`).
        grad_fn : callable or array-like, optional
            Same as ``y``, as a keyword.

        Returns
        -------
        explanations : ndarray of shape (n_samples, n_features)
            A copy of ``explanations_``.
        """
        return self.fit(X, y, grad_fn=grad_fn).explanations_.copy()

    # ------------------------------------------------------------ transform
    def transform(self, X, grad_fn=None):
        """Explain points, each by its own small optimisation (see Notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain.
        grad_fn : callable or array-like of shape (n_samples, n_features), optional
            Gradients at ``X`` (or a callable). Defaults to the gradient
            callable seen in ``fit`` or the constructor's ``grad_fn``.

        Returns
        -------
        explanations : ndarray of shape (n_samples, n_features)
            Within each point's budget ``eta_frac_ * ||g - mean||^2``, exactly.
        """
        if hasattr(self, "estimators_"):
            _refuse_frame_output(self)
            X = validate_points(self, X, reset=False)
            return np.stack([e.transform(X, grad_fn) for e in self.estimators_], axis=-1)
        out, _, records = self._transform_parts(X, grad_fn)
        # transform is wrapped by sklearn's set_output: 3 frames up is the caller
        emit_warnings(records, stacklevel=3)
        return out

    def explain(self, X, grad_fn=None):
        """Explain points and return an :class:`~skexplain.explainers.Explanation`.

        The explanations of :meth:`transform`, with the rows, the feature
        names, the parameters and, as ``reference_values``, the base
        explanations (gradients) they were optimised from.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain (a DataFrame's index labels the rows).
        grad_fn : callable or array-like of shape (n_samples, n_features), optional
            As in :meth:`transform`.

        Returns
        -------
        explanation : Explanation
            ``values`` as :meth:`transform`; ``reference_values`` the base
            explanations.
        """
        from ..explainers import Explanation

        index = getattr(X, "index", None)
        names = None
        if hasattr(self, "estimators_"):
            check_is_fitted(self)
            Xv = validate_points(self, X, reset=False)
            parts = [e._transform_parts(Xv, grad_fn) for e in self.estimators_]
            out = np.stack([p[0] for p in parts], axis=-1)
            G = np.stack([p[1] for p in parts], axis=-1)
            records = [r for p in parts for r in p[2]]
            names = self.outputs_
        else:
            out, G, records = self._transform_parts(X, grad_fn)
        emit_warnings(records, stacklevel=2)
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k not in ("model", "grad_fn")}
        return Explanation(out, data=validate_points(self, X, reset=False),
                           reference_values=G, feature_names=self.get_feature_names_out(),
                           output_names=names, method=type(self).__name__, params=params,
                           index=None if index is None else list(index))

    def _transform_parts(self, X, grad_fn):
        """Explanations, base explanations and warning records of ``X``."""
        check_is_fitted(self)
        X = validate_points(self, X, reset=False)
        if self.base_ is not None:        # the model route: base explanations of X
            if grad_fn is not None:
                raise ValueError("transform computes the base explanations of X from the "
                                 "model; grad_fn is for an explainer fitted on gradients.")
            G = check_gradient_range(base_explanations(self.base_, X), "base explanations")
        else:
            source = grad_fn if grad_fn is not None else self.grad_fn_
            if source is None:
                raise ValueError(
                    "transform needs the gradients at X: pass transform(X, "
                    "grad_fn=gradients_or_callable), fit with a gradient callable, or use "
                    "OptimizedExplainer(model=...)."
                )
            G = check_gradient_range(
                compute_gradients(source, X, batch_size=self.batch_size, name="grad_fn"),
                "grad_fn")
        n = X.shape[0]
        out = np.empty_like(G)
        if self.k_ is None:
            graph = radius_neighbor_graph(self.X_fit_, self.u_, X_query=X, nn=self.neighbors_)
        else:
            graph = knn_neighbor_graph(self.X_fit_, self.k_, X_query=X, n_jobs=self.n_jobs,
                                       eps=self.knn_eps)

        # rows identical to a training point, with the same gradient
        matched = np.zeros(n, dtype=bool)
        exact = graph.dist == 0
        if exact.any():
            q, j = graph.src[exact], graph.dst[exact]
            tol = 1e-12 * max(self.gradient_scale_, 1.0)
            same = np.all(np.abs(G[q] - self.gradients_[j])
                          <= tol + 1e-9 * np.abs(self.gradients_[j]), axis=1)
            q, j = q[same], j[same]
            q, first = np.unique(q, return_index=True)
            out[q] = self.explanations_[j[first]]
            matched[q] = True

        weights = self._point_weights(graph, matched)
        records = []
        todo = np.flatnonzero(~matched)
        isolated = todo[graph.degree[todo] == 0]
        if isolated.size:
            records.append(WarningRecord(
                NoNeighborsWarning,
                "Some new points have no training neighbour within the radius u_: their "
                "explanation is their base explanation (n_neighbors=k leaves no point "
                "alone)."))
            out[isolated] = G[isolated]
        todo = todo[graph.degree[todo] > 0]
        # a zero budget (eta_frac = 0, or a gradient equal to the mean) leaves
        # only the gradient itself
        zero = (self.eta_frac_ == 0) | np.all(G[todo] == self.gradient_mean_, axis=1)
        out[todo[zero]] = G[todo[zero]]
        todo = todo[~zero]
        if todo.size:
            out[todo], n_bad = self._solve_points(todo, graph, G, weights)
            if n_bad:
                records.append(WarningRecord(
                    InaccurateSolutionWarning,
                    f"The solver returned 'optimal_inaccurate' for {n_bad} of {todo.size} "
                    "new points (their explanations meet their budgets exactly)."))
        return out, G, records

    def _point_weights(self, graph, matched):
        """Each new point's own robustness term: the loss's weights on the
        graph from new to training points, distances in the fitted problem's
        units (so the units of ``X`` do not matter)."""
        graph = scale_graph(graph, self.distance_scale_)
        # rows answered by their fitted explanation: their weights are unused
        done = (graph.dist <= 0) & matched[graph.src]
        if done.any():
            graph = replace(graph, dist=np.where(done, 1.0, graph.dist))
        try:
            return self.loss_.edge_weights(graph)
        except ValueError:
            bad = np.flatnonzero(graph.dist <= 0)
            if not bad.size:
                raise
            i = int(graph.src[bad[0]])
            raise ValueError(
                f"Row {i} of X coincides with a training point but its gradient differs "
                f"from the one seen in fit: {self.loss_.name} divides by ||x - x_j|| = 0 "
                "and is undefined there."
            ) from None

    def _point_solver(self):
        """How the new points' small problems are solved.

        Returns ``("first_order", solver)`` unless ``solver`` names a conic
        backend (``"CLARABEL"``, ``"SCS"``, ``"MOSEK"`` or a ConicSolver) or
        the loss is not of the max or sum family: then ``("conic", backend,
        options)``, one small cvxpy problem per point.
        """
        solver = get_solver(self.solver, self.solver_options)
        if isinstance(solver, ConicSolver):
            return "conic", solver._backend()[0], solver.options
        if not batched_supported(self.loss_):
            return "conic", AutoSolver().candidates(0)[0]._backend()[0], None
        return "first_order", solver if isinstance(solver, PDHGSolver) else None, None

    def _solve_points(self, idx, graph, G, weights):
        c, s = self.gradient_mean_, self.gradient_scale_
        H = (G - c) / s
        F = (self.explanations_ - c) / s
        radius = np.sqrt(self.eta_frac_) * np.linalg.norm(H, axis=1)   # (no G**2: no overflow)
        how, backend, options = self._point_solver()
        if how == "first_order":
            sol, n_bad = self._solve_points_first_order(idx, graph, H, F, radius, weights,
                                                        backend)
        else:
            sol, n_bad = self._solve_points_conic(idx, graph, H, F, radius, weights, backend,
                                                  options)
        # exactly inside each point's ball: first in the rescaled coordinates,
        # then in the caller's units (rounding in the back-transform), each row
        # measured in its own scale (so that no row depends on the others)
        D = PointwiseBudget().project(sol - H[idx], radius[idx])
        E = c + s * (H[idx] + D)
        dev = G[idx] - c
        unit = np.max(np.abs(dev), axis=1)
        unit = np.where(unit > 0, unit, 1.0)
        allowed = self.eta_frac_ * np.einsum("ij,ij->i", dev / unit[:, None],
                                             dev / unit[:, None])
        return enforce_budget(E, G[idx], unit[:, None], allowed, True), n_bad

    def _solve_points_first_order(self, idx, graph, H, F, radius, weights, solver):
        """All points at once, in row blocks (``n_jobs`` workers): a point's
        answer does not depend on the block it is in."""
        # solver="auto": the points still short of the tolerance after
        # POINT_MAX_ITER iterations (rare, degenerate problems where PDHG
        # crawls) get the conic per-point solve; an explicit PDHGSolver keeps
        # its own max_iter and reports those points as inaccurate
        # (the max losses' points by the batched interior-point method, the
        # sum losses' by batched PDHG)
        if solver is None and isinstance(self.loss_, MaxLoss):
            opts = dict(method="interior", tol=POINT_TOL, max_iter=POINT_IPM_MAX_ITER)
        elif solver is None:
            opts = dict(tol=POINT_TOL, max_iter=POINT_MAX_ITER)
        else:
            opts = dict(tol=solver.tol, max_iter=solver.max_iter,
                        check_every=solver.check_every, primal_weight=solver.primal_weight)
        deg = graph.degree[idx]
        starts = graph.indptr[idx]
        edges = np.repeat(starts, deg) + (np.arange(deg.sum()) - np.repeat(
            np.cumsum(deg) - deg, deg))
        indptr = np.concatenate([[0], np.cumsum(deg)])
        EJ, w = F[graph.dst[edges]], weights[edges]
        bounds = self._point_bounds(len(idx))
        tasks = [(H[idx[a:b]], radius[idx[a:b]], indptr[a:b + 1] - indptr[a],
                  EJ[indptr[a]:indptr[b]], w[indptr[a]:indptr[b]], self.loss_)
                 for a, b in zip(bounds[:-1], bounds[1:])]
        parts = self._map_points(_first_order_chunk, [(*t, opts) for t in tasks], bounds)
        sol = np.vstack([p[0] for p in parts])
        converged = np.concatenate([p[1] for p in parts])
        if solver is None and not converged.all():
            rest = np.flatnonzero(~converged)
            backend = AutoSolver().candidates(0)[0]._backend()[0]
            sol[rest], n_bad = self._solve_points_conic(idx[rest], graph, H, F, radius, weights,
                                                        backend, None, progress=False)
            return sol, n_bad
        return sol, int((~converged).sum())

    def _point_bounds(self, n):
        """Row blocks of the new points: one per worker, and with ``verbose``
        at least 20 (for the progress bar; a point's answer does not depend
        on its block)."""
        n_chunks = max(1, effective_n_jobs(self.n_jobs))
        if self.verbose:
            n_chunks = max(n_chunks, 20)
        return np.linspace(0, n, min(n, n_chunks) + 1).astype(int)

    def _map_points(self, func, tasks, bounds, progress=True):
        """``parallel_map`` over blocks of new points, the bar counting points."""
        bar = progress_bar(int(bounds[-1]), verbose=self.verbose if progress else 0,
                           desc="OptimizedExplainer: new points")
        out = []
        try:
            for size, res in zip(np.diff(bounds), parallel_map(func, tasks, n_jobs=self.n_jobs)):
                out.append(res)
                bar.update(int(size))
        finally:
            bar.close()
        return out

    def _solve_points_conic(self, idx, graph, H, F, radius, weights, backend, options, *,
                            progress=True):
        # each point's own data: its neighbours' explanations and weights,
        # cut from the edge arrays at the CSR pointers
        cuts = graph.indptr[1:-1]
        nbr_E = np.split(F[graph.dst], cuts)
        nbr_w = np.split(weights, cuts)
        tasks = [(H[i], radius[i], nbr_E[i], nbr_w[i]) for i in idx]
        bounds = self._point_bounds(len(tasks))
        results = self._map_points(
            _solve_point_chunk,
            [(tasks[a:b], self.loss_, backend, options) for a, b in zip(bounds[:-1], bounds[1:])],
            bounds, progress=progress)
        sol = np.asarray([e for part, _ in results for e in part])
        n_bad = sum(st != Status.OPTIMAL for _, part in results for st in part)
        return sol, n_bad


#: Relative gap each new point's batched solve certifies (unless a
#: PDHGSolver with its own ``tol`` is the ``solver``).
POINT_TOL = 1e-6

#: With ``solver="auto"``, new points the first-order solve has not
#: certified after this many iterations are solved by the conic solver.
POINT_MAX_ITER = 500

#: The same for the interior-point method of the max losses' points (7 to
#: 11 iterations on 10-NN problems).
POINT_IPM_MAX_ITER = 50


def _first_order_chunk(H, radius, indptr, EJ, w, loss, opts):
    """Worker: a block of new points by a batched solver (interior-point or PDHG)."""
    opts = dict(opts)
    if opts.pop("method", None) == "interior":
        return solve_points_interior(H, radius, indptr, EJ, w, **opts)
    return solve_points_first_order(H, radius, indptr, EJ, w, loss, **opts)
