"""The agreement-rate reproduction (the command line: test_cli.py)."""

import numpy as np
import pytest

from skexplain.reproduction import format_agreement_table, run_agreement


def test_small_agreement_run():
    rows = run_agreement(dims=(2,), functions=["x3", "sin"], radii=(1.0, 2.0))
    # u = 1 is not valid on the D = 2 grid (spacing 1.25): only u = 2 runs
    assert [(r["function"], r["u"]) for r in rows] == [("x3", 2.0), ("sin", 2.0)]
    for r in rows:
        assert 0 <= r["rate"] <= 1 and 0 <= r["rate_tolerant"] <= 1
        assert r["rate"] <= r["rate_tolerant"]
        assert 0 < r["solve_time"] <= r["fit_time"]
    table = format_agreement_table(rows)
    assert table.count("\n") == 3 and "| 2 | x3 | 2 |" in table


def test_identical_metrics_agree_fully():
    rows = run_agreement(dims=(2,), functions=["sin"], radii=(2.0,),
                         metrics=["max_sensitivity", "max_sensitivity"])
    assert rows[0]["rate"] == 1.0


@pytest.mark.slow
def test_full_agreement_grid_shape_as_in_paper():
    """D = 2 mostly agrees (>= 0.8 in most cells); D = 4 is below 0.5 for x^3, sin x^3."""
    rows = run_agreement()
    d2 = [r["rate"] for r in rows if r["D"] == 2]
    assert np.mean(np.array(d2) >= 0.8) >= 0.5
    for r in rows:
        if r["D"] == 4 and r["function"] in ("x3", "sin_x3"):
            assert r["rate"] < 0.5


def test_reproduction_figures_label_every_axis_and_keep_legends_off_the_data():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skexplain.reproduction import plot_agreement, plot_equivalence, plot_tradeoff

    trade = plot_tradeoff([{"setting": s, "sigma": x, "local_lipschitz": 1 / x,
                            "distance": x} for s in ("a", "b") for x in (0.1, 1.0)])
    assert len(trade.axes) == 4                         # two rows, no twin axes
    assert all(ax.get_ylabel() for ax in trade.axes)
    nan = float("nan")
    eq = plot_equivalence([{"dataset": "bc", "sigma2": 1.0, "n": n, "l1_gap": g,
                            "robustness_sg": 0.5, "robustness_clime": g}
                           for n, g in ((10, nan), (100, 0.3))])
    labels = [ax.get_xlabel() for ax in eq.axes]
    assert "no value at 10: C-LIME needs more perturbations than features" in labels[0]
    assert "no value" not in labels[1] and all(ax.get_ylabel() for ax in eq.axes)
    agr = plot_agreement([{"D": D, "function": f, "u": u, "rate": 0.5}
                          for D in (2, 3) for f in ("x2", "sin") for u in (1.0, 2.0)])
    # one figure legend, outside the panels; no legend inside any panel
    assert len(agr.legends) == 1 and all(ax.get_legend() is None for ax in agr.axes)
    agr.canvas.draw()
    legend_box = agr.legends[0].get_window_extent()
    assert all(legend_box.x0 >= ax.get_window_extent().x1 for ax in agr.axes)
    plt.close("all")


def test_agreement_reports_inaccurate_cells_once_by_name():
    import warnings

    from skexplain.exceptions import InaccurateSolutionWarning
    from skexplain.optimize import PDHGSolver

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = run_agreement(dims=(2,), functions=["x2", "sin"], radii=[10.0],
                             solver=PDHGSolver(max_iter=2))
    inaccurate = [w for w in caught if issubclass(w.category, InaccurateSolutionWarning)]
    assert len(inaccurate) == 1 and len(caught) == 1
    msg = str(inaccurate[0].message)
    assert "2 of 2 cells" in msg and "D=2 x2 u=10" in msg and "D=2 sin u=10" in msg
    assert all("max_sensitivity optimal_inaccurate" in r["status"] for r in rows)
    assert "solver status" in format_agreement_table(rows).splitlines()[0]
    clean = run_agreement(dims=(2,), functions=["x2"], radii=[10.0])
    assert clean[0]["status"] == "optimal"
