"""SmoothGrad and C-LIME converge to the same explanation (Agarwal et al.).

Trains the paper's MLP (two hidden layers of 10 tanh units) on the simulated
two-Gaussian data and on scikit-learn's breast-cancer data, then prints and
plots, versus the number of perturbations n and for sigma^2 in {0.01, 0.1, 1}:

* the mean L1 distance between SmoothGrad and C-LIME explanations;
* the robustness of each: mean over test points of the max L1 distance to
  the explanations of 10 neighbours x' ~ N(x, 0.01 I).

    python examples/plot_smoothgrad_clime.py [--quick] [--out DIR]

The plot needs matplotlib (``pip install 'skexplain[plot]'``); without it the
tables are printed only.
"""

import argparse
import os

from skexplain.reproduction import EQUIVALENCE_COLUMNS, format_table, run_equivalence
from skexplain.utils._optional import import_optional


def plot(rows, out):
    plt = import_optional("matplotlib.pyplot", "plot")
    datasets = sorted({r["dataset"] for r in rows})
    fig, axes = plt.subplots(len(datasets), 3, figsize=(13, 3.6 * len(datasets)), squeeze=False)
    for i, ds in enumerate(datasets):
        for s2 in sorted({r["sigma2"] for r in rows}):
            sub = [r for r in rows if r["dataset"] == ds and r["sigma2"] == s2]
            n = [r["n"] for r in sub]
            for j, key in enumerate(("l1_gap", "robustness_sg", "robustness_clime")):
                axes[i, j].plot(n, [r[key] for r in sub], marker="o", label=f"σ²={s2:g}")
        for j, title in enumerate(("L1(SmoothGrad, C-LIME)", "robustness SmoothGrad",
                                   "robustness C-LIME")):
            axes[i, j].set(xscale="log", yscale="log", xlabel="perturbations n",
                           title=f"{ds}: {title}")
            axes[i, j].legend()
    fig.tight_layout()
    path = os.path.join(out, "smoothgrad_clime.png")
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sigma^2 = 1, n in {10, 100, 1000}")
    parser.add_argument("--out", default=".", help="directory for the figure")
    args = parser.parse_args(argv)
    n_grid = (10, 100, 1000) if args.quick else (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    s2 = (1.0,) if args.quick else (0.01, 0.1, 1.0)
    rows = run_equivalence(sigma2s=s2, n_perturbations=n_grid)
    print(format_table(rows, EQUIVALENCE_COLUMNS))
    try:
        plot(rows, args.out)
    except ImportError as exc:
        print(exc)


if __name__ == "__main__":
    main()
