"""
SmoothGrad's robustness/faithfulness trade-off
===============================================

Tan & Tian (section 5.2, Fig. 1c): SmoothGrad's noise level sigma on the
staircase function and on an MLP trained on the breast-cancer data, against
the local Lipschitz estimate (robustness: lower is more robust) and the
distance ``||phi - p||`` to the marginal contributions (lower is more
faithful). Four values of sigma here; ``skexplain reproduce tradeoff`` runs
the full log grid.
"""

import matplotlib.pyplot as plt

from skexplain.reproduction import TRADEOFF_COLUMNS, format_table, plot_tradeoff, run_tradeoff

rows = run_tradeoff(sigmas=[0.01, 0.1, 1.0, 10.0], max_points=10, n_samples=300,
                    random_state=0)
print(format_table(rows, TRADEOFF_COLUMNS))

# %%
fig = plot_tradeoff(rows)
plt.show()
