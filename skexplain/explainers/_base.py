"""The base class of every classic explainer."""

import copy
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

import warnings

from ..models import as_model, check_gradient_informative
from ..models._base import FD_STEP
from ..utils._state import all_or_nothing
from ..utils import validate_points
from ..utils._parallel import parallel_map, progress_bar
from ._explanation import Explanation
from ._noise import draw_seed, standard_normals, uniforms

__all__ = ["BaseExplainer"]


def _is_array_like(obj):
    """Arrays, lists and data frames: a ``y``, not a model."""
    return isinstance(obj, (np.ndarray, list, tuple)) or hasattr(obj, "__array__") or hasattr(
        obj, "iloc")


#: The parameters every explainer shares, as they appear in the classes'
#: docstrings (``__doc__ = ... + MODEL_PARAMS_DOC + ...``).
MODEL_PARAMS_DOC = """    target : None, "predicted", "all", class label, int or list, default=None
        Which output to explain: ``None`` for the only output (or the
        positive class of a binary classifier), ``"predicted"`` for the
        arg-max output at each explained row, a class label, or an output
        column index; ``"all"`` or a list of labels/indices explains each of
        those outputs, shape ``(n_samples, n_features, n_outputs)``.
    output : {"auto", "predict", "proba", "decision"}, default="auto"
        Which method of a scikit-learn estimator to explain.
    batch_size : int, default=10000
        Largest number of input rows handed to the model in one call
        (perturbed copies counted); results do not depend on it.
    n_jobs : int or None, default=None
        Joblib workers for :meth:`transform`, each explaining a contiguous
        block of rows; results do not depend on it.
"""

#: ``verbose``, for the explainers that sample or step (long runs).
VERBOSE_DOC = """    verbose : int, default=0
        ``> 0``: a progress bar on stderr counting the explained points
        (extra ``progress``); results do not depend on it.
"""


def _is_multi_target(target):
    """``"all"`` or a list of outputs: one attribution per output."""
    if isinstance(target, str):
        return target == "all"
    return isinstance(target, (list, tuple, np.ndarray))


class _Replay:
    """Model outputs of one pass, recorded call by call and replayed for the
    other outputs (the calls of every pass are the same rows, in order)."""

    def __init__(self):
        self.calls, self.i = [], 0

    def rewind(self):
        self.i = 0

    def __call__(self, model, X, columns, batch_size):
        X = np.asarray(X, dtype=np.float64)
        if self.i == len(self.calls):
            self.calls.append((X.copy(), model.outputs(X, batch_size=batch_size)))
        rows, out = self.calls[self.i]
        if not np.array_equal(rows, X):     # an explainer whose rows depend on the output
            raise RuntimeError("model calls differ between outputs: this explainer cannot "
                               "share one pass of model calls (_model_rows_per_point).")
        self.i += 1
        columns = model._broadcast_columns(columns, out.shape[0])
        model._check_columns(columns, out.shape[1])
        return out[np.arange(out.shape[0]), columns]


def _stack_outputs(parts, full):
    """Stack per-output results on a last axis."""
    if not full:
        return np.stack(parts, axis=-1)
    return tuple(None if p[0] is None else np.stack(p, axis=-1) for p in zip(*parts))


def _concat(results):
    """Join the ``(values, base, scores)`` of row blocks."""
    return tuple(None if parts[0] is None else np.concatenate(parts, axis=0)
                 for parts in zip(*results))


def _refuse_frame_output(est):
    """A 3-D result cannot be a DataFrame: say so before scikit-learn fails."""
    from sklearn import get_config

    config = getattr(est, "_sklearn_output_config", {}).get("transform",
                                                            get_config()["transform_output"])
    if config not in ("default", None):
        raise ValueError(
            f"transform with target={est.target!r} returns a 3-D array (n_samples, "
            f"n_features, n_outputs), which set_output(transform={config!r}) cannot hold: "
            "use explain(X).to_frame() for a DataFrame with (output, feature) columns."
        )


