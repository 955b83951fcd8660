"""
SmoothGrad and C-LIME converge to the same explanation
=======================================================

Agarwal et al. (Figs. 2-4): the paper's MLP (two hidden layers of 10 tanh
units) on the simulated two-Gaussian data and on the breast-cancer data.
Against the number of perturbations n: the mean L1 distance between
SmoothGrad and C-LIME explanations, and the robustness of each (mean over
test points of the max L1 distance to the explanations of 10 neighbours
``x' ~ N(x, 0.01 I)``). This example uses ``sigma^2 = 1`` and
``n in {10, 100, 1000}``; ``skexplain reproduce equivalence`` runs the
paper's grid (a few minutes).
"""

import matplotlib.pyplot as plt

from skexplain.reproduction import (
    EQUIVALENCE_COLUMNS,
    format_table,
    plot_equivalence,
    run_equivalence,
)

rows = run_equivalence(sigma2s=(1.0,), n_perturbations=(10, 100, 1000), random_state=0)
print(format_table(rows, EQUIVALENCE_COLUMNS))

# %%
fig = plot_equivalence(rows)
plt.show()
