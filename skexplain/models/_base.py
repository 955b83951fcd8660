"""The model interface every explainer talks to.

A :class:`ModelAdapter` turns whatever the user passed (a callable, a fitted
scikit-learn estimator, a torch module) into two batched numpy functions:

* ``outputs(X)``: all outputs of the model, shape ``(n, k)``;
* ``gradient(X, columns)``: the input gradient of output ``columns[i]`` at
  row ``i``, shape ``(n, d)``.

Both evaluate ``X`` in row blocks of at most ``batch_size`` points, so memory
is capped whatever the number of perturbations an explainer needs, and check
what the model returned (shape, finiteness) with errors that name ``model``.
"""

import numbers

import numpy as np

__all__ = ["ModelAdapter", "FD_STEP"]

#: Default relative step of the central finite differences:
#: ``h_i = FD_STEP * max(1, |x_i|)``; ``eps ** (1/3)`` balances truncation
#: (O(h^2)) against rounding (O(eps / h)) error.
FD_STEP = float(np.finfo(np.float64).eps ** (1.0 / 3.0))


def _check_batch_size(batch_size):
    if batch_size is None:
        return None
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None; got {batch_size!r}.")
    return int(batch_size)


def _blocks(n, batch_size):
    step = n if batch_size is None else batch_size
    step = max(step, 1)
    return [(s, min(s + step, n)) for s in range(0, n, step)] or [(0, 0)]


