"""Command line: ``python -m skexplain [reproduce agreement]``.

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
        faithfulness=args.faithfulness,
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


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="skexplain",
        description="Reproductions of the papers behind skexplain.",
    )
    sub = parser.add_subparsers(dest="command")
    rep = sub.add_parser("reproduce", help="run a paper reproduction")
    rep.add_argument("experiment", nargs="?", default="agreement",
                     choices=["agreement"],
                     help="which reproduction (default: agreement)")
    rep.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4],
                     help="input dimensions D (default: 2 3 4)")
    rep.add_argument("--eta-frac", type=float, default=0.2,
                     help="faithfulness budget as a fraction of L_max (default 0.2)")
    rep.add_argument("--faithfulness", choices=["global", "pointwise"],
                     default="global", help="faithfulness constraint (default global)")
    rep.add_argument("--solver", default="auto",
                     help="auto, CLARABEL, SCS or MOSEK (default auto)")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["reproduce", *(argv or [])])
    return _agreement(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
