"""RelEx and gradient explanations of adversarial digits (Lim, Lee & Kim).

Trains an MLP on scikit-learn's 8x8 digits, attacks 100 correctly
classified test digits with PGD (l_inf, several eps), explains the clean and
the adversarial digits with RelEx, SmoothGrad, Integrated Gradients,
Gradient x Input and Gradient (as masks in [0, 1]), and prints

* on clean digits: deletion, preservation and their harmonic combination R,
  and how often a mask asked for a *wrong* class produces that class;
* under attack: the class retrieval rate of ``m_adv * x_adv`` (mask of the
  predicted class, or of the clean class when it is given) and of
  ``m_0 * x_adv`` (the clean digit's mask);

then draws the masks of a few digits, clean and attacked (eps = 0.2).

    python examples/plot_relex.py [--quick] [--out DIR]

The figure needs matplotlib (``pip install 'skexplain[plot]'``).
"""

import argparse
import os

from skexplain.reproduction import (
    RELEX_ATTACK_COLUMNS,
    RELEX_CLEAN_COLUMNS,
    explain_as_masks,
    format_table,
    load_digits_problem,
    relex_methods,
    run_relex,
)
from skexplain.utils._optional import import_optional


def plot(res, out, eps=0.2, n_digits=4):
    plt = import_optional("matplotlib.pyplot", "plot")
    mlp = load_digits_problem()[0]
    methods = relex_methods(mlp)
    X, X_adv = res["X"][:n_digits], res["X_adv"][eps][:n_digits]
    cols = ["input"] + list(methods)
    fig, axes = plt.subplots(2 * n_digits, len(cols), figsize=(1.6 * len(cols), 3.2 * n_digits))
    for block, (P, tag) in enumerate([(X, "clean"), (X_adv, f"PGD eps={eps}")]):
        masks = {k: explain_as_masks(e, P, "predicted", X_fit=res["X"]) for k, e in
                 methods.items()}
        pred = mlp.predict(P)
        for i in range(n_digits):
            row = axes[block * n_digits + i]
            row[0].imshow(P[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            row[0].set_title(f"{tag}: pred {pred[i]}", fontsize=7)
            for ax, k in zip(row[1:], methods):
                m = masks[k][i]
                ax.imshow(m.reshape(8, 8), cmap="viridis", vmin=0, vmax=1)
                kept = mlp.predict((m * P[i])[None])[0]
                ax.set_title(f"{k[:10]}: m*x -> {kept}", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    path = os.path.join(out, "relex_digits.png")
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 digits, 2 eps")
    parser.add_argument("--out", default=".", help="directory for the figure")
    args = parser.parse_args(argv)
    kw = dict(eps=(0.1, 0.2), n_points=30, n_noise=20, n_iter=30) if args.quick else {}
    res = run_relex(**kw)
    print(f"MLP test accuracy {res['accuracy']:.3f}\n")
    print(format_table(res["clean"], RELEX_CLEAN_COLUMNS))
    print()
    print(format_table(res["attack"], RELEX_ATTACK_COLUMNS))
    try:
        plot(res, args.out, eps=0.2 if 0.2 in res["X_adv"] else max(res["X_adv"]))
    except ImportError as exc:
        print(exc)


if __name__ == "__main__":
    main()
