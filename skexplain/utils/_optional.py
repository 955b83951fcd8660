"""Lazy imports of optional dependencies with a message naming the extra."""

import importlib

__all__ = ["import_optional"]


def import_optional(module, extra):
    """Import ``module`` or raise ImportError telling which extra installs it.

    Examples
    --------
    >>> import_optional("math", "none").sqrt(4.0)
    2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is needed for this feature but is not installed; install "
            f"skexplain's optional extra: pip install 'skexplain[{extra}]'"
        ) from exc
