"""
Agreement of optimised explanations across robustness losses
=============================================================

Raedler et al. (Fig. 1 and 3): for the paper's test functions on regular
grids, explanations optimised for max-sensitivity, local stability and
average sensitivity (``eta = 0.2 L_max``) are compared by their top
feature. This example runs the D = 2 grid (about ten seconds); the full
table (D = 2, 3, 4) is ``skexplain reproduce agreement``.
"""

import matplotlib.pyplot as plt

from skexplain.reproduction import format_agreement_table, plot_agreement, run_agreement

rows = run_agreement(dims=(2,), eta_frac=0.2)
print(format_agreement_table(rows))

# %%
# The rate counts a tie (two features with the same magnitude) as a
# disagreement, as the paper does; ``rate_tolerant`` accepts any of the tied
# features and ``rate_untied`` leaves the tied points out.
fig = plot_agreement(rows)
plt.show()
