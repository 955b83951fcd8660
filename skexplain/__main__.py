"""Command line: ``python -m skexplain [reproduce agreement|equivalence|tradeoff|relex]``.

With no arguments it runs the agreement-rate reproduction with its defaults.
"""

import argparse
import sys
import time


def _agreement(args):
    from .reproduction import format_agreement_table, run_agreement

    dims = tuple(args.dims)
    print(f"Agreement of the top feature across max-sensitivity, local-stability "
          f"and average-sensitivity explanations, eta = {args.eta_frac} L_max, "
          f"D = {dims} (Raedler et al., Fig. 1 and 3).", flush=True)
    t0 = time.perf_counter()
    rows = run_agreement(
        dims=dims, eta_frac=args.eta_frac, solver=args.solver,
        faithfulness=args.faithfulness, n_jobs=args.n_jobs,
        progress=(lambda r: print(
            f"  D={r['D']} {r['function']:<13} u={r['u']:<4g} "
            f"agreement={r['rate']:.3f} ({r['fit_time']:.2f} s)", flush=True)),
    )
    total = time.perf_counter() - t0
    print()
    print(format_agreement_table(rows))
    fit = sum(r["fit_time"] for r in rows)
    solve = sum(r["solve_time"] for r in rows)
    print(f"\nwhole grid: {total:.1f} s end to end; fit {fit:.1f} s, of which "
          f"solver {solve:.1f} s (fit / solver = {fit / max(solve, 1e-12):.2f})")
    return 0


def _equivalence(args):
    from .reproduction import EQUIVALENCE_COLUMNS, format_table, run_equivalence

    print("SmoothGrad vs C-LIME on an MLP (Agarwal et al., Figs. 2-4): mean L1 gap and "
          "robustness (max L1 distance to 10 neighbours' explanations) vs perturbations.",
          flush=True)
    n_grid = (10, 100, 1000) if args.quick else (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    s2 = (1.0,) if args.quick else (0.01, 0.1, 1.0)
    t0 = time.perf_counter()
    def show(r):
        print(f"  {r['dataset']:<13} sigma^2={r['sigma2']:<5g} n={r['n']:<5} "
              f"gap={r['l1_gap']:.4f} ({r['seconds']:.1f} s)", flush=True)

    rows = run_equivalence(sigma2s=s2, n_perturbations=n_grid, n_jobs=args.n_jobs,
                           progress=show)
    print()
    print(format_table(rows, EQUIVALENCE_COLUMNS))
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0


def _tradeoff(args):
    from .reproduction import TRADEOFF_COLUMNS, format_table, run_tradeoff

    print("SmoothGrad's robustness/faithfulness trade-off (Tan & Tian, section 5.2 and "
          "Fig. 1c): local Lipschitz and marginal faithfulness vs sigma.", flush=True)
    t0 = time.perf_counter()
    quick = dict(sigmas=[0.01, 0.1, 1.0, 10.0], max_points=10, n_samples=300)
    rows = run_tradeoff(**(quick if args.quick else {}), n_jobs=args.n_jobs)
    print(format_table(rows, TRADEOFF_COLUMNS))
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0


def _relex(args):
    from .reproduction import (
        RELEX_ATTACK_COLUMNS,
        RELEX_CLEAN_COLUMNS,
        RELEX_EPS,
        format_table,
        run_relex,
    )

    print("RelEx vs gradient explanations on scikit-learn's 8x8 digits (Lim, Lee & Kim, "
          "section 4): class retrieval under PGD l_inf attacks, deletion/preservation.",
          flush=True)
    t0 = time.perf_counter()
    kw = dict(eps=(0.1, 0.3), n_points=30, n_noise=20, n_iter=30) if args.quick else dict(
        eps=RELEX_EPS)
    res = run_relex(**kw, n_jobs=args.n_jobs)
    print(f"\nMLP test accuracy {res['accuracy']:.3f}; {len(res['y'])} correctly classified "
          "test digits.\n\nClean digits:\n")
    print(format_table(res["clean"], RELEX_CLEAN_COLUMNS))
    print("\nUnder attack (retrieval = P[argmax f(m * x_adv) = clean class]):\n")
    print(format_table(res["attack"], RELEX_ATTACK_COLUMNS))
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="skexplain",
        description="Reproductions of the papers behind skexplain.",
    )
    sub = parser.add_subparsers(dest="command")
    rep = sub.add_parser("reproduce", help="run a paper reproduction")
    rep.add_argument("experiment", nargs="?", default="agreement",
                     choices=["agreement", "equivalence", "tradeoff", "relex"],
                     help="which reproduction (default: agreement)")
    rep.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4],
                     help="input dimensions D (default: 2 3 4)")
    rep.add_argument("--eta-frac", type=float, default=0.2,
                     help="faithfulness budget as a fraction of L_max (default 0.2)")
    rep.add_argument("--faithfulness", choices=["global", "pointwise"],
                     default="global", help="faithfulness constraint (default global)")
    rep.add_argument("--solver", default="auto",
                     help="auto, CLARABEL, SCS or MOSEK (default auto)")
    rep.add_argument("--n-jobs", type=int, default=None,
                     help="joblib workers for the rows of the table (default 1; -1: all "
                          "cores); the results do not depend on it")
    rep.add_argument("--quick", action="store_true",
                     help="equivalence/tradeoff/relex: a small grid (seconds, not minutes)")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["reproduce", *(argv or [])])
    return {"agreement": _agreement, "equivalence": _equivalence,
            "tradeoff": _tradeoff, "relex": _relex}[args.experiment](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
