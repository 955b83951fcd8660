"""Time of skexplain.testing's full default check set, per explainer.

``check_explainer(explainer)`` with every property (the inapplicable ones
are skipped in milliseconds) and the default ``max_examples=10``. Target:
under 30 s per explainer on 2 cores. There is no peer to compare with (no
other library ships property checks for explainers), so the table gives
the times and, as a reference run in the same process, the time of one
``fit_transform`` of the explainer on 100 points of a 4-feature sine model.

    python benchmarks/bench_testing.py [--max-examples 10]
"""

import argparse
import time

import numpy as np

from skexplain import OptimizedExplainer
from skexplain.explainers import (
    CLIME,
    LIME,
    Gradient,
    GradientXInput,
    IntegratedGradients,
    KernelSHAP,
    SmoothGrad,
    UniGrad,
)
from skexplain.testing import check_explainer, make_closed_form_model


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=10)
    args = parser.parse_args(argv)
    model = make_closed_form_model("sin", 4, random_state=0)
    X = np.random.default_rng(0).normal(size=(100, 4))
    explainers = [Gradient(), GradientXInput(), IntegratedGradients(), SmoothGrad(), UniGrad(),
                  CLIME(), LIME(), KernelSHAP(), OptimizedExplainer(n_neighbors=4)]
    print(f"check_explainer(explainer, max_examples={args.max_examples}), every property")
    print("| explainer | checks s | passed | skipped | failed | one fit_transform s |")
    print("|---|---|---|---|---|---|")
    for est in explainers:
        t0 = time.perf_counter()
        report = check_explainer(est, max_examples=args.max_examples)
        t_check = time.perf_counter() - t0
        t0 = time.perf_counter()
        if isinstance(est, OptimizedExplainer):
            est.fit(X, model.gradient(X))
        else:
            est.set_params(model=model.as_function_model()).fit_transform(X)
        t_one = time.perf_counter() - t0
        count = {s: sum(r.status == s for r in report.results)
                 for s in ("passed", "skipped", "failed")}
        print(f"| {report.explainer} | {t_check:.1f} | {count['passed']} | {count['skipped']} "
              f"| {count['failed']} | {t_one:.3f} |", flush=True)


if __name__ == "__main__":
    main()