class ModelAdapter:
    """Batched outputs and input gradients of a model.

    Subclasses implement ``_outputs(X) -> (n, k)`` and, when they know the
    gradient exactly, ``_gradient(X, columns) -> (n, d)``. Without an exact
    gradient the adapter uses central finite differences on ``_outputs``
    (step ``h_i = fd_step * max(1, |x_i|)``).

    Parameters
    ----------
    fd_step : float, default=FD_STEP
        Relative finite-difference step, used only without exact gradients.

    Attributes
    ----------
    exact_gradient : bool
        Whether :meth:`gradient` is exact (True) or finite differences.
    classes_ : ndarray or None
        Class labels when the outputs are per class (used to map a ``target``
        label to a column).

    See Also
    --------
    as_model : Build the adapter for whatever model the user passed.

    Examples
    --------
    An adapter evaluates in row blocks and checks what the model returns:

    >>> import numpy as np
    >>> from skexplain.models import FunctionModel
    >>> model = FunctionModel(predict=lambda X: (X ** 2).sum(axis=1))
    >>> X = np.array([[1.0, 2.0], [3.0, 0.0]])
    >>> model.outputs(X, batch_size=1).ravel().tolist()
    [5.0, 9.0]
    >>> model.gradient(X, 0).round(6)
    array([[2., 4.],
           [6., 0.]])
    """

    exact_gradient = False
    classes_ = None
    #: Whether the model's outputs can be evaluated (a gradient-only
    #: callable cannot).
    can_predict = True
    #: The output explained when ``columns`` is not given (see
    #: :meth:`resolve_target`); :func:`as_model` sets it.
    target = None

    def __init__(self, fd_step=FD_STEP):
        if not isinstance(fd_step, numbers.Real) or not fd_step > 0:
            raise ValueError(f"fd_step must be a positive float; got {fd_step!r}.")
        self.fd_step = float(fd_step)

    # -- to implement -------------------------------------------------------
    def _outputs(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _gradient(self, X, columns):
        return self._fd_gradient(X, columns)

    # -- finite differences -------------------------------------------------
    def _fd_gradient(self, X, columns, max_rows=None):
        """Central differences, pair (point, feature) by pair, in model calls of
        at most ``max_rows`` rows (default: as many as the points passed, whom
        the caller already bounds by ``batch_size``); ``x + h e_j`` and
        ``x - h e_j`` are separate calls, so memory is ``O(max_rows d)``
        whatever ``d``."""
        n, d = X.shape
        h = self.fd_step * np.maximum(1.0, np.abs(X))          # (n, d)
        G = np.empty((n, d))
        flat = G.reshape(-1)
        per = max(1, n if max_rows is None else int(max_rows))
        for a in range(0, n * d, per):
            pairs = np.arange(a, min(a + per, n * d))
            i, j = np.divmod(pairs, d)
            Xp = X[i]
            Xm = Xp.copy()
            Xp[np.arange(pairs.size), j] += h[i, j]
            Xm[np.arange(pairs.size), j] -= h[i, j]
            fp = self._checked_outputs(Xp)[np.arange(pairs.size), columns[i]]
            fm = self._checked_outputs(Xm)[np.arange(pairs.size), columns[i]]
            # the actual step (x + h) - (x - h) as represented in floating point
            actual = Xp[np.arange(pairs.size), j] - Xm[np.arange(pairs.size), j]
            flat[pairs] = (fp - fm) / actual
        return G

    # -- checked public interface -------------------------------------------
    def _checked_outputs(self, X):
        try:
            out = self._outputs(X)
        except Exception as exc:
            raise ValueError(
                f"model raised {type(exc).__name__} when evaluated on an array of "
                f"shape {X.shape}: {exc}"
            ) from exc
        return self._check_output_array(out, X)

    @staticmethod
    def _check_output_array(out, X):
        out = np.asarray(out)
        if np.iscomplexobj(out):
            raise ValueError("model returned complex outputs; outputs must be real.")
        out = np.asarray(out, dtype=np.float64)
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != X.shape[0]:
            raise ValueError(
                f"model must return one output (or one row of outputs) per input "
                f"row: evaluated on shape {X.shape} it returned shape {out.shape}."
            )
        if not np.all(np.isfinite(out)):
            raise ValueError(
                f"model returned NaN or infinite outputs on {int(np.sum(~np.isfinite(out).all(1)))} "
                f"of {X.shape[0]} inputs."
            )
        return out

    def outputs(self, X, *, batch_size=None):
        """All outputs at ``X``, evaluated in row blocks.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Inputs.
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        outputs : ndarray of shape (n, n_outputs)
            Finite, float64.
        """
        batch_size = _check_batch_size(batch_size)
        X = np.asarray(X, dtype=np.float64)
        parts = [self._checked_outputs(X[a:b]) for a, b in _blocks(X.shape[0], batch_size)]
        return np.concatenate(parts, axis=0)

    def predict(self, X, columns=None, *, batch_size=None):
        """Output ``columns[i]`` at row ``i`` of ``X``.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Inputs.
        columns : int, array-like of int of shape (n,) or None, default=None
            Output column of each row (a scalar: the same for all; ``None``:
            the adapter's :attr:`target`).
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        values : ndarray of shape (n,)
            Finite, float64.
        """
        X = np.asarray(X, dtype=np.float64)
        batch_size = _check_batch_size(batch_size)
        columns = self._columns(columns, X, batch_size)
        parts = []
        for a, b in _blocks(X.shape[0], batch_size):
            out = self._checked_outputs(X[a:b])
            self._check_columns(columns[a:b], out.shape[1])
            parts.append(out[np.arange(b - a), columns[a:b]])
        return np.concatenate(parts)

    def gradient(self, X, columns=None, *, batch_size=None):
        """Input gradient of output ``columns[i]`` at row ``i``.

        With finite differences each point costs ``2 d`` model evaluations,
        made in calls of at most ``batch_size`` rows. ``adapter.gradient`` with ``X``
        alone is a gradient function (``grad_fn=``) of the adapter's target.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Inputs.
        columns : int, array-like of int of shape (n,) or None, default=None
            Output column of each row (a scalar: the same for all; ``None``:
            the adapter's :attr:`target`).
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        gradients : ndarray of shape (n, d)
            Finite, float64.
        """
        X = np.asarray(X, dtype=np.float64)
        batch_size = _check_batch_size(batch_size)
        explicit = columns is not None
        columns = self._columns(columns, X, batch_size)
        if explicit and X.shape[0] and self.can_predict:
            # an exact gradient is computed without the outputs: check the
            # column exists (a binary classifier's column 5 is not class 0)
            self._check_columns(columns, self.n_outputs(X, batch_size=batch_size))
        if not self.exact_gradient:
            # finite differences: batch_size bounds the rows of every model
            # call after the 2 d expansion (not the points)
            if X.shape[0] == 0:
                return np.zeros(X.shape)
            return self._checked_gradient(
                lambda: self._fd_gradient(X, columns, max_rows=batch_size), X)
        parts = []
        for a, b in _blocks(X.shape[0], batch_size):
            Xb = X[a:b]
            parts.append(self._checked_gradient(lambda: self._gradient(Xb, columns[a:b]), Xb))
        return np.concatenate(parts, axis=0)

    def value_and_gradient(self, X, columns, *, batch_size=None):
        """Compute values and gradients together, sharing the forward pass where possible.

        ``(predict(X, columns), gradient(X, columns))``; the exact
        scikit-learn adapters compute both in one pass.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Inputs.
        columns : int or array-like of int of shape (n,)
            Output column of each row.
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        values : ndarray of shape (n,)
            As :meth:`predict`.
        gradients : ndarray of shape (n, d)
            As :meth:`gradient`.
        """
        X = np.asarray(X, dtype=np.float64)
        columns = self._broadcast_columns(columns, X.shape[0])
        batch_size = _check_batch_size(batch_size)
        values, grads = [], []
        for a, b in _blocks(X.shape[0], batch_size):
            Xb, cb = X[a:b], columns[a:b]
            pair = self._value_and_gradient(Xb, cb)
            if pair is None:  # no shared pass: the two checked calls
                values.append(self.predict(Xb, cb))
                grads.append(self.gradient(Xb, cb))
                continue
            out, G = pair
            out = self._check_output_array(out, Xb)
            self._check_columns(cb, out.shape[1])
            values.append(out[np.arange(b - a), cb])
            grads.append(self._checked_gradient(lambda: G, Xb))
        return np.concatenate(values), np.concatenate(grads, axis=0)

    def _value_and_gradient(self, X, columns):
        """Hook: ``(all outputs (n, k), gradient (n, d))`` in one pass, or None."""
        return None

    def _checked_gradient(self, compute, Xb):
        try:
            G = compute()
        except ValueError:
            raise
        except Exception as exc:
            raise ValueError(
                f"model's gradient raised {type(exc).__name__} when evaluated on "
                f"an array of shape {Xb.shape}: {exc}"
            ) from exc
        G = np.asarray(G)
        if np.iscomplexobj(G):
            raise ValueError("model's gradient returned complex values; gradients must be real.")
        if G.shape != Xb.shape:
            raise ValueError(
                f"model's gradient must return an array of shape {Xb.shape} (one "
                f"gradient per input row); it returned shape {G.shape}."
            )
        G = np.asarray(G, dtype=np.float64)
        if not np.all(np.isfinite(G)):
            raise ValueError("model's gradient returned NaN or infinite values.")
        return G

    # -- targets --------------------------------------------------------------
    def _columns(self, columns, X, batch_size):
        if columns is None:
            return self.resolve_target(self.target, X, batch_size=batch_size)
        return self._broadcast_columns(columns, X.shape[0])

    @staticmethod
    def _broadcast_columns(columns, n):
        columns = np.asarray(columns, dtype=np.intp)
        if columns.ndim == 0:
            columns = np.full(n, int(columns), dtype=np.intp)
        if columns.shape != (n,):
            raise ValueError(f"columns must be a scalar or have shape ({n},); got {columns.shape}.")
        return columns

    @staticmethod
    def _check_columns(columns, k):
        if columns.size and (columns.min() < 0 or columns.max() >= k):
            raise ValueError(
                f"target column {int(columns.max())} is out of range for a model with "
                f"{k} output(s)."
            )

    def resolve_target(self, target, X, *, batch_size=None):
        """Map the ``target`` parameter of an explainer to one column per row.

        Parameters
        ----------
        target : None, "predicted", class label or int
            ``None``: the only output, or the positive class (the last
            column) of a binary classifier; a model with more outputs needs
            a target. ``"predicted"``: the arg-max output at each row of
            ``X`` (fixed for all perturbations of that row). A class label
            (when the model has ``classes_``) or an integer column index
            otherwise.
        X : ndarray of shape (n, d)
            The rows to explain.
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        columns : ndarray of int of shape (n,)
            The output column of each row.
        """
        n = X.shape[0]
        k = self.n_outputs(X, batch_size=batch_size)
        if isinstance(target, str) and target == "predicted":
            if n == 0:
                return np.zeros(0, dtype=np.intp)
            return np.argmax(self.outputs(X, batch_size=batch_size), axis=1).astype(np.intp)
        if target is None:
            if k == 1:
                col = 0
            elif k == 2 and self.classes_ is not None:
                col = 1
            else:
                raise ValueError(
                    f"target is required: the model has {k} outputs. Pass a class "
                    "label, an output column index, 'predicted' or 'all'."
                )
            return np.full(n, col, dtype=np.intp)
        if self.classes_ is not None:
            matches = np.flatnonzero(np.asarray(self.classes_) == target)
            if matches.size != 1:
                raise ValueError(
                    f"target={target!r} is not one of the model's classes "
                    f"{np.asarray(self.classes_).tolist()}."
                )
            return np.full(n, int(matches[0]), dtype=np.intp)
        if not isinstance(target, numbers.Integral) or isinstance(target, bool) or not 0 <= target < k:
            raise ValueError(
                f"target must be None, 'predicted' or an output column index in "
                f"[0, {k}); got {target!r}."
            )
        return np.full(n, int(target), dtype=np.intp)

    def resolve_targets(self, target, X, *, batch_size=None):
        """Map a multi-output ``target`` (``"all"`` or a list) to output columns.

        Parameters
        ----------
        target : "all" or list
            ``"all"``: every output column; a list: class labels (when the
            model has ``classes_``) or output column indices, each once.
        X : ndarray of shape (n, d)
            Rows of the data (the model is evaluated on the first, once).
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        columns : ndarray of int of shape (k,)
            The output columns, in the order asked for.
        names : list
            Their names: class labels, or the column indices.
        """
        row = X[:1] if X.shape[0] else np.zeros((1, X.shape[1]))
        k = self.n_outputs(row, batch_size=batch_size)
        classes = self._class_labels(k)
        if isinstance(target, str) and target == "all":
            cols = np.arange(k, dtype=np.intp)
        else:
            items = list(target)
            if not items:
                raise ValueError("target is an empty list: name at least one output.")
            cols = []
            for item in items:
                if isinstance(item, str) and item in ("all", "predicted") and (
                        classes is None or item not in classes):
                    raise ValueError(f"target list items are class labels or column "
                                     f"indices; got {item!r} inside the list.")
                cols.append(int(self.resolve_target(item, row, batch_size=batch_size)[0]))
            cols = np.asarray(cols, dtype=np.intp)
            if np.unique(cols).size != cols.size:
                raise ValueError(f"target lists an output twice: {items!r}.")
        return cols, self.output_names(cols, row, batch_size=batch_size)

    def _class_labels(self, k):
        """``classes_`` as a list when they name the ``k`` output columns."""
        if self.classes_ is None or len(self.classes_) != k:   # e.g. one decision score
            return None
        return np.asarray(self.classes_).tolist()

    def output_names(self, columns, X, *, batch_size=None):
        """The names of output columns: class labels, or the indices.

        Parameters
        ----------
        columns : array-like of int
            Output column indices.
        X : ndarray of shape (n, d)
            Rows of the data (the model is evaluated on the first, once).
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        names : list
            One name per column.
        """
        columns = np.asarray(columns, dtype=np.intp)
        row = X[:1] if X.shape[0] else np.zeros((1, X.shape[1]))
        classes = self._class_labels(self.n_outputs(row, batch_size=batch_size))
        return [classes[c] for c in columns] if classes is not None else columns.tolist()

    def label_columns(self, y, X, *, name="y", batch_size=None):
        """One output column per row for the class labels ``y``.

        Parameters
        ----------
        y : array-like of shape (n,)
            Class labels, or column indices when the model has no ``classes_``.
        X : ndarray of shape (n, d)
            The rows.
        name : str, default="y"
            The argument's name in error messages.
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        columns : ndarray of int of shape (n,)
            The output column of each row.
        """
        y = np.asarray(y)
        n = X.shape[0]
        if y.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), one label per row of X; "
                             f"got shape {y.shape}.")
        if self.classes_ is not None:
            classes = np.asarray(self.classes_)
            hit = y[:, None] == classes[None, :]
            if not hit.any(axis=1).all():
                bad = y[~hit.any(axis=1)][0]
                raise ValueError(f"{name} contains {bad!r}, which is not one of the "
                                 f"model's classes {classes.tolist()}.")
            return np.argmax(hit, axis=1).astype(np.intp)
        k = self.n_outputs(X, batch_size=batch_size)
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= k:
            raise ValueError(f"{name} must hold output column indices in [0, {k}) for a "
                             "model without classes_.")
        return y.astype(np.intp)

    def n_outputs(self, X, *, batch_size=None):
        """Number of output columns (evaluates the model on one row, once).

        Parameters
        ----------
        X : array-like of shape (n, d)
            Inputs (the first row is used).
        batch_size : int or None, default=None
            Rows per model call (``None``: all at once).

        Returns
        -------
        n_outputs : int
            Columns of :meth:`outputs`.
        """
        if getattr(self, "_n_outputs", None) is None:
            X = np.asarray(X, dtype=np.float64)
            if X.shape[0] == 0:
                raise ValueError("cannot query the model's outputs on an empty X.")
            self._n_outputs = self._checked_outputs(X[:1]).shape[1]
        return self._n_outputs
