"""Mean |attribution| per feature, as horizontal bars."""

import numpy as np

from ._base import check_explanation, check_max_display, method_label, names_of, new_axes

__all__ = ["AttributionBarDisplay"]


class AttributionBarDisplay:
    """Bar plot of the mean absolute attribution of each feature.

    The global importance of a set of local explanations: for each feature,
    ``mean_n |E_nj|``, largest at the top; past ``max_display`` features the
    rest are summed in one bar. A multi-output explanation stacks one bar
    segment per output. Build it with :meth:`from_explanation` or
    :meth:`from_estimator`; the attributes hold what was drawn.

    Parameters
    ----------
    importance : ndarray of shape (n_features,) or (n_features, n_outputs)
        Mean absolute attribution of each feature (and output).
    feature_names : list of str
        One name per feature.
    output_names : list or None, default=None
        Names of the outputs (legend of a stacked plot).
    method : str or None, default=None
        The explainer's name, for the axis label.

    Attributes
    ----------
    bars_ : list of matplotlib.container.BarContainer
        One container per output (one for a single output).
    order_ : ndarray of int
        Feature indices from the top bar down (``-1``: the "other features" bar).
    ax_ : matplotlib.axes.Axes
        The axes drawn on.
    figure_ : matplotlib.figure.Figure
        Its figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import Explanation
    >>> from skexplain.plotting import AttributionBarDisplay
    >>> e = Explanation(np.array([[1.0, -3.0], [-1.0, 1.0]]), feature_names=["a", "b"])
    >>> disp = AttributionBarDisplay.from_explanation(e)
    >>> [t.get_text() for t in disp.ax_.get_yticklabels()], disp.importance.tolist()
    (['b', 'a'], [1.0, 2.0])
    """

    def __init__(self, importance, feature_names, *, output_names=None, method=None):
        self.importance = np.asarray(importance, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.output_names = output_names
        self.method = method

    @classmethod
    def from_explanation(cls, explanation, *, max_display=10, ax=None):
        """Plot the mean absolute attribution per feature of an explanation.

        Parameters
        ----------
        explanation : Explanation
            Explanations of several rows (``explainer.explain(X)``).
        max_display : int, default=10
            Most bars; the other features are summed into one.
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        display : AttributionBarDisplay
            With the drawn artists as attributes.
        """
        explanation = check_explanation(explanation, "AttributionBarDisplay")
        if explanation.axes[0] != "samples":
            raise ValueError("AttributionBarDisplay needs the explanations of several rows; "
                             "got one row (use WaterfallDisplay for a single row).")
        values = explanation.values
        names = names_of(explanation, values.shape[1])
        outs = (None if "outputs" not in explanation.axes
                else [str(o) for o in explanation.output_names])
        disp = cls(np.abs(values).mean(axis=0), names, output_names=outs,
                   method=explanation.method)
        return disp.plot(ax=ax, max_display=max_display)

    @classmethod
    def from_estimator(cls, explainer, X, *, max_display=10, ax=None):
        """Explain ``X`` with a fitted explainer and plot the importances.

        Parameters
        ----------
        explainer : fitted explainer
            Any skexplain explainer (it needs ``explain``).
        X : array-like of shape (n_samples, n_features)
            Rows to explain.
        max_display : int, default=10
            Most bars.
        ax : matplotlib Axes, optional
            Where to draw.

        Returns
        -------
        display : AttributionBarDisplay
            With the drawn artists as attributes.
        """
        return cls.from_explanation(explainer.explain(X), max_display=max_display, ax=ax)

    def plot(self, ax=None, *, max_display=10):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.
        max_display : int, default=10
            Most bars; the other features are summed into one.

        Returns
        -------
        display : AttributionBarDisplay
            ``self``, with ``bars_``, ``order_``, ``ax_``, ``figure_`` set.
        """
        max_display = check_max_display(max_display)
        imp = self.importance if self.importance.ndim == 2 else self.importance[:, None]
        total = imp.sum(axis=1)
        order = np.argsort(-total, kind="stable")
        labels = [self.feature_names[j] for j in order]
        rows = imp[order]
        if order.size > max_display:
            keep = max_display - 1
            rest = rows[keep:].sum(axis=0, keepdims=True)
            labels = labels[:keep] + [f"sum of {order.size - keep} other features"]
            rows = np.vstack([rows[:keep], rest])
            order = np.r_[order[:keep], -1]
        fig, ax = new_axes(ax)
        y = np.arange(len(labels))[::-1]
        left = np.zeros(len(labels))
        self.bars_ = []
        for k in range(rows.shape[1]):
            label = None if self.output_names is None else str(self.output_names[k])
            self.bars_.append(ax.barh(y, rows[:, k], left=left, label=label,
                                      color=None if label else "#d62728"))
            left = left + rows[:, k]
        ax.set_yticks(y, labels)
        ax.set_xlabel(f"mean |{method_label(self.method)}|")
        ax.set_ylim(-0.6, len(labels) - 0.4)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if self.output_names is not None:
            ax.legend(title="output", loc="lower right", frameon=False)
        self.order_, self.ax_, self.figure_ = order, ax, fig
        return self
