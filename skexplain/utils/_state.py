"""Fitting all or nothing."""

import functools

__all__ = ["all_or_nothing"]


def all_or_nothing(fit):
    """Decorate a ``fit`` so that a failure leaves the estimator as it was.

    The estimator's attributes are saved before ``fit`` and put back if it
    raises, so a failed refit (new width, a model that raises) never leaves
    some fitted attributes from the new data next to others from the old.
    ``fit`` replaces attributes rather than mutating them, so a shallow copy
    of ``__dict__`` is the whole state.

    Parameters
    ----------
    fit : callable
        ``fit(self, *args, **kwargs)``.

    Returns
    -------
    callable
        The guarded method.
    """
    @functools.wraps(fit)
    def guarded(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return guarded
