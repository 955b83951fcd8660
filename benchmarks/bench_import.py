"""Import time of ``import skexplain`` against ``import sklearn``.

Each import runs in a fresh interpreter (``python -c``), ``--repeat`` times
alternately, and the medians are compared; the target is at most 1.5x
scikit-learn's own import (skexplain imports scikit-learn, numpy and scipy,
but not cvxpy, matplotlib or torch until they are needed). Also lists the
heavy optional modules that ``import skexplain`` loaded (should be none).

    python benchmarks/bench_import.py [--repeat 7]
"""

import argparse
import statistics
import subprocess
import sys

PROBE = ("import time; t = time.perf_counter(); import {mod}; "
         "dt = time.perf_counter() - t; import sys; "
         "print(dt, ','.join(m for m in ('cvxpy', 'matplotlib', 'torch') "
         "if m in sys.modules))")


def once(module):
    out = subprocess.run([sys.executable, "-c", PROBE.format(mod=module)], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), (out[1] if len(out) > 1 else "")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    times = {"sklearn": [], "skexplain": []}
    loaded = ""
    once("skexplain")                       # warm the file cache and .pyc files
    for _ in range(args.repeat):
        for mod in times:
            dt, mods = once(mod)
            times[mod].append(dt)
            if mod == "skexplain":
                loaded = mods
    sk, sx = statistics.median(times["sklearn"]), statistics.median(times["skexplain"])
    print("| import | median s | ratio to sklearn |")
    print("|---|---|---|")
    print(f"| sklearn | {sk:.3f} | 1.00 |")
    print(f"| skexplain | {sx:.3f} | {sx / sk:.2f} |")
    print(f"heavy optional modules loaded by import skexplain: {loaded or 'none'}")


if __name__ == "__main__":
    main()
