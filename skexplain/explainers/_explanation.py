"""The result of ``explain(X)``: attributions with what they explain."""

import numbers

import numpy as np

__all__ = ["Explanation"]

#: The fields of an explanation and the axes each one has (a subset of
#: ``("samples", "features", "outputs")``, in that order).
_FIELD_AXES = {
    "values": ("samples", "features", "outputs"),
    "reference_values": ("samples", "features", "outputs"),
    "data": ("samples", "features"),
    "base_values": ("samples", "outputs"),
    "scores": ("samples", "outputs"),
    "target": ("samples",),
    "index": ("samples",),
    "feature_names": ("features",),
    "output_names": ("outputs",),
}


class Explanation:
    """Attributions of a set of rows, with the data, names and method behind them.

    Returned by ``explain(X)`` on every explainer and on
    :class:`~skexplain.OptimizedExplainer` (``transform`` keeps returning the
    bare array, for Pipelines). It slices like its ``values`` array, and
    every field that shares an axis is sliced with it: ``e[0]`` is the first
    row, ``e[:, "age"]`` one feature (names are accepted where positions
    are), ``e[..., 1]`` the second output of a multi-output explanation.
    Integers drop an axis, as in numpy. ``np.asarray(e)`` is ``e.values``.

    Parameters
    ----------
    values : array-like of shape (n_samples, n_features) or \
            (n_samples, n_features, n_outputs)
        The attributions (one output, or ``target="all"`` / a list of
        outputs as the last axis).
    data : array-like of shape (n_samples, n_features), optional
        The explained rows.
    base_values : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
        What the attributions start from, where the method has it:
        ``E[f(background)]`` for KernelSHAP and TreeSHAP (then ``base +
        sum(values) = f(x)``), ``f(baseline)`` for Integrated Gradients, the
        local surrogate's intercept (its prediction at ``x``) for LIME and
        C-LIME.
    feature_names : array-like of str of shape (n_features,), optional
        Default ``x0, x1, ...``.
    output_names : array-like of shape (n_outputs,), optional
        The outputs of a multi-output explanation (class labels or column
        indices).
    target : array-like of shape (n_samples,), optional
        The output explained at each row of a single-output explanation.
    method : str, optional
        The explainer's class name.
    params : dict, optional
        The explainer's parameters (``get_params(deep=False)`` without the
        model).
    scores : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
        A per-row quality score where the method has one: the weighted R^2
        of LIME's and C-LIME's local surrogates.
    reference_values : array-like, optional
        Same shape as ``values``: the explanations these were optimised from
        (the base explanations of :class:`~skexplain.OptimizedExplainer`).
    index : array-like of shape (n_samples,), optional
        Row labels (the index of a DataFrame ``X``), used by :meth:`to_frame`.

    Attributes
    ----------
    axes : tuple of str
        The axes of ``values``: a subset of ``("samples", "features",
        "outputs")``, in that order.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import KernelSHAP
    >>> f = lambda X: X[:, 0] * X[:, 1] + X[:, 2]
    >>> X = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 0.0]])
    >>> e = KernelSHAP(f, background=np.zeros((1, 3))).fit(X).explain(X)
    >>> e
    Explanation(method='KernelSHAP', values shape (2, 3), base_values, data, features x0, x1, x2)
    >>> e[0].values.round(12), float(e[0].base_values)
    (array([1., 1., 3.]), 0.0)
    >>> e[:, "x2"].values.round(12)
    array([3., 0.])
    """

    def __init__(self, values, *, data=None, base_values=None, feature_names=None,
                 output_names=None, target=None, method=None, params=None, scores=None,
                 reference_values=None, index=None):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim not in (2, 3):
            raise ValueError("values must have shape (n_samples, n_features) or (n_samples, "
                             f"n_features, n_outputs); got shape {values.shape}.")
        self.axes = ("samples", "features", "outputs")[:values.ndim]
        n, d = values.shape[:2]
        sizes = {"samples": n, "features": d}
        if values.ndim == 3:
            sizes["outputs"] = values.shape[2]
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(d)]
        if output_names is None and values.ndim == 3:
            output_names = list(range(values.shape[2]))
        fields = {"values": values, "reference_values": reference_values, "data": data,
                  "base_values": base_values, "scores": scores, "target": target,
                  "index": index, "feature_names": feature_names,
                  "output_names": output_names}
        self._axes = {}
        for name, value in fields.items():
            if value is None:
                setattr(self, name, None)
                continue
            axes = tuple(a for a in _FIELD_AXES[name] if a in self.axes)
            dtype = np.float64 if name in ("values", "reference_values", "data",
                                           "base_values", "scores") else object
            arr = np.asarray(value, dtype=dtype)
            if name in ("feature_names", "output_names", "target", "index"):
                arr = np.array(list(value), dtype=object)
            want = tuple(sizes[a] for a in axes)
            if arr.shape != want:
                raise ValueError(f"{name} must have shape {want} (axes {axes}) to match "
                                 f"values of shape {values.shape}; got shape {arr.shape}.")
            if name in ("values", "reference_values", "base_values", "scores") and not \
                    np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite; got {int(np.sum(~np.isfinite(arr)))} "
                                 "NaN or infinite entries.")
            setattr(self, name, arr)
            self._axes[name] = axes
        self.method = method
        self.params = {} if params is None else dict(params)

    # ------------------------------------------------------------- array-like
    @property
    def shape(self):
        """Shape of ``values``."""
        return self.values.shape

    @property
    def ndim(self):
        """Number of axes of ``values``."""
        return self.values.ndim

    def __len__(self):
        return self.values.shape[0]

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        if sum(k is Ellipsis for k in key) > 1:
            raise IndexError("an index can only have a single ellipsis ('...').")
        if any(k is Ellipsis for k in key):
            i = next(i for i, k in enumerate(key) if k is Ellipsis)
            fill = (slice(None),) * (len(self.axes) - len(key) + 1)
            key = key[:i] + fill + key[i + 1:]
        if len(key) > len(self.axes):
            raise IndexError(f"too many indices: the explanation has axes {self.axes}.")
        new = object.__new__(Explanation)
        new.method, new.params = self.method, dict(self.params)
        new._axes = dict(self._axes)
        for name in _FIELD_AXES:
            setattr(new, name, getattr(self, name))
        axes = list(self.axes)
        for axis, k in zip(self.axes, key):
            k = self._position(axis, k)
            for name, field_axes in list(new._axes.items()):
                if axis not in field_axes:
                    continue
                pos = field_axes.index(axis)
                arr = getattr(new, name)[(slice(None),) * pos + (k,)]
                if isinstance(k, numbers.Integral):
                    field_axes = field_axes[:pos] + field_axes[pos + 1:]
                    new._axes[name] = field_axes
                setattr(new, name, arr)
            if isinstance(k, numbers.Integral):
                axes.remove(axis)
        new.axes = tuple(axes)
        return new

    def _position(self, axis, k):
        """An index along ``axis``, with names replaced by positions."""
        names = {"features": self.feature_names, "outputs": self.output_names}.get(axis)
        if isinstance(k, (str, np.str_)):
            k = [k]
            scalar = True
        else:
            scalar = False
        if isinstance(k, (list, tuple, np.ndarray)) and len(k) and all(
                isinstance(v, (str, np.str_)) for v in k):
            if names is None:
                raise IndexError(f"the {axis} axis has no names to index by; got {k!r}.")
            pos = []
            for v in k:
                hit = np.flatnonzero(np.asarray([str(nm) == v for nm in names]))
                if hit.size == 0:
                    raise KeyError(f"{v!r} is not one of the {axis} names {list(names)}.")
                pos.append(int(hit[0]))
            return pos[0] if scalar else np.asarray(pos)
        if isinstance(k, (bool, np.bool_)):
            raise IndexError("a boolean scalar is not an index.")
        return k

    def __repr__(self):
        parts = [f"method={self.method!r}", f"values shape {self.values.shape}"]
        parts += [name for name in ("base_values", "scores", "reference_values", "data")
                  if getattr(self, name) is not None]
        if self.feature_names is not None and "features" in self.axes:
            shown = [str(f) for f in self.feature_names[:5]]
            more = ", ..." if len(self.feature_names) > 5 else ""
            parts.append("features " + ", ".join(shown) + more)
        if self.output_names is not None and "outputs" in self.axes:
            parts.append("outputs " + ", ".join(str(o) for o in self.output_names))
        return "Explanation(" + ", ".join(parts) + ")"

    # ----------------------------------------------------------------- pandas
    def to_frame(self):
        """The values as a pandas DataFrame (or Series), labelled by names.

        Rows are the samples (labelled by ``index`` when ``X`` was a
        DataFrame), columns the features; a multi-output explanation has
        ``(output, feature)`` MultiIndex columns. One row is a Series over
        the features (a DataFrame features x outputs when it has outputs).

        Returns
        -------
        frame : pandas.DataFrame or pandas.Series
            The attributions (extra ``pandas``).

        Examples
        --------
        >>> import numpy as np
        >>> from skexplain.explainers import Explanation
        >>> e = Explanation(np.array([[1.0, -2.0]]), feature_names=["a", "b"])
        >>> e.to_frame()
             a    b
        0  1.0 -2.0
        """
        from ..utils._optional import import_optional

        pd = import_optional("pandas", "pandas")
        v, axes = self.values, self.axes
        feats = None if self.feature_names is None else [str(f) for f in np.atleast_1d(
            self.feature_names)]
        outs = None if self.output_names is None else list(np.atleast_1d(self.output_names))
        rows = None if self.index is None else list(np.atleast_1d(self.index))
        if axes == ("samples", "features"):
            return pd.DataFrame(v, index=rows, columns=feats)
        if axes == ("samples", "features", "outputs"):
            cols = pd.MultiIndex.from_product([outs, feats], names=["output", "feature"])
            return pd.DataFrame(v.transpose(0, 2, 1).reshape(v.shape[0], -1), index=rows,
                                columns=cols)
        if axes == ("features",):
            return pd.Series(v, index=feats, name="attribution")
        if axes == ("features", "outputs"):
            return pd.DataFrame(v, index=feats, columns=outs)
        if axes == ("samples",):
            return pd.Series(v, index=rows, name=feats and feats[0])
        if axes == ("samples", "outputs"):
            return pd.DataFrame(v, index=rows, columns=outs)
        if axes == ("outputs",):
            return pd.Series(v, index=outs, name="attribution")
        return pd.Series([float(v)], name="attribution")
