"""
RelEx and gradient explanations of adversarial digits
======================================================

Lim, Lee & Kim (section 4): an MLP on scikit-learn's 8x8 digits; correctly
classified test digits are attacked with PGD (l_inf), and RelEx,
SmoothGrad, Integrated Gradients, Gradient x Input and Gradient explain the
clean and the adversarial digits as masks in [0, 1]. Tables: deletion,
preservation and their harmonic combination R on clean digits; the class
retrieval rate of ``m_adv * x_adv`` and ``m_0 * x_adv`` under attack.
30 digits and two radii here; ``skexplain reproduce relex`` runs 100 digits
and the paper's radii.
"""

import matplotlib.pyplot as plt

from skexplain.reproduction import (
    RELEX_ATTACK_COLUMNS,
    RELEX_CLEAN_COLUMNS,
    explain_as_masks,
    format_table,
    load_digits_problem,
    plot_relex,
    relex_methods,
    run_relex,
)

res = run_relex(eps=(0.1, 0.2), n_points=30, n_noise=20, n_iter=30, random_state=0)
print(f"MLP test accuracy {res['accuracy']:.3f}\n")
print(format_table(res["clean"], RELEX_CLEAN_COLUMNS))
print()
print(format_table(res["attack"], RELEX_ATTACK_COLUMNS))

# %%
# Class retrieval against the attack's radius.
fig = plot_relex(res)

# %%
# The masks of three digits, clean and attacked (eps = 0.2), with the class
# the model gives to ``m * x``.
mlp = load_digits_problem(random_state=0)[0]
methods = relex_methods(mlp, random_state=0, n_noise=20, n_iter=30)
n_digits, eps = 3, 0.2
cols = ["input", *methods]
fig, axes = plt.subplots(2 * n_digits, len(cols), figsize=(1.6 * len(cols), 3.2 * n_digits))
for block, (P, tag) in enumerate([(res["X"][:n_digits], "clean"),
                                  (res["X_adv"][eps][:n_digits], f"eps={eps}")]):
    masks = {k: explain_as_masks(e, P, "predicted", X_fit=res["X"]) for k, e in methods.items()}
    pred = mlp.predict(P)
    for i in range(n_digits):
        row = axes[block * n_digits + i]
        row[0].imshow(P[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        row[0].set_title(f"{tag}: {pred[i]}", fontsize=7)
        for ax, k in zip(row[1:], methods):
            m = masks[k][i]
            ax.imshow(m.reshape(8, 8), cmap="viridis", vmin=0, vmax=1)
            ax.set_title(f"{k[:10]}: {mlp.predict((m * P[i])[None])[0]}", fontsize=7)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()
