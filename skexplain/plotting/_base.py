"""What every Display shares: the lazy matplotlib import, axes, inputs."""

import numbers

import numpy as np

__all__ = []

#: Colours of positive and negative attributions (red / blue, as shap's).
POSITIVE, NEGATIVE = "#d62728", "#1f77b4"


def pyplot():
    """``matplotlib.pyplot``, or an ImportError naming the ``plot`` extra."""
    from ..utils._optional import import_optional

    return import_optional("matplotlib.pyplot", "plot")


def new_axes(ax):
    """``ax`` and its figure; a new figure's axes when ``ax`` is None."""
    if ax is None:
        fig, ax = pyplot().subplots()
        return fig, ax
    if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
        raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}.")
    return ax.figure, ax


def check_explanation(explanation, who):
    """``explanation`` if it is an :class:`~skexplain.explainers.Explanation`."""
    from ..explainers import Explanation

    if not isinstance(explanation, Explanation):
        raise TypeError(
            f"{who} needs an Explanation (from explainer.explain(X)); got "
            f"{type(explanation).__name__}. Wrap an array with "
            "skexplain.explainers.Explanation(values, data=X, feature_names=...)."
        )
    return explanation


def one_output(explanation, output, who):
    """The explanation of one output: ``output`` picks it from a
    multi-output explanation (a position or an output name)."""
    if "outputs" not in explanation.axes:
        if output is not None:
            raise ValueError(f"{who}: output={output!r} was given but the explanation has "
                             "one output.")
        return explanation
    if output is None:
        raise ValueError(
            f"{who} draws one output; the explanation has {len(explanation.output_names)} "
            f"({', '.join(str(o) for o in explanation.output_names)}): pass output=<name "
            "or position>.")
    if isinstance(output, numbers.Integral) and not isinstance(output, bool):
        if not 0 <= output < len(explanation.output_names):
            raise ValueError(f"output={output} is out of range for "
                             f"{len(explanation.output_names)} outputs.")
        return explanation[..., int(output)]
    names = [str(o) for o in explanation.output_names]
    if str(output) not in names:
        raise ValueError(f"output={output!r} is not one of the outputs {names}.")
    return explanation[..., names.index(str(output))]


def check_max_display(max_display):
    if (not isinstance(max_display, numbers.Integral) or isinstance(max_display, bool)
            or max_display < 1):
        raise ValueError(f"max_display must be a positive integer; got {max_display!r}.")
    return int(max_display)


def method_label(method):
    return "attribution" if not method else f"{method} attribution"


def names_of(explanation, d):
    if explanation.feature_names is None:
        return [f"x{j}" for j in range(d)]
    return [str(f) for f in np.atleast_1d(explanation.feature_names)]
