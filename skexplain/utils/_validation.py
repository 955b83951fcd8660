"""Input validation: gradients, explanation arrays, gradient callables."""

import contextlib
import re
import numbers

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

__all__ = ["check_explanations", "check_gradient_source", "check_points",
           "compute_gradients", "validate_points"]


@contextlib.contextmanager
def _named(name):
    """Prefix scikit-learn's and numpy's conversion errors (1-D input,
    complex or object values) with the argument's name when they lack it."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if re.search(rf"(^|[^\w]){re.escape(name)}([^\w]|$)", text):
            raise
        raise type(exc)(f"{name} must be a 2-D array of real numbers: {text}") from exc


def _check_dims(X, name, min_samples, required_by):
    """Errors that name the argument where scikit-learn's messages do not:
    more than two dimensions, too few rows."""
    kinds = ({np.dtype(t).kind for t in getattr(X, "dtypes", [])}
             | ({X.dtype.kind} if isinstance(getattr(X, "dtype", None), np.dtype) else set()))
    if kinds & {"M", "m"}:
        raise ValueError(
            f"{name} has datetime or timedelta values; distances and gradients need "
            "numbers in meaningful units: convert them first (e.g. days since a date, as "
            "floats).")
    try:
        shape = np.shape(X)
    except ValueError as exc:         # ragged nested lists
        raise ValueError(f"{name} must be a 2-D array of numbers with rows of equal "
                         f"length; numpy could not read it ({exc}).") from None
    except TypeError:                 # array-likes without a numpy protocol:
        return                        # scikit-learn's checks follow
    if len(shape) > 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got an "
            f"array with {len(shape)} dimensions, shape {shape}."
        )
    if len(shape) == 2 and shape[0] < min_samples:
        raise ValueError(
            f"{name} has {shape[0]} sample(s) (shape={shape}) while a minimum of "
            f"{min_samples} is required{required_by}."
        )


def check_points(X, *, name="X", min_samples=1):
    """Check points as scikit-learn does, with messages that name the argument.

    ``check_array(X, dtype=float64, input_name=name)``, plus messages that
    name ``name`` for more than two dimensions and too few rows (where
    scikit-learn's do not).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The points.
    name : str, default="X"
        The argument's name in error messages.
    min_samples : int, default=1
        Fewest rows accepted.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Finite, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.utils import check_points
    >>> check_points([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> check_points(np.zeros((1, 2, 2)), name="A")
    Traceback (most recent call last):
    ...
    ValueError: A must be a 2-D array of shape (n_samples, n_features); got an array with 3 dimensions, shape (1, 2, 2).
    """
    _check_dims(X, name, min_samples, "")
    with _named(name):
        return check_array(X, dtype=np.float64, input_name=name,
                           ensure_min_samples=min_samples)


def validate_points(estimator, X, *, reset=True, min_samples=1):
    """Validate an estimator's ``X`` as scikit-learn does, naming ``X`` in every message.

    ``validate_data(estimator, X, dtype=float64)`` with messages that name
    ``X`` where scikit-learn's do not (more than two dimensions, too few
    rows); every other check and message is scikit-learn's (including
    ``n_features_in_`` and feature names).

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator whose ``fit`` or ``transform`` receives ``X``.
    X : array-like of shape (n_samples, n_features)
        The points.
    reset : bool, default=True
        ``True`` in ``fit`` (records ``n_features_in_``), ``False`` after.
    min_samples : int, default=1
        Fewest rows accepted.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Finite, float64.

    Examples
    --------
    >>> from skexplain import OptimizedExplainer
    >>> from skexplain.utils import validate_points
    >>> validate_points(OptimizedExplainer(), [[0, 1], [2, 3]]).dtype
    dtype('float64')
    """
    _check_dims(X, "X", min_samples, f" by {type(estimator).__name__}")
    with _named("X"):
        return validate_data(estimator, X, dtype=np.float64, reset=reset,
                             ensure_min_samples=min_samples)


def check_explanations(E, X=None, *, name="explanations", ref_name="X"):
    """Validate an ``(n, d)`` array of explanations or gradients.

    Parameters
    ----------
    E : array-like of shape (n_samples, n_features)
        Array to check. Must be finite, real and two-dimensional.
    X : ndarray of shape (n_samples, n_features), optional
        When given, ``E`` must have the same shape.
    name : str
        Argument name used in error messages.
    ref_name : str, default="X"
        Name of ``X`` in error messages.

    Returns
    -------
    E : ndarray of shape (n_samples, n_features)
        The checked array, float64.

    Examples
    --------
    >>> from skexplain.utils import check_explanations
    >>> check_explanations([[1, 2]], name="gradients")
    array([[1., 2.]])
    >>> check_explanations([[1, 2]], [[0.0, 0.0], [1.0, 1.0]], name="gradients")
    Traceback (most recent call last):
    ...
    ValueError: gradients must have the same shape as X, (2, 2); got (1, 2).
    """
    if E is None:
        raise ValueError(f"{name} is required; got None.")
    try:
        E = check_array(
            E, dtype=np.float64, ensure_2d=False, ensure_all_finite=False,
            input_name=name, ensure_min_samples=0,
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a real numeric (n_samples, n_features) array: {exc}"
        ) from exc
    if E.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (n_samples, n_features) array; got an array "
            f"with shape {E.shape}."
        )
    if X is not None and E.shape != np.shape(X):
        raise ValueError(
            f"{name} must have the same shape as {ref_name}, {np.shape(X)}; got {E.shape}."
        )
    if not np.all(np.isfinite(E)):
        bad = int(np.sum(~np.all(np.isfinite(E), axis=1)))
        raise ValueError(
            f"{name} contains NaN or infinite values (in {bad} of {E.shape[0]} "
            "rows); explanations and gradients must be finite."
        )
    return E


def check_gradient_source(source, *, name="grad_fn"):
    """Check that ``source`` is a gradient callable or an array-like.

    Parameters
    ----------
    source : object
        What the user passed as the gradients.
    name : str, default="grad_fn"
        The argument's name in error messages.

    Returns
    -------
    source : callable or array-like
        ``source`` unchanged.

    Raises
    ------
    ValueError
        For ``None`` or anything else.

    Examples
    --------
    >>> from skexplain.utils import check_gradient_source
    >>> check_gradient_source("cos")
    Traceback (most recent call last):
    ...
    ValueError: grad_fn must be a callable X -> (n_samples, n_features) gradients or an array of gradients; got str.
    """
    if source is None:
        raise ValueError(
            f"{name} is required: pass an (n_samples, n_features) gradient "
            "array or a callable X -> gradients."
        )
    if callable(source) or hasattr(source, "__array__") or isinstance(
        source, (list, tuple)
    ):
        return source
    raise ValueError(
        f"{name} must be a callable X -> (n_samples, n_features) gradients or "
        f"an array of gradients; got {type(source).__name__}."
    )


def compute_gradients(source, X, *, batch_size=None, name="grad_fn", target=None):
    """Evaluate or validate the gradients of the model at ``X``.

    The one path by which the estimators, the scorers and the reproductions
    get gradients: an array is checked, a callable is evaluated in row
    blocks, and a model adapter (:class:`~skexplain.models.ModelAdapter`)
    gives the gradient of its ``target`` output.

    Parameters
    ----------
    source : callable, ModelAdapter or array-like of shape (n_samples, n_features)
        A gradient function ``X -> (n, d)``, a model adapter, or precomputed
        gradients for ``X``.
    X : ndarray of shape (n_samples, n_features)
        Validated input points.
    batch_size : int or None
        When ``source`` is callable, evaluate it on row blocks of at most this
        many points (caps memory); ``None`` evaluates all rows in one call.
    name : str
        Argument name used in error messages.
    target : optional
        For a model adapter: the output to differentiate (see
        :meth:`~skexplain.models.ModelAdapter.resolve_target`).

    Returns
    -------
    G : ndarray of shape (n_samples, n_features)
        The gradients, float64 and finite.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.utils import compute_gradients
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> compute_gradients(lambda X: 2 * X, X, batch_size=1)
    array([[2., 4.],
           [6., 8.]])
    >>> compute_gradients(lambda X: X[:, :1], X)
    Traceback (most recent call last):
    ...
    ValueError: grad_fn must return an array of shape (2, 2) (one gradient per row of X); it returned shape (2, 1). A prediction function? Pass the model itself (e.g. OptimizedExplainer(model=...)): its gradients are computed for you.
    """
    if hasattr(source, "resolve_target") and hasattr(source, "gradient"):   # ModelAdapter
        X = np.asarray(X, dtype=np.float64)
        cols = source.resolve_target(target, X, batch_size=batch_size)
        G = source.gradient(X, cols, batch_size=batch_size)
        return check_explanations(G, X, name=f"the gradient of {name}")
    check_gradient_source(source, name=name)
    if not callable(source):
        return check_explanations(source, X, name=name)
    n = X.shape[0]
    if batch_size is not None and (
        not isinstance(batch_size, numbers.Integral) or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    step = n if batch_size is None else int(batch_size)
    blocks = []
    for start in range(0, max(n, 1), max(step, 1)):
        Xb = X[start:start + step]
        try:
            Gb = source(Xb.copy())          # the user's function may write into its input
        except Exception as exc:  # the user's function failed: say so
            raise ValueError(
                f"{name} raised {type(exc).__name__} when called on an array of "
                f"shape {Xb.shape}: {exc}"
            ) from exc
        if not hasattr(Gb, "shape"):
            raise ValueError(
                f"{name} must return a numpy array of shape {Xb.shape}; it "
                f"returned a {type(Gb).__name__}."
            )
        if tuple(Gb.shape) != Xb.shape:
            hint = ("" if len(Gb.shape) != 1 and Gb.shape[-1:] == Xb.shape[-1:] else
                    " A prediction function? Pass the model itself (e.g. "
                    "OptimizedExplainer(model=...)): its gradients are computed for you.")
            raise ValueError(
                f"{name} must return an array of shape {Xb.shape} (one gradient "
                f"per row of X); it returned shape {tuple(Gb.shape)}.{hint}"
            )
        if np.iscomplexobj(Gb):
            raise ValueError(
                f"{name} returned complex values; gradients must be real."
            )
        blocks.append(np.asarray(Gb))
    G = np.concatenate(blocks, axis=0) if blocks else np.empty(X.shape)
    return check_explanations(G, X, name=f"the output of {name}")
