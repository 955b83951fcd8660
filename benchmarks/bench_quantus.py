"""Perturbation metrics against Quantus (and Captum), same model, same process.

A small torch MLP (20 features, one output), saliency explanations (the
input gradient of the output) computed by torch in both libraries, then
Quantus's ``MaxSensitivity`` and ``LocalLipschitzEstimate`` and skexplain's
``perturbation_sensitivity`` / ``local_lipschitz_estimate`` at equal work
(n points x 200 perturbations, the same definitions: uniform noise 0.2
divided by ||phi(x)||; Gaussian noise 0.1, Euclidean ratio, Quantus's
``normalise=False`` so that its value does not depend on the batch size).
Prints the times, the ratio and the two values (equal within Monte-Carlo
error: the random streams differ), plus Captum's ``sensitivity_max``.

    python benchmarks/bench_quantus.py [--n 1000] [--d 20] [--samples 200]

Needs torch and quantus (and optionally captum) in the environment; skipped
with a message otherwise.
"""

import argparse
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        import quantus
        import torch
    except ImportError as exc:
        print(f"skipped: {exc} (install torch and quantus to compare)")
        return
    from skexplain.explainers import Gradient
    from skexplain.metrics import local_lipschitz_estimate, perturbation_sensitivity

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(args.d, 32), torch.nn.Tanh(),
                              torch.nn.Linear(32, 1)).double().eval()
    X = np.random.default_rng(0).normal(size=(args.n, args.d))
    y = np.zeros(args.n, dtype=int)

    def saliency(model, inputs, targets, **kwargs):
        x = torch.as_tensor(np.asarray(inputs, dtype=np.float64)).requires_grad_(True)
        out = model(x)[:, 0].sum()
        (g,) = torch.autograd.grad(out, x)
        return g.detach().numpy()

    ours = Gradient(model=net).fit(X)
    rows = []

    def timed(fn):
        t0 = time.perf_counter()
        value = fn()
        return value, time.perf_counter() - t0

    q_ms = quantus.MaxSensitivity(nr_samples=args.samples, lower_bound=0.2,
                                  disable_warnings=True, return_aggregate=True)
    v_q, t_q = timed(lambda: q_ms(model=net, x_batch=X, y_batch=y, a_batch=None,
                                  explain_func=saliency, batch_size=args.n, device="cpu")[0])
    v_s, t_s = timed(lambda: perturbation_sensitivity(ours, X, n_samples=args.samples,
                                                      radius=0.2, random_state=0))
    rows.append(("MaxSensitivity", t_s, t_q, v_s, v_q))
    q_ll = quantus.LocalLipschitzEstimate(nr_samples=args.samples, perturb_std=0.1,
                                          normalise=False, disable_warnings=True,
                                          return_aggregate=True)
    v_q, t_q = timed(lambda: q_ll(model=net, x_batch=X, y_batch=y, a_batch=None,
                                  explain_func=saliency, batch_size=args.n, device="cpu")[0])
    v_s, t_s = timed(lambda: local_lipschitz_estimate(ours, X, n_samples=args.samples,
                                                      sigma=0.1, random_state=0))
    rows.append(("LocalLipschitzEstimate", t_s, t_q, v_s, v_q))
    print(f"n = {args.n}, d = {args.d}, {args.samples} perturbations per point")
    print("| metric | skexplain s | Quantus s | speed-up | skexplain value | Quantus value |")
    print("|---|---|---|---|---|---|")
    for name, ts, tq, vs, vq in rows:
        print(f"| {name} | {ts:.2f} | {tq:.2f} | {tq / ts:.1f}x | {vs:.5f} | {vq:.5f} |")
    try:
        from captum.metrics import sensitivity_max
    except ImportError:
        print("captum not installed: sensitivity_max skipped")
        return

    def captum_saliency(inputs):
        packed = isinstance(inputs, tuple)
        inputs = inputs[0] if packed else inputs
        with torch.enable_grad():            # Captum evaluates under no_grad
            x = inputs.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(net(x)[:, 0].sum(), x)
        return (g,) if packed else g

    xt = torch.as_tensor(X)
    v_c, t_c = timed(lambda: float(sensitivity_max(captum_saliency, xt,
                                                   n_perturb_samples=args.samples,
                                                   perturb_radius=0.2).mean()))
    v_s, t_s = timed(lambda: perturbation_sensitivity(ours, X, n_samples=args.samples,
                                                      radius=0.2, random_state=0))
    print(f"| Captum sensitivity_max (same definition) | {t_s:.2f} | {t_c:.2f} (Captum) | "
          f"{t_c / t_s:.1f}x | {v_s:.5f} | {v_c:.5f} |")


if __name__ == "__main__":
    main()
