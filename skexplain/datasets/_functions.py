"""The five test functions of Table 1 (Raedler et al.) with exact gradients.

Each is a sum over coordinates, ``f(x) = sum_d h(x_d)``, so its gradient is
``h'(x_d)`` coordinate-wise.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["TEST_FUNCTIONS", "TestFunction", "get_test_function"]


@dataclass(frozen=True)
class TestFunction:
    """A separable test function ``f(x) = sum_d h(x_d)`` and its gradient.

    Parameters
    ----------
    name : str
        Short identifier.
    label : str
        The name in the paper's Table 1.
    h, dh : callable
        The one-dimensional function and its derivative (vectorised).

    Attributes
    ----------
    name : str
        Short identifier (used by :func:`get_test_function`).
    label : str
        The name used in the paper's Table 1.
    h, dh : callable
        The one-dimensional function and its derivative (vectorised).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.datasets import TestFunction
    >>> f = TestFunction("cube", "x^3", lambda x: x ** 3, lambda x: 3 * x ** 2)
    >>> f([[1.0, 2.0]]), f.gradient([[1.0, 2.0]])
    (array([9.]), array([[ 3., 12.]]))
    """

    __test__ = False  # not a pytest test class

    name: str
    label: str
    h: Callable
    dh: Callable

    def __call__(self, X):
        """``f(X)`` for an ``(n, d)`` array: shape ``(n,)``."""
        return self.h(np.asarray(X, dtype=np.float64)).sum(axis=1)

    def gradient(self, X):
        """Exact gradient ``grad f(X)``.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Points.

        Returns
        -------
        gradients : ndarray of shape (n, d)
            ``h'(x_d)`` coordinate-wise.
        """
        return self.dh(np.asarray(X, dtype=np.float64))


def _x2(x):
    return x ** 2


def _dx2(x):
    return 2.0 * x


def _x3(x):
    return 0.35 * x ** 3


def _dx3(x):
    return 1.05 * x ** 2


def _sin_exp_quad(x):
    return np.sin(2.0 * x) + 0.1 * np.exp(x) - 0.5 * x ** 2


def _dsin_exp_quad(x):
    return 2.0 * np.cos(2.0 * x) + 0.1 * np.exp(x) - x


def _sin_x3(x):
    return np.sin(0.35 * x ** 3)


def _dsin_x3(x):
    return np.cos(0.35 * x ** 3) * 1.05 * x ** 2


#: The functions of Table 1, in the paper's order.
TEST_FUNCTIONS = {
    f.name: f
    for f in (
        TestFunction("x2", "x^2", _x2, _dx2),
        TestFunction("x3", "x^3", _x3, _dx3),
        TestFunction("sin_exp_quad", "sin x + e^x - x^2", _sin_exp_quad, _dsin_exp_quad),
        TestFunction("sin", "sin x", np.sin, np.cos),
        TestFunction("sin_x3", "sin x^3", _sin_x3, _dsin_x3),
    )
}


def get_test_function(name):
    """Return the Table 1 function called ``name`` (see ``TEST_FUNCTIONS``).

    Parameters
    ----------
    name : str
        One of ``"x2"``, ``"x3"``, ``"sin_exp_quad"``, ``"sin"``,
        ``"sin_x3"``.

    Returns
    -------
    function : TestFunction
        Callable, with an exact :meth:`~TestFunction.gradient`.

    Examples
    --------
    >>> from skexplain.datasets import get_test_function
    >>> f = get_test_function("x3")
    >>> f([[1.0, 2.0]]), f.gradient([[1.0, 2.0]])
    (array([3.15]), array([[1.05, 4.2 ]]))
    """
    try:
        return TEST_FUNCTIONS[name]
    except KeyError:
        raise ValueError(
            f"name must be one of {sorted(TEST_FUNCTIONS)}; got {name!r}."
        ) from None
