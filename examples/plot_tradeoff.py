"""SmoothGrad's robustness/faithfulness trade-off (Tan & Tian).

Sweeps SmoothGrad's noise level sigma over a log grid on the staircase
function of their section 5.2 and on an MLP trained on the breast-cancer
data, and prints and plots the local Lipschitz estimate (robustness, lower
is more robust) and the marginal faithfulness (distance ||phi - p|| to the
marginal contributions with reference 0, lower is more faithful).

    python examples/plot_tradeoff.py [--quick] [--out DIR]

The plot needs matplotlib (``pip install 'skexplain[plot]'``).
"""

import argparse
import os

from skexplain.reproduction import TRADEOFF_COLUMNS, format_table, run_tradeoff
from skexplain.utils._optional import import_optional


def plot(rows, out):
    plt = import_optional("matplotlib.pyplot", "plot")
    settings = list(dict.fromkeys(r["setting"] for r in rows))
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
    path = os.path.join(out, "tradeoff.png")
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four values of sigma")
    parser.add_argument("--out", default=".", help="directory for the figure")
    args = parser.parse_args(argv)
    rows = run_tradeoff(sigmas=[0.01, 0.1, 1.0, 10.0] if args.quick else None)
    print(format_table(rows, TRADEOFF_COLUMNS))
    try:
        plot(rows, args.out)
    except ImportError as exc:
        print(exc)


if __name__ == "__main__":
    main()