class BaseExplainer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Shared behaviour of the attribution explainers.

    ``Explainer(model).fit(X)`` resolves the model (see
    :func:`skexplain.models.as_model`) and learns what the method needs from
    ``X`` (a background set, feature scales, a baseline); ``fit`` ignores a
    ``y``, so an explainer is the last step of a Pipeline or the estimator of
    a GridSearchCV that passes labels. ``transform(X)`` returns one
    attribution per row and feature, shape ``(n_samples, n_features)``.
    Gradient methods refuse models whose gradient is zero almost everywhere
    (tree ensembles, k-NN: see
    :func:`~skexplain.models.check_gradient_informative`).

    Subclasses set ``_callable_as`` (how a bare callable is read:
    ``"gradient"`` or ``"predict"``) and implement ``_explain(X, columns)``;
    stochastic ones set ``_stochastic = True`` and get a seed drawn from
    ``random_state`` at fit time, so that ``transform`` is a deterministic
    function of each row (see :mod:`skexplain.explainers._noise`).

    Notes
    -----
    Parameters common to all explainers:

    model : estimator, callable, FunctionModel or None
        The model to explain, unless one is passed to ``fit``. Note that
        :func:`sklearn.base.clone` (used by GridSearchCV, cross_validate, ...)
        returns an *unfitted* copy of an estimator parameter: pass the fitted
        estimator to ``fit`` instead, or wrap it in
        ``sklearn.frozen.FrozenEstimator`` or :func:`skexplain.models.as_model`.
    target : None, "predicted", "all", class label, int or list
        Which output to explain: ``None`` for the only output (or the
        positive class of a binary classifier); ``"predicted"`` for the
        arg-max output at each explained row; a class label for classifiers;
        an output column index otherwise. ``"all"`` or a list of them
        explains several outputs at once: attributions of shape
        ``(n_samples, n_features, n_outputs)``, each output computed from the
        same perturbations.
    output : {"auto", "predict", "proba", "decision"}
        Which method of a scikit-learn estimator to explain.
    batch_size : int
        Largest number of input rows handed to the model in one call; caps
        memory. Results do not depend on it.
    n_jobs : int or None
        Joblib workers for ``transform`` (contiguous blocks of rows). Results
        do not depend on it.

    Examples
    --------
    A new explainer implements ``_explain`` and gets fitting, validation,
    batching and parallel ``transform`` from the base class:

    >>> import numpy as np
    >>> from skexplain.explainers import BaseExplainer
    >>> class Doubled(BaseExplainer):
    ...     def __init__(self, model=None, *, target=None, output="auto",
    ...                  batch_size=10000, n_jobs=None):
    ...         self.model, self.target, self.output = model, target, output
    ...         self.batch_size, self.n_jobs = batch_size, n_jobs
    ...     def _explain(self, X, columns):
    ...         return 2 * self._gradient(X, columns)
    >>> Doubled(lambda X: X).fit_transform(np.array([[1.0, -1.0]]))
    array([[ 2., -2.]])
    """

    _callable_as = "gradient"
    _stochastic = False

    _parameter_constraints: dict = {
        "model": "no_validation",
        "target": "no_validation",
        "output": [StrOptions({"auto", "predict", "proba", "decision"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Interval(Integral, -(2 ** 31) + 1, -1, closed="both"),
                   Interval(Integral, 1, 2 ** 31 - 1, closed="both"), None],
    }

    def _fit_extra(self, X):
        """Hook: learn method-specific state from the training data."""

    def _output_for(self, model):
        """Hook: the output explained for ``model`` (the ``output`` parameter)."""
        return self.output

    @all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Resolve the model and learn what the method needs from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training (reference) data.
        y : None
            Ignored (a Pipeline or a model-selection tool passes its labels
            here). The model comes from the ``model`` parameter; passing it
            here, ``fit(X, model)``, still works but is deprecated
            (``FutureWarning``).

        Returns
        -------
        self : BaseExplainer
            The fitted explainer.
        """
        X = validate_points(self, X)
        model = self.model
        if y is not None and not _is_array_like(y):
            warnings.warn(
                f"fit(X, model) is deprecated and will be removed: pass the model to the "
                f"constructor, {type(self).__name__}(model).fit(X). fit's second "
                "argument is y, which explainers ignore (scikit-learn's convention).",
                FutureWarning, stacklevel=4)      # fit's wrappers: all_or_nothing, _fit_context
            model = y
        if model is None:
            raise ValueError(
                f"{type(self).__name__} needs a model: {type(self).__name__}(model=...) "
                "with a fitted scikit-learn estimator (or sklearn.frozen.FrozenEstimator "
                "of one), a callable, a FunctionModel or a torch module."
            )
        self.model_ = as_model(model, callable_as=self._callable_as,
                               output=self._output_for(model),
                               fd_step=FD_STEP)
        if self._stochastic:
            self.seed_ = draw_seed(self.random_state)
        self._fit_extra(X)
        # evaluate once so that a model that cannot handle X fails at fit
        if X.shape[0]:
            if _is_multi_target(self.target):
                cols = self.model_.resolve_targets(self.target, X[:1],
                                                   batch_size=self.batch_size)[0]
                targets = list(cols)
            else:
                cols = self.model_.resolve_target(self.target, X[:1],
                                                  batch_size=self.batch_size)
                targets = [self.target]
            if self._callable_as == "gradient":
                for t in targets:
                    check_gradient_informative(self.model_, model, X, target=t,
                                               batch_size=self.batch_size,
                                               what=type(self).__name__)
                self.model_.gradient(X[:1], np.atleast_1d(cols)[:1])
        return self

    def transform(self, X):
        """Explain the rows of ``X``: one attribution per row and feature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain.

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_features) or \
                (n_samples, n_features, n_outputs)
            One attribution per row and feature, finite; with
            ``target="all"`` or a list of outputs, one per output too (last
            axis, in the order of the list).
        """
        X, columns = self._check_transform_input(X)
        if columns.ndim == 2:
            _refuse_frame_output(self)
        return self._run(X, columns, full=False)

    def explain(self, X):
        """Explain the rows of ``X`` and return an :class:`Explanation`.

        The same attributions as :meth:`transform`, with what they explain:
        the rows, the feature and output names, the base values where the
        method has them (e.g. ``E[f]`` for SHAP, so that ``base + sum =
        f(x)``), the method and its parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain (a DataFrame's index labels the rows).

        Returns
        -------
        explanation : Explanation
            Values of shape ``(n_samples, n_features)``, or ``(n_samples,
            n_features, n_outputs)`` with ``target="all"`` or a list.
        """
        index = getattr(X, "index", None)
        X, columns = self._check_transform_input(X)
        values, base, scores = self._run(X, columns, full=True)
        names, target = None, None
        if columns.ndim == 2:
            names = self.model_.output_names(columns[0], X, batch_size=self.batch_size)
        else:
            target = self.model_.output_names(columns, X, batch_size=self.batch_size)
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "model"}
        return Explanation(values, data=X, base_values=base, scores=scores,
                           feature_names=self.get_feature_names_out(), output_names=names,
                           target=target, method=type(self).__name__, params=params,
                           index=None if index is None else list(index))

    def _run(self, X, columns, *, full):
        """Attributions (and, when ``full``, base values and scores) of ``X``,
        in contiguous row blocks: ``n_jobs`` workers, and with ``verbose`` a
        progress bar counting points (each row is computed on its own, so the
        blocks change no bit of the result)."""
        n = X.shape[0]
        n_workers = min(effective_n_jobs(self.n_jobs), max(n, 1))
        verbose = getattr(self, "verbose", 0)
        n_blocks = min(max(n, 1), max(n_workers, 20)) if verbose else n_workers
        if n_blocks <= 1:
            out = self._explain_outputs(X, columns, full)
        else:
            parts = np.array_split(np.arange(n), n_blocks)
            bar = progress_bar(n, verbose=verbose, desc=f"{type(self).__name__} (points)")
            res = []
            try:
                for p, r in zip(parts, parallel_map(
                        self._explain_outputs, [(X[p], columns[p], full) for p in parts],
                        n_jobs=self.n_jobs if n_workers > 1 else 1)):
                    res.append(r)
                    bar.update(len(p))
            finally:
                bar.close()
            out = (_concat(res) if full else np.concatenate(res, axis=0))
        values = out[0] if full else out
        self._check_finite(values, X)
        return out

    def _explain_outputs(self, X, columns, full):
        """One output per row (``columns`` 1-D), or each listed output in turn
        (``columns`` of shape ``(n, k)``, stacked on a last axis)."""
        d = X.shape[1]
        one = self._explain_full if full else self._explain
        if X.shape[0] == 0:
            shape = (0, d) if columns.ndim == 1 else (0, d, columns.shape[1])
            empty = np.zeros(shape)
            return (empty, None, None) if full else empty
        if columns.ndim == 1:
            return one(X, columns)
        per_point = self._model_rows_per_point()
        if per_point is None:
            return _stack_outputs([one(X, columns[:, j]) for j in range(columns.shape[1])],
                                  full)
        # one model pass for all outputs: blocks of points whose model rows
        # fit in batch_size; the first output's pass records the model's
        # outputs (every column), the others replay them (a block's
        # perturbations are the same for every output)
        per = max(1, self.batch_size // per_point)
        blocks = []
        for a in range(0, X.shape[0], per):
            rep = copy.copy(self)
            rep._replay = _Replay()
            one = rep._explain_full if full else rep._explain
            parts = []
            for j in range(columns.shape[1]):
                rep._replay.rewind()
                parts.append(one(X[a:a + per], columns[a:a + per, j]))
            blocks.append(_stack_outputs(parts, full))
        return _concat(blocks) if full else np.concatenate(blocks, axis=0)

    def _model_rows_per_point(self):
        """Hook: model rows one point's attribution evaluates, when every
        model call is a prediction on rows that do not depend on the output
        explained (then several outputs share one pass); None otherwise."""
        return None

    def _explain_full(self, X, columns):
        """Hook: ``(attributions, base values or None, scores or None)``;
        subclasses whose computation yields more than the attributions
        override it."""
        return self._explain(X, columns), self._base_values(X, columns), None

    def _base_values(self, X, columns):
        """Hook: the value each row's attributions start from, or None."""
        return None

    def _check_finite(self, E, X):
        """Model outputs are checked when they arrive; what is computed from
        them (products with X, surrogate fits) can still overflow."""
        finite = np.all(np.isfinite(E.reshape(E.shape[0], -1)), axis=1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise ValueError(
                f"{type(self).__name__} computed non-finite attributions for "
                f"{int((~finite).sum())} of {len(E)} rows of X (e.g. row {i}, max |x| = "
                f"{np.max(np.abs(X[i])):.3g}): the values overflow a float. Rescale X or "
                "the model's output."
            )
        return E

    def _check_transform_input(self, X):
        """Fitted check, validated ``X`` and its target column per row."""
        check_is_fitted(self, "model_")
        X = validate_points(self, X, reset=False)
        if _is_multi_target(self.target):
            cols = self.model_.resolve_targets(self.target, X, batch_size=self.batch_size)[0]
            return X, np.tile(cols, (X.shape[0], 1))
        columns = self.model_.resolve_target(self.target, X, batch_size=self.batch_size)
        return X, columns

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then explain the same points: ``fit(X, y).transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to explain (and to fit on).
        y : None
            Ignored, as in :meth:`fit`.
        **fit_params : dict
            Nothing else is accepted (an error names what was passed).

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_features)
            As :meth:`transform`.
        """
        if fit_params:
            raise TypeError(f"fit_transform got unexpected arguments {sorted(fit_params)}.")
        return self.fit(X, y).transform(X)

    # -- helpers for subclasses ---------------------------------------------
    def _point_chunks(self, n, rows_per_point):
        """Row ranges of points so that each chunk makes <= batch_size model rows."""
        per = max(1, self.batch_size // max(rows_per_point, 1))
        return [(a, min(a + per, n)) for a in range(0, n, per)]

    def _uniforms(self, X, n_samples, n_features=None):
        return uniforms(X, self.seed_, n_samples, n_features, shared=self.shared_noise)

    def _normals(self, X, n_samples, n_features=None):
        return standard_normals(X, self.seed_, n_samples, n_features, shared=self.shared_noise)

    def _gradient(self, X, columns):
        return self.model_.gradient(X, columns, batch_size=self.batch_size)

    def _predict(self, X, columns):
        replay = getattr(self, "_replay", None)
        if replay is not None:
            return replay(self.model_, X, columns, self.batch_size)
        return self.model_.predict(X, columns, batch_size=self.batch_size)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.requires_fit = True
        tags.target_tags.required = False
        tags.non_deterministic = False
        return tags
