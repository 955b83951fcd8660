"""Base (gradient) explanations beside the optimised ones."""

import numpy as np

from ._base import check_explanation, names_of, pyplot

__all__ = ["ComparisonDisplay"]


class ComparisonDisplay:
    """The base explanations (e.g. gradients) beside the optimised ones.

    For 2-D inputs (``kind="arrows"``, the default there) each panel draws
    the explanation field as arrows at the explained points, both panels on
    one arrow scale; otherwise (``kind="heatmap"``) each panel is a rows x
    features heat map on one symmetric colour scale, so the smoothing the
    optimisation buys shows as the same colours varying less from row to
    row.

    Parameters
    ----------
    reference : ndarray of shape (n_samples, n_features)
        The base explanations (left panel).
    optimized : ndarray of shape (n_samples, n_features)
        The optimised explanations (right panel).
    data : ndarray of shape (n_samples, n_features) or None
        The explained rows (needed for arrows).
    feature_names : list of str
        One name per feature.
    labels : tuple of str, default=("gradient", "optimised")
        The panels' titles.

    Attributes
    ----------
    axes_ : ndarray of matplotlib.axes.Axes
        The two panels.
    artists_ : list
        The two quivers (``kind="arrows"``) or images (``"heatmap"``).
    kind_ : str
        ``"arrows"`` or ``"heatmap"``.
    colorbar_ : matplotlib.colorbar.Colorbar or None
        The heat maps' colour bar (None for arrows).
    figure_ : matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.plotting import ComparisonDisplay
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> G = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> disp = ComparisonDisplay(G, 0.5 * G + 0.25, X, ["a", "b"]).plot()
    >>> disp.kind_, disp.artists_[1].U.tolist()
    ('arrows', [0.75, 0.25, 0.75])
    """

    def __init__(self, reference, optimized, data, feature_names, *,
                 labels=("gradient", "optimised")):
        self.reference = np.asarray(reference, dtype=np.float64)
        self.optimized = np.asarray(optimized, dtype=np.float64)
        self.data = None if data is None else np.asarray(data, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.labels = tuple(labels)
        if self.reference.shape != self.optimized.shape or self.reference.ndim != 2:
            raise ValueError("reference and optimized must be arrays of the same shape "
                             f"(n_samples, n_features); got {self.reference.shape} and "
                             f"{self.optimized.shape}.")

    @classmethod
    def from_explanation(cls, explanation, *, kind="auto", max_rows=50, labels=None,
                         axes=None):
        """Plot an explanation against the base explanations it was optimised from.

        Parameters
        ----------
        explanation : Explanation
            From :meth:`OptimizedExplainer.explain
            <skexplain.OptimizedExplainer.explain>` (it holds
            ``reference_values``).
        kind : {"auto", "arrows", "heatmap"}, default="auto"
            ``"auto"``: arrows for 2 features, heat maps otherwise.
        max_rows : int, default=50
            Heat maps show at most this many rows (the first ones).
        labels : tuple of str, optional
            Panel titles; default ``("gradient", "optimised")``.
        axes : sequence of two matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        display : ComparisonDisplay
            With the drawn artists as attributes.
        """
        explanation = check_explanation(explanation, "ComparisonDisplay")
        if explanation.reference_values is None:
            raise ValueError("ComparisonDisplay needs the base explanations: use "
                             "OptimizedExplainer.explain(X), or build the Explanation with "
                             "reference_values=.")
        if explanation.axes != ("samples", "features"):
            raise ValueError("ComparisonDisplay needs the explanations of several rows.")
        disp = cls(explanation.reference_values, explanation.values, explanation.data,
                   names_of(explanation, explanation.shape[1]),
                   labels=labels or ("gradient", "optimised"))
        return disp.plot(axes, kind=kind, max_rows=max_rows)

    @classmethod
    def from_estimator(cls, estimator, X, grad_fn=None, *, kind="auto", max_rows=50,
                       labels=None, axes=None):
        """Explain ``X`` with a fitted OptimizedExplainer and compare.

        Parameters
        ----------
        estimator : OptimizedExplainer
            Fitted.
        X : array-like of shape (n_samples, n_features)
            Rows to explain (the training rows give the fitted explanations).
        grad_fn : callable or array-like, optional
            As in :meth:`OptimizedExplainer.transform
            <skexplain.OptimizedExplainer.transform>`.
        kind : {"auto", "arrows", "heatmap"}, default="auto"
            See :meth:`from_explanation`.
        max_rows : int, default=50
            Heat maps show at most this many rows.
        labels : tuple of str, optional
            Panel titles.
        axes : sequence of two matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        display : ComparisonDisplay
            With the drawn artists as attributes.
        """
        return cls.from_explanation(estimator.explain(X, grad_fn=grad_fn), kind=kind,
                                    max_rows=max_rows, labels=labels, axes=axes)

    def plot(self, axes=None, *, kind="auto", max_rows=50, figsize=None):
        """Draw the two panels.

        Parameters
        ----------
        axes : sequence of two matplotlib Axes, optional
            Where to draw the base and the optimised explanations; default
            a new figure with two panels.
        kind : {"auto", "arrows", "heatmap"}, default="auto"
            See :meth:`from_explanation`.
        max_rows : int, default=50
            Heat maps show at most this many rows.
        figsize : tuple of float, optional
            Figure size in inches.

        Returns
        -------
        display : ComparisonDisplay
            ``self``, with the artists set.
        """
        d = self.reference.shape[1]
        if kind == "auto":
            kind = "arrows" if d == 2 and self.data is not None else "heatmap"
        if kind not in ("arrows", "heatmap"):
            raise ValueError(f"kind must be 'auto', 'arrows' or 'heatmap'; got {kind!r}.")
        plt = pyplot()
        if kind == "arrows":
            if d != 2 or self.data is None:
                raise ValueError("kind='arrows' needs 2 features and the explained rows.")
            fig, axes = self._axes(axes, plt, dict(sharex=True, sharey=True,
                                                   figsize=figsize or (10, 4.5)))
            longest = max(np.linalg.norm(self.reference, axis=1).max(),
                          np.linalg.norm(self.optimized, axis=1).max(), 1e-300)
            span = np.ptp(self.data, axis=0).max() or 1.0
            # one arrow scale for both panels: the longest arrow is 1/8 of the data span
            scale = longest / (span / 8.0)
            self.artists_ = []
            for ax, E, title in zip(axes, (self.reference, self.optimized), self.labels):
                self.artists_.append(ax.quiver(self.data[:, 0], self.data[:, 1], E[:, 0],
                                               E[:, 1], angles="xy", scale_units="xy",
                                               scale=scale, width=0.004))
                ax.set_title(title)
                ax.set_xlabel(self.feature_names[0])
                ax.set_aspect("equal", adjustable="box")
            axes[0].set_ylabel(self.feature_names[1])
            self.colorbar_ = None
        else:
            rows = min(max_rows, self.reference.shape[0])
            fig, axes = self._axes(axes, plt, dict(sharey=True, figsize=figsize or (
                min(4 + 0.35 * d, 14), 4.5)))
            vmax = max(np.abs(self.reference[:rows]).max(), np.abs(self.optimized[:rows]).max())
            vmax = vmax if vmax > 0 else 1.0
            self.artists_ = []
            for ax, E, title in zip(axes, (self.reference, self.optimized), self.labels):
                self.artists_.append(ax.imshow(E[:rows], cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                                               aspect="auto", interpolation="nearest"))
                ax.set_title(title)
                ax.set_xticks(np.arange(d), self.feature_names, rotation=90 if d > 6 else 0)
                ax.set_xlabel("feature")
            axes[0].set_ylabel(f"row (first {rows})")
            self.colorbar_ = fig.colorbar(self.artists_[0], ax=list(axes), shrink=0.9)
            self.colorbar_.set_label("attribution")
        self.axes_, self.figure_, self.kind_ = np.asarray(axes), fig, kind
        return self

    @staticmethod
    def _axes(axes, plt, options):
        """The two panels: the caller's, or a new figure's."""
        if axes is None:
            return plt.subplots(1, 2, layout="constrained", **options)
        axes = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(axes) != 2 or not all(hasattr(ax, "quiver") for ax in axes):
            raise TypeError("axes must be two matplotlib Axes (base, optimised) or None.")
        return axes[0].figure, axes
