"""Models given as plain numpy callables."""

import numpy as np

from ._base import FD_STEP, ModelAdapter

__all__ = ["FunctionModel"]


class FunctionModel(ModelAdapter):
    """A model given by a prediction and/or a gradient callable.

    Parameters
    ----------
    predict : callable or None
        ``X (n, d) -> (n,)`` or ``(n, k)`` model outputs. Needed by the
        perturbation explainers (C-LIME, LIME, KernelSHAP) and by
        :func:`~skexplain.metrics.marginal_faithfulness`.
    gradient : callable or None
        ``X (n, d) -> (n, d)``: the input gradient of the (single) output;
        or ``X (n, d) -> (n, k, d)``: the Jacobian of ``k`` outputs (e.g. the
        class probabilities), of which each row's target column is taken.
        Without it, gradients are central finite differences of ``predict``
        (step ``h_i = fd_step * max(1, |x_i|)``).
    fd_step : float, default=FD_STEP
        Relative finite-difference step, used only without ``gradient``.

    Notes
    -----
    Explainers also accept a bare callable: the gradient explainers
    (Gradient, SmoothGrad, IntegratedGradients, ...) read it as ``gradient``,
    the perturbation explainers as ``predict``. Wrap it in a
    :class:`FunctionModel` to say explicitly which it is.

    Examples
    --------
    Without ``gradient``, gradients are central finite differences of
    ``predict``:

    >>> import numpy as np
    >>> from skexplain.models import FunctionModel
    >>> model = FunctionModel(predict=lambda X: (X ** 2).sum(axis=1))
    >>> x = np.array([[1.0, -2.0]])
    >>> model.predict(x, 0), model.gradient(x, 0).round(6)
    (array([5.]), array([[ 2., -4.]]))
    """

    def __init__(self, predict=None, gradient=None, *, fd_step=FD_STEP):
        super().__init__(fd_step=fd_step)
        if predict is None and gradient is None:
            raise ValueError("FunctionModel needs predict, gradient or both; got neither.")
        for name, fn in (("predict", predict), ("gradient", gradient)):
            if fn is not None and not callable(fn):
                raise ValueError(f"FunctionModel's {name} must be callable; got {type(fn).__name__}.")
        self.predict_fn = predict
        self.can_predict = predict is not None
        self.gradient_fn = gradient
        self.exact_gradient = gradient is not None

    def _outputs(self, X):
        if self.predict_fn is None:
            raise ValueError(
                "this model has only a gradient function; the explainer or metric "
                "needs model outputs: pass FunctionModel(predict=..., gradient=...)."
            )
        return self.predict_fn(np.array(X))        # a copy: the function may write into it

    def n_outputs(self, X, *, batch_size=None):
        if self.predict_fn is None:
            return 1
        return super().n_outputs(X, batch_size=batch_size)

    def _gradient(self, X, columns):
        if self.gradient_fn is None:
            return self._fd_gradient(X, columns)
        G = self.gradient_fn(np.array(X))
        if np.ndim(G) == 3:
            G = np.asarray(G)
            n, k, d = G.shape
            if n != X.shape[0] or d != X.shape[1]:
                raise ValueError(
                    f"model's gradient returned a Jacobian of shape {G.shape}; expected "
                    f"({X.shape[0]}, n_outputs, {X.shape[1]})."
                )
            self._check_columns(columns, k)
            return G[np.arange(n), columns]
        if X.shape[0] and np.any(columns != 0):
            raise ValueError(
                "a gradient callable returning (n, d) has a single output; target must be "
                "None or 0 (return an (n, k, d) Jacobian for several outputs)."
            )
        return G
