"""The command line: ``skexplain reproduce agreement|equivalence|tradeoff|relex|all``.

``python -m skexplain`` and the ``skexplain`` console script both call
:func:`main`. With no arguments it runs the agreement-rate reproduction
with its defaults; everything is computed from data the package makes or
scikit-learn ships (nothing is downloaded).
"""

import argparse
import importlib.util
import os
import sys
import time
from dataclasses import dataclass, field

from . import __version__

__all__ = ["main"]

EXPERIMENTS = ("agreement", "equivalence", "tradeoff", "relex")


@dataclass
class Report:
    """What one reproduction produced: Markdown-able tables and figures."""

    title: str
    tables: list = field(default_factory=list)    # (name, rows, columns)
    figures: list = field(default_factory=list)   # (name, callable -> Figure)
    lines: list = field(default_factory=list)     # extra lines printed first
    timing: str = ""                              # printed with the total time


def _agreement(args, verbose):
    from .reproduction import plot_agreement, run_agreement
    from .reproduction._agreement import _COLUMNS

    dims = (2,) if args.quick and args.dims is None else tuple(args.dims or (2, 3, 4))
    rows = run_agreement(dims=dims, eta_frac=args.eta_frac, solver=args.solver,
                         faithfulness=args.faithfulness, n_jobs=args.n_jobs, verbose=verbose)
    fit = sum(r["fit_time"] for r in rows)
    solve = sum(r["solve_time"] for r in rows)
    return Report(
        f"Agreement of the top feature across max-sensitivity, local-stability and "
        f"average-sensitivity explanations, eta = {args.eta_frac} L_max, D = {dims} "
        f"(Raedler et al., Fig. 1 and 3). The paper's grids have no randomness: "
        f"--seed does not apply.",
        tables=[("agreement", rows, _COLUMNS)],
        figures=[("agreement", lambda: plot_agreement(rows))],
        timing=f"fit {fit:.1f} s in total, of which solver {solve:.1f} s",
    )


def _equivalence(args, verbose):
    from .reproduction import EQUIVALENCE_COLUMNS, plot_equivalence, run_equivalence

    n_grid = (10, 100, 1000) if args.quick else (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    s2 = (1.0,) if args.quick else (0.01, 0.1, 1.0)
    rows = run_equivalence(sigma2s=s2, n_perturbations=n_grid, random_state=args.seed,
                           n_jobs=args.n_jobs, verbose=verbose)
    return Report(
        "SmoothGrad vs C-LIME on an MLP (Agarwal et al., Figs. 2-4): mean L1 gap and "
        "robustness (max L1 distance to 10 neighbours' explanations) vs perturbations.",
        tables=[("equivalence", rows, EQUIVALENCE_COLUMNS)],
        figures=[("equivalence", lambda: plot_equivalence(rows))],
    )


def _tradeoff(args, verbose):
    from .reproduction import TRADEOFF_COLUMNS, plot_tradeoff, run_tradeoff

    quick = dict(sigmas=[0.01, 0.1, 1.0, 10.0], max_points=10, n_samples=300)
    rows = run_tradeoff(**(quick if args.quick else {}), random_state=args.seed,
                        n_jobs=args.n_jobs, verbose=verbose)
    return Report(
        "SmoothGrad's robustness/faithfulness trade-off (Tan & Tian, section 5.2 and "
        "Fig. 1c): local Lipschitz and marginal faithfulness vs sigma.",
        tables=[("tradeoff", rows, TRADEOFF_COLUMNS)],
        figures=[("tradeoff", lambda: plot_tradeoff(rows))],
    )


def _relex(args, verbose):
    from .reproduction import (
        RELEX_ATTACK_COLUMNS,
        RELEX_CLEAN_COLUMNS,
        RELEX_EPS,
        plot_relex,
        run_relex,
    )

    kw = (dict(eps=(0.1, 0.3), n_points=30, n_noise=20, n_iter=30) if args.quick
          else dict(eps=RELEX_EPS))
    res = run_relex(**kw, random_state=args.seed, n_jobs=args.n_jobs, verbose=verbose)
    return Report(
        "RelEx vs gradient explanations on scikit-learn's 8x8 digits (Lim, Lee & Kim, "
        "section 4): class retrieval under PGD l_inf attacks, deletion/preservation.",
        tables=[("relex_clean", res["clean"], RELEX_CLEAN_COLUMNS),
                ("relex_attack", res["attack"], RELEX_ATTACK_COLUMNS)],
        figures=[("relex", lambda: plot_relex(res))],
        lines=[f"MLP test accuracy {res['accuracy']:.3f}; {len(res['y'])} correctly "
               "classified test digits"],
    )


RUNNERS = {"agreement": _agreement, "equivalence": _equivalence,
           "tradeoff": _tradeoff, "relex": _relex}


def _write(report, out, stream):
    """Tables as CSV and Markdown, figures as PNG, in ``out``."""
    from .reproduction import format_table, write_csv

    os.makedirs(out, exist_ok=True)
    written = []
    for name, rows, columns in report.tables:
        write_csv(rows, columns, os.path.join(out, f"{name}.csv"))
        with open(os.path.join(out, f"{name}.md"), "w", encoding="utf-8") as f:
            f.write(format_table(rows, columns) + "\n")
        written += [f"{name}.csv", f"{name}.md"]
    if report.figures and importlib.util.find_spec("matplotlib") is None:
        print("figures skipped: they need matplotlib (pip install 'skexplain[plot]')",
              file=stream)
        return written
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name, make in report.figures:
        fig = make()
        fig.savefig(os.path.join(out, f"{name}.png"), dpi=110)
        plt.close(fig)
        written.append(f"{name}.png")
    return written


def _check_out(out):
    """Refuse an output directory that cannot be written, before any computation."""
    if out is None:
        return
    if not out.strip():
        raise ValueError("--out is empty: give a directory to write the tables into.")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out!r} is a file, not a directory.")
    parent = out if os.path.isdir(out) else os.path.dirname(os.path.abspath(out))
    while parent and not os.path.exists(parent):      # the nearest existing ancestor
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        raise ValueError(f"--out {out!r} cannot be created: {parent!r} is a file.")
    if not os.access(parent or ".", os.W_OK | os.X_OK):
        raise ValueError(f"--out {out!r} cannot be written ({parent!r} is not writable).")


