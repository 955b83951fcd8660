"""The faithfulness/robustness front of an explanation path."""

import numpy as np

from ._base import new_axes

__all__ = ["FrontDisplay"]

#: Axis labels of the built-in robustness losses.
LOSS_LABELS = {
    "max_sensitivity": "max-sensitivity",
    "local_stability": "local stability",
    "average_sensitivity": "average sensitivity",
}


def _spaced(x, y, min_dist=0.07):
    """Indices of points at least ``min_dist`` apart (axes fractions), greedily
    from the first: which points of a dense front get a text label."""
    def unit(v):
        v = np.asarray(v, dtype=np.float64)
        span = np.ptp(v)
        return (v - v.min()) / span if span > 0 else np.zeros_like(v)

    ux, uy = unit(x), unit(y)
    keep = []
    for i in range(len(ux)):
        if all(np.hypot(ux[i] - ux[j], uy[i] - uy[j]) >= min_dist for j in keep):
            keep.append(i)
    return keep


class FrontDisplay:
    """Robustness loss against faithfulness loss along the budgets.

    Each point is one budget ``eta = eta_frac * L_max``; the Pareto-optimal
    points are filled, dominated ones (an inaccurate solve, at worst) open.
    Labels give ``eta_frac`` at points far enough apart to be read.

    Parameters
    ----------
    faithfulness : ndarray of shape (k,)
        Faithfulness loss at each budget.
    robustness : ndarray of shape (k,)
        Robustness loss at each budget.
    eta_fracs : ndarray of shape (k,)
        The budgets, as fractions of ``L_max``.
    robustness_name : str, default="robustness loss"
        The robustness loss (a name of :data:`skexplain.losses.LOSSES` is
        spelled out).
    pareto : ndarray of bool of shape (k,) or None, default=None
        Which points are Pareto-optimal (``None``: all).

    Attributes
    ----------
    line_ : matplotlib.lines.Line2D
        The front.
    pareto_ : matplotlib.collections.PathCollection
        The Pareto-optimal points.
    annotations_ : list of matplotlib.text.Annotation
        The ``eta_frac`` labels.
    ax_ : matplotlib.axes.Axes
        The axes drawn on.
    figure_ : matplotlib.figure.Figure
        Its figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import explanation_path
    >>> from skexplain.plotting import FrontDisplay
    >>> X = np.linspace(0, 3, 7)[:, None]
    >>> path = explanation_path(X, X ** 2, [0.0, 0.2, 1.0], u=0.6)
    >>> disp = FrontDisplay.from_path(path)
    >>> disp.ax_.get_ylabel()
    'max-sensitivity (robustness loss)'
    >>> [a.get_text() for a in disp.annotations_]
    ['η = 0', 'η = 0.2 L_max', 'η = L_max']
    """

    def __init__(self, faithfulness, robustness, eta_fracs, *,
                 robustness_name="robustness loss", pareto=None):
        self.faithfulness = np.asarray(faithfulness, dtype=np.float64)
        self.robustness = np.asarray(robustness, dtype=np.float64)
        self.eta_fracs = np.asarray(eta_fracs, dtype=np.float64)
        self.robustness_name = robustness_name
        self.pareto = (np.ones(self.eta_fracs.shape, dtype=bool) if pareto is None
                       else np.asarray(pareto, dtype=bool))

    @classmethod
    def from_path(cls, path, *, ax=None):
        """Plot an :class:`~skexplain.optimize.ExplanationPath`.

        Parameters
        ----------
        path : ExplanationPath
            From :func:`skexplain.explanation_path`.
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        display : FrontDisplay
            With the drawn artists as attributes.
        """
        if not hasattr(path, "pareto_mask"):
            raise TypeError("path must be an ExplanationPath (skexplain.explanation_path); "
                            f"got {type(path).__name__}.")
        disp = cls(path.faithfulness_loss, path.robustness_loss, path.eta_fracs,
                   robustness_name=path.robustness or "robustness loss",
                   pareto=path.pareto_mask())
        return disp.plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, X, grad_fn=None, *, eta_fracs=None, ax=None):
        """Trace the front of an OptimizedExplainer's settings on ``X``.

        Runs :func:`skexplain.explanation_path` with the estimator's loss,
        neighbourhood, budget kind, solver and model (its ``eta_frac`` is
        marked), then plots it.

        Parameters
        ----------
        estimator : OptimizedExplainer
            Fitted or not: only its parameters are used.
        X : array-like of shape (n_samples, n_features)
            Points to explain.
        grad_fn : callable or array-like, optional
            Gradients (not with a ``model`` estimator).
        eta_fracs : array-like, optional
            Budgets (default as :func:`~skexplain.explanation_path`; the
            estimator's ``eta_frac`` is added).
        ax : matplotlib Axes, optional
            Where to draw.

        Returns
        -------
        display : FrontDisplay
            With the drawn artists as attributes; ``chosen_`` marks the
            estimator's budget.
        """
        from ..optimize import explanation_path

        p = estimator.get_params(deep=False)
        fracs = (np.r_[0.0, np.logspace(-3, 0, 19)] if eta_fracs is None
                 else np.asarray(eta_fracs, dtype=np.float64).ravel())
        fracs = np.unique(np.r_[fracs, float(p["eta_frac"])])
        path = explanation_path(
            X, grad_fn if grad_fn is not None else p["grad_fn"], fracs, model=p["model"],
            base=p["base"], target=p["target"], output=p["output"],
            robustness=p["robustness"], u=p["u"], n_neighbors=p["n_neighbors"],
            knn_eps=p.get("knn_eps", 0.0),
            faithfulness=p["faithfulness"], squared=p["squared"], solver=p["solver"],
            solver_options=p["solver_options"], batch_size=p["batch_size"],
            n_jobs=p["n_jobs"])
        disp = cls.from_path(path, ax=ax)
        i = int(np.flatnonzero(path.eta_fracs == float(p["eta_frac"]))[0])
        disp.chosen_ = disp.ax_.scatter([path.faithfulness_loss[i]], [path.robustness_loss[i]],
                                        s=120, facecolors="none", edgecolors="#d62728",
                                        linewidths=1.5, zorder=4,
                                        label=f"eta_frac = {p['eta_frac']:g}")
        disp.ax_.legend(loc="upper right", frameon=False)
        return disp

    def plot(self, ax=None):
        """Draw the front.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        display : FrontDisplay
            ``self``, with the artists set.
        """
        fig, ax = new_axes(ax)
        order = np.argsort(self.eta_fracs, kind="stable")
        f, r, e, par = (self.faithfulness[order], self.robustness[order],
                        self.eta_fracs[order], self.pareto[order])
        (self.line_,) = ax.plot(f, r, "-", color="0.6", lw=1, zorder=1)
        self.pareto_ = ax.scatter(f[par], r[par], s=22, color="#1f77b4", zorder=3)
        ax.scatter(f[~par], r[~par], s=22, facecolors="none", edgecolors="#1f77b4", zorder=3)
        self.annotations_ = []
        for i in _spaced(f, r):
            frac = e[i]
            text = ("η = 0" if frac == 0 else "η = L_max" if frac == 1
                    else f"η = {frac:.2g} L_max")
            self.annotations_.append(ax.annotate(
                text, (f[i], r[i]), xytext=(6, 4), textcoords="offset points", fontsize=8,
                color="0.25"))
        name = LOSS_LABELS.get(self.robustness_name, self.robustness_name)
        ax.set_xlabel("faithfulness loss  Σ‖g − E‖²  (≤ η)")
        ax.set_ylabel(f"{name} (robustness loss)")
        ax.margins(0.12)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        self.ax_, self.figure_ = ax, fig
        return self
