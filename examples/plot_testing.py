"""
Checking explainers' properties, as in a CI
===========================================

``skexplain.testing`` checks that explanations satisfy the properties the
papers prove: here on a hand-written explainer (a SmoothGrad in six lines,
declared with :class:`~skexplain.testing.CallableExplainer`), on the same
explainer with a classic bug (the noise variance used as its standard
deviation), and on skexplain's own Integrated Gradients and C-LIME. Each
property draws ten cases with hypothesis; a failure is shrunk to a small
falsifying example. In a test suite, use
:func:`~skexplain.testing.parametrize_with_explanation_checks` instead (see
"Verify explanations in your CI").
"""

import numpy as np

from skexplain.explainers import CLIME, IntegratedGradients
from skexplain.testing import CallableExplainer, check_explainer


def smoothgrad(sigma, n=2000, bug=False):
    def explain(model, X):
        Z = np.random.default_rng(0).standard_normal((n, X.shape[1]))
        scale = sigma ** 2 if bug else sigma          # the bug: variance for std
        d = X.shape[1]
        G = model.gradient((X[:, None, :] + scale * Z).reshape(-1, d))
        return G.reshape(len(X), n, d).mean(axis=1)
    return explain


ours = CallableExplainer(smoothgrad(0.5), kind="gradient", noise="gaussian", scale=0.5,
                         n_samples=2000, name="our SmoothGrad")
buggy = CallableExplainer(smoothgrad(0.5, bug=True), kind="gradient", noise="gaussian",
                          scale=0.5, n_samples=2000, name="our SmoothGrad, sigma^2 bug")

# %%
# The correct explainer passes everything that applies to a smoothing
# method; Shapley and path properties are skipped, with the reason.
print(check_explainer(ours))

# %%
# The bug is invisible to most properties (the explanation is still linear
# in the model, exact on linear models, invariant to batching...), but not to
# the smoothing limit: hypothesis finds a model whose smoothed gradient is
# many standard errors away from the closed form.
report = check_explainer(buggy, properties=["linearity", "linear_model", "smoothing_limit"])
print(report)
print(report.failures[0].message)

# %%
# skexplain's own explainers are run the same way (their parameters kept;
# the checks set the model and, for C-LIME, draw the noise covariance).
print(check_explainer(IntegratedGradients(n_steps=32, method="gauss_legendre"),
                      properties=["completeness", "linear_model", "dummy", "linearity"]))
print(check_explainer(CLIME(alpha=0.05, n_samples=2000),
                      properties=["smoothing_limit", "linear_model", "linearity"]))