def _reproduce(args):
    from .reproduction import format_table

    _check_out(args.out)

    names = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    progress = not args.no_progress and importlib.util.find_spec("tqdm") is not None
    stream = sys.stdout
    for name in names:
        t0 = time.perf_counter()
        report = RUNNERS[name](args, 1 if progress else 0)
        print(f"## {name}\n\n{report.title}\n", file=stream)
        for line in report.lines:
            print(line, file=stream)
        for table, rows, columns in report.tables:
            print(f"\n{table}:\n\n{format_table(rows, columns)}", file=stream)
        if args.out is not None:
            written = _write(report, args.out, stream)
            print(f"\nwritten to {args.out}: {', '.join(written)}", file=stream)
        extra = f" ({report.timing})" if report.timing else ""
        print(f"\n{name}: {time.perf_counter() - t0:.1f} s{extra}\n", file=stream, flush=True)
    return 0


def _positive_int(text):
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive number of workers or negative "
                                         "(-1: all cores), not 0")
    return value


def _fraction(text):
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1), got {text}")
    return value


def _solver_name(text):
    return "auto" if text.lower() == "auto" else text.upper()


def build_parser():
    """The argument parser (also used to document the command line)."""
    parser = argparse.ArgumentParser(
        prog="skexplain",
        description="Reproductions of the papers behind skexplain. With no arguments: "
                    "'reproduce agreement' with its defaults.",
    )
    parser.add_argument("--version", action="version", version=f"skexplain {__version__}")
    sub = parser.add_subparsers(dest="command")
    rep = sub.add_parser(
        "reproduce", help="run a paper reproduction",
        description="Run a paper reproduction and print its tables (Markdown). Nothing is "
                    "downloaded: the data are the papers' synthetic functions and "
                    "scikit-learn's bundled datasets.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    rep.add_argument("experiment", nargs="?", default="agreement",
                     choices=[*EXPERIMENTS, "all"],
                     help="agreement: top-feature agreement of optimised explanations "
                          "(Raedler et al.); equivalence: SmoothGrad vs C-LIME (Agarwal et "
                          "al.); tradeoff: SmoothGrad's robustness/faithfulness trade-off "
                          "(Tan & Tian); relex: RelEx under attack on digits (Lim et al.); "
                          "all: the four in turn")
    rep.add_argument("--out", metavar="DIR", default=None,
                     help="write each table as DIR/<name>.csv and DIR/<name>.md and each "
                          "figure as DIR/<name>.png (figures need the 'plot' extra)")
    rep.add_argument("--n-jobs", type=_positive_int, default=None,
                     help="joblib workers over the rows of a table (None: 1, -1: all "
                          "cores); the results do not depend on it")
    rep.add_argument("--seed", type=int, default=0,
                     help="random_state of every random step (models, noise, attacks); "
                          "the same seed gives the same tables")
    rep.add_argument("--quick", action="store_true",
                     help="a reduced grid that finishes in under a minute per experiment")
    rep.add_argument("--no-progress", action="store_true",
                     help="no tqdm progress bar (shown on stderr when tqdm is installed)")
    agr = rep.add_argument_group("agreement only")
    agr.add_argument("--dims", type=int, nargs="+", default=None, choices=[1, 2, 3, 4],
                     metavar="D", help="input dimensions D (default 2 3 4; --quick: 2)")
    agr.add_argument("--eta-frac", type=_fraction, default=0.2,
                     help="faithfulness budget as a fraction of L_max")
    from .optimize import BUDGETS, solver_names   # the registries

    agr.add_argument("--faithfulness", choices=sorted(BUDGETS), default="global",
                     help="faithfulness constraint")
    agr.add_argument("--solver", default="auto", type=_solver_name, choices=solver_names(),
                     help="solver of the optimised explanations (any case)")
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("reproduce", "-h", "--help", "--version"):
        argv = ["reproduce", *argv]          # the default command
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _reproduce(args)
    except (ImportError, ValueError, OSError) as exc:   # e.g. MOSEK without a licence
        parser.exit(2, f"skexplain: error: {exc}\n")
    except KeyboardInterrupt:                            # Ctrl-C: no traceback
        sys.stderr.write("\nskexplain: interrupted\n")
        return 130
