"""numpydoc validation of every public class, function, method and property,
as scikit-learn's ``sklearn/tests/test_docstrings.py`` does."""

import importlib
import inspect

import pytest

numpydoc_validation = pytest.importorskip("numpydoc.validate")

PACKAGES = ["explainers", "metrics", "losses", "optimize", "neighbors", "models", "datasets",
            "attacks", "reproduction", "utils", "exceptions", "testing", "plotting"]

#: Checks skipped everywhere, with the reason.
IGNORED = {
    "GL01": "the summary starts on the line of the opening quotes (the package's style)",
    "GL02": "likewise for the closing quotes of one-line docstrings",
    "RT02": "a Returns entry may name the returned object (scikit-learn ignores RT02 too)",
    "SA01": "See Also is optional: doc/api.rst groups related names by package",
    "ES01": "an extended summary is optional where the summary says it all",
}
#: Skipped for methods and properties: their examples are on the class.
IGNORED_FOR_MEMBERS = {"EX01"}
#: Skipped for properties: they take no parameters and return their value.
IGNORED_FOR_PROPERTIES = {"PR01", "PR02", "RT01", "SS03", "SS05"}
#: Single objects, with the reason.
IGNORED_FOR_OBJECT = {
    # an Enum's signature is Enum's functional API (value, names, module, ...)
    "skexplain.optimize.Status": {"PR01"},
}


def _public_objects():
    out = []
    for package in PACKAGES:
        module = importlib.import_module(f"skexplain.{package}")
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            path = f"skexplain.{package}.{name}"
            out.append((path, None, None))
            if not inspect.isclass(obj):
                continue
            # members defined here (inherited scikit-learn members are
            # validated by scikit-learn)
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if isinstance(value, property):
                    out.append((f"{path}.{attr}", "property", None))
                elif inspect.isfunction(value):
                    base = _documented_base(obj, attr) if value.__doc__ is None else None
                    out.append((f"{path}.{attr}", "method", base))
    return out


def _documented_base(cls, attr):
    """The base-class method an undocumented override inherits its contract from."""
    for base in cls.__mro__[1:]:
        member = vars(base).get(attr)
        if member is not None and getattr(member, "__doc__", None):
            return f"{base.__module__}.{base.__qualname__}.{attr}"
    return None


OBJECTS = _public_objects()


@pytest.mark.parametrize("path, kind, base", OBJECTS, ids=[o[0] for o in OBJECTS])
def test_docstring(path, kind, base):
    # an override without a docstring of its own is held to its base's
    # (documented on the base class, as the interface)
    res = numpydoc_validation.validate(base or path)
    skip = set(IGNORED)
    if kind:
        skip |= IGNORED_FOR_MEMBERS
    if kind == "property":
        skip |= IGNORED_FOR_PROPERTIES
    skip |= IGNORED_FOR_OBJECT.get(path, set())
    errors = [f"{code}: {msg}" for code, msg in res["errors"] if code not in skip]
    assert not errors, f"{path}:\n" + "\n".join(errors)


def test_the_ignore_list_stays_short():
    assert len(IGNORED) <= 5
