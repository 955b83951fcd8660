"""The documentation sources: every public name in the API reference, every
example in gallery form."""

import ast
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ["explainers", "metrics", "losses", "optimize", "neighbors", "models", "datasets",
            "attacks", "reproduction", "utils", "exceptions", "testing", "plotting"]


def _documented():
    """``(module, name)`` pairs listed in doc/api.rst."""
    out, module = set(), None
    for line in (ROOT / "doc" / "api.rst").read_text().splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
            continue
        m = re.match(r"(?:   |\.\. autodata:: )([A-Za-z_]\w*)$", line)
        if m and module:
            out.add((module, m.group(1)))
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_api_reference_lists_every_public_name(package):
    module = f"skexplain.{package}"
    public = set(importlib.import_module(module).__all__)
    documented = {name for mod, name in _documented() if mod == module}
    assert public - documented == set(), "missing from doc/api.rst"
    assert documented - public == set(), "doc/api.rst lists names that are not public"


def test_top_level_names_are_documented_in_their_packages():
    import skexplain

    for name in set(skexplain.__all__) - {"__version__"}:
        obj = getattr(skexplain, name)
        if hasattr(obj, "__path__"):             # a sub-package
            assert name in PACKAGES
        else:
            assert ("skexplain.optimize", name) in _documented()


def _examples():
    return sorted((ROOT / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_examples_have_a_gallery_title(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    title, underline = doc.splitlines()[:2]
    assert title and set(underline) == {"="} and len(underline) >= len(title)


def test_gallery_runs_examples_that_exist():
    conf = (ROOT / "doc" / "conf.py").read_text()
    executed = ast.literal_eval(re.search(r"EXECUTED_EXAMPLES = (\([^)]*\))", conf).group(1))
    assert {f"{name}.py" for name in executed} <= {p.name for p in _examples()}
