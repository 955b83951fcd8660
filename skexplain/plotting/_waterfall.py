"""One row's attributions as steps from the base value to the output."""

import numpy as np

from ._base import (NEGATIVE, POSITIVE, check_explanation, check_max_display, names_of,
                    new_axes, one_output)

__all__ = ["WaterfallDisplay"]


class WaterfallDisplay:
    """Waterfall plot of one row: each feature's attribution as a step.

    The steps start at the base value (``E[f]`` for SHAP values, the
    model at the baseline for Integrated Gradients, 0 for a method without
    one) and add the attributions, largest absolute attribution at the top, so the
    last step ends at ``base + sum(attributions)`` (``f(x)`` for methods with
    efficiency). Past ``max_display`` steps the smallest are summed into one.

    Parameters
    ----------
    values : ndarray of shape (n_features,)
        The row's attributions.
    feature_names : list of str
        One name per feature.
    base_value : float or None, default=None
        Where the steps start (``None``: 0, labelled as such).
    data : ndarray of shape (n_features,) or None, default=None
        The row's feature values (shown beside the names).
    method : str or None, default=None
        The explainer's name, for the title.

    Attributes
    ----------
    bars_ : matplotlib.container.BarContainer
        One bar per step, top first.
    labels_ : list of str
        The step labels, top first.
    start_, end_ : float
        The base value and ``base + sum(values)``.
    ax_ : matplotlib.axes.Axes
        The axes drawn on.
    figure_ : matplotlib.figure.Figure
        Its figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.explainers import Explanation
    >>> from skexplain.plotting import WaterfallDisplay
    >>> e = Explanation(np.array([[1.0, -3.0, 0.5]]), base_values=np.array([2.0]))
    >>> disp = WaterfallDisplay.from_explanation(e, index=0)
    >>> disp.labels_, disp.end_
    (['x1', 'x0', 'x2'], 0.5)
    >>> [(float(b.get_x()), float(b.get_width())) for b in disp.bars_]
    [(3.5, -3.0), (2.5, 1.0), (2.0, 0.5)]
    """

    def __init__(self, values, feature_names, *, base_value=None, data=None, method=None):
        self.values = np.asarray(values, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.base_value = base_value
        self.data = None if data is None else np.asarray(data, dtype=np.float64)
        self.method = method

    @classmethod
    def from_explanation(cls, explanation, index=0, *, output=None, max_display=10, ax=None):
        """Plot one row of an explanation.

        Parameters
        ----------
        explanation : Explanation
            From ``explainer.explain(X)``; or one row of it, ``e[i]``.
        index : int, default=0
            The row (ignored when ``explanation`` is already one row).
        output : int or str, optional
            Which output of a multi-output explanation.
        max_display : int, default=10
            Most steps; the smallest are summed into one.
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.

        Returns
        -------
        display : WaterfallDisplay
            With the drawn artists as attributes.
        """
        explanation = one_output(check_explanation(explanation, "WaterfallDisplay"), output,
                                 "WaterfallDisplay")
        if explanation.axes[0] == "samples":
            n = explanation.shape[0]
            if not -n <= index < n:
                raise IndexError(f"index={index} is out of range for {n} rows.")
            explanation = explanation[index]
        base = None if explanation.base_values is None else float(explanation.base_values)
        disp = cls(explanation.values, names_of(explanation, explanation.shape[0]),
                   base_value=base, data=explanation.data, method=explanation.method)
        return disp.plot(ax=ax, max_display=max_display)

    @classmethod
    def from_estimator(cls, explainer, x, *, output=None, max_display=10, ax=None):
        """Explain one row with a fitted explainer and draw its waterfall.

        Parameters
        ----------
        explainer : fitted explainer
            Any skexplain explainer (it needs ``explain``).
        x : array-like of shape (n_features,) or (1, n_features)
            The row.
        output : int or str, optional
            Which output of a multi-output explainer.
        max_display : int, default=10
            Most steps.
        ax : matplotlib Axes, optional
            Where to draw.

        Returns
        -------
        display : WaterfallDisplay
            With the drawn artists as attributes.
        """
        x = x if hasattr(x, "iloc") else np.asarray(x)
        if getattr(x, "ndim", 2) == 1:
            x = x.reshape(1, -1)
        if x.shape[0] != 1:
            raise ValueError(f"x must be one row; got {x.shape[0]} rows.")
        return cls.from_explanation(explainer.explain(x), 0, output=output,
                                    max_display=max_display, ax=ax)

    def plot(self, ax=None, *, max_display=10):
        """Draw the steps.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.
        max_display : int, default=10
            Most steps; the smallest are summed into one.

        Returns
        -------
        display : WaterfallDisplay
            ``self``, with the artists set.
        """
        max_display = check_max_display(max_display)
        v = self.values
        order = np.argsort(-np.abs(v), kind="stable")
        labels = []
        for j in order:
            name = self.feature_names[j]
            labels.append(name if self.data is None else f"{name} = {self.data[j]:.4g}")
        steps = v[order]
        if order.size > max_display:
            keep = max_display - 1
            labels = labels[:keep] + [f"{order.size - keep} other features"]
            steps = np.r_[steps[:keep], steps[keep:].sum()]
        start = 0.0 if self.base_value is None else float(self.base_value)
        # drawn from the bottom (smallest step) up, so the top bar ends at the output
        lefts = start + np.r_[0.0, np.cumsum(steps[::-1])[:-1]][::-1]
        fig, ax = new_axes(ax)
        y = np.arange(steps.size)[::-1]
        colours = [POSITIVE if s > 0 else NEGATIVE for s in steps]
        self.bars_ = ax.barh(y, steps, left=lefts, color=colours, height=0.7)
        end = start + steps.sum()
        span = max(np.abs(np.r_[lefts, lefts + steps] - start).max(), 1e-12)
        for yi, left, s in zip(y, lefts, steps):
            ax.text(left + s + np.sign(s or 1) * 0.01 * span, yi, f"{s:+.3g}",
                    va="center", ha="left" if s >= 0 else "right", fontsize=8)
        ax.axvline(start, color="0.5", lw=0.8, ls="--")
        ax.axvline(end, color="0.2", lw=0.8)
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.7, steps.size - 0.3)
        lo, hi = min(lefts.min(), (lefts + steps).min()), max(lefts.max(), (lefts + steps).max())
        pad = 0.15 * (hi - lo if hi > lo else 1.0)
        ax.set_xlim(lo - pad, hi + pad)
        base_name = "base value" if self.base_value is not None else "0 (no base value)"
        ax.set_xlabel(f"{base_name} {start:.4g}  \N{RIGHTWARDS ARROW}  base + sum of "
                      f"attributions {end:.4g}")
        if self.method:
            ax.set_title(f"{self.method}: one row", loc="left", fontsize=10)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        self.labels_, self.start_, self.end_ = labels, start, float(end)
        self.ax_, self.figure_ = ax, fig
        return self
