"""Attribution against feature value, one row of dots per feature."""

import numpy as np

from ._base import (check_explanation, check_max_display, method_label, names_of, new_axes,
                    one_output)

__all__ = ["BeeswarmDisplay"]


def swarm_offsets(x, n_bins=100, width=0.4):
    """Vertical offsets that spread dots with close ``x`` (deterministic).

    Dots are binned along ``x``; inside a bin the i-th dot (in the order of
    ``x``) goes to ``+1, -1, +2, -2, ...`` steps, scaled so that the fullest
    bin spans ``[-width, width]``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return np.zeros(0)
    lo, hi = x.min(), x.max()
    span = hi - lo if hi > lo else 1.0
    b = np.minimum(((x - lo) / span * n_bins).astype(np.intp), n_bins - 1)
    order = np.lexsort((x, b))
    sb = b[order]
    first = np.r_[0, np.flatnonzero(np.diff(sb)) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, sb.size]))
    rank = np.arange(sb.size) - starts                       # rank inside the bin
    step = (rank + 1) // 2 * np.where(rank % 2 == 1, 1.0, -1.0)
    out = np.empty_like(x)
    out[order] = step
    biggest = max(np.abs(step).max(), 1.0)
    return out * (width / biggest)


class BeeswarmDisplay:
    """Beeswarm plot: every row's attribution of each feature, coloured by value.

    One horizontal band per feature (ordered by mean absolute attribution, largest
    at the top); each dot is one explained row, placed at its attribution
    and coloured by that row's feature value (from low, blue, to high, red;
    the 5th to 95th percentile of each feature spans the colour scale).
    Dots with close attributions are spread vertically.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features)
        Attributions.
    data : ndarray of shape (n_samples, n_features)
        The explained rows (the colours).
    feature_names : list of str
        One name per feature.
    method : str or None, default=None
        The explainer's name, for the axis label.

    Attributes
    ----------
    scatters_ : list of matplotlib.collections.PathCollection
        One per displayed feature, top first.
    order_ : ndarray of int
        Displayed feature indices, top first.
    colorbar_ : matplotlib.colorbar.Colorbar
        The feature-value colour bar.
    ax_ : matplotlib.axes.Axes
        The axes drawn on.
    figure_ : matplotlib.figure.Figure
        Its figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import Explanation
    >>> from skexplain.plotting import BeeswarmDisplay
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    >>> e = Explanation(X * [1.0, -3.0], data=X, feature_names=["a", "b"])
    >>> disp = BeeswarmDisplay.from_explanation(e)
    >>> disp.order_.tolist(), disp.scatters_[0].get_offsets()[:, 0].tolist()
    ([1, 0], [-3.0, -0.0, -6.0])
    """

    def __init__(self, values, data, feature_names, *, method=None):
        self.values = np.asarray(values, dtype=np.float64)
        self.data = np.asarray(data, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.method = method

    @classmethod
    def from_explanation(cls, explanation, *, output=None, max_display=10, ax=None):
        """Plot an explanation of several rows (it must hold their data).

        Parameters
        ----------
        explanation : Explanation
            From ``explainer.explain(X)``.
        output : int or str, optional
            Which output of a multi-output explanation.
        max_display : int, default=10
            Most features shown (by mean absolute attribution).
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        display : BeeswarmDisplay
            With the drawn artists as attributes.
        """
        explanation = one_output(check_explanation(explanation, "BeeswarmDisplay"), output,
                                 "BeeswarmDisplay")
        if explanation.axes != ("samples", "features"):
            raise ValueError("BeeswarmDisplay needs the explanations of several rows.")
        if explanation.data is None:
            raise ValueError("BeeswarmDisplay colours dots by feature value: the explanation "
                             "has no data (build it with data=X).")
        disp = cls(explanation.values, explanation.data,
                   names_of(explanation, explanation.shape[1]), method=explanation.method)
        return disp.plot(ax=ax, max_display=max_display)

    @classmethod
    def from_estimator(cls, explainer, X, *, output=None, max_display=10, ax=None):
        """Explain ``X`` with a fitted explainer and draw the beeswarm.

        Parameters
        ----------
        explainer : fitted explainer
            Any skexplain explainer (it needs ``explain``).
        X : array-like of shape (n_samples, n_features)
            Rows to explain.
        output : int or str, optional
            Which output of a multi-output explainer.
        max_display : int, default=10
            Most features shown.
        ax : matplotlib Axes, optional
            Where to draw.

        Returns
        -------
        display : BeeswarmDisplay
            With the drawn artists as attributes.
        """
        return cls.from_explanation(explainer.explain(X), output=output,
                                    max_display=max_display, ax=ax)

    def plot(self, ax=None, *, max_display=10, cmap="coolwarm"):
        """Draw the dots.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.
        max_display : int, default=10
            Most features shown (by mean absolute attribution).
        cmap : str or Colormap, default="coolwarm"
            Colours from low to high feature value.

        Returns
        -------
        display : BeeswarmDisplay
            ``self``, with the artists set.
        """
        max_display = check_max_display(max_display)
        order = np.argsort(-np.abs(self.values).mean(axis=0), kind="stable")[:max_display]
        fig, ax = new_axes(ax)
        lo = np.nanpercentile(self.data, 5, axis=0)
        hi = np.nanpercentile(self.data, 95, axis=0)
        same = hi <= lo
        lo = np.where(same, self.data.min(axis=0), lo)
        hi = np.where(same, self.data.max(axis=0), hi)
        span = np.where(hi > lo, hi - lo, 1.0)
        colour = np.clip((self.data - lo) / span, 0.0, 1.0)
        self.scatters_ = []
        n = order.size
        for pos, j in enumerate(order):
            y = (n - 1 - pos) + swarm_offsets(self.values[:, j])
            self.scatters_.append(ax.scatter(self.values[:, j], y, c=colour[:, j], cmap=cmap,
                                             vmin=0.0, vmax=1.0, s=12, linewidths=0,
                                             rasterized=self.values.shape[0] > 2000))
        ax.axvline(0.0, color="0.6", lw=0.8, zorder=0)
        ax.set_yticks(np.arange(n)[::-1], [self.feature_names[j] for j in order])
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlabel(f"{method_label(self.method)} (one dot per row)")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if self.scatters_:
            cb = fig.colorbar(self.scatters_[0], ax=ax, ticks=[0.0, 1.0], aspect=40,
                              pad=0.02)
            cb.set_ticklabels(["low", "high"])
            cb.set_label("feature value")
            cb.outline.set_visible(False)
            self.colorbar_ = cb
        self.order_, self.ax_, self.figure_ = order, ax, fig
        return self
