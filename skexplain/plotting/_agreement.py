"""Pairwise agreement of the top features of several explanation sets."""

import numpy as np

from ._base import new_axes

__all__ = ["AgreementDisplay"]

_KINDS = {"plain": "rate", "untied": "rate_untied", "tolerant": "rate_tolerant"}


class AgreementDisplay:
    """Heat map of the pairwise agreement rates of explanation sets.

    Cell ``(a, b)`` is :func:`skexplain.metrics.agreement_rate` of sets
    ``a`` and ``b`` (the fraction of points whose top-``k`` features agree).
    A cell without a value (``"untied"`` when every point is tied) is
    hatched and marked "n/a", and the caption says why.

    Parameters
    ----------
    rates : ndarray of shape (m, m)
        Pairwise agreement rates (NaN where undefined).
    names : list of str
        The sets' names.
    top_k : int, default=1
        The size of the compared top sets (for the label).
    kind : {"plain", "untied", "tolerant"}, default="plain"
        Which rate of :class:`~skexplain.metrics.AgreementResult` (for the label).

    Attributes
    ----------
    image_ : matplotlib.image.AxesImage
        The heat map.
    texts_ : ndarray of matplotlib.text.Text of shape (m, m)
        The cell labels.
    colorbar_ : matplotlib.colorbar.Colorbar
        The colour bar.
    ax_ : matplotlib.axes.Axes
        The axes drawn on.
    figure_ : matplotlib.figure.Figure
        Its figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.plotting import AgreementDisplay
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> sets = {"a": A, "b": A[:, ::-1], "c": A * 2}
    >>> disp = AgreementDisplay.from_explanations(sets)
    >>> disp.rates.tolist()
    [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    >>> disp.texts_[0, 1].get_text()
    '0.00'
    """

    def __init__(self, rates, names, *, top_k=1, kind="plain"):
        self.rates = np.asarray(rates, dtype=np.float64)
        self.names = [str(n) for n in names]
        self.top_k = top_k
        self.kind = kind

    @classmethod
    def from_explanations(cls, explanations, *, top_k=1, kind="plain", ax=None, **kwargs):
        """Compute the pairwise agreement rates and draw them.

        Parameters
        ----------
        explanations : dict of str to array-like or Explanation
            At least two explanation sets of the same points, by name.
        top_k : int, default=1
            Size of the top-feature set that must agree.
        kind : {"plain", "untied", "tolerant"}, default="plain"
            The plain rate, the rate over untied points, or the tie-tolerant
            rate (see :func:`~skexplain.metrics.agreement_rate`).
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.
        **kwargs : dict
            ``rtol``, ``atol`` of :func:`~skexplain.metrics.agreement_rate`.

        Returns
        -------
        display : AgreementDisplay
            With the drawn artists as attributes.
        """
        from ..metrics import agreement_rate

        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}; got {kind!r}.")
        if not isinstance(explanations, dict) or len(explanations) < 2:
            raise ValueError("explanations must be a dict of at least two named explanation "
                             "sets, e.g. {'gradient': G, 'optimised': E}.")
        names = list(explanations)
        sets = [np.asarray(explanations[k]) for k in names]
        m = len(sets)
        rates = np.ones((m, m))
        for a in range(m):
            for b in range(a + 1, m):        # m sets: m (m - 1) / 2 metric calls
                res = agreement_rate([sets[a], sets[b]], top_k=top_k, **kwargs)
                rates[a, b] = rates[b, a] = getattr(res, _KINDS[kind])
        return cls(rates, names, top_k=top_k, kind=kind).plot(ax=ax)

    def plot(self, ax=None, *, cmap="viridis"):
        """Draw the heat map.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default a new figure.
        cmap : str or Colormap, default="viridis"
            Colours from 0 to 1.

        Returns
        -------
        display : AgreementDisplay
            ``self``, with the artists set.
        """
        fig, ax = new_axes(ax)
        m = len(self.names)
        shown = np.ma.masked_invalid(self.rates)
        self.image_ = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=1.0)
        texts = np.empty((m, m), dtype=object)
        missing = ~np.isfinite(self.rates)
        for a in range(m):
            for b in range(m):
                if missing[a, b]:
                    ax.add_patch(_hatch(a, b))
                    label, colour = "n/a", "0.3"
                else:
                    v = self.rates[a, b]
                    label, colour = f"{v:.2f}", "white" if v < 0.6 else "black"
                texts[a, b] = ax.text(b, a, label, ha="center", va="center", color=colour,
                                      fontsize=9)
        self.texts_ = texts
        ax.set_xticks(np.arange(m), self.names, rotation=30, ha="right")
        ax.set_yticks(np.arange(m), self.names)
        what = {"plain": "", "untied": ", untied points", "tolerant": ", tie-tolerant"}
        self.colorbar_ = fig.colorbar(self.image_, ax=ax)
        self.colorbar_.set_label(f"agreement of the top-{self.top_k} features"
                                 f"{what[self.kind]}")
        if missing.any():
            ax.set_xlabel("n/a: no untied point to compare", fontsize=8)
        self.ax_, self.figure_ = ax, fig
        return self


def _hatch(a, b):
    from matplotlib.patches import Rectangle

    return Rectangle((b - 0.5, a - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.6",
                     lw=0)
