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
    fig, axes = plt.subplots(1, len(dims), figsize=(4.5 * len(dims), 3.6), squeeze=False,
                             sharey=True)
    for ax, D in zip(axes[0], dims):
        for name in _unique(r["function"] for r in rows if r["D"] == D):
            sub = [r for r in rows if r["D"] == D and r["function"] == name]
            ax.plot([r["u"] for r in sub], [r["rate"] for r in sub], "o-", label=name)
        ax.set(xlabel="radius u", title=f"D = {D}", ylim=(-0.02, 1.02))
    axes[0, 0].set_ylabel("top-feature agreement")
    axes[0, -1].legend(fontsize=8)
    fig.tight_layout()
    return fig


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
    plt = _pyplot()
    datasets = _unique(r["dataset"] for r in rows)
    fig, axes = plt.subplots(len(datasets), 3, figsize=(13, 3.6 * len(datasets)), squeeze=False)
    titles = ("L1(SmoothGrad, C-LIME)", "robustness SmoothGrad", "robustness C-LIME")
    for i, ds in enumerate(datasets):
        for s2 in _unique(r["sigma2"] for r in rows if r["dataset"] == ds):
            sub = [r for r in rows if r["dataset"] == ds and r["sigma2"] == s2]
            for j, key in enumerate(("l1_gap", "robustness_sg", "robustness_clime")):
                axes[i, j].plot([r["n"] for r in sub], [r[key] for r in sub], marker="o",
                                label=f"σ²={s2:g}")
        for j, title in enumerate(titles):
            axes[i, j].set(xscale="log", yscale="log", xlabel="perturbations n",
                           title=f"{ds}: {title}")
            axes[i, j].legend(fontsize=8)
    fig.tight_layout()
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
    fig, axes = plt.subplots(1, len(settings), figsize=(6 * len(settings), 4), squeeze=False)
    for ax, name in zip(axes[0], settings):
        sub = [r for r in rows if r["setting"] == name]
        s = [r["sigma"] for r in sub]
        ax.plot(s, [r["local_lipschitz"] for r in sub], "o-", label="local Lipschitz")
        ax.set(xscale="log", xlabel="σ", title=name)
        ax2 = ax.twinx()
        ax2.plot(s, [r["distance"] for r in sub], "s--", color="C1", label="||φ − p||")
        ax.legend(loc="upper left")
        ax2.legend(loc="upper right")
    fig.tight_layout()
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
    fig, axes = plt.subplots(1, len(keys), figsize=(11, 3.8), squeeze=False, sharey=True)
    for ax, (key, title) in zip(axes[0], keys):
        for name in _unique(r["method"] for r in rows):
            sub = [r for r in rows if r["method"] == name]
            ax.plot([r["eps"] for r in sub], [r[key] for r in sub], "o-", label=name)
        ax.set(xlabel="PGD eps (l_inf)", title=f"retrieval: {title}", ylim=(-0.02, 1.02))
    axes[0, 0].set_ylabel("class retrieval rate")
    axes[0, -1].legend(fontsize=8)
    fig.tight_layout()
    return fig
