"""Agreement rates of explanations optimised for different robustness losses.

Reproduces Figure 1 / Figure 3 of Raedler et al.: on the grid of
``[-5, 5]^D`` (N = 81, 125, 81 for D = 2, 3, 4), for each Table 1 function
and each valid radius ``u``, explanations are optimised for each robustness
loss under the same faithfulness budget ``eta = 0.2 L_max``, and the
fraction of points whose most important feature agrees across the three
explanation sets is reported, beside the tie-aware numbers.
"""


from ..datasets import TEST_FUNCTIONS, make_paper_problem, valid_radii
from ..metrics import ROBUSTNESS_METRICS, agreement_rate
from ..exceptions import InaccurateSolutionWarning
from ..optimize._path import _path_and_records
from ..optimize._result import WarningRecord, emit_warnings
from ._table import collect_rows, format_table

__all__ = ["run_agreement", "format_agreement_table"]


def _agreement_row(D, name, u, X, G, metrics, eta_frac, top_k, faithfulness, solver):
    """Worker: one (D, function, u) row, all robustness losses. The solver's
    warnings are not emitted here (one per cell, from every worker): the
    row's ``status`` names the losses whose solve was inaccurate, and
    :func:`run_agreement` warns once for the whole table."""
    sets, fit_time, solve_time, inaccurate = [], 0.0, 0.0, []
    for metric in metrics:
        _, path = _path_and_records(X, G, [eta_frac], u=u, robustness=metric,
                                    faithfulness=faithfulness, solver=solver)
        sets.append(path.explanations[0])
        fit_time += path.total_time
        solve_time += float(path.solve_time.sum())
        if path.status[0] != "optimal":
            inaccurate.append(f"{metric} {path.status[0]}")
    res = agreement_rate(sets, top_k=top_k)
    return {
        "D": D, "function": name, "u": u, "N": X.shape[0],
        "rate": res.rate, "n_tied": res.n_tied,
        "rate_untied": res.rate_untied,
        "rate_tolerant": res.rate_tolerant,
        "fit_time": fit_time, "solve_time": solve_time,
        "status": "; ".join(inaccurate) if inaccurate else "optimal",
    }


def run_agreement(dims=(2, 3, 4), functions=None, radii=None, *,
                  metrics=ROBUSTNESS_METRICS, eta_frac=0.2, top_k=1,
                  faithfulness="global", solver="auto", n_jobs=None, verbose=0,
                  progress=None):
    """Compute the agreement-rate table.

    Parameters
    ----------
    dims : sequence of int, default=(2, 3, 4)
        Input dimensions D (the paper's grids exist for 1..4).
    functions : sequence of str, optional
        Table 1 function names; default all five.
    radii : sequence of float, optional
        Radii to try; each is used only where every grid point has a
        neighbour within it (default: the paper's {1, 2, 3, 5, 10}).
    metrics : sequence of str
        Robustness losses whose explanations are compared.
    eta_frac : float, default=0.2
        Faithfulness budget as a fraction of ``L_max``.
    top_k : int, default=1
        Number of top features that must agree.
    faithfulness : {"global", "pointwise"}
        Faithfulness constraint of the optimiser.
    solver : str
        Solver for :class:`~skexplain.OptimizedExplainer`.
    n_jobs : int or None, default=None
        Joblib workers, one (D, function, u) row per task. The rows do not
        depend on it (timings aside).
    verbose : int, default=0
        ``> 0``: a tqdm progress bar over the rows (extra ``progress``).
    progress : callable, optional
        Called with each finished row, in order (e.g. to print it).

    Returns
    -------
    rows : list of dict
        One row per (D, function, u) with ``rate`` (paper-style),
        ``n_tied``, ``rate_untied``, ``rate_tolerant``, timings
        ``fit_time`` (all fits of the row) and ``solve_time`` (solver only),
        and ``status``: ``"optimal"``, or the losses whose solve ended
        inaccurate (then one :class:`~skexplain.exceptions.InaccurateSolutionWarning`
        names those cells, once for the table).

    Examples
    --------
    On the paper's 9 x 9 grid, x^2 with u = 10: the most important feature
    agrees on 81.5 % of the points, and on every point without a tie:

    >>> from skexplain.reproduction import run_agreement
    >>> row = run_agreement(dims=(2,), functions=["x2"], radii=[10.0])[0]
    >>> round(row["rate"], 3), row["n_tied"], row["rate_untied"]
    (0.815, 17, 1.0)
    """
    functions = list(TEST_FUNCTIONS) if functions is None else list(functions)
    tasks = []
    for D in dims:
        for name in functions:
            X, G = make_paper_problem(name, D)
            us = valid_radii(X) if radii is None else valid_radii(X, radii)
            tasks += [(D, name, u, X, G, tuple(metrics), eta_frac, top_k, faithfulness, solver)
                      for u in us]
    rows = collect_rows(_agreement_row, tasks, n_jobs, verbose, "agreement", progress)
    bad = [r for r in rows if r["status"] != "optimal"]
    if bad:
        cells = ", ".join(f"D={r['D']} {r['function']} u={r['u']:g} ({r['status']})"
                          for r in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        emit_warnings([WarningRecord(
            InaccurateSolutionWarning,
            f"{len(bad)} of {len(rows)} cells ended with an inaccurate solver status: "
            f"{cells}{more} (the table's status column); their explanations meet the "
            "budget but may miss the optimum. Re-run with another solver=.")], stacklevel=2)
    return rows


_COLUMNS = [
    ("D", "D", "{:d}"), ("function", "function", "{}"), ("u", "u", "{:g}"),
    ("N", "N", "{:d}"), ("rate", "agreement", "{:.3f}"),
    ("n_tied", "tied pts", "{:d}"), ("rate_untied", "agr. untied", "{:.3f}"),
    ("rate_tolerant", "agr. tie-tolerant", "{:.3f}"),
    ("fit_time", "fit s", "{:.2f}"), ("solve_time", "solve s", "{:.2f}"),
    ("status", "solver status", "{}"),
]


def format_agreement_table(rows):
    """Format rows of :func:`run_agreement` as a Markdown table.

    Parameters
    ----------
    rows : list of dict
        From :func:`run_agreement`.

    Returns
    -------
    table : str
        Markdown, one line per (D, function, u).

    Examples
    --------
    >>> from skexplain.reproduction import format_agreement_table, run_agreement
    >>> rows = run_agreement(dims=(2,), functions=["x2"], radii=[10.0])
    >>> print(format_agreement_table(rows).splitlines()[2][:49])   # timings follow
    | 2 | x2 | 10 | 81 | 0.815 | 17 | 1.000 | 1.000 |
    """
    return format_table(rows, _COLUMNS)
