"""Figures of the reproductions (matplotlib, the ``plot`` extra).

Each function takes what the matching ``run_*`` function returned and
returns a :class:`matplotlib.figure.Figure`; saving is the caller's
business (the command line writes PNG files, the gallery shows them).
"""

from ..utils._optional import import_optional

__all__ = ["plot_agreement", "plot_equivalence", "plot_relex", "plot_tradeoff"]


def _pyplot():
    return import_optional("matplotlib.pyplot", "plot")


def _unique(values):
    return list(dict.fromkeys(values))


def plot_agreement(rows):
    """Agreement rate against the radius ``u``, one panel per dimension D.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`run_agreement`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (extra ``plot``).

    Examples
    --------
    >>> from skexplain.reproduction import plot_agreement
    >>> rows = [{"D": 2, "function": "x2", "u": u, "rate": r}
    ...         for u, r in ((2.0, 0.8), (5.0, 0.9))]
    >>> fig = plot_agreement(rows)
    >>> [ax.get_title() for ax in fig.axes], fig.axes[0].get_lines()[0].get_ydata().tolist()
    (['D = 2'], [0.8, 0.9])
    """
    plt = _pyplot()
    dims = _unique(r["D"] for r in rows)
    fig, axes = plt.subplots(1, len(dims), figsize=(4.2 * len(dims) + 1.6, 3.6), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, D in zip(axes[0], dims):
        for i, name in enumerate(_unique(r["function"] for r in rows)):
            sub = [r for r in rows if r["D"] == D and r["function"] == name]
            if sub:
                ax.plot([r["u"] for r in sub], [r["rate"] for r in sub], "o-", color=f"C{i}",
                        label=name)
        ax.set(xlabel="radius u", title=f"D = {D}", ylim=(-0.02, 1.02))
    axes[0, 0].set_ylabel("top-feature agreement rate")
    _legend_outside(fig, axes[0, 0], title="function")
    return fig


def _legend_outside(fig, ax, title=None):
    """One legend for the figure, right of the panels (never over the data)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right upper", title=title, fontsize=8,
                   frameon=False)


def _note_missing(ax, xs, what):
    """Say in a panel's x label which x values have no value (NaN) and why."""
    if xs:
        ax.set_xlabel(f"{ax.get_xlabel()}\n(no value at {', '.join(f'{x:g}' for x in xs)}: "
                      f"{what})", fontsize=8)


def plot_equivalence(rows):
    """Plot SmoothGrad vs C-LIME against the number of perturbations.

    The L1 gap and both robustness measures, one row of panels per dataset.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`run_equivalence`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (extra ``plot``).

    Examples
    --------
    >>> from skexplain.reproduction import plot_equivalence
    >>> rows = [{"dataset": "toy", "sigma2": 1.0, "n": n, "l1_gap": 1 / n,
    ...          "robustness_sg": 0.3, "robustness_clime": 0.4} for n in (10, 100)]
    >>> fig = plot_equivalence(rows)
    >>> len(fig.axes), fig.axes[0].get_title()
    (3, 'toy: L1(SmoothGrad, C-LIME)')
    """
    import math

    plt = _pyplot()
    datasets = _unique(r["dataset"] for r in rows)
    fig, axes = plt.subplots(len(datasets), 3, figsize=(13.5, 3.9 * len(datasets)),
                             squeeze=False, layout="constrained")
    n_all = [r["n"] for r in rows]
    titles = ("L1(SmoothGrad, C-LIME)", "robustness SmoothGrad", "robustness C-LIME")
    ylabels = ("mean L1 distance", "mean max L1 change (neighbours)",
               "mean max L1 change (neighbours)")
    keys = ("l1_gap", "robustness_sg", "robustness_clime")
    for i, ds in enumerate(datasets):
        for c, s2 in enumerate(_unique(r["sigma2"] for r in rows)):
            sub = [r for r in rows if r["dataset"] == ds and r["sigma2"] == s2]
            for j, key in enumerate(keys):
                axes[i, j].plot([r["n"] for r in sub], [r[key] for r in sub], marker="o",
                                color=f"C{c}", label=f"σ² = {s2:g}")
        for j, title in enumerate(titles):
            axes[i, j].set(xscale="log", yscale="log", xlabel="perturbations n",
                           ylabel=ylabels[j], title=f"{ds}: {title}",
                           xlim=(min(n_all) / 1.5, max(n_all) * 1.5))
            missing = sorted({r["n"] for r in rows if r["dataset"] == ds
                              and math.isnan(r[keys[j]])})
            _note_missing(axes[i, j], missing,
                          "C-LIME needs more perturbations than features")
    _legend_outside(fig, axes[0, 0], title="noise")
    return fig


def plot_tradeoff(rows):
    """Plot SmoothGrad's local Lipschitz estimate and faithfulness distance against sigma.

    The distance is to the marginal contributions; one panel per setting.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`run_tradeoff`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (extra ``plot``).

    Examples
    --------
    >>> from skexplain.reproduction import plot_tradeoff
    >>> rows = [{"setting": "staircase", "sigma": s, "local_lipschitz": 1 / s,
    ...          "distance": s} for s in (0.1, 1.0)]
    >>> fig = plot_tradeoff(rows)
    >>> fig.axes[0].get_title(), fig.axes[0].get_lines()[0].get_ydata().tolist()
    ('staircase', [10.0, 1.0])
    """
    plt = _pyplot()
    settings = _unique(r["setting"] for r in rows)
    fig, axes = plt.subplots(2, len(settings), figsize=(5.5 * len(settings), 6), squeeze=False,
                             sharex="col", layout="constrained")
    for k, name in enumerate(settings):
        sub = [r for r in rows if r["setting"] == name]
        s = [r["sigma"] for r in sub]
        top, bottom = axes[0, k], axes[1, k]
        top.plot(s, [r["local_lipschitz"] for r in sub], "o-", color="C0")
        top.set(xscale="log", title=name, ylabel="local Lipschitz estimate\n(lower: more robust)")
        bottom.plot(s, [r["distance"] for r in sub], "s-", color="C1")
        bottom.set(xscale="log", xlabel="SmoothGrad noise σ",
                   ylabel="‖φ − p‖ to marginal contributions\n(lower: more faithful)")
    return fig


def plot_relex(result):
    """Class retrieval under attack against eps, one line per method.

    Parameters
    ----------
    result : dict
        Output of :func:`run_relex`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (extra ``plot``).

    Examples
    --------
    >>> from skexplain.reproduction import plot_relex
    >>> rows = [{"method": "RelEx", "eps": e, "retrieval_predicted": 1 - e,
    ...          "retrieval_clean_mask": 1.0} for e in (0.1, 0.3)]
    >>> fig = plot_relex({"attack": rows})
    >>> fig.axes[0].get_lines()[0].get_ydata().tolist()
    [0.9, 0.7]
    """
    plt = _pyplot()
    rows = result["attack"]
    keys = (("retrieval_predicted", "m_adv (predicted class)"),
            ("retrieval_clean_mask", "m_0 * x_adv"))
    fig, axes = plt.subplots(1, len(keys), figsize=(12.5, 3.8), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, (key, title) in zip(axes[0], keys):
        for name in _unique(r["method"] for r in rows):
            sub = [r for r in rows if r["method"] == name]
            ax.plot([r["eps"] for r in sub], [r[key] for r in sub], "o-", label=name)
        ax.set(xlabel="PGD eps (l_inf)", title=f"retrieval: {title}", ylim=(-0.02, 1.02))
    axes[0, 0].set_ylabel("class retrieval rate")
    _legend_outside(fig, axes[0, 0], title="method")
    return fig
