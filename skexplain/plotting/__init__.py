"""Plots of explanations, in scikit-learn's Display style (extra ``plot``).

Each Display is built with ``from_explanation`` (an
:class:`~skexplain.explainers.Explanation` from ``explain(X)``) or
``from_estimator`` (a fitted explainer and data), draws with ``plot(ax=)``
and keeps what it drew as attributes (``ax_``, ``figure_``, the artists).
matplotlib is imported when a plot is drawn, not with this package.
"""

from ._agreement import AgreementDisplay
from ._bar import AttributionBarDisplay
from ._beeswarm import BeeswarmDisplay
from ._comparison import ComparisonDisplay
from ._front import FrontDisplay
from ._waterfall import WaterfallDisplay

__all__ = [
    "AgreementDisplay",
    "AttributionBarDisplay",
    "BeeswarmDisplay",
    "ComparisonDisplay",
    "FrontDisplay",
    "WaterfallDisplay",
]
